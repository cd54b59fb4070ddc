"""Importing a bank's loans: CSV (UTF-8 with BOM, GB18030, semicolons) and XLSX with messy
headers and units, a report of every rejected row and why, re-imports that update and never
duplicate, dry runs, and files that cannot be read at all."""

from datetime import date, datetime

import pytest

from service.core.tables import FileError, read_table
from service.loans.imports import map_headers, parse_rows
from tests.factories import bank_payload, create_enterprise
from tests.spreadsheets import xlsx

HEADER = "合同编号,统一社会信用代码,企业名称,本金（万元）,年利率(%),放款日,到期日,贷款类型\n"


@pytest.fixture
def bank(client) -> str:
    return client.post("/api/v1/banks", json=bank_payload()).json()["code"]


def _upload(c, content: bytes, name: str = "loans.csv", **params):
    data = {"bank": params.pop("bank")} if "bank" in params else {}
    return c.post(
        "/api/v1/loans/import",
        files={"file": (name, content, "application/octet-stream")},
        data=data,
        params=params,
    )


def test_a_csv_import_reports_every_rejected_row(client, as_role, bank) -> None:
    a, b = create_enterprise(client), create_enterprise(client)
    text = HEADER + (
        f"HT-1,{a['credit_code']},甲,500,3.45,2025-12-01,2026-12-01,流动资金\n"
        f'HT-2,{b["credit_code"]},乙,"1,200.5",3.1,2025/6/30,2027年6月30日,项目贷款\n'
        ",,,,,,,\n"  # a blank row is skipped
        f"HT-3,91320200134757148X,丙,abc,35,2025-13-01,2025-01-01,按揭\n"
        f"HT-1,{a['credit_code']},甲,1,3,2025-01-01,2026-01-01,\n"
        f"HT-5,91320200134757148J,丁,10,3,2025-01-01,2026-01-01,\n"
    )
    banker = as_role("bank", bank_code=bank)
    response = _upload(banker, text.encode("utf-8-sig"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["rejected"]) == (5, 2, 3)
    rejected = {r["row"]: r for r in report["rejected_rows"]}
    assert set(rejected) == {5, 6, 7}
    assert {e["code"] for e in rejected[5]["errors"]} == {
        "invalid_credit_code_checksum",
        "invalid_amount",
        "rate_out_of_range",
        "invalid_date",
        "unknown_kind",
    }
    assert [e["code"] for e in rejected[6]["errors"]] == ["duplicate_in_file"]
    assert [e["code"] for e in rejected[7]["errors"]] == ["unknown_enterprise"]
    assert all(e["message"] for r in report["rejected_rows"] for e in r["errors"])
    loans = {loan["contract_no"]: loan for loan in banker.get("/api/v1/loans").json()["items"]}
    assert set(loans) == {"HT-1", "HT-2"}
    assert loans["HT-1"]["principal_fen"] == 500_000_000 and loans["HT-1"]["rate_bp"] == 345
    assert loans["HT-2"]["principal_fen"] == 1_200_500_000  # 1,200.5 万元
    assert loans["HT-2"]["kind"] == "project" and loans["HT-2"]["maturity_date"] == "2027-06-30"
    assert loans["HT-2"]["disbursed_date"] == "2025-06-30"
    assert all(loan["source"] == "import" for loan in loans.values())


def test_a_re_import_updates_and_never_duplicates(client, as_role, bank) -> None:
    a = create_enterprise(client)
    banker = as_role("bank", bank_code=bank)
    first = HEADER + f"HT-1,{a['credit_code']},甲,500,3.45,2025-12-01,2026-12-01,流动资金\n"
    assert _upload(banker, first.encode()).json()["created"] == 1
    again = _upload(banker, first.encode()).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    moved = first.replace("2026-12-01", "2027-03-01").replace(",3.45,", ",3.30,")
    report = _upload(banker, moved.encode()).json()
    assert (report["created"], report["updated"]) == (0, 1)
    (loan,) = banker.get("/api/v1/loans").json()["items"]
    assert (loan["maturity_date"], loan["rate_bp"], loan["version"]) == ("2027-03-01", 330, 2)
    # the change is in the audit log, by the bank
    audit = client.get("/api/v1/audit", params={"subject_type": "loan"}).json()["items"]
    assert any(e["action"] == "update" and "maturity_date" in e["changes"] for e in audit)


def test_a_dry_run_writes_nothing(client, as_role, bank) -> None:
    a = create_enterprise(client)
    banker = as_role("bank", bank_code=bank)
    text = HEADER + f"HT-1,{a['credit_code']},甲,500,3.45,2025-12-01,2026-12-01,\n"
    report = _upload(banker, text.encode(), dry_run="true").json()
    assert report["dry_run"] is True and report["created"] == 1
    assert banker.get("/api/v1/loans").json()["items"] == []


def test_gb18030_semicolons_and_english_headers(client, bank) -> None:
    a = create_enterprise(client)
    text = (
        "Contract No;Credit Code;Principal (yuan);Rate (%);Disbursed Date;Maturity Date;Status\n"
        f"E-1;{a['credit_code']};3000000.00;3.5%;20250115;2026-01-15;已结清\n"
    )
    report = _upload(client, text.encode("gb18030"), bank=bank).json()
    assert report["created"] == 1, report
    (loan,) = client.get("/api/v1/loans", params={"bank": bank}).json()["items"]
    assert (loan["principal_fen"], loan["rate_bp"], loan["status"]) == (300_000_000, 350, "repaid")


def test_an_xlsx_import_with_real_cells(client, as_role, bank) -> None:
    a, b = create_enterprise(client), create_enterprise(client)
    content = xlsx(
        [
            [
                "合同编号",
                "借款人统一社会信用代码",
                "贷款金额（元）",
                "执行利率",
                "起息日",
                "到期日",
            ],
            [20260001, a["credit_code"], 2500000, 0.0345, datetime(2025, 9, 1), date(2026, 9, 1)],
            ["X-2", b["credit_code"], 1000000.5, 3.2, "2025-09-01", "2026-09-01"],
            ["X-3", b["credit_code"], 100.001, 3.2, "2025-09-01", "2026-09-01"],
        ]
    )
    banker = as_role("bank", bank_code=bank)
    report = _upload(banker, content, "贷款清单.xlsx").json()
    assert (report["created"], report["rejected"]) == (2, 1), report
    assert report["rejected_rows"][0]["errors"][0]["code"] == "fraction_of_fen"
    loans = {x["contract_no"]: x for x in banker.get("/api/v1/loans").json()["items"]}
    # a number cell for the contract, a percent-formatted rate cell (0.0345 = 3.45%)
    assert loans["20260001"]["principal_fen"] == 250_000_000
    assert loans["20260001"]["rate_bp"] == 345
    assert loans["X-2"]["principal_fen"] == 100_000_050


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "a.csv", "empty_file"),
        ("合同编号,本金\nA,1\n".encode(), "a.csv", "missing_columns"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, "old.xls", "unsupported_format"),
        (b"PK\x03\x04broken", "a.xlsx", "unreadable_xlsx"),
        (
            (HEADER.strip() + ",本金（元）\n").encode(),
            "a.csv",
            "duplicate_column",
        ),
    ],
)
def test_unreadable_files_are_refused_whole(client, bank, content, name, code) -> None:
    response = _upload(client, content, name, bank=bank)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_who_may_import(client, as_role, bank) -> None:
    a = create_enterprise(client)
    text = HEADER + f"HT-1,{a['credit_code']},甲,500,3.45,2025-12-01,2026-12-01,\n"
    owner = as_role("enterprise", enterprise_id=a["id"])
    assert _upload(owner, text.encode()).status_code == 403
    # the office must say whose loans they are
    report = _upload(client, text.encode()).json()
    assert report["rejected_rows"][0]["errors"][0]["code"] == "bank_required"
    # a bank cannot import another bank's loans through the bank column
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    with_bank = "银行代码," + HEADER.replace("\n", "") + "\n" + f"{other}," + text.splitlines()[1]
    report = _upload(as_role("bank", bank_code=bank), with_bank.encode()).json()
    assert report["rejected_rows"][0]["errors"][0]["code"] == "forbidden_bank"


def test_headers_are_understood_in_their_units() -> None:
    columns = map_headers(
        ["合同号", "信用代码", "金额（单位：万元）", "利率（基点）", "放款日期", "到期日期"]
    )
    assert sorted(columns.values()) == sorted(
        [
            "contract_no",
            "credit_code",
            "principal:wan",
            "rate:bp",
            "disbursed_date",
            "maturity_date",
        ]
    )
    with pytest.raises(FileError) as caught:
        map_headers(["名称"])
    assert caught.value.code == "missing_columns"


def test_rows_are_parsed_exactly() -> None:
    text = "合同编号,统一社会信用代码,本金（元）,利率(%),放款日,到期日\nA,91320200134757148J,0.1,3.455,2025-01-01,2025-01-01\n"
    (row,), count = parse_rows(read_table(text.encode()))
    assert count == 1
    assert row.principal_fen == 10
    assert {e.code for e in row.errors} == {"rate_too_precise", "maturity_not_after_disbursement"}


def test_a_csv_with_a_nul_byte_is_refused_whole() -> None:
    with pytest.raises(FileError) as caught:
        parse_rows(read_table(b"\xe5\x90\x88\xe5\x90\x8c\xe7\xbc\x96\xe5\x8f\xb7,x\x00y\n1,2\n"))
    assert caught.value.code == "nul_character" and caught.value.extra["line"] == 1

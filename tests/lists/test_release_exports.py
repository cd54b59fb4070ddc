"""A release as a spreadsheet (CSV for Excel, XLSX): the office gets it as published; a bank
gets its view through the same items query as the API (every enterprise's public facts and
every listed project's, the private facts of the enterprises that consented and still do,
withdrawn consents marked), streamed a page at a time. Names, not codes; text that a
spreadsheet would run as a formula neutralised."""

import csv
import io
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest

from service.access.policy import FactTier, tier_fields
from service.core.tables import read_table
from service.lists import exports
from tests.factories import bank_payload, create_enterprise, need_payload, office_consent

HOSTILE_CHAIN = '=HYPERLINK("http://evil.example","点此")'


def _project(client: Any, enterprise_id: int, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": enterprise_id,
            "name": "智能产线改造项目",
            "kind": "intelligent_digital",
            "total_investment_fen": 2_000_000_000,
            "financing_need_fen": 500_000_000,
            "year": 2026,
            "description": "产线智能化改造",
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def library(client: Any, as_role: Any) -> dict[str, Any]:
    """One enterprise that shares with banks (two contacts, a qualification, an open need and
    one kept for a bank, an unlisted project), one that does not (a hostile chain tag, a listed and an unlisted
    project), a release of them, and a bank."""
    sharing = create_enterprise(
        client,
        name="无锡共享导出科技有限公司",
        revenue_fen=8_123_456_789,
        qualifications=[{"type_code": "high_tech", "issued_date": "2024-12-01"}],
        contacts=[
            {"name": "李华", "title": "财务经理", "phone": "0510-81234567", "is_primary": True},
            {"name": "王敏", "phone": "13800000000"},
        ],
        **office_consent(),
    )
    private = create_enterprise(
        client,
        name="无锡保密导出科技有限公司",
        district_code="jiangyin",
        cluster_code="iot",
        chain_tag=HOSTILE_CHAIN,
        revenue_fen=99_000_000_000,
        credit_grade="AA",
    )
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    for need in (
        need_payload(sharing["id"]),
        # kept for one bank: it reaches that bank as a lead, never through a release
        need_payload(sharing["id"], amount_fen=900_000_000, bank_codes=[bank]),
    ):
        response = client.post("/api/v1/needs", json=need)
        assert response.status_code == 201, response.text
    projects = {
        "shared": _project(client, sharing["id"], name="共享企业的未列名项目"),
        "listed": _project(
            client,
            private["id"],
            name="保密企业的重点项目",
            listed_in="2026年无锡市重大产业项目名单",
        ),
        "hidden": _project(client, private["id"], name="保密企业的未列名项目"),
    }
    release = client.post("/api/v1/releases", json={"note": "导出测试"})
    assert release.status_code == 201, release.text
    return {
        "sharing": sharing,
        "private": private,
        "projects": projects,
        "number": release.json()["number"],
        "bank_code": bank,
        "banker": as_role("bank", bank_code=bank),
    }


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = list(read_table(response.content, "release.xlsx"))  # the project's own reader
    header = rows[0]
    return [
        dict(zip(header, row + [None] * (len(header) - len(row)), strict=True)) for row in rows[1:]
    ]


def _export(c: Any, number: int | str, kind: str, fmt: str = "csv") -> Any:
    return c.get(f"/api/v1/releases/{number}/export", params={"kind": kind, "format": fmt})


def _by_name(rows: list[dict[str, Any]], column: str = "企业名称") -> dict[str, dict[str, Any]]:
    return {row[column]: row for row in rows}


PRIVATE_ENTERPRISE_COLUMNS = [c.header for c in exports.ENTERPRISE_COLUMNS[FactTier.private]]
PRIVATE_PROJECT_COLUMNS = [c.header for c in exports.PROJECT_COLUMNS[FactTier.private]]


def test_the_office_gets_the_release_as_published(client, library) -> None:
    rows = _by_name(_csv(_export(client, library["number"], "enterprise")))
    sharing = rows["无锡共享导出科技有限公司"]
    assert sharing["统一社会信用代码"] == library["sharing"]["credit_code"]
    assert sharing["企业编号"] == str(library["sharing"]["id"])
    # names, not codes
    assert sharing["所属地区"] == "新吴区" and sharing["产业集群"] == "集成电路"
    assert sharing["行业代码"] == "C3973" and sharing["行业门类"] == "制造业"
    assert sharing["资质"] == "高新技术企业 2024-12-01"
    assert sharing["资质有效期至"].startswith("高新技术企业 2027-11-")
    # money in 万元 to the fen, lists in one cell
    assert sharing["营业收入（万元）"] == "8123.456789"
    assert sharing["联系人"] == "李华（财务经理，0510-81234567）；王敏（13800000000）"
    assert sharing["融资需求"] == "200 万元，12 个月，流动资金"
    assert sharing["发布时授权共享"] == "是"
    # the office sees the private facts of the one that did not consent too
    private = rows["无锡保密导出科技有限公司"]
    assert private["发布时授权共享"] == "否" and private["信用等级"] == "AA"
    assert private["营业收入（万元）"] == "99000" and private["所属地区"] == "江阴市"
    assert private["产业集群"] == "物联网"
    # a formula stays text
    assert private["产业链"] == "'" + HOSTILE_CHAIN
    projects = _by_name(_csv(_export(client, library["number"], "project")), "项目名称")
    assert set(projects) >= {"共享企业的未列名项目", "保密企业的重点项目", "保密企业的未列名项目"}
    hidden = projects["保密企业的未列名项目"]
    assert hidden["项目类型"] == "智能化改造数字化转型" and hidden["状态"] == "计划"
    assert hidden["统一社会信用代码"] == library["private"]["credit_code"]
    assert hidden["总投资（万元）"] == "2000" and hidden["融资需求（万元）"] == "500"


def test_a_bank_gets_every_public_fact_and_private_ones_by_consent(library) -> None:
    banker = library["banker"]
    rows = _by_name(_csv(_export(banker, library["number"], "enterprise")))
    assert "发布时授权共享" not in next(iter(rows.values()))
    sharing, private = rows["无锡共享导出科技有限公司"], rows["无锡保密导出科技有限公司"]
    # every enterprise's public facts
    for row, firm in ((sharing, library["sharing"]), (private, library["private"])):
        assert row["统一社会信用代码"] == firm["credit_code"]
        assert row["所属地区"] and row["产业集群"] and row["企业规模"]
    assert private["产业链"] == "'" + HOSTILE_CHAIN  # neutralised for the bank too
    # private facts: the consenting one's, none of the other's
    assert sharing["非公开信息"] == "已授权"
    assert sharing["营业收入（万元）"] == "8123.456789" and "李华" in sharing["联系人"]
    assert sharing["融资需求"] == "200 万元，12 个月，流动资金"
    assert private["非公开信息"] == "未授权"
    assert all(private[column] == "" for column in PRIVATE_ENTERPRISE_COLUMNS)
    # projects: the listed one's public facts, the consenting enterprise's whole, never the
    # unlisted one of an enterprise that did not consent
    projects = _by_name(_csv(_export(banker, library["number"], "project")), "项目名称")
    assert "保密企业的未列名项目" not in projects
    listed = projects["保密企业的重点项目"]
    assert listed["项目单位"] == "无锡保密导出科技有限公司"
    assert listed["统一社会信用代码"] == library["private"]["credit_code"]
    assert listed["总投资（万元）"] == "2000" and listed["所属名单"]
    assert all(listed[column] == "" for column in PRIVATE_PROJECT_COLUMNS)
    shared = projects["共享企业的未列名项目"]
    assert shared["非公开信息"] == "已授权" and shared["融资需求（万元）"] == "500"
    assert shared["项目简介"] == "产线智能化改造"


def test_the_xlsx_holds_the_same_as_the_csv(library) -> None:
    banker = library["banker"]
    for kind, key in (("enterprise", "企业名称"), ("project", "项目名称")):
        from_csv = _by_name(_csv(_export(banker, library["number"], kind)), key)
        from_xlsx = _by_name(_xlsx(_export(banker, library["number"], kind, "xlsx")), key)
        assert from_xlsx.keys() == from_csv.keys()
        for name, row in from_xlsx.items():
            for column, value in row.items():
                if isinstance(value, float | int) and not isinstance(value, bool):
                    assert Decimal(repr(value)) == Decimal(from_csv[name][column]), column
                elif hasattr(value, "date"):  # a date cell
                    assert value.date().isoformat() == from_csv[name][column]
                else:
                    assert (value or "") == from_csv[name][column], column
    firm = _by_name(_xlsx(_export(banker, library["number"], "enterprise", "xlsx")))
    assert firm["无锡共享导出科技有限公司"]["营业收入（万元）"] == 8123.456789  # a number
    assert firm["无锡保密导出科技有限公司"]["营业收入（万元）"] is None


def test_a_withdrawn_consent_is_marked_and_its_private_facts_left_out(
    client, library, as_role
) -> None:
    owner = as_role("enterprise", enterprise_id=library["sharing"]["id"])
    response = owner.patch(
        f"/api/v1/enterprises/{library['sharing']['id']}", json={"share_with_banks": False}
    )
    assert response.status_code == 200, response.text
    banker = library["banker"]
    row = _by_name(_csv(_export(banker, library["number"], "enterprise")))[
        "无锡共享导出科技有限公司"
    ]
    assert row["非公开信息"] == "授权已撤回（不再提供）"
    assert row["统一社会信用代码"] == library["sharing"]["credit_code"]  # public facts stay
    assert all(row[column] == "" for column in PRIVATE_ENTERPRISE_COLUMNS)
    projects = _csv(_export(banker, library["number"], "project"))
    withdrawn = [p for p in projects if p["项目编号"] == str(library["projects"]["shared"]["id"])]
    assert len(withdrawn) == 1 and withdrawn[0]["非公开信息"] == "授权已撤回（不再提供）"
    assert withdrawn[0]["项目名称"] == ""  # an unlisted project: nothing of it is public
    # the office still reads the release as published
    office = _by_name(_csv(_export(client, library["number"], "enterprise")))
    assert office["无锡共享导出科技有限公司"]["营业收入（万元）"] == "8123.456789"


def test_the_export_reads_the_items_a_page_at_a_time(monkeypatch, library) -> None:
    monkeypatch.setattr(exports, "BATCH", 1)
    calls: list[str | None] = []
    items = exports.releases.items

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[3].cursor)
        return items(*args, **kwargs)

    monkeypatch.setattr(exports.releases, "items", counted)
    banker = library["banker"]
    rows = _csv(_export(banker, library["number"], "enterprise"))
    assert len(rows) == 2 and len(calls) == 2 and calls[0] is None
    assert [r["企业编号"] for r in rows] == sorted((r["企业编号"] for r in rows), key=int)


def test_the_latest_release_and_its_file_name(library) -> None:
    banker, number = library["banker"], library["number"]
    latest = banker.get("/api/v1/releases/latest/export", params={"kind": "enterprise"})
    assert latest.content == _export(banker, number, "enterprise").content
    disposition = latest.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="finmatch-enterprises-release-')
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded).startswith(f"企业库_第{number}版_")
    assert unquote(encoded).endswith(f"_{library['bank_code']}.csv")
    assert latest.headers["cache-control"] == "no-store"
    xlsx = _export(banker, number, "project", "xlsx")
    assert unquote(xlsx.headers["content-disposition"].split("''")[1]).startswith(
        f"项目库_第{number}版_"
    )


def test_wrong_requests_are_refused(client, library, as_role) -> None:
    number = library["number"]
    owner = as_role("enterprise", enterprise_id=library["sharing"]["id"])
    refused = _export(owner, number, "enterprise")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"
    missing = _export(client, number + 100, "enterprise")
    assert missing.status_code == 404 and missing.json()["code"] == "release_not_found"
    for params in ({"kind": "bank"}, {"kind": "enterprise", "format": "pdf"}, {}):
        response = client.get(f"/api/v1/releases/{number}/export", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_no_release_yet(client) -> None:
    response = client.get("/api/v1/releases/latest/export", params={"kind": "enterprise"})
    assert response.status_code == 404 and response.json()["code"] == "no_release"


def test_an_xlsx_too_long_for_a_worksheet_is_refused(monkeypatch, library) -> None:
    from service.core import exports as core_exports

    monkeypatch.setattr(core_exports, "XLSX_MAX_ROWS", 2)
    response = _export(library["banker"], library["number"], "enterprise", "xlsx")
    assert response.status_code == 422 and response.json()["code"] == "too_many_rows_for_xlsx"
    assert _export(library["banker"], library["number"], "enterprise").status_code == 200


@pytest.mark.parametrize("kind", ["enterprise", "project"])
def test_each_column_shows_facts_of_its_tier(kind) -> None:
    for tier, columns in exports.COLUMNS[kind].items():
        fields = {c.field for c in columns if c.field}
        assert fields <= set(tier_fields(kind, tier)), (tier, fields)

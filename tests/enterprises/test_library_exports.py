"""The office's export of the live enterprise and project libraries (CSV for Excel, XLSX), in
the columns and headers the library import reads: names not codes, money in 万元 to the fen,
the primary contact in the contact columns, a consent with the signed form it came from."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest

from service.core.tables import read_table
from service.enterprises import exports
from tests.factories import OFFICE_FORM, create_enterprise, office_consent


@pytest.fixture
def firms(client: Any, as_role: Any) -> dict[str, Any]:
    on_form = create_enterprise(
        client,
        name="无锡申报表授权科技有限公司",
        ownership="private",
        chain_tag="@SUM(A1)",
        revenue_fen=1_234_567_891,
        total_assets_fen=500_000_000_000,
        qualifications=[
            {"type_code": "high_tech", "issued_date": "2024-12-01"},
            {"type_code": "little_giant", "issued_date": "2025-07-01"},
        ],
        contacts=[
            {"name": "王敏", "phone": "13800000000"},
            {
                "name": "李华",
                "title": "财务经理",
                "phone": "+86 510 8123 4567",
                "email": "lihua@example.com",
                "is_primary": True,
            },
        ],
        **office_consent(),
    )
    by_itself = create_enterprise(client, name="无锡自行授权科技有限公司", contacts=[])
    owner = as_role("enterprise", enterprise_id=by_itself["id"])
    response = owner.patch(
        f"/api/v1/enterprises/{by_itself['id']}", json={"share_with_banks": True}
    )
    assert response.status_code == 200, response.text
    never = create_enterprise(client, name="无锡从未授权科技有限公司", employees=None)
    project = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": on_form["id"],
            "name": "12英寸功率器件产线智能化改造项目",
            "kind": "intelligent_digital",
            "total_investment_fen": 120_000_000_000,
            "equipment_investment_fen": 80_000_050_000,
            "year": 2026,
            "status": "under_construction",
            "listed_in": "2026年无锡市重大产业项目名单",
        },
    )
    assert project.status_code == 201, project.text
    return {"on_form": on_form, "by_itself": by_itself, "never": never, "project": project.json()}


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _by(rows: list[dict[str, Any]], column: str) -> dict[str, dict[str, Any]]:
    return {row[column]: row for row in rows}


ENTERPRISE_HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "所属地区",
    "行业代码",
    "产业集群",
    "产业链",
    "控股情况",
    "从业人员（人）",
    "营业收入（万元）",
    "资产总额（万元）",
    "成立日期",
    "信用等级",
    "联系人",
    "职务",
    "联系电话",
    "邮箱",
    "资质",
    "是否同意向银行共享",
    "申报表编号",
    "申报表签署日期",
]


def test_the_enterprise_library_in_the_imports_columns(client, firms) -> None:
    response = client.get("/api/v1/enterprises/export")
    rows = _by(_csv(response), "企业名称")
    header = response.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[: len(ENTERPRISE_HEADERS)] == ENTERPRISE_HEADERS
    on_form = rows["无锡申报表授权科技有限公司"]
    assert on_form["统一社会信用代码"] == firms["on_form"]["credit_code"]
    assert (on_form["所属地区"], on_form["产业集群"], on_form["控股情况"]) == (
        "新吴区",
        "集成电路",
        "私人控股",
    )
    assert on_form["营业收入（万元）"] == "1234.567891"
    assert on_form["资产总额（万元）"] == "500000"
    assert on_form["从业人员（人）"] == "120" and on_form["成立日期"] == "2015-03-01"
    # the primary contact in the import's columns, the other beside them
    assert (on_form["联系人"], on_form["职务"], on_form["联系电话"], on_form["邮箱"]) == (
        "李华",
        "财务经理",
        "'+86 510 8123 4567",  # neutralised: a spreadsheet would compute +86 …
        "lihua@example.com",
    )
    assert on_form["其他联系人"] == "王敏（13800000000）"
    assert on_form["资质"] == '高新技术企业 2024-12-01；专精特新"小巨人"企业 2025-07-01'
    # consent from a signed form: as the import records it
    assert on_form["是否同意向银行共享"] == "是"
    assert on_form["申报表编号"] == OFFICE_FORM["consent_form_ref"]
    assert on_form["申报表签署日期"] == OFFICE_FORM["consent_form_signed_on"]
    assert on_form["产业链"] == "'@SUM(A1)"  # neutralised
    # the enterprise's own choice has no form: told for people only
    by_itself = rows["无锡自行授权科技有限公司"]
    assert by_itself["是否同意向银行共享"] == by_itself["申报表编号"] == ""
    assert by_itself["共享授权说明"].startswith("同意（企业本人于 ")
    assert by_itself["联系人"] == ""
    never = rows["无锡从未授权科技有限公司"]
    assert never["共享授权说明"] == "未登记（不向银行共享非公开信息）"
    assert never["从业人员（人）"] == ""
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="finmatch-enterprises-')
    assert unquote(disposition.split("''")[1]).startswith("企业库_")


def test_the_project_library(client, firms) -> None:
    rows = _by(_csv(client.get("/api/v1/projects/export")), "项目名称")
    project = rows["12英寸功率器件产线智能化改造项目"]
    assert project["统一社会信用代码"] == firms["on_form"]["credit_code"]
    assert project["项目单位"] == "无锡申报表授权科技有限公司"
    assert (project["项目类型"], project["状态"], project["年度"]) == (
        "智能化改造数字化转型",
        "在建",
        "2026",
    )
    assert project["总投资（万元）"] == "120000"
    assert project["设备投资（万元）"] == "80000.05"
    assert project["所属名单"] == "2026年无锡市重大产业项目名单"
    assert project["产业集群"] == "集成电路"


def test_the_xlsx_is_the_same_table(client, firms) -> None:
    response = client.get("/api/v1/enterprises/export", params={"format": "xlsx"})
    assert response.status_code == 200, response.text
    rows = list(read_table(response.content, "enterprises.xlsx"))
    assert rows[0][: len(ENTERPRISE_HEADERS)] == ENTERPRISE_HEADERS
    header = rows[0]
    found = {r[1]: dict(zip(header, r, strict=False)) for r in rows[1:]}
    on_form = found["无锡申报表授权科技有限公司"]
    assert Decimal(repr(on_form["营业收入（万元）"])) == Decimal("1234.567891")
    assert on_form["成立日期"] == datetime(2015, 3, 1)  # a date cell
    assert on_form["申报表签署日期"] == datetime(2026, 1, 5)
    assert on_form["产业链"] == "'@SUM(A1)"
    projects = client.get("/api/v1/projects/export", params={"format": "xlsx"})
    table = list(read_table(projects.content, "projects.xlsx"))
    assert table[1][table[0].index("年度")] == 2026


def test_the_export_reads_a_batch_at_a_time(client, firms, monkeypatch) -> None:
    monkeypatch.setattr(exports, "BATCH", 2)
    names = [r["企业名称"] for r in _csv(client.get("/api/v1/enterprises/export"))]
    assert len(names) == 3 and len(set(names)) == 3


@pytest.mark.parametrize("path", ["/api/v1/enterprises/export", "/api/v1/projects/export"])
def test_only_the_office_exports_the_library(as_role, firms, path) -> None:
    for holder in (
        as_role("bank", bank_code="jsbank-wx"),
        as_role("enterprise", enterprise_id=firms["never"]["id"]),
    ):
        response = holder.get(path)
        assert response.status_code == 403 and response.json()["code"] == "forbidden_role"


def test_an_unknown_format_is_refused(client) -> None:
    response = client.get("/api/v1/enterprises/export", params={"format": "xls"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_cells_for_people() -> None:
    assert exports.wan(None) is None
    assert str(exports.wan(8_000_000_000)) == "8000"
    assert str(exports.wan(1)) == "0.000001"
    assert str(exports.wan(123_450_000)) == "123.45"
    assert (
        exports.contacts_text(
            [{"name": "甲", "phone": "1"}, {"name": "乙", "title": "总经理", "is_primary": True}]
        )
        == "乙（总经理）；甲（1）"
    )
    assert exports.industry_section("C3973") == "制造业" and exports.industry_section(None) is None


def _library(client: Any, firms: dict[str, Any]) -> list[dict[str, Any]]:
    """Every enterprise and project of the fixture, as the API reads them (versions too)."""
    out = [
        client.get(f"/api/v1/enterprises/{firms[k]['id']}").json()
        for k in ("on_form", "by_itself", "never")
    ]
    return [*out, client.get(f"/api/v1/projects/{firms['project']['id']}").json()]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_exported_and_imported_again_changes_nothing(client, firms, fmt) -> None:
    before = _library(client, firms)
    for kind, rows in (("enterprises", 3), ("projects", 1)):
        content = client.get(f"/api/v1/{kind}/export", params={"format": fmt}).content
        response = client.post(
            f"/api/v1/{kind}/imports", files={"file": (f"{kind}.{fmt}", content)}
        )
        assert response.status_code == 201, response.text
        record = response.json()
        unchanged = {"create": 0, "update": 0, "unchanged": rows, "rejected": 0, "warnings": 0}
        changed = client.get(
            f"/api/v1/{kind}/imports/{record['id']}/rows", params={"action": "update"}
        ).json()["items"]
        assert record["counts"] == unchanged, [(r["label"], r["changes"]) for r in changed]
        committed = client.post(f"/api/v1/{kind}/imports/{record['id']}/commit")
        assert committed.status_code == 200, committed.text
        assert committed.json()["applied"] == unchanged
    assert _library(client, firms) == before


def test_the_import_reads_every_column_it_is_given(session) -> None:
    from service.enterprises import import_columns as imports
    from service.enterprises import import_service

    refs = import_service.references(session)
    for kind, columns, people in (
        ("enterprise", exports.LIVE_ENTERPRISE_COLUMNS, 5),
        ("project", exports.LIVE_PROJECT_COLUMNS, 0),
    ):
        mapped = imports.map_headers([c.header for c in columns], kind, refs)
        # every column but those for people only is read, each as what it holds
        assert len(mapped) == len(columns) - people
        assert "registration_type" not in {c.key for c in mapped.values()}
    for code, label in exports.PROJECT_KIND_LABEL.items():
        assert imports._KIND_ALIASES[imports.alias(label)] == code

"""The office's support-policy (政策直达) figures and their workbook, against figures counted by
hand on a small library made through the API on 2026-06-30 (and one enterprise a year
earlier), with awards recorded, approved, paid and rejected."""

import io
from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session

from service.enterprises.models import Enterprise
from tests.factories import LARGE_IC, bank_payload, create_enterprise

DAY = date(2026, 6, 30)
WAN = 1_000_000  # fen
HOSTILE = '=HYPERLINK("http://x","点我")'


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


def firm(client: Any, district: str, cluster: str, name: str) -> dict[str, Any]:
    return create_enterprise(
        client,
        **{**LARGE_IC, "ownership": "private", "district_code": district, "cluster_code": cluster},
        name=name,
    )


def qualify(client: Any, enterprise_id: int, type_code: str, issued: str) -> None:
    _ok(
        client.post(
            f"/api/v1/enterprises/{enterprise_id}/qualifications",
            json={"type_code": type_code, "issued_date": issued},
        )
    )


def apply(client: Any, enterprise_id: int, policy: str, period: str, on: str) -> int:
    body = {"enterprise_id": enterprise_id, "policy_code": policy, "period": period}
    return int(_ok(client.post("/api/v1/policy-grants", json={**body, "applied_date": on}))["id"])


def step(client: Any, grant_id: int, **body: Any) -> None:
    _ok(client.post(f"/api/v1/policy-grants/{grant_id}/steps", json=body))


def add_budget(client: Any, code: str, budget_fen: int) -> None:
    """A second version from 2026-01-01 with the same rule and a budget."""
    current = _ok(client.get(f"/api/v1/policies/{code}"))["in_force"]["parameters"]
    _ok(
        client.post(
            f"/api/v1/policies/{code}/versions",
            json={"effective_from": "2026-01-01", "budget_fen": budget_fen, "parameters": current},
        )
    )


@pytest.fixture
def library(client: Any, session: Session) -> dict[str, Any]:
    """C (锡山区, 生物医药) became a first 小巨人 in 2025 (found 2025-06-30). On 2026-06-30:
    A1 (新吴区, 集成电路) a first 小巨人 → 50万, applied, approved 50万, paid 50万;
    A2 (新吴区, 集成电路) a first 省专精特新 → 30万, applied (awaiting);
    B1 (梁溪区, 物联网) a tech-transformation project, 3000万 equipment in 2025 → 180万 for
    2026, applied, approved 150万; B2 (梁溪区, 物联网, named like a formula) a first 小巨人 →
    50万, applied, rejected. Budgets from 2026: 小巨人 (first) 200万 in all, 技术改造 500万 a year.
    """
    with time_machine.travel(date(2025, 6, 30), tick=False):
        c = firm(client, "xishan", "biomed", "无锡丙生物科技有限公司")
        qualify(client, c["id"], "little_giant", "2025-03-01")
    with time_machine.travel(DAY, tick=False):
        add_budget(client, "little-giant-first", 200 * WAN)
        add_budget(client, "tech-transformation", 500 * WAN)
        a1 = firm(client, "xinwu", "ic", "无锡甲一微电子有限公司")
        qualify(client, a1["id"], "little_giant", "2026-03-01")
        a2 = firm(client, "xinwu", "ic", "无锡甲二微电子有限公司")
        qualify(client, a2["id"], "srdi_sme", "2026-02-01")
        b1 = firm(client, "liangxi", "iot", "无锡乙一物联网有限公司")
        project = {
            "enterprise_id": b1["id"],
            "name": "智能传感产线技术改造",
            "kind": "tech_transformation",
            "total_investment_fen": 40_000 * WAN,
            "equipment_investment_fen": 3_000 * WAN,
            "year": 2025,
        }
        _ok(client.post("/api/v1/projects", json=project))
        b2 = firm(client, "liangxi", "iot", "无锡乙二物联网有限公司")
        qualify(client, b2["id"], "little_giant", "2026-04-01")
        g1 = apply(client, a1["id"], "little-giant-first", "once", "2026-05-10")
        step(client, g1, action="approve", amount_fen=50 * WAN, on="2026-06-01")
        step(client, g1, action="pay", on="2026-06-20")
        apply(client, a2["id"], "srdi-first", "once", "2026-06-01")
        g3 = apply(client, b1["id"], "tech-transformation", "2026", "2026-06-01")
        step(client, g3, action="approve", amount_fen=150 * WAN, on="2026-06-15")
        g4 = apply(client, b2["id"], "little-giant-first", "once", "2026-06-02")
        step(client, g4, action="reject", note="材料不全")
    hostile = session.get(Enterprise, b2["id"])
    assert hostile is not None
    hostile.name = HOSTILE
    session.add(hostile)
    session.commit()
    return {"c": c, "a1": a1, "a2": a2, "b1": b1, "b2": b2}


ZERO = {
    "entitled": 0,
    "entitled_fen": 0,
    "enterprises": 0,
    "estimated": 0,
    "estimated_fen": 0,
    "applied": 0,
    "awaiting": 0,
    "awaiting_fen": 0,
    "approved": 0,
    "approved_fen": 0,
    "paid": 0,
    "paid_fen": 0,
    "rejected": 0,
}
# 新吴区 / 集成电路: A1 (50万, paid) and A2 (30万, awaiting).
XINWU = ZERO | {
    "entitled": 2,
    "entitled_fen": 80 * WAN,
    "enterprises": 2,
    "estimated": 1,
    "estimated_fen": 30 * WAN,
    "applied": 2,
    "awaiting": 1,
    "awaiting_fen": 30 * WAN,
    "approved": 1,
    "approved_fen": 50 * WAN,
    "paid": 1,
    "paid_fen": 50 * WAN,
}
# 梁溪区 / 物联网: B1 (180万, approved 150万: the yearly rule, evaluated again, allows the 30万
# left) and B2 (50万, rejected: still to be awarded).
LIANGXI = ZERO | {
    "entitled": 2,
    "entitled_fen": 80 * WAN,
    "enterprises": 2,
    "estimated": 1,
    "estimated_fen": 50 * WAN,
    "applied": 2,
    "approved": 1,
    "approved_fen": 150 * WAN,
    "rejected": 1,
}
TOTAL = {k: XINWU[k] + LIANGXI[k] for k in ZERO}


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ZERO}


def test_the_year_s_figures_per_policy_district_and_cluster(client, library) -> None:
    with time_machine.travel(DAY, tick=False):
        body = _ok(client.get("/api/v1/metrics/policies", params={"year": 2026}))
        assert _ok(client.get("/api/v1/metrics/policies")) == body  # this year by default
    assert body["scope"] == {"year": 2026, "as_of": "2026-06-30", "budget_on": "2026-06-30"}
    rows = {p["policy_code"]: p for p in body["policies"]}
    first = rows["little-giant-first"]
    assert _figures(first) == ZERO | {
        "entitled": 2,
        "entitled_fen": 100 * WAN,
        "enterprises": 2,
        "estimated": 1,
        "estimated_fen": 50 * WAN,
        "applied": 2,
        "approved": 1,
        "approved_fen": 50 * WAN,
        "paid": 1,
        "paid_fen": 50 * WAN,
        "rejected": 1,
    }
    # C's award of 2025 is not this year's; the budget is in all: 200万 less 50万 approved.
    assert (first["yearly"], first["budget_fen"], first["budget_approved_fen"]) == (
        False,
        200 * WAN,
        50 * WAN,
    )
    assert (first["left_fen"], first["used_share"]) == (150 * WAN, 0.25)
    assert first["department_name"] == "市工业和信息化局"
    tech = rows["tech-transformation"]
    assert _figures(tech) == ZERO | {
        "entitled": 1,
        "entitled_fen": 30 * WAN,
        "enterprises": 1,
        "applied": 1,
        "approved": 1,
        "approved_fen": 150 * WAN,
    }
    assert (tech["yearly"], tech["budget_fen"], tech["left_fen"], tech["used_share"]) == (
        True,
        500 * WAN,
        350 * WAN,
        0.3,
    )
    srdi = rows["srdi-first"]
    assert _figures(srdi) == ZERO | {
        "entitled": 1,
        "entitled_fen": 30 * WAN,
        "enterprises": 1,
        "estimated": 1,
        "estimated_fen": 30 * WAN,
        "applied": 1,
        "awaiting": 1,
        "awaiting_fen": 30 * WAN,
    }
    assert (srdi["budget_fen"], srdi["left_fen"], srdi["used_share"]) == (None, None, None)
    others = set(rows) - {"little-giant-first", "tech-transformation", "srdi-first"}
    assert others and all(_figures(rows[code]) == ZERO for code in others)
    assert body["total"] == TOTAL

    districts = {r["label"]: r for r in body["by_district"]["rows"]}
    assert [r["label"] for r in body["by_district"]["rows"]] == [
        "梁溪区",
        "锡山区",
        "惠山区",
        "滨湖区",
        "新吴区",
        "江阴市",
        "宜兴市",
        "无锡经济开发区",
    ]
    assert _figures(districts["新吴区"]) == XINWU
    assert _figures(districts["梁溪区"]) == LIANGXI
    assert _figures(districts["锡山区"]) == ZERO  # C's award counts in 2025
    assert _figures(body["by_district"]["total"]) == TOTAL
    clusters = {r["key"]: r for r in body["by_cluster"]["rows"]}
    assert len(clusters) == 15
    assert (clusters["ic"]["label"], clusters["ic"]["tier"]) == ("集成电路", "地标产业")
    assert _figures(clusters["ic"]) == XINWU
    assert (clusters["iot"]["label"], clusters["iot"]["tier"]) == ("物联网", "地标产业")
    assert _figures(clusters["iot"]) == LIANGXI
    assert _figures(clusters["biomed"]) == ZERO
    assert _figures(body["by_cluster"]["total"]) == TOTAL


def test_a_one_off_award_counts_in_the_year_it_was_found(client, library) -> None:
    with time_machine.travel(DAY, tick=False):
        body = _ok(client.get("/api/v1/metrics/policies", params={"year": 2025}))
    assert body["scope"]["budget_on"] == "2025-12-31"
    found = ZERO | {"entitled": 1, "entitled_fen": 50 * WAN, "enterprises": 1}
    found |= {"estimated": 1, "estimated_fen": 50 * WAN}
    first = next(p for p in body["policies"] if p["policy_code"] == "little-giant-first")
    assert _figures(first) == found
    assert first["budget_fen"] is None  # the budget begins in 2026
    assert body["total"] == found
    assert _figures(next(r for r in body["by_district"]["rows"] if r["label"] == "锡山区")) == found
    assert _figures(next(r for r in body["by_cluster"]["rows"] if r["key"] == "biomed")) == found


def test_the_workbook_holds_every_figure_and_every_entitlement(client, library) -> None:
    with time_machine.travel(DAY, tick=False):
        response = client.get("/api/v1/metrics/policies.xlsx", params={"year": 2026})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="finmatch_policies_2026.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["概况", "按政策", "按区县", "按产业集群", "企业明细"]

    def cells(name: str) -> list[list[Any]]:
        return [list(r) for r in book[name].iter_rows(values_only=True)]

    summary = {row[0]: row[1] for row in cells("概况")[1:]}
    assert summary == {
        "统计年度": "2026",
        "制表日期": datetime(2026, 6, 30),
        "预算口径日期": datetime(2026, 6, 30),
        "享受企业（家）": 4,
        "应享条目（条）": 4,
        "应享金额（元）": 1_600_000,
        "待兑现（条）": 2,
        "待兑现金额（元）": 800_000,
        "已申报（件）": 4,
        "待核定（件）": 1,
        "待核定金额（元）": 300_000,
        "已核定（件）": 2,
        "核定金额（元）": 2_000_000,
        "已拨付（件）": 1,
        "拨付金额（元）": 500_000,
        "未获批（件）": 1,
        "预算（元）": 7_000_000,
        "预算已用（元）": 2_000_000,
        "预算余额（元）": 5_000_000,
    }
    assert all(row[2] for row in cells("概况")[1:])  # every figure says what it means
    policies = cells("按政策")
    assert policies[0][:8] == [
        "政策",
        "类型",
        "主管部门",
        "预算（元）",
        "预算已用（元）",
        "预算余额（元）",
        "预算使用率",
        "享受企业（家）",
    ]
    by_name = {row[0]: row[1:] for row in policies[1:]}
    assert by_name["首次获评国家专精特新“小巨人”企业奖励"] == [
        "一次性",
        "市工业和信息化局",
        2_000_000,
        500_000,
        1_500_000,
        0.25,
        *[2, 2, 1_000_000, 1, 500_000, 2, 0, 0, 1, 500_000, 1, 500_000, 1],
    ]
    assert by_name["技术改造项目支持"] == [
        "年度",
        "市工业和信息化局",
        5_000_000,
        1_500_000,
        3_500_000,
        0.3,
        *[1, 1, 300_000, 0, 0, 1, 0, 0, 1, 1_500_000, 0, 0, 0],
    ]
    assert by_name["首次获评省“专精特新”中小企业奖励"][2:] == [
        None,
        None,
        None,
        None,
        *[1, 1, 300_000, 1, 300_000, 1, 1, 300_000, 0, 0, 0, 0, 0],
    ]
    assert policies[-1] == ["合计", None, None, None, None, None, None] + [
        *[4, 4, 1_600_000, 2, 800_000, 4, 1, 300_000, 2, 2_000_000, 1, 500_000, 1]
    ]
    xinwu = [2, 2, 800_000, 1, 300_000, 2, 1, 300_000, 1, 500_000, 1, 500_000, 0]
    liangxi = [2, 2, 800_000, 1, 500_000, 2, 0, 0, 1, 1_500_000, 0, 0, 1]
    total = [4, 4, 1_600_000, 2, 800_000, 4, 1, 300_000, 2, 2_000_000, 1, 500_000, 1]
    districts = {row[0]: row[1:] for row in cells("按区县")[1:]}
    assert cells("按区县")[0][0] == "区县" and len(districts) == 9
    assert districts["新吴区"] == xinwu and districts["梁溪区"] == liangxi
    assert districts["锡山区"] == [0] * 13 and districts["合计"] == total
    clusters = {row[0]: row[1:] for row in cells("按产业集群")[1:]}
    assert cells("按产业集群")[0][:2] == ["产业集群", "层级"] and len(clusters) == 16
    assert clusters["集成电路"] == ["地标产业", *xinwu]
    assert clusters["物联网"] == ["地标产业", *liangxi]
    assert clusters["合计"] == [None, *total]

    a1, a2, b1, b2 = (library[k] for k in ("a1", "a2", "b1", "b2"))
    found = datetime(2026, 6, 30)
    lines = cells("企业明细")
    assert lines == [
        [
            "企业名称",
            "统一社会信用代码",
            "区县",
            "产业集群",
            "政策",
            "期间",
            "应享金额（元）",
            "发现日期",
            "奖补状态",
            "申报日期",
            "核定金额（元）",
            "拨付金额（元）",
        ],
        [
            a1["name"],
            a1["credit_code"],
            "新吴区",
            "集成电路",
            "首次获评国家专精特新“小巨人”企业奖励",
        ]
        + ["一次性", 500_000, found, "已拨付", datetime(2026, 5, 10), 500_000, 500_000],
        [a2["name"], a2["credit_code"], "新吴区", "集成电路", "首次获评省“专精特新”中小企业奖励"]
        + ["一次性", 300_000, found, "已申报", datetime(2026, 6, 1), None, None],
        [b1["name"], b1["credit_code"], "梁溪区", "物联网", "技术改造项目支持"]
        + ["2026年度", 300_000, found, "已核定", datetime(2026, 6, 1), 1_500_000, None],
        [
            "'" + HOSTILE,
            b2["credit_code"],
            "梁溪区",
            "物联网",
            "首次获评国家专精特新“小巨人”企业奖励",
        ]
        + ["一次性", 500_000, found, "未获批", datetime(2026, 6, 2), None, None],
    ]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_only_the_office_sees_the_figures(client, as_role, library) -> None:
    bank = _ok(client.post("/api/v1/banks", json=bank_payload()))["code"]
    callers = (
        as_role("bank", bank_code=bank),
        as_role("enterprise", enterprise_id=library["a1"]["id"]),
    )
    for caller in callers:
        for path in ("/api/v1/metrics/policies", "/api/v1/metrics/policies.xlsx"):
            response = caller.get(path, params={"year": 2026})
            assert response.status_code == 403, (path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    for path in ("/api/v1/metrics/policies", "/api/v1/metrics/policies.xlsx"):
        response = client.get(path, params={"year": 1999})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")

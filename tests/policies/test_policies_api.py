"""Support policies through the API: the seeded city policies, an enterprise's entitlements
with their reasons, the triggers that notify exactly once, versions, and awards."""

from datetime import date
from typing import Any

import pytest
import time_machine

from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload

DAY = date(2026, 6, 30)
WAN = 1_000_000  # fen


@pytest.fixture(autouse=True)
def _on_day():
    with time_machine.travel(DAY, tick=False):
        yield


def private_firm(client: Any, **overrides: Any) -> dict[str, Any]:
    return create_enterprise(client, **{**LARGE_IC, "ownership": "private", **overrides})


def add_qualification(client: Any, enterprise_id: int, type_code: str, issued: str) -> None:
    response = client.post(
        f"/api/v1/enterprises/{enterprise_id}/qualifications",
        json={"type_code": type_code, "issued_date": issued},
    )
    assert response.status_code in (200, 201), response.text


def entitlements(client: Any, enterprise_id: int, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/enterprises/{enterprise_id}/entitlements", params=params)
    assert response.status_code == 200, response.text
    return {e["policy_code"]: e for e in response.json()}


def notices(client: Any, enterprise_id: int) -> list[dict[str, Any]]:
    response = client.get("/api/v1/policy-notices", params={"enterprise_id": enterprise_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_city_policies_are_listed_with_their_rules_in_words(client, as_role):
    firm = private_firm(client)
    for caller in (client, as_role("enterprise", enterprise_id=firm["id"])):
        body = caller.get("/api/v1/policies").json()
        by_code = {p["code"]: p for p in body}
        assert {
            "tech-transformation",
            "green-national",
            "green-provincial",
            "green-design",
            "little-giant-first",
            "little-giant-renewal",
            "srdi-first",
            "srdi-renewal",
            "key-lab",
        } <= set(by_code)
    first = by_code["little-giant-first"]
    assert first["summary"] == '首次获评专精特新"小巨人"企业的企业，一次性奖励最高50万元'
    assert first["department_name"] == "市工业和信息化局"
    assert first["in_force"]["effective_from"] == "2024-01-29"
    tech = by_code["tech-transformation"]
    assert "5%、6%、7%" in tech["summary"] and "1,000万元" in tech["summary"]
    detail = client.get("/api/v1/policies/tech-transformation")
    assert detail.headers["ETag"] == '"1"'
    assert [v["version"] for v in detail.json()["versions"]] == [1]
    assert client.get("/api/v1/policies/nope").status_code == 404


def test_a_first_little_giant_is_entitled_told_once_and_awarded_once(client, as_role):
    firm = private_firm(client)
    me = as_role("enterprise", enterprise_id=firm["id"])
    assert "little-giant-first" not in entitlements(me, firm["id"])
    add_qualification(client, firm["id"], "little_giant", "2026-03-01")
    got = entitlements(me, firm["id"])["little-giant-first"]
    assert got["eligible"] and got["amount_fen"] == 50 * WAN and got["period"] == "once"
    assert "2026-03-01 获评（little_giant）" in got["reasons"]
    assert got["documents"] and got["status"] == "current" and got["notified_at"]
    told = notices(client, firm["id"])
    assert [(n["policy_code"], n["trigger"], n["amount_fen"]) for n in told] == [
        ("little-giant-first", "qualification", 50 * WAN)
    ]
    # Re-evaluating, however often, tells no one again.
    assert client.post("/api/v1/policies/reevaluate").status_code == 200
    assert client.post("/api/v1/policies/reevaluate").json()["notified"] == 0
    assert len(notices(client, firm["id"])) == 1

    grant = client.post(
        "/api/v1/policy-grants",
        json={
            "enterprise_id": firm["id"],
            "policy_code": "little-giant-first",
            "period": "once",
            "applied_date": "2026-05-10",
        },
    )
    assert grant.status_code == 201, grant.text
    gid = grant.json()["id"]
    too_much = client.post(
        f"/api/v1/policy-grants/{gid}/steps", json={"action": "approve", "amount_fen": 50 * WAN + 1}
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "above_entitlement"
    approved = client.post(
        f"/api/v1/policy-grants/{gid}/steps",
        json={"action": "approve", "amount_fen": 50 * WAN, "on": "2026-06-01"},
        headers={"If-Match": '"1"'},
    )
    assert approved.status_code == 200, approved.text
    stale = client.post(
        f"/api/v1/policy-grants/{gid}/steps",
        json={"action": "pay"},
        headers={"If-Match": '"1"'},
    )
    assert stale.status_code == 412
    paid = client.post(
        f"/api/v1/policy-grants/{gid}/steps", json={"action": "pay", "on": "2026-06-20"}
    )
    assert paid.json()["status"] == "paid" and paid.json()["paid_fen"] == 50 * WAN
    again = client.post(f"/api/v1/policy-grants/{gid}/steps", json={"action": "reject"})
    assert again.status_code == 409

    # Awarded once: a later award entitles to nothing more under the first-award policy.
    add_qualification(client, firm["id"], "little_giant", "2026-06-15")
    shown = entitlements(me, firm["id"])["little-giant-first"]
    assert not shown["eligible"] and shown["missing"] == ["已获此项奖励（一次性）"]
    assert shown["grant"]["status"] == "paid"
    assert shown["status"] == "current"  # fulfilled, not lapsed
    assert [n["policy_code"] for n in notices(client, firm["id"])] == [
        "little-giant-renewal",  # the later award is a re-examination: a notice of its own
        "little-giant-first",
    ]
    second = client.post(
        "/api/v1/policy-grants",
        json={
            "enterprise_id": firm["id"],
            "policy_code": "little-giant-first",
            "period": "once",
            "applied_date": "2026-06-20",
        },
    )
    assert second.status_code == 409 and second.json()["code"] == "grant_exists"


def test_a_state_owned_or_unknown_enterprise_is_told_what_is_missing(client):
    state = private_firm(client, ownership="state")
    unknown = create_enterprise(client, **LARGE_IC)
    for firm, missing in ((state, "仅限民营企业"), (unknown, "未登记控股情况，无法确认为民营企业")):
        add_qualification(client, firm["id"], "little_giant", "2026-03-01")
        got = client.get(
            "/api/v1/policies/little-giant-first/evaluation", params={"enterprise_id": firm["id"]}
        ).json()
        assert not got["eligible"] and missing in got["missing"]
        assert "little-giant-first" not in entitlements(client, firm["id"])
        assert entitlements(client, firm["id"], all="true")["little-giant-first"]["missing"]
        assert notices(client, firm["id"]) == []


def test_a_key_project_with_investment_is_entitled_by_its_tier(client):
    firm = private_firm(client)
    project = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": firm["id"],
            "name": "高端封测产线技术改造",
            "kind": "tech_transformation",
            "total_investment_fen": 40_000 * WAN,
            "equipment_investment_fen": 3_000 * WAN,
            "year": 2025,
        },
    )
    assert project.status_code == 201, project.text
    got = entitlements(client, firm["id"])["tech-transformation"]
    assert got["amount_fen"] == 180 * WAN and got["period"] == "2026"  # 3000万 × 6%
    assert got["lines"][0]["rate_bp"] == 600 and got["discretionary"]
    told = notices(client, firm["id"])
    assert [(n["policy_code"], n["trigger"]) for n in told] == [("tech-transformation", "project")]
    # The investment corrected below the threshold: the entitlement lapses, no new notice.
    changed = client.patch(
        f"/api/v1/projects/{project.json()['id']}", json={"equipment_investment_fen": 999 * WAN}
    )
    assert changed.status_code == 200, changed.text
    row = entitlements(client, firm["id"], all="true")["tech-transformation"]
    assert not row["eligible"] and row["status"] == "lapsed"
    assert len(notices(client, firm["id"])) == 1


def subsidy_policy(client: Any, **parameters: Any) -> dict[str, Any]:
    body = {
        "code": "xikedai-subsidy",
        "name": "锡科贷贴息",
        "department_code": "wx-czj",
        "first_version": {
            "effective_from": "2026-01-01",
            "budget_fen": 2_000 * WAN,
            "parameters": {
                "scheme": "interest_subsidy",
                "loan_schemes": ["xikedai"],
                "share_bp": 5000,
                "cap_per_loan_fen": 20 * WAN,
                "once": False,
                **parameters,
            },
        },
    }
    response = client.post("/api/v1/policies", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_loan_under_a_subsidy_scheme_is_entitled_to_a_share_of_its_interest(client):
    policy = subsidy_policy(client)
    assert policy["summary"] == "xikedai贷款按已付利息的50%贴息，单笔最高20万元"
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    product = client.post("/api/v1/products", json=product_payload(bank, scheme="xikedai")).json()[
        "code"
    ]
    firm = private_firm(client)
    loan = client.post(
        "/api/v1/loans",
        json={
            "bank_code": bank,
            "contract_no": "XKD-2026-001",
            "enterprise_id": firm["id"],
            "product_code": product,
            "kind": "working_capital",
            "principal_fen": 1_000 * WAN,
            "rate_bp": 360,
            "disbursed_date": "2026-03-01",
            "maturity_date": "2027-02-28",
        },
    )
    assert loan.status_code == 201, loan.text
    got = entitlements(client, firm["id"])["xikedai-subsidy"]
    # 1000万 × 3.6% / 360 × 122 days (1 March – 30 June) = 122,000.00 元; half of it.
    assert got["lines"][0]["base_fen"] == 12_200_000
    assert got["amount_fen"] == 6_100_000
    told = notices(client, firm["id"])
    assert [(n["policy_code"], n["trigger"]) for n in told] == [("xikedai-subsidy", "loan")]


def test_a_new_version_re_evaluates_the_library(client):
    firm = private_firm(client)
    add_qualification(client, firm["id"], "srdi_sme", "2026-02-01")
    assert entitlements(client, firm["id"])["srdi-first"]["amount_fen"] == 30 * WAN
    current = client.get("/api/v1/policies/srdi-first").json()["in_force"]["parameters"]
    added = client.post(
        "/api/v1/policies/srdi-first/versions",
        json={
            "effective_from": "2026-06-01",
            "parameters": {**current, "amount_fen": 40 * WAN},
            "note": "奖励标准调整",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 2
    # An award is paid under the version in force on the day it was awarded.
    got = entitlements(client, firm["id"])["srdi-first"]
    assert got["amount_fen"] == 30 * WAN and got["policy_version"] == 1
    later = private_firm(client)
    add_qualification(client, later["id"], "srdi_sme", "2026-06-10")
    got = entitlements(client, later["id"])["srdi-first"]
    assert got["amount_fen"] == 40 * WAN and got["policy_version"] == 2
    before = client.get(
        "/api/v1/policies/srdi-first/evaluation",
        params={"enterprise_id": later["id"], "as_of": "2026-05-31"},
    ).json()
    assert not before["eligible"]  # not yet awarded then
    assert len(notices(client, firm["id"])) == 1
    assert [n["amount_fen"] for n in notices(client, later["id"])] == [40 * WAN]


def test_who_may_see_and_do_what(client, as_role):
    firm = private_firm(client)
    other = private_firm(client)
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    me = as_role("enterprise", enterprise_id=firm["id"])
    a_bank = as_role("bank", bank_code=bank)
    assert me.get(f"/api/v1/enterprises/{other['id']}/entitlements").status_code == 404
    assert a_bank.get(f"/api/v1/enterprises/{firm['id']}/entitlements").status_code == 403
    assert a_bank.get("/api/v1/policy-notices").status_code == 403
    assert me.post("/api/v1/policies/reevaluate").status_code == 403
    assert (
        me.post(
            "/api/v1/policy-grants",
            json={
                "enterprise_id": firm["id"],
                "policy_code": "srdi-first",
                "period": "once",
                "applied_date": "2026-06-01",
            },
        ).status_code
        == 403
    )
    assert a_bank.get("/api/v1/policies").status_code == 200
    assert client.get("/api/v1/enterprises/99999999/entitlements").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"scheme": "qualification_award", "qualification_types": ["little_giant"]},
        {"scheme": "tech_transformation", "project_kinds": ["tech_transformation"], "tiers": []},
        {"scheme": "interest_subsidy", "share_bp": 0, "once": False},
        {"scheme": "interest_subsidy", "share_bp": 5000},  # yearly, not once
        {"scheme": "qualification_award", "qualification_types": ["x"], "amount_fen": -1},
        {"scheme": "nope"},
    ],
)
def test_parameters_that_do_not_hold_are_refused_and_nothing_is_written(client, change):
    body = {
        "code": "bad-policy",
        "name": "错误的政策",
        "first_version": {"effective_from": "2026-01-01", "parameters": change},
    }
    response = client.post("/api/v1/policies", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/policies/bad-policy").status_code == 404


def test_a_grant_for_the_wrong_kind_of_period_is_refused(client):
    firm = private_firm(client)
    for policy, period in (("srdi-first", "2026"), ("tech-transformation", "once")):
        response = client.post(
            "/api/v1/policy-grants",
            json={
                "enterprise_id": firm["id"],
                "policy_code": policy,
                "period": period,
                "applied_date": "2026-06-01",
            },
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_grant"


def test_a_list_import_notifies_once_and_its_re_import_adds_nothing(client):
    firm = private_firm(client)
    text = (
        "2026年第二批专精特新“小巨人”企业名单\n"
        "序号,企业名称,统一社会信用代码\n"
        f"1,{firm['name']},{firm['credit_code']}\n"
    )
    for title in ("小巨人第二批", "小巨人第二批（重发）"):
        upload = client.post(
            "/api/v1/lists/imports",
            files={"file": ("list.csv", (text + title).encode("utf-8-sig"), "text/csv")},
            data={
                "qualification_type": "little_giant",
                "title": title,
                "issued_date": "2026-06-01",
            },
        )
        assert upload.status_code == 201, upload.text
        committed = client.post(f"/api/v1/lists/imports/{upload.json()['id']}/commit")
        assert committed.status_code == 200, committed.text
        told = notices(client, firm["id"])
        assert [(n["policy_code"], n["trigger"]) for n in told] == [
            ("little-giant-first", "qualification")
        ]
    assert entitlements(client, firm["id"])["little-giant-first"]["amount_fen"] == 50 * WAN

"""The credit officer's rules end to end through the API: the bridge fund follows the
renewal commitment, an enterprise outside the service area gets no recommendation and no
lead, a product may be for some ownership types only, and an offer of collateral never
closes a credit product."""

from typing import Any

import pytest
import time_machine

from tests.factories import (
    bank_payload,
    create_enterprise,
    credit_code,
    need_payload,
    product_payload,
)

BRIDGE = "wx-bridge-fund-zhuandai"


def _on(day: str) -> Any:
    return time_machine.travel(f"{day} 10:00 +0800", tick=False)


def _need(client, enterprise_id: int, **overrides: Any) -> dict:
    response = client.post("/api/v1/needs", json=need_payload(enterprise_id, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def _codes(items: list[dict]) -> list[str]:
    return [i["product_code"] for i in items]


@_on("2026-12-01")
def test_the_bridge_fund_fits_once_the_bank_commits_the_renewal(client) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload(bridge_fund_partner=True)).json()
    firm = create_enterprise(client, cluster_code="ic")
    need = _need(client, firm["id"], purpose="bridge", term_months=1, amount_fen=400_000_000)
    url = f"/api/v1/needs/{need['id']}/recommendations"
    # No loan about to mature: the fund is neither recommended nor a near miss.
    body = client.get(url).json()
    assert BRIDGE not in _codes(body["items"]) + _codes(body["near_misses"])
    loan = client.post(
        "/api/v1/loans",
        json={
            "contract_no": "BR-1",
            "bank_code": bank["code"],
            "enterprise_id": firm["id"],
            "principal_fen": 500_000_000,
            "rate_bp": 345,
            "disbursed_date": "2025-12-20",
            "maturity_date": "2026-12-20",
        },
    ).json()
    # Maturing in 19 days, renewal not committed: a near miss that says what to do.
    body = client.get(url).json()
    assert BRIDGE not in _codes(body["items"])
    (miss,) = [m for m in body["near_misses"] if m["product_code"] == BRIDGE]
    (failure,) = miss["failures"]
    assert failure["gate"] == "renewal_committed" and failure["actionable"] is True
    assert "承诺续贷" in failure["remedy"]
    committed = client.post(
        f"/api/v1/loans/{loan['id']}/renewal/status",
        json={"status": "committed", "committed_amount_fen": 500_000_000},
    )
    assert committed.status_code == 200, committed.text
    body = client.get(url).json()
    assert _codes(body["items"])[0] == BRIDGE
    policy = next(f for f in body["items"][0]["factors"] if f["name"] == "policy")
    assert policy["reason"].startswith("市政策优先推荐产品")
    # The stored profile matches follow the commitment too (rematched by the job it queued).
    prospects = client.get(f"/api/v1/products/{BRIDGE}/prospects").json()["items"]
    assert any(p["basis"] == "profile" for p in prospects)


def test_an_enterprise_outside_the_service_area_gets_no_recommendation_and_no_lead(
    client,
) -> None:
    shanghai = create_enterprise(
        client, credit_code=credit_code("310115"), district_code=None, cluster_code="ic"
    )
    assert shanghai["registered_in_wuxi"] is False
    need = _need(client, shanghai["id"])
    body = client.get(f"/api/v1/needs/{need['id']}/recommendations").json()
    assert body["items"] == [] and body["near_misses"] == []
    (notice,) = body["notices"]
    assert notice["code"] == "out_of_service_area"
    assert "上海市（310115）" in notice["message"] and "无锡市" in notice["message"]
    leads = client.get("/api/v1/leads", params={"limit": 200}).json()["items"]
    assert not [x for x in leads if x["need"] and x["need"]["need_id"] == need["id"]]
    profile = client.get(f"/api/v1/enterprises/{shanghai['id']}/recommendations").json()
    assert profile["items"] == [] and profile["notices"][0]["code"] == "out_of_service_area"
    # Applying for a product is refused like any ineligible pair.
    applied = client.post(
        "/api/v1/applications",
        json={"enterprise_id": shanghai["id"], "product_code": "jsbank-wx-xixindai"},
    )
    assert applied.status_code in (409, 422), applied.text


def test_a_product_for_private_enterprises_only(client) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()
    payload = product_payload(
        bank["code"],
        name="民营企业专享贷",
        eligibility={"ownership_types": ["private", "collective"]},
        amount_max_fen=1_000_000_000,
        term_max=12,
    )
    product = client.post("/api/v1/products", json=payload)
    assert product.status_code == 201, product.text
    code = product.json()["code"]
    private = create_enterprise(client, ownership="private")
    state = create_enterprise(client, ownership="state")
    ok = client.get(
        "/api/v1/explanations", params={"product": code, "enterprise_id": private["id"]}
    )
    assert ok.json()["eligible"] is True
    no = client.get("/api/v1/explanations", params={"product": code, "enterprise_id": state["id"]})
    (failure,) = [f for f in no.json()["failures"] if f["gate"] == "ownership"]
    assert "私人控股" in failure["reason"] and failure["actionable"] is False
    bad = product_payload(bank["code"], eligibility={"ownership_types": ["martian"]})
    refused = client.post("/api/v1/products", json=bad)
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_ownership"
    region = product_payload(bank["code"], eligibility={"regions": ["wuxi"]})
    refused = client.post("/api/v1/products", json=region)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_region"


def test_offering_collateral_never_closes_a_credit_product(client) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()
    credit = client.post(
        "/api/v1/products",
        json=product_payload(
            bank["code"],
            eligibility={"qualifications_any": ["srdi_sme"]},
            collateral_types=["none"],
            amount_max_fen=5_000_000_000,
            term_max=36,
            purposes=["working_capital", "equipment"],
        ),
    ).json()
    firm = create_enterprise(
        client,
        cluster_code="hi_equip",
        industry_code="C3424",
        qualifications=[{"type_code": "srdi_sme", "issued_date": "2025-03-01"}],
    )
    for offered in (["none"], ["equipment", "property"], ["gov_guarantee"]):
        need = _need(client, firm["id"], purpose="equipment", collateral=offered)
        body = client.get(f"/api/v1/needs/{need['id']}/recommendations").json()
        assert credit["code"] in _codes(body["items"]), offered


@pytest.mark.parametrize("value", ["wuxi", "3202,32020100", "３２０２", "32-02"])
def test_a_service_area_that_is_not_area_codes_stops_the_start(monkeypatch, value) -> None:
    from pydantic import ValidationError

    from service.core.settings import Settings

    monkeypatch.setenv("FINMATCH_SERVICE_AREA", value)
    with pytest.raises(ValidationError, match="FINMATCH_SERVICE_AREA"):
        Settings()


def test_service_area_prefixes(monkeypatch) -> None:
    from service.core.settings import Settings

    monkeypatch.setenv("FINMATCH_SERVICE_AREA", " 3202, 320583 ,")
    assert Settings().service_area_prefixes == ("3202", "320583")
    monkeypatch.setenv("FINMATCH_SERVICE_AREA", "")
    assert Settings().service_area_prefixes == ()  # every enterprise is served

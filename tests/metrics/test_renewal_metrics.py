"""Renewal compliance and upcoming maturities, through the API, against numbers worked out by
hand for a small set of loans whose renewal cases went different ways."""

from typing import Any

import pytest
import time_machine

from tests.factories import bank_payload, create_enterprise

TODAY = "2026-11-27 12:00 +08:00"


def _loan(client, bank: str, firm: int, maturity: str, contract: str) -> int:
    response = client.post(
        "/api/v1/loans",
        json={
            "contract_no": contract,
            "bank_code": bank,
            "enterprise_id": firm,
            "principal_fen": 100_000_000,
            "rate_bp": 345,
            "disbursed_date": "2025-12-01",
            "maturity_date": maturity,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _step(client, loan: int, **body: Any) -> None:
    r = client.post(f"/api/v1/loans/{loan}/renewal/status", json=body)
    assert r.status_code == 200, r.text


@pytest.fixture
def book(client) -> dict[str, Any]:
    with time_machine.travel(TODAY, tick=False):
        a = client.post("/api/v1/banks", json=bank_payload(short_name="甲银行")).json()["code"]
        b = client.post("/api/v1/banks", json=bank_payload(short_name="乙银行")).json()["code"]
        firm = create_enterprise(client)["id"]  # small, working capital: 无还本续贷 eligible
        a1 = _loan(client, a, firm, "2026-12-20", "A1")
        a2 = _loan(client, a, firm, "2026-12-10", "A2")
        b1 = _loan(client, b, firm, "2026-12-05", "B1")
        _loan(client, b, firm, "2026-12-31", "B2")
        _loan(client, b, firm, "2027-03-01", "B3")
        # A1: contacted 40 days ahead, renewed before maturity
        _step(client, a1, status="contacted", on_date="2026-11-10")
        _step(client, a1, status="committed", committed_amount_fen=100_000_000)
        _step(client, a1, status="renewed", on_date="2026-11-25", new_maturity_date="2027-11-25")
        # A2: contacted 20 days ahead, bridged, renewed before maturity
        _step(client, a2, status="contacted", on_date="2026-11-20")
        _step(client, a2, status="committed", committed_amount_fen=100_000_000)
        application = client.post(
            f"/api/v1/loans/{a2}/bridge-applications", json={"amount_fen": 90_000_000, "days": 3}
        ).json()
        for decision in ("approved", "disbursed"):
            r = client.post(
                f"/api/v1/bridge-applications/{application['id']}/status",
                json={"status": decision},
            )
            assert r.status_code == 200, r.text
        _step(client, a2, status="renewed", on_date="2026-11-26", new_maturity_date="2027-11-26")
        # B1: failed without a contact on record; B2 and B3: nothing yet
        _step(client, b1, status="failed", reason="企业经营困难", on_date="2026-11-20")
    return {"a": a, "b": b}


def test_renewal_compliance_per_bank(client, book) -> None:
    with time_machine.travel(TODAY, tick=False):
        r = client.get(
            "/api/v1/metrics/renewals", params={"from": "2026-12-01", "to": "2026-12-31"}
        )
    assert r.status_code == 200, r.text
    report = r.json()
    groups = {g["key"]: g for g in report["groups"]}
    a, b, total = groups[book["a"]], groups[book["b"]], report["total"]
    assert (a["maturing"], a["contacted_30"], a["renewed_before_maturity"], a["bridged"]) == (
        2,
        1,
        2,
        1,
    )
    assert (a["contacted_30_rate"], a["renewed_before_maturity_rate"], a["bridged_rate"]) == (
        0.5,
        1.0,
        0.5,
    )
    assert (a["failed"], a["open"], a["principal_fen"], a["due"]) == (0, 0, 200_000_000, 2)
    # B2 matures on 12-31, after 2026-11-27 + 30 days: not due yet, so out of every rate
    assert (b["maturing"], b["due"], b["contacted_30"], b["renewed"], b["failed"], b["open"]) == (
        2,
        1,
        0,
        0,
        1,
        0,
    )
    assert b["failed_rate"] == 1.0
    assert (total["maturing"], total["due"], total["contacted_30"]) == (4, 3, 1)
    assert total["renewed_before_maturity"] == 2
    assert (total["contacted_30_rate"], total["renewed_before_maturity_rate"]) == (0.3333, 0.6667)
    assert (total["bridged_rate"], total["failed_rate"], total["open"]) == (0.3333, 0.3333, 0)
    assert total["matured"] == 0 and report["scope"]["as_of"] == "2026-11-27"
    csv = client.get(
        "/api/v1/metrics/renewals",
        params={"from": "2026-12-01", "to": "2026-12-31", "format": "csv"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key,label,maturing") and len(lines) == 4


def test_upcoming_maturities_by_month(client, book) -> None:
    with time_machine.travel(TODAY, tick=False):
        r = client.get("/api/v1/metrics/maturities", params={"to": "2027-03-31"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["scope"]["from"] == "2026-11-27"
    rows = {g["key"]: g for g in report["groups"]}
    # the renewed loans are closed; their renewals mature in November 2027
    assert set(rows) == {"2026-12", "2027-03"}
    assert (rows["2026-12"]["loans"], rows["2026-12"]["principal_fen"]) == (2, 200_000_000)
    assert (rows["2026-12"]["contacted"], rows["2026-12"]["committed"]) == (0, 0)
    assert rows["2026-12"]["no_principal_eligible"] == 2
    assert rows["2027-03"]["loans"] == 1 and report["total"]["loans"] == 3
    one_bank = client.get(
        "/api/v1/metrics/maturities", params={"to": "2027-12-31", "bank": book["a"]}
    ).json()
    assert [g["key"] for g in one_bank["groups"]] == ["2027-11"]
    assert one_bank["total"]["loans"] == 2


def test_renewal_metrics_are_the_office_s(client, as_role, book) -> None:
    banker = as_role("bank", bank_code=book["a"])
    assert banker.get("/api/v1/metrics/renewals").status_code == 403
    bad = client.get("/api/v1/metrics/renewals", params={"from": "2027-01-01", "to": "2026-01-01"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"
    assert client.get("/api/v1/metrics/maturities", params={"bank": "nope"}).status_code == 404

"""Satisfaction ratings of a bank's service on a lead: only once it ended, once per lead, by
its enterprise only; what a bank sees of them."""

from tests.appeals.conftest import Parties, ended_lead, open_lead


def _rate(client, lead_id: int, score: int = 4, **more):
    return client.post("/api/v1/ratings", json={"lead_id": lead_id, "score": score, **more})


def test_an_ended_lead_is_rated_once(parties: Parties) -> None:
    p = parties
    lead = ended_lead(p)
    first = _rate(p.firm, lead["id"], 2, comment="  抵押要求过高  ")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["score"] == 2 and body["comment"] == "抵押要求过高"
    assert body["bank_name"] and body["product_name"] and body["subject"] == "lead"
    again = _rate(p.firm, lead["id"], 5)
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert [r["score"] for r in p.firm.get("/api/v1/ratings").json()["items"]] == [2]


def test_an_open_lead_is_not_rated_yet(parties: Parties) -> None:
    p = parties
    lead = open_lead(p)
    refused = _rate(p.firm, lead["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "not_ratable"


def test_only_the_leads_enterprise_rates(parties: Parties) -> None:
    p = parties
    lead = ended_lead(p)
    assert _rate(p.other_firm, lead["id"]).status_code == 404
    assert _rate(p.bank, lead["id"]).status_code == 403
    assert _rate(p.office, lead["id"]).status_code == 403
    for score in (0, 6, "5", 4.5, None):
        assert _rate(p.firm, lead["id"], score).status_code == 422  # type: ignore[arg-type]
    assert _rate(p.firm, lead["id"], 4, comment="长" * 501).status_code == 422


def test_the_bank_sees_its_ratings_without_names_unless_agreed(parties: Parties) -> None:
    p = parties
    lead = ended_lead(p)
    _rate(p.firm, lead["id"], 3)
    seen = p.bank.get("/api/v1/ratings").json()["items"]
    assert len(seen) == 1 and seen[0]["enterprise_name"] is None
    assert seen[0]["enterprise_id"] is None and seen[0]["lead_id"] is None
    assert p.other_bank.get("/api/v1/ratings").json()["items"] == []
    office = p.office.get("/api/v1/ratings", params={"bank": p.bank_code}).json()["items"]
    assert office[0]["enterprise_name"]


def test_a_named_rating_shows_the_enterprise(parties: Parties) -> None:
    p = parties
    lead = ended_lead(p)
    _rate(p.firm, lead["id"], 5, show_name=True)
    seen = p.bank.get("/api/v1/ratings").json()["items"]
    assert seen[0]["enterprise_name"] and seen[0]["lead_id"] == lead["id"]


def test_a_retry_with_the_same_key_gets_the_first_answer(parties: Parties) -> None:
    p = parties
    lead = ended_lead(p)
    headers = {"Idempotency-Key": "rate-1"}
    body = {"lead_id": lead["id"], "score": 4}
    first = p.firm.post("/api/v1/ratings", json=body, headers=headers)
    second = p.firm.post("/api/v1/ratings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]

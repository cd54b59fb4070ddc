"""Leads through the API: offering consenting needs to banks, the banks' feed and events,
outcomes as a state machine, If-Match, Idempotency-Key, applications and contact requests."""

from typing import Any

import pytest

from tests.factories import (
    LARGE_IC,
    bank_payload,
    create_enterprise,
    office_consent,
    product_payload,
)


def _product(client, bank_code: str, **overrides: Any) -> dict:
    fields: dict[str, Any] = {
        "eligibility": {"clusters_included": ["ic"]},
        "amount_min_fen": 10_000_000,
        "amount_max_fen": 5_000_000_000,
        **overrides,
    }
    response = client.post("/api/v1/products", json=product_payload(bank_code, **fields))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def banks(client) -> list[str]:
    return [client.post("/api/v1/banks", json=bank_payload()).json()["code"] for _ in range(4)]


@pytest.fixture
def products(client, banks) -> list[dict]:
    # bank 0 has two products; the others one each, with falling rates (so falling scores)
    out = [_product(client, banks[0], rate={"base": "LPR1Y", "spread_bp": -20})]
    out.append(_product(client, banks[0], rate={"base": "LPR1Y", "spread_bp": 0}))
    for i, bank in enumerate(banks[1:], start=1):
        out.append(_product(client, bank, rate={"base": "LPR1Y", "spread_bp": 20 * i}))
    return out


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client, **LARGE_IC)


def _need(client, enterprise_id: int, **overrides: Any) -> dict:
    body = {
        "enterprise_id": enterprise_id,
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "collateral": ["none"],
        "consent_share_details": True,
        "max_banks": 2,
        **overrides,
    }
    response = client.post("/api/v1/needs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _leads(client, **params: Any) -> list[dict]:
    response = client.get("/api/v1/leads", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_consenting_need_goes_to_its_best_banks(client, banks, products, firm) -> None:
    need = _need(client, firm["id"], max_banks=2)
    leads = [
        lead for lead in _leads(client) if lead["need"] and lead["need"]["need_id"] == need["id"]
    ]
    # the best product of each bank, best banks first, at most max_banks banks
    assert sorted(lead["bank_code"] for lead in leads) == sorted(banks[:2])
    by_bank = {lead["bank_code"]: lead for lead in leads}
    assert by_bank[banks[0]]["product_code"] == products[0]["code"]
    assert all(lead["status"] == "new" and lead["source"] == "need" for lead in leads)
    assert all(lead["consented"] for lead in leads)
    # a need without consent reaches no bank
    quiet = _need(client, firm["id"], consent_share_details=False)
    assert not [
        lead for lead in _leads(client) if lead["need"] and lead["need"]["need_id"] == quiet["id"]
    ]


def test_consent_given_later_offers_the_need(client, banks, products, firm) -> None:
    need = _need(client, firm["id"], consent_share_details=False, max_banks=3)
    assert client.patch(
        f"/api/v1/needs/{need['id']}", json={"consent_share_details": True}
    ).is_success
    leads = [
        lead for lead in _leads(client) if lead["need"] and lead["need"]["need_id"] == need["id"]
    ]
    assert len({lead["bank_code"] for lead in leads}) == 3


def test_a_bank_pulls_only_its_leads_with_details_by_consent(
    client, as_role, banks, products, firm
) -> None:
    _need(client, firm["id"], max_banks=1)
    bank = as_role("bank", bank_code=banks[0])
    other = as_role("bank", bank_code=banks[3])
    mine = _leads(bank)
    assert mine and all(lead["bank_code"] == banks[0] for lead in mine)
    assert mine[0]["enterprise"]["name"] == firm["name"]
    assert mine[0]["enterprise"]["contacts"][0]["phone"]
    assert _leads(other) == []
    assert other.get(f"/api/v1/leads/{mine[0]['id']}").status_code == 404
    reads = client.get(
        "/api/v1/audit", params={"action": "read", "enterprise_id": firm["id"]}
    ).json()["items"]
    assert reads and reads[0]["actor_bank_code"] == banks[0]


def test_a_page_read_is_one_audit_entry_naming_the_enterprises_shown(
    client, as_role, banks, products, firm
) -> None:
    hidden = create_enterprise(client, **LARGE_IC)
    shown_too = create_enterprise(client, **LARGE_IC)
    _need(client, firm["id"], max_banks=1)
    withdrawn = _need(client, hidden["id"], max_banks=1)
    client.patch(f"/api/v1/needs/{withdrawn['id']}", json={"consent_share_details": False})
    _need(client, shown_too["id"], max_banks=1)
    bank = as_role("bank", bank_code=banks[0])
    assert len(_leads(bank)) == 3
    assert len(_leads(bank, status="viewed")) == 0  # a page without leads reads nobody

    def reads(enterprise_id: int) -> list[dict]:
        return client.get(
            "/api/v1/audit", params={"action": "read", "enterprise_id": enterprise_id}
        ).json()["items"]

    (entry,) = reads(firm["id"])
    assert sorted(entry["enterprise_ids"]) == sorted([firm["id"], shown_too["id"]])
    assert entry["actor_role"] == "bank" and entry["actor_bank_code"] == banks[0]
    assert entry["actor_key_id"] is not None and entry["subject_type"] == "enterprise"
    assert reads(shown_too["id"]) == [entry]
    assert reads(hidden["id"]) == []  # its details were not shown, so not read
    _leads(bank)
    assert len(reads(firm["id"])) == 2  # every read is recorded


def test_consent_withdrawn_hides_who_it_is(client, as_role, banks, products, firm) -> None:
    need = _need(client, firm["id"], max_banks=1)
    client.patch(f"/api/v1/needs/{need['id']}", json={"consent_share_details": False})
    (lead,) = _leads(as_role("bank", bank_code=banks[0]))
    assert lead["consented"] is False
    assert lead["enterprise"]["name"] is None and lead["enterprise"]["credit_code"] is None
    assert lead["enterprise"]["cluster_code"] == "ic"
    assert firm["credit_code"] not in str(lead)


def test_a_need_lead_shows_private_facts_when_the_enterprise_shares_with_banks(
    client, as_role, banks, products, firm
) -> None:
    need = _need(client, firm["id"], max_banks=1)
    client.patch(f"/api/v1/needs/{need['id']}", json={"consent_share_details": False})
    bank = as_role("bank", bank_code=banks[0])
    (lead,) = _leads(bank)
    assert lead["enterprise"]["revenue_fen"] is None and lead["enterprise"]["contacts"] is None
    client.patch(f"/api/v1/enterprises/{firm['id']}", json=office_consent()).raise_for_status()
    (lead,) = _leads(bank)
    assert lead["consented"] is False  # the need's own consent is still withdrawn
    shown = lead["enterprise"]
    assert shown["name"] == firm["name"] and shown["industry_code"] == firm["industry_code"]
    assert shown["revenue_fen"] == firm["revenue_fen"] and shown["employees"] == firm["employees"]
    assert shown["credit_grade"] == firm["credit_grade"] and shown["contacts"]


def test_the_outcome_state_machine(client, as_role, banks, products, firm) -> None:
    _need(client, firm["id"], max_banks=1)
    bank = as_role("bank", bank_code=banks[0])
    enterprise = as_role("enterprise", enterprise_id=firm["id"])
    (lead,) = _leads(bank)
    path = f"/api/v1/leads/{lead['id']}/status"
    assert bank.post(path, json={"status": "viewed"}).json()["status"] == "viewed"
    wrong = bank.post(path, json={"status": "new"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "transition_not_allowed"
    assert enterprise.post(path, json={"status": "contacted"}).status_code == 403
    contacted = bank.post(path, json={"status": "contacted"}).json()
    assert contacted["first_contact_at"] and contacted["sla_breached"] is False
    missing = bank.post(path, json={"status": "approved", "amount_fen": 100_000_000})
    assert missing.status_code == 422 and missing.json()["code"] == "invalid_outcome"
    approved = bank.post(
        path, json={"status": "approved", "amount_fen": 150_000_000, "rate_bp": 330}
    ).json()
    assert approved["approved_amount_fen"] == 150_000_000 and approved["approved_rate_bp"] == 330
    over = bank.post(path, json={"status": "disbursed", "amount_fen": 160_000_000, "rate_bp": 330})
    assert over.status_code == 422
    done = bank.post(
        path,
        json={
            "status": "disbursed",
            "amount_fen": 150_000_000,
            "rate_bp": 330,
            "on_date": "2026-11-20",
        },
    ).json()
    assert done["status"] == "disbursed" and done["disbursed_date"] == "2026-11-20"
    assert bank.post(path, json={"status": "declined", "reason": "other"}).status_code == 409


def test_decline_needs_a_reason_and_withdraw_is_the_enterprises(
    client, as_role, banks, products, firm
) -> None:
    _need(client, firm["id"], max_banks=2)
    bank = as_role("bank", bank_code=banks[0])
    enterprise = as_role("enterprise", enterprise_id=firm["id"])
    (lead,) = _leads(bank)
    path = f"/api/v1/leads/{lead['id']}/status"
    assert bank.post(path, json={"status": "declined"}).status_code == 422
    assert bank.post(path, json={"status": "declined", "reason": "other"}).status_code == 422
    assert bank.post(path, json={"status": "withdrawn"}).status_code == 403
    bad = bank.post(path, json={"status": "declined", "reason": "no-such-reason"})
    assert bad.status_code == 422
    declined = bank.post(path, json={"status": "declined", "reason": "insufficient_collateral"})
    assert declined.json()["declined_reason"] == "insufficient_collateral"
    others = [x for x in _leads(enterprise) if x["status"] == "new"]
    assert others
    withdrawn = enterprise.post(
        f"/api/v1/leads/{others[0]['id']}/status", json={"status": "withdrawn"}
    )
    assert withdrawn.json()["status"] == "withdrawn"


def test_if_match_refuses_a_stale_change(client, as_role, banks, products, firm) -> None:
    _need(client, firm["id"], max_banks=1)
    bank = as_role("bank", bank_code=banks[0])
    (lead,) = _leads(bank)
    etag = bank.get(f"/api/v1/leads/{lead['id']}").headers["etag"]
    path = f"/api/v1/leads/{lead['id']}/status"
    assert bank.post(path, json={"status": "viewed"}, headers={"If-Match": etag}).is_success
    stale = bank.post(path, json={"status": "contacted"}, headers={"If-Match": etag})
    assert stale.status_code == 412


def test_idempotency_key_replays_and_refuses_another_body(
    client, as_role, banks, products, firm
) -> None:
    _need(client, firm["id"], max_banks=1)
    bank = as_role("bank", bank_code=banks[0])
    (lead,) = _leads(bank)
    path = f"/api/v1/leads/{lead['id']}/status"
    headers = {"Idempotency-Key": "abc-1"}
    first = bank.post(path, json={"status": "contacted"}, headers=headers)
    again = bank.post(path, json={"status": "contacted"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    other = bank.post(path, json={"status": "viewed"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # a refusal is an answer too: the same retry gets the same refusal
    wrong = {"Idempotency-Key": "abc-2"}
    assert bank.post(path, json={"status": "new"}, headers=wrong).status_code == 409
    assert bank.post(path, json={"status": "new"}, headers=wrong).status_code == 409
    events = _events(bank)
    assert [e["type"] for e in events].count("lead.updated") == 1


def _events(c, **params: Any) -> list[dict]:
    response = c.get("/api/v1/events", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_events_replay_from_any_position(client, as_role, banks, products, firm) -> None:
    need = _need(client, firm["id"], max_banks=1)
    bank = as_role("bank", bank_code=banks[0])
    (lead,) = _leads(bank)
    bank.post(f"/api/v1/leads/{lead['id']}/status", json={"status": "viewed"})
    client.post(f"/api/v1/needs/{need['id']}/withdraw")
    events = _events(bank)
    assert [e["type"] for e in events] == ["lead.created", "lead.updated", "lead.withdrawn"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [e["type"] for e in _events(bank, after=seqs[0])] == ["lead.updated", "lead.withdrawn"]
    page = bank.get("/api/v1/events", params={"limit": 1}).json()
    rest = bank.get("/api/v1/events", params={"limit": 5, "cursor": page["next_cursor"]}).json()
    assert [e["seq"] for e in page["items"] + rest["items"]] == seqs
    assert _events(as_role("bank", bank_code=banks[1])) == []
    assert _leads(bank)[0]["status"] == "withdrawn"
    assert as_role("enterprise", enterprise_id=firm["id"]).get("/api/v1/events").status_code == 403


def test_applications(client, as_role, banks, products, firm) -> None:
    enterprise = as_role("enterprise", enterprise_id=firm["id"])
    need = _need(client, firm["id"], consent_share_details=False)
    target = products[-1]["code"]
    made = enterprise.post(
        "/api/v1/applications", json={"product_code": target, "need_id": need["id"]}
    )
    assert made.status_code == 201, made.text
    assert made.json()["source"] == "application" and made.json()["consented"] is True
    again = enterprise.post(
        "/api/v1/applications", json={"product_code": target, "need_id": need["id"]}
    )
    assert again.status_code == 409 and again.json()["code"] == "lead_exists"
    textile = _product(client, banks[1], eligibility={"clusters_included": ["textile"]})
    refused = enterprise.post(
        "/api/v1/applications", json={"product_code": textile["code"], "need_id": need["id"]}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "not_eligible"
    assert refused.json()["failures"]
    stranger = create_enterprise(client, **LARGE_IC)
    hidden = enterprise.post(
        "/api/v1/applications", json={"product_code": target, "enterprise_id": stranger["id"]}
    )
    assert hidden.status_code == 404
    bank = as_role("bank", bank_code=banks[0])
    assert bank.post("/api/v1/applications", json={"product_code": target}).status_code == 403


def test_contact_requests(client, as_role, banks, products, firm) -> None:
    need = _need(client, firm["id"], consent_share_details=False)
    bank = as_role("bank", bank_code=banks[3])
    code = products[-1]["code"]
    prospects = bank.get(f"/api/v1/products/{code}/prospects").json()["items"]
    ours = next(p for p in prospects if p["basis"] == "need")
    asked = bank.post(
        f"/api/v1/products/{code}/contact-requests",
        json={"prospect_id": ours["prospect_id"], "message": "欢迎洽谈"},
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["enterprise_id"] is None  # the bank does not learn who it is yet
    twice = bank.post(
        f"/api/v1/products/{code}/contact-requests", json={"prospect_id": ours["prospect_id"]}
    )
    assert twice.status_code == 409
    unknown = bank.post(f"/api/v1/products/{code}/contact-requests", json={"prospect_id": "need-0"})
    assert unknown.status_code == 422
    enterprise = as_role("enterprise", enterprise_id=firm["id"])
    (pending,) = enterprise.get("/api/v1/contact-requests").json()
    assert pending["need_id"] == need["id"] and pending["bank_code"] == banks[3]
    other = as_role("enterprise", enterprise_id=create_enterprise(client)["id"])
    assert other.post(f"/api/v1/contact-requests/{pending['id']}/accept").status_code == 404
    accepted = enterprise.post(f"/api/v1/contact-requests/{pending['id']}/accept").json()
    assert accepted["status"] == "accepted" and accepted["lead_id"]
    (lead,) = _leads(bank)
    assert lead["source"] == "prospect" and lead["enterprise"]["name"] == firm["name"]
    assert enterprise.post(f"/api/v1/contact-requests/{pending['id']}/decline").status_code == 409


def test_a_match_the_prospect_list_does_not_show_cannot_be_asked_for(
    client, as_role, session, banks, products, firm
) -> None:
    from service.matching.models import EnterpriseMatch

    bank = as_role("bank", bank_code=banks[3])
    code = products[-1]["code"]
    listed = next(
        p
        for p in bank.get(f"/api/v1/products/{code}/prospects").json()["items"]
        if p["basis"] == "profile"
    )
    # a rematch keeps the pair for the enterprise's own list but drops it from the product's
    match = session.get(EnterpriseMatch, int(listed["prospect_id"].removeprefix("profile-")))
    assert match is not None
    match.product_rank = None
    session.commit()
    prospects = bank.get(f"/api/v1/products/{code}/prospects").json()["items"]
    assert listed["prospect_id"] not in [p["prospect_id"] for p in prospects]
    # its id, guessed, answers as an id that never was one; nothing is asked
    asked = bank.post(
        f"/api/v1/products/{code}/contact-requests", json={"prospect_id": listed["prospect_id"]}
    )
    never = bank.post(
        f"/api/v1/products/{code}/contact-requests", json={"prospect_id": "profile-0"}
    )
    assert asked.status_code == never.status_code == 422
    assert asked.json()["code"] == never.json()["code"] == "unknown_prospect"
    assert bank.get("/api/v1/contact-requests").json() == []


def test_equal_scores_rotate_between_banks(client, firm) -> None:
    twins = [client.post("/api/v1/banks", json=bank_payload()).json()["code"] for _ in range(2)]
    for bank in twins:  # the same terms: the same score for every need
        _product(client, bank, rate={"base": "LPR1Y", "spread_bp": -40})
    winners = []
    for _ in range(4):
        need = _need(client, firm["id"], max_banks=1)
        (lead,) = [x for x in _leads(client) if x["need"] and x["need"]["need_id"] == need["id"]]
        winners.append(lead["bank_code"])
    assert sorted(winners[:2]) == sorted(twins)  # each bank once …
    assert winners[2:] == winners[:2]  # … and then again in the same turn


def _need_leads(client, need_id: int) -> list[dict]:
    return [lead for lead in _leads(client) if lead["need"] and lead["need"]["need_id"] == need_id]


def test_a_need_goes_only_to_the_banks_the_enterprise_chose(client, banks, products, firm) -> None:
    # banks[0] scores best, but the enterprise chose banks[2] and banks[3] only
    need = _need(client, firm["id"], max_banks=3, bank_codes=[banks[3], banks[2]])
    assert need["bank_codes"] == sorted([banks[2], banks[3]])
    assert sorted(lead["bank_code"] for lead in _need_leads(client, need["id"])) == sorted(
        banks[2:]
    )
    # taking a bank off the list withdraws its lead; the others stay open
    response = client.patch(f"/api/v1/needs/{need['id']}", json={"bank_codes": [banks[2]]})
    assert response.status_code == 200, response.text
    by_bank = {lead["bank_code"]: lead for lead in _need_leads(client, need["id"])}
    assert by_bank[banks[3]]["status"] == "withdrawn"
    assert by_bank[banks[2]]["status"] == "new"
    # null: any bank again, so the best banks are offered it up to max_banks
    response = client.patch(f"/api/v1/needs/{need['id']}", json={"bank_codes": None})
    assert response.status_code == 200, response.text
    open_banks = {
        lead["bank_code"]
        for lead in _need_leads(client, need["id"])
        if lead["status"] not in ("withdrawn", "declined")
    }
    assert open_banks == {banks[0], banks[1], banks[2]}


@pytest.mark.parametrize(
    ("bank_codes", "code"),
    [([], "validation_error"), (["no-such-bank"], "unknown_bank"), ([""], "validation_error")],
)
def test_chosen_banks_must_be_known(client, firm, bank_codes, code) -> None:
    body = {
        "enterprise_id": firm["id"],
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "bank_codes": bank_codes,
    }
    response = client.post("/api/v1/needs", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_leads_filtered_by_need_within_what_the_caller_sees(
    client, as_role, banks, products, firm
) -> None:
    first = _need(client, firm["id"], max_banks=2)
    second = _need(client, firm["id"], max_banks=1)
    stranger = create_enterprise(client, **LARGE_IC)
    theirs = _need(client, stranger["id"], max_banks=1)
    everyone = _leads(client)
    assert len(everyone) == 4

    def need_ids(leads: list[dict]) -> set[int]:
        return {lead["need"]["need_id"] for lead in leads}

    # the office: every lead of that need, and only those
    of_first = _leads(client, need_id=first["id"])
    assert sorted(lead["bank_code"] for lead in of_first) == sorted(banks[:2])
    assert need_ids(of_first) == {first["id"]}
    assert need_ids(_leads(client, need_id=second["id"])) == {second["id"]}
    assert [lead["id"] for lead in _leads(client, need_id=first["id"], status="viewed")] == []
    # a bank: its own lead of the need; a bank without one gets an empty page
    bank = as_role("bank", bank_code=banks[1])
    (mine,) = _leads(bank, need_id=first["id"])
    assert mine["bank_code"] == banks[1] and mine["need"]["need_id"] == first["id"]
    assert _leads(bank, need_id=second["id"]) == []  # it went to banks[0] only
    assert _leads(as_role("bank", bank_code=banks[3]), need_id=first["id"]) == []
    # an enterprise: its own needs' leads; another's need shows nothing
    owner = as_role("enterprise", enterprise_id=firm["id"])
    assert {lead["id"] for lead in _leads(owner, need_id=first["id"])} == {
        lead["id"] for lead in of_first
    }
    assert _leads(owner, need_id=theirs["id"]) == []
    assert (
        len(_leads(as_role("enterprise", enterprise_id=stranger["id"]), need_id=theirs["id"])) == 1
    )
    # no such need: an empty page, as for a need the caller has no lead of
    assert _leads(client, need_id=2_000_000_000) == []
    for bad in ("abc", "0", "1.5", "99999999999"):
        refused = client.get("/api/v1/leads", params={"need_id": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["loc"] == "query.need_id"

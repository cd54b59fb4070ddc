"""Raising a request: what each kind must carry, the lead or loan it concerns, who may raise
it for whom, and hostile input."""

import pytest

from tests.appeals.conftest import Parties, charge_request


def _raise(client, body: dict):
    return client.post("/api/v1/requests", json=body)


def _refused(response, field: str | None = None, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    if field is not None:
        assert problem.get("field") == field or any(
            field in str(e.get("loc", "")) for e in problem.get("errors", [])
        ), problem
    return problem


@pytest.mark.parametrize("kind", ["slow_response", "renewal_refused", "rate_above_offer"])
def test_a_kind_about_a_bank_must_name_one(parties: Parties, kind: str) -> None:
    body = {"kind": kind, "title": "问题", "description": "说明"}
    _refused(_raise(parties.firm, body), "bank_code")


def test_an_unmatched_need_or_other_may_name_no_bank(parties: Parties) -> None:
    for kind in ("unmatched_need", "other"):
        response = _raise(parties.firm, {"kind": kind, "title": "需求", "description": "说明"})
        assert response.status_code == 201, response.text
        assert response.json()["bank_code"] is None


def test_a_charge_names_its_rule_and_other_kinds_take_no_charge(parties: Parties) -> None:
    p = parties
    _refused(_raise(p.firm, charge_request(p.bank_code, charge_rule=None)), "charge_rule")
    body = charge_request(p.bank_code, kind="slow_response")
    _refused(_raise(p.firm, body), "charge_rule")
    _refused(_raise(p.firm, charge_request(p.bank_code, charge_rule="no_such_rule")))
    _refused(_raise(p.firm, charge_request(p.bank_code, charge_amount_fen=-1)))
    _refused(_raise(p.firm, charge_request(p.bank_code, charge_amount_fen="1200")))


def test_a_rate_complaint_needs_a_rate_above_the_offer(parties: Parties) -> None:
    p = parties
    base = {
        "kind": "rate_above_offer",
        "bank_code": p.bank_code,
        "title": "利率",
        "description": "说明",
    }
    _refused(_raise(p.firm, {**base, "charged_rate_bp": 420}), "offered_rate_bp")
    _refused(_raise(p.firm, {**base, "offered_rate_bp": 380}), "charged_rate_bp")
    _refused(_raise(p.firm, {**base, "offered_rate_bp": 380, "charged_rate_bp": 380}))
    done = _raise(p.firm, {**base, "offered_rate_bp": 380, "charged_rate_bp": 420})
    assert done.status_code == 201 and done.json()["charged_rate_bp"] == 420
    _refused(_raise(p.firm, {**charge_request(p.bank_code), "offered_rate_bp": 380}))


def test_who_raises_for_whom(parties: Parties) -> None:
    p = parties
    body = charge_request(p.bank_code)
    _refused(_raise(p.firm, {**body, "enterprise_id": p.other_firm_id}), "enterprise_id")
    _refused(_raise(p.office, body), "enterprise_id")
    _refused(_raise(p.office, {**body, "enterprise_id": 2_000_000_000}), "enterprise_id")
    on_behalf = _raise(p.office, {**body, "enterprise_id": p.firm_id})
    assert on_behalf.status_code == 201
    assert on_behalf.json()["enterprise_id"] == p.firm_id
    assert p.firm.get(f"/api/v1/requests/{on_behalf.json()['id']}").status_code == 200
    assert _raise(p.bank, body).status_code == 403


def test_unknown_bank_and_others_leads_and_loans(parties: Parties) -> None:
    p = parties
    _refused(_raise(p.firm, charge_request("no-such-bank")), "bank_code")
    _refused(_raise(p.firm, charge_request(p.bank_code, lead_id=2_000_000_000)), "lead_id")
    _refused(_raise(p.firm, charge_request(p.bank_code, loan_id=2_000_000_000)), "loan_id")


def test_a_loan_names_its_bank(parties: Parties) -> None:
    p = parties
    loan = p.office.post(
        "/api/v1/loans",
        json={
            "bank_code": p.bank_code,
            "contract_no": "WX-2026-001",
            "credit_code": p.office.get(f"/api/v1/enterprises/{p.firm_id}").json()["credit_code"],
            "kind": "working_capital",
            "principal_fen": 300_000_000,
            "rate_bp": 350,
            "disbursed_date": "2026-01-05",
            "maturity_date": "2027-01-05",
        },
    )
    assert loan.status_code == 201, loan.text
    loan_id = loan.json()["id"]
    body = {"kind": "renewal_refused", "loan_id": loan_id, "title": "续贷", "description": "被拒"}
    raised = _raise(p.firm, body)
    assert raised.status_code == 201, raised.text
    assert raised.json()["bank_code"] == p.bank_code and raised.json()["loan_id"] == loan_id
    _refused(_raise(p.firm, {**body, "bank_code": p.other_bank_code}), "loan_id")
    _refused(_raise(p.other_firm, body), "loan_id")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "   "),
        ("title", "长" * 81),
        ("description", "说" * 2001),
        ("description", " \n "),
        ("kind", "complaint"),
        ("show_to_bank", "yes"),
        ("unknown_field", 1),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_written(
    parties: Parties, field: str, value: object
) -> None:
    p = parties
    before = p.office.get("/api/v1/requests").json()["items"]
    _refused(_raise(p.firm, {**charge_request(p.bank_code), field: value}))
    assert p.office.get("/api/v1/requests").json()["items"] == before


def test_a_formula_in_a_title_is_kept_as_text(parties: Parties) -> None:
    p = parties
    title = '=HYPERLINK("http://evil.example","点我")'
    raised = _raise(p.firm, charge_request(p.bank_code, title=title))
    assert raised.status_code == 201
    assert p.office.get(f"/api/v1/requests/{raised.json()['id']}").json()["title"] == title


def test_a_nul_character_is_refused(parties: Parties) -> None:
    p = parties
    response = _raise(p.firm, charge_request(p.bank_code, description="说明\x00"))
    assert response.status_code in (400, 422)

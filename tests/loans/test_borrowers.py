"""Who a bank may name as a borrower, and what it learns of one. By id only an enterprise that
consented to the bank (it shares its details with banks, or consented to one of the bank's
leads): any other is answered exactly as one that does not exist, and nothing is written. By
credit code any library enterprise (the bank already knows it). The loan, the loan list and
the reminders name the borrower only as far as the bank may know it, as consent stands when
they are read."""

from typing import Any

import pytest

from tests.factories import bank_payload, create_enterprise, office_consent, product_payload


@pytest.fixture
def bank(client) -> str:
    return client.post("/api/v1/banks", json=bank_payload()).json()["code"]


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client)  # shares nothing with banks


def _body(contract_no: str, **borrower: Any) -> dict[str, Any]:
    return {
        "contract_no": contract_no,
        "principal_fen": 300_000_000,
        "rate_bp": 330,
        "disbursed_date": "2025-06-30",
        "maturity_date": "2026-06-30",
        **borrower,
    }


def _lead(client, as_role, bank: str, firm: dict) -> None:
    """The enterprise applies for one of the bank's products: a lead with its consent."""
    product = client.post(
        "/api/v1/products",
        json=product_payload(bank, eligibility={}, amount_min_fen=1, amount_max_fen=10**12),
    ).json()
    applied = as_role("enterprise", enterprise_id=firm["id"]).post(
        "/api/v1/applications", json={"product_code": product["code"], "enterprise_id": firm["id"]}
    )
    assert applied.status_code == 201, applied.text


def _share(client, firm: dict, on: bool) -> None:
    response = client.patch(f"/api/v1/enterprises/{firm['id']}", json=office_consent(on))
    assert response.status_code == 200, response.text


def _names(c, loan_id: int) -> tuple[str | None, str | None]:
    one = c.get(f"/api/v1/loans/{loan_id}")
    assert one.status_code == 200, one.text
    (listed,) = [x for x in c.get("/api/v1/loans").json()["items"] if x["id"] == loan_id]
    assert (listed["enterprise_name"], listed["credit_code"]) == (
        one.json()["enterprise_name"],
        one.json()["credit_code"],
    )
    return one.json()["enterprise_name"], one.json()["credit_code"]


@pytest.mark.parametrize("standing", ["lead", "sharing"])
def test_a_bank_names_by_id_a_borrower_that_consented_to_it(
    client, as_role, bank, firm, standing
) -> None:
    if standing == "lead":
        _lead(client, as_role, bank, firm)
    else:
        _share(client, firm, True)
    banker = as_role("bank", bank_code=bank)
    response = banker.post("/api/v1/loans", json=_body("ID-1", enterprise_id=firm["id"]))
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["enterprise_id"] == firm["id"]
    assert (loan["enterprise_name"], loan["credit_code"]) == (firm["name"], firm["credit_code"])
    assert _names(banker, loan["id"]) == (firm["name"], firm["credit_code"])


def test_an_enterprise_that_did_not_consent_is_unknown_to_the_bank_by_id(
    client, as_role, bank, firm
) -> None:
    # another bank's lead gives this bank nothing
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    _lead(client, as_role, other, firm)
    banker = as_role("bank", bank_code=bank)
    hidden = banker.post("/api/v1/loans", json=_body("ID-2", enterprise_id=firm["id"]))
    missing = banker.post("/api/v1/loans", json=_body("ID-2", enterprise_id=99_999_999))
    assert hidden.status_code == missing.status_code == 422
    assert hidden.headers["content-type"] == "application/problem+json"
    seen, unseen = hidden.json(), missing.json()
    assert seen["code"] == unseen["code"] == "unknown_enterprise"
    assert seen["detail"].replace(str(firm["id"]), "?") == unseen["detail"].replace("99999999", "?")
    assert {k: v for k, v in seen.items() if k != "detail"} == {
        k: v for k, v in unseen.items() if k != "detail"
    }
    assert firm["name"] not in hidden.text and firm["credit_code"] not in hidden.text
    # nothing written
    assert banker.get("/api/v1/loans").json()["items"] == []
    assert client.get("/api/v1/loans", params={"enterprise_id": firm["id"]}).json()["items"] == []


def test_by_credit_code_a_bank_records_a_loan_and_learns_no_more_than_it_gave(
    client, as_role, bank, firm
) -> None:
    banker = as_role("bank", bank_code=bank)
    response = banker.post("/api/v1/loans", json=_body("CC-1", credit_code=firm["credit_code"]))
    assert response.status_code == 201, response.text
    loan = response.json()
    # the answer repeats the code the bank gave, and names no one
    assert loan["enterprise_name"] is None and loan["credit_code"] == firm["credit_code"]
    assert _names(banker, loan["id"]) == (None, None)
    # nor do its reminders
    run = client.post("/api/v1/reminders/run", params={"as_of": "2026-06-01"})
    assert run.status_code == 200 and run.json()["reminders"] >= 1, run.text
    reminders = [r for r in banker.get("/api/v1/reminders").json()["items"]]
    assert reminders and all(r["loan_id"] == loan["id"] for r in reminders)
    assert all(r["enterprise_name"] is None for r in reminders)
    assert firm["name"] not in banker.get("/api/v1/reminders").text
    # the office and the enterprise itself see who it is
    assert _names(client, loan["id"]) == (firm["name"], firm["credit_code"])
    owner = as_role("enterprise", enterprise_id=firm["id"])
    assert _names(owner, loan["id"]) == (firm["name"], firm["credit_code"])
    assert owner.get("/api/v1/reminders").json()["items"][0]["enterprise_name"] == firm["name"]
    # consent is read when the bank reads: given, the name shows; withdrawn, it goes again
    _share(client, firm, True)
    assert _names(banker, loan["id"]) == (firm["name"], firm["credit_code"])
    assert banker.get("/api/v1/reminders").json()["items"][0]["enterprise_name"] == firm["name"]
    _share(client, firm, False)
    assert _names(banker, loan["id"]) == (None, None)


def test_the_office_records_for_any_enterprise_and_the_bank_still_learns_nothing(
    client, as_role, bank, firm
) -> None:
    response = client.post(
        "/api/v1/loans", json=_body("OF-1", enterprise_id=firm["id"], bank_code=bank)
    )
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["enterprise_name"] == firm["name"]
    assert _names(as_role("bank", bank_code=bank), loan["id"]) == (None, None)


def test_an_enterprise_records_no_loans(client, as_role, bank, firm) -> None:
    owner = as_role("enterprise", enterprise_id=firm["id"])
    for borrower in ({"enterprise_id": firm["id"]}, {"credit_code": firm["credit_code"]}):
        response = owner.post("/api/v1/loans", json=_body("EN-1", bank_code=bank, **borrower))
        assert response.status_code == 403 and response.json()["code"] == "forbidden_role"
    assert client.get("/api/v1/loans", params={"enterprise_id": firm["id"]}).json()["items"] == []

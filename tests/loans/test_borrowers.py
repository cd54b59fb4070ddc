"""Who a bank may name as a borrower, and what it learns of one. Who an enterprise is (name,
credit code) is a public fact, in every library release: a bank names any library enterprise
by id or by credit code, and its loans and reminders name the borrower. An id that is not in
the library is refused and nothing is written."""

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


@pytest.mark.parametrize("standing", ["none", "lead", "sharing"])
def test_a_bank_names_any_library_enterprise_by_id(client, as_role, bank, firm, standing) -> None:
    if standing == "lead":
        _lead(client, as_role, bank, firm)
    elif standing == "sharing":
        _share(client, firm, True)
    banker = as_role("bank", bank_code=bank)
    response = banker.post("/api/v1/loans", json=_body("ID-1", enterprise_id=firm["id"]))
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["enterprise_id"] == firm["id"]
    assert (loan["enterprise_name"], loan["credit_code"]) == (firm["name"], firm["credit_code"])
    assert _names(banker, loan["id"]) == (firm["name"], firm["credit_code"])


def test_an_id_not_in_the_library_is_refused_and_nothing_is_written(client, as_role, bank) -> None:
    banker = as_role("bank", bank_code=bank)
    missing = banker.post("/api/v1/loans", json=_body("ID-2", enterprise_id=99_999_999))
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "unknown_enterprise"
    assert banker.get("/api/v1/loans").json()["items"] == []


def test_by_credit_code_a_bank_records_a_loan_and_its_reminders_name_the_borrower(
    client, as_role, bank, firm
) -> None:
    banker = as_role("bank", bank_code=bank)
    response = banker.post("/api/v1/loans", json=_body("CC-1", credit_code=firm["credit_code"]))
    assert response.status_code == 201, response.text
    loan = response.json()
    assert (loan["enterprise_name"], loan["credit_code"]) == (firm["name"], firm["credit_code"])
    assert _names(banker, loan["id"]) == (firm["name"], firm["credit_code"])
    run = client.post("/api/v1/reminders/run", params={"as_of": "2026-06-01"})
    assert run.status_code == 200 and run.json()["reminders"] >= 1, run.text
    reminders = [r for r in banker.get("/api/v1/reminders").json()["items"]]
    assert reminders and all(r["loan_id"] == loan["id"] for r in reminders)
    assert all(r["enterprise_name"] == firm["name"] for r in reminders)
    # consent does not change who the borrower is
    _share(client, firm, True)
    _share(client, firm, False)
    assert _names(banker, loan["id"]) == (firm["name"], firm["credit_code"])
    owner = as_role("enterprise", enterprise_id=firm["id"])
    assert _names(owner, loan["id"]) == (firm["name"], firm["credit_code"])


def test_the_office_records_for_any_enterprise(client, as_role, bank, firm) -> None:
    response = client.post(
        "/api/v1/loans", json=_body("OF-1", enterprise_id=firm["id"], bank_code=bank)
    )
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["enterprise_name"] == firm["name"]
    banker = as_role("bank", bank_code=bank)
    assert _names(banker, loan["id"]) == (firm["name"], firm["credit_code"])


def test_an_enterprise_records_no_loans(client, as_role, bank, firm) -> None:
    owner = as_role("enterprise", enterprise_id=firm["id"])
    for borrower in ({"enterprise_id": firm["id"]}, {"credit_code": firm["credit_code"]}):
        response = owner.post("/api/v1/loans", json=_body("EN-1", bank_code=bank, **borrower))
        assert response.status_code == 403 and response.json()["code"] == "forbidden_role"
    assert client.get("/api/v1/loans", params={"enterprise_id": firm["id"]}).json()["items"] == []

"""A bank's pages name the borrower: who an enterprise is, is a public fact."""

from tests.factories import bank_payload, create_enterprise


def test_a_banks_loan_page_names_the_borrower(browser_as, client) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    firm = create_enterprise(client)
    loan = client.post(
        "/api/v1/loans",
        json={
            "contract_no": "WEB-1",
            "bank_code": bank,
            "credit_code": firm["credit_code"],
            "principal_fen": 300_000_000,
            "rate_bp": 330,
            "disbursed_date": "2025-06-30",
            "maturity_date": "2026-06-30",
        },
    ).json()
    client.post("/api/v1/reminders/run", params={"as_of": "2026-06-01"}).raise_for_status()
    staff = browser_as("bank", bank_code=bank)
    page = staff.get(f"/web/bank/loans/{loan['id']}").text
    assert f"{firm['name']}（{firm['credit_code']}）" in page
    home = staff.get("/web/bank/reminders").text
    assert "WEB-1" in home and firm["name"] in home and "未授权显示名称" not in home

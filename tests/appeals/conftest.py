"""Requests' tests keep attachments in memory, and share a bank, an enterprise and clients of
every role."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from service.appeals import storage
from tests.factories import LARGE_IC, bank_payload, create_enterprise


@pytest.fixture(autouse=True)
def memory_store() -> Iterator[storage.MemoryStore]:
    store = storage.MemoryStore()
    storage.use_store(store)
    yield store
    storage.use_store(None)


@dataclass
class Parties:
    office: Any
    bank: Any
    other_bank: Any
    firm: Any
    other_firm: Any
    bank_code: str
    other_bank_code: str
    firm_id: int
    other_firm_id: int


@pytest.fixture
def parties(client, as_role) -> Parties:
    bank_code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    other_code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    firm_id = create_enterprise(client, **LARGE_IC)["id"]
    other_id = create_enterprise(client, **LARGE_IC)["id"]
    return Parties(
        office=client,
        bank=as_role("bank", bank_code=bank_code),
        other_bank=as_role("bank", bank_code=other_code),
        firm=as_role("enterprise", enterprise_id=firm_id),
        other_firm=as_role("enterprise", enterprise_id=other_id),
        bank_code=bank_code,
        other_bank_code=other_code,
        firm_id=firm_id,
        other_firm_id=other_id,
    )


def charge_request(bank_code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "unreasonable_charge",
        "bank_code": bank_code,
        "charge_rule": "tied_sale",
        "charge_item": "insurance",
        "charge_amount_fen": 1_200_000,
        "title": "贷款时被要求购买保险",
        "description": "办理流动资金贷款时，客户经理要求购买一年期保险，否则不予放款。",
        "show_to_bank": True,
        **overrides,
    }


def step(client: Any, request_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/requests/{request_id}/steps", json=body)


def open_lead(p: Parties) -> dict[str, Any]:
    """A new lead of the enterprise with the bank (its consenting need, offered to it)."""
    from tests.factories import product_payload

    product = p.office.post(
        "/api/v1/products",
        json=product_payload(
            p.bank_code,
            eligibility={"clusters_included": ["ic"]},
            amount_min_fen=10_000_000,
            amount_max_fen=5_000_000_000,
        ),
    )
    assert product.status_code == 201, product.text
    need = p.office.post(
        "/api/v1/needs",
        json={
            "enterprise_id": p.firm_id,
            "amount_fen": 200_000_000,
            "term_months": 12,
            "purpose": "working_capital",
            "collateral": ["none"],
            "consent_share_details": True,
            "max_banks": 1,
        },
    )
    assert need.status_code == 201, need.text
    leads = p.bank.get("/api/v1/leads").json()["items"]
    assert len(leads) == 1, leads
    return leads[0]


def ended_lead(p: Parties) -> dict[str, Any]:
    lead = open_lead(p)
    declined = p.bank.post(
        f"/api/v1/leads/{lead['id']}/status",
        json={"status": "declined", "reason": "insufficient_collateral"},
    )
    assert declined.status_code == 200, declined.text
    return declined.json()

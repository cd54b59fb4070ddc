"""Who works a lead inside its bank: the role matrix of assigning, the assignee's checks, the
version check, the event and its webhook delivery, the audit entry naming the person, and the
assignee in the lead's answers and the feed's filter."""

import itertools
from typing import Any

import pytest
from sqlmodel import Session, col, select

from service.access.audit import act_as
from service.access.models import AuditEntry, BankRole, Role, UserAccount
from service.access.policy import Principal
from service.core.models import utcnow
from service.leads import assignment
from service.leads.models import BankEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload

_logins = itertools.count(1)


def person(
    session: Session,
    bank_code: str | None,
    bank_role: BankRole | None = BankRole.manager,
    name: str = "王经理",
    role: Role = Role.bank,
    disabled: bool = False,
) -> UserAccount:
    """A person's account, as the accounts' use cases would leave it (no password needed
    here: the tests act as the person through a Principal)."""
    account = UserAccount(
        login=f"person{next(_logins)}-{id(session)}@bank.example",
        display_name=name,
        role=role,
        bank_role=bank_role if role == Role.bank else None,
        bank_code=bank_code,
        created_by="tests",
        disabled_at=utcnow() if disabled else None,
    )
    session.add(account)
    session.commit()  # kept when a refused change rolls back
    return account


def acting(account: UserAccount) -> Principal:
    return Principal(
        account.role,
        bank_code=account.bank_code,
        enterprise_id=account.enterprise_id,
        user_id=account.id,
        bank_role=account.bank_role,
    )


@pytest.fixture
def bank(client) -> str:
    code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    body = product_payload(
        code,
        eligibility={"clusters_included": ["ic"]},
        amount_min_fen=10_000_000,
        amount_max_fen=5_000_000_000,
    )
    assert client.post("/api/v1/products", json=body).status_code == 201
    return code


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client, **LARGE_IC)


@pytest.fixture
def lead(client, bank, firm) -> dict:
    need = {
        "enterprise_id": firm["id"],
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "collateral": ["none"],
        "consent_share_details": True,
        "max_banks": 1,
        "bank_codes": [bank],
    }
    assert client.post("/api/v1/needs", json=need).status_code == 201
    (found,) = client.get("/api/v1/leads", params={"bank": bank}).json()["items"]
    return found


def _put(c, lead_id: int, assignee: int | None, version: int | None = None) -> Any:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return c.put(
        f"/api/v1/leads/{lead_id}/assignee", json={"assignee_user_id": assignee}, headers=headers
    )


# --- who may assign -----------------------------------------------------------------------


def test_the_office_and_the_banks_key_assign_to_a_person_of_the_bank(
    client, as_role, session, bank, lead
) -> None:
    wang = person(session, bank, name="王经理")
    response = _put(client, lead["id"], wang.id)
    assert response.status_code == 200, response.text
    assert response.json()["assignee"] == {"id": wang.id, "name": "王经理"}
    assert response.headers["ETag"] == f'"{lead["version"] + 1}"'
    li = person(session, bank, name="李经理")
    banker = as_role("bank", bank_code=bank)
    response = _put(banker, lead["id"], li.id, response.json()["version"])
    assert response.status_code == 200 and response.json()["assignee"]["name"] == "李经理"
    assert _put(banker, lead["id"], None).json()["assignee"] is None


def test_the_administrator_assigns_to_anyone_of_its_bank(session, bank, lead) -> None:
    admin = person(session, bank, BankRole.admin, name="张行长")
    wang = person(session, bank, name="王经理")
    done = assignment.assign(session, acting(admin), lead["id"], wang.id)
    assert done.assignee_user_id == wang.id and done.assigned_at is not None
    done = assignment.assign(session, acting(admin), lead["id"], admin.id)
    assert done.assignee_user_id == admin.id
    assert assignment.assign(session, acting(admin), lead["id"], None).assignee_user_id is None


def test_an_account_manager_claims_an_unassigned_lead_and_may_hand_it_back(
    session, bank, lead
) -> None:
    wang = person(session, bank, name="王经理")
    li = person(session, bank, name="李经理")
    # giving it to another: refused, nothing changes
    with pytest.raises(Exception) as refused:
        assignment.assign(session, acting(wang), lead["id"], li.id)
    assert refused.value.code == "forbidden_assignment" and refused.value.status == 403
    session.rollback()
    done = assignment.assign(session, acting(wang), lead["id"], wang.id)  # 认领
    assert done.assignee_user_id == wang.id
    # the other manager cannot take it, nor hand it back for him
    for target in (li.id, None):
        with pytest.raises(Exception) as refused:
            assignment.assign(session, acting(li), lead["id"], target)
        assert refused.value.status == 403
        session.rollback()
    # the holder hands it back: nobody works it, the administrator may give it again
    assert assignment.assign(session, acting(wang), lead["id"], None).assignee_user_id is None


def test_an_enterprise_may_not_assign_and_another_bank_does_not_see_the_lead(
    client, as_role, session, bank, firm, lead
) -> None:
    wang = person(session, bank)
    own = as_role("enterprise", enterprise_id=firm["id"])
    response = _put(own, lead["id"], wang.id)
    assert response.status_code == 403 and response.json()["code"] == "forbidden_role"
    stranger_firm = create_enterprise(client, **LARGE_IC)
    response = _put(as_role("enterprise", enterprise_id=stranger_firm["id"]), lead["id"], wang.id)
    assert response.status_code == 404
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    response = _put(as_role("bank", bank_code=other), lead["id"], wang.id)
    assert response.status_code == 404 and response.json()["code"] == "lead_not_found"
    other_admin = person(session, other, BankRole.admin)
    with pytest.raises(Exception) as hidden:
        assignment.assign(session, acting(other_admin), lead["id"], None)
    assert hidden.value.status == 404


# --- who may be the assignee --------------------------------------------------------------


def test_the_assignee_is_an_active_person_of_the_leads_bank(client, session, bank, lead) -> None:
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    strangers = [
        person(session, other, name="他行经理"),
        person(session, bank, name="离职经理", disabled=True),
        person(session, None, None, name="金融办", role=Role.office),
    ]
    for stranger in [*strangers, None]:
        assignee = stranger.id if stranger else 2_000_000_000
        response = _put(client, lead["id"], assignee)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_assignee"
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["assignee"] is None
    for bad in ("12", 1.5, True, 0):
        response = client.put(
            f"/api/v1/leads/{lead['id']}/assignee", json={"assignee_user_id": bad}
        )
        assert response.status_code == 422


def test_a_stale_version_is_refused(client, session, bank, lead) -> None:
    wang = person(session, bank)
    assert _put(client, lead["id"], wang.id, lead["version"]).status_code == 200
    response = _put(client, lead["id"], None, lead["version"])
    assert response.status_code == 412
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["assignee"]["id"] == wang.id


# --- what it leaves behind ----------------------------------------------------------------


def test_assigning_adds_an_event_a_webhook_delivery_and_an_audit_entry_naming_the_person(
    session, bank, lead
) -> None:
    endpoint = WebhookEndpoint(
        bank_code=bank,
        url="https://hooks.example/in",
        secret="whsec_" + "A" * 43,
        event_types=["lead.assigned"],
    )
    session.add(endpoint)
    session.flush()
    admin = person(session, bank, BankRole.admin, name="张行长")
    wang = person(session, bank, name="王经理")
    act_as(session, acting(admin))  # as the pages' and the API's dependencies do
    assignment.assign(session, acting(admin), lead["id"], wang.id)
    event = session.exec(
        select(BankEvent).where(BankEvent.lead_id == lead["id"], BankEvent.type == "lead.assigned")
    ).one()
    assert event.data["assignee"] == {"id": wang.id, "name": "王经理"}
    assert event.data["previous_assignee_id"] is None and event.data["lead_id"] == lead["id"]
    delivery = session.exec(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)
    ).one()
    assert delivery.endpoint_id == endpoint.id
    (entry,) = [
        e
        for e in session.exec(
            select(AuditEntry).where(
                AuditEntry.subject_type == "lead", AuditEntry.subject_id == str(lead["id"])
            )
        )
        if e.changes and "assignee_user_id" in e.changes
    ]
    assert entry.actor_user_id == admin.id and entry.actor_role == "bank"
    assert entry.changes is not None and entry.changes["assignee_user_id"] == [None, wang.id]
    # handing it on names the previous person
    li = person(session, bank, name="李经理")
    assignment.assign(session, acting(admin), lead["id"], li.id)
    latest = session.exec(
        select(BankEvent).where(BankEvent.lead_id == lead["id"]).order_by(col(BankEvent.id).desc())
    ).first()
    assert latest is not None and latest.data["previous_assignee_id"] == wang.id


def test_the_feed_shows_the_assignee_and_filters_by_it(
    client, as_role, session, bank, firm, lead
) -> None:
    wang = person(session, bank, name="王经理")
    banker = as_role("bank", bank_code=bank)
    (item,) = banker.get("/api/v1/leads").json()["items"]
    assert item["assignee"] is None
    assert [i["id"] for i in banker.get("/api/v1/leads?assignee=none").json()["items"]] == [
        lead["id"]
    ]
    _put(banker, lead["id"], wang.id)
    (item,) = banker.get("/api/v1/leads").json()["items"]
    assert item["assignee"] == {"id": wang.id, "name": "王经理"}
    assert banker.get(f"/api/v1/leads?assignee={wang.id}").json()["items"][0]["id"] == lead["id"]
    assert banker.get("/api/v1/leads?assignee=none").json()["items"] == []
    # a key is nobody: "me" is refused; nonsense too
    for value in ("me", "abc", "0", "-1"):
        response = banker.get("/api/v1/leads", params={"assignee": value})
        assert response.status_code == 422, value

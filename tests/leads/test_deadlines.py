"""First-contact deadlines on China's working-day calendar: flagged once, told to the bank,
optionally offered on to the next-best bank; queued periodically by the worker."""

from datetime import date

import pytest
import time_machine
from sqlmodel import Session, select

from service.core.settings import get_settings
from service.jobs.models import Job
from service.jobs.service import queue_periodic
from service.leads.models import BankEvent, Lead
from service.leads.service import SLA_CHECK, check_deadlines
from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload


@pytest.fixture
def setup(client) -> dict:
    banks = [client.post("/api/v1/banks", json=bank_payload()).json()["code"] for _ in range(3)]
    for i, bank in enumerate(banks):
        client.post(
            "/api/v1/products",
            json=product_payload(
                bank,
                eligibility={"clusters_included": ["ic"]},
                amount_min_fen=10_000_000,
                amount_max_fen=5_000_000_000,
                rate={"base": "LPR1Y", "spread_bp": 10 * i},
            ),
        ).raise_for_status()
    firm = create_enterprise(client, **LARGE_IC)
    return {"banks": banks, "firm": firm}


def _post_need(client, firm: dict, max_banks: int = 1) -> dict:
    response = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": firm["id"],
            "amount_fen": 200_000_000,
            "term_months": 12,
            "purpose": "working_capital",
            "collateral": ["none"],
            "consent_share_details": True,
            "max_banks": max_banks,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _leads_of(session: Session, need_id: int) -> list[Lead]:
    session.expire_all()
    return list(session.scalars(select(Lead).where(Lead.need_id == need_id).order_by(Lead.id)))


def test_a_deadline_over_national_day_is_flagged_once(client, session, setup) -> None:
    # Created Wed 2026-09-30; 10-01..10-07 are holidays and Sat 10-10 a make-up working day:
    # three working days later is 10-08, 10-09, 10-10 → due by the end of Sat 2026-10-10.
    with time_machine.travel("2026-09-30 10:00 +0800", tick=False):
        need = _post_need(client, setup["firm"])
    (lead,) = _leads_of(session, need["id"])
    assert lead.contact_due_date == date(2026, 10, 10)
    assert check_deadlines(session, date(2026, 10, 10)) == {"breached": 0, "reassigned": 0}
    assert check_deadlines(session, date(2026, 10, 11)) == {"breached": 1, "reassigned": 0}
    assert check_deadlines(session, date(2026, 10, 12)) == {"breached": 0, "reassigned": 0}
    (lead,) = _leads_of(session, need["id"])
    assert lead.sla_breached_at is not None and lead.status == "new"
    events = session.scalars(
        select(BankEvent.type).where(BankEvent.lead_id == lead.id).order_by(BankEvent.seq)
    ).all()
    assert events == ["lead.created", "lead.sla_breached"]
    bank = client.get(f"/api/v1/leads/{lead.id}").json()
    assert bank["sla_breached"] is True


def test_a_contacted_lead_is_never_flagged(client, as_role, session, setup) -> None:
    with time_machine.travel("2026-09-30 10:00 +0800", tick=False):
        need = _post_need(client, setup["firm"])
    (lead,) = _leads_of(session, need["id"])
    bank = as_role("bank", bank_code=lead.bank_code)
    assert bank.post(f"/api/v1/leads/{lead.id}/status", json={"status": "contacted"}).is_success
    assert check_deadlines(session, date(2026, 10, 20))["breached"] == 0


def test_an_untouched_lead_can_go_to_the_next_best_bank(
    client, session, setup, monkeypatch
) -> None:
    monkeypatch.setattr(get_settings(), "sla_reassign", True)
    with time_machine.travel("2026-11-02 09:00 +0800", tick=False):
        need = _post_need(client, setup["firm"], max_banks=1)
    (first,) = _leads_of(session, need["id"])
    assert first.bank_code == setup["banks"][0]  # the best rate
    assert check_deadlines(session, date(2026, 11, 6)) == {"breached": 1, "reassigned": 1}
    old, new = _leads_of(session, need["id"])
    assert old.status == "withdrawn" and old.sla_breached_at is not None
    assert new.bank_code == setup["banks"][1] and new.source == "reassigned"
    assert new.reassigned_from_id == old.id and new.status == "new"


def test_the_worker_queues_the_deadline_check_periodically(session) -> None:
    from service.main import wire

    wire()
    queue_periodic(session)
    queue_periodic(session)  # within the period: nothing more
    jobs = session.scalars(select(Job).where(Job.kind == SLA_CHECK)).all()
    assert len(jobs) == 1 and jobs[0].key == SLA_CHECK

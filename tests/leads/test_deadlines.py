"""First-contact deadlines on China's working-day calendar: flagged once, told to the bank,
optionally offered on to the next-best bank; queued periodically by the worker. A check as of
a date after today is refused; simulated, it only tells what it would do."""

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine
from sqlmodel import Session, select

from service.core.errors import Unprocessable
from service.core.settings import get_settings
from service.jobs.models import Job
from service.jobs.service import queue_periodic
from service.leads.deadlines import SLA_CHECK, check_deadlines, simulate_deadlines
from service.leads.models import BankEvent, BankFeed, Lead
from tests.conftest import changed, row_counts
from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload
from tests.leads.test_webhooks import Receiver, allow_local_receivers


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


# --- as of a future date: refused, or simulated ----------------------------------------------


@pytest.fixture
def watched(client, as_role, setup, monkeypatch) -> Iterator[dict]:
    """The setup with reassignment on, the banks' webhook endpoints (so a check queues
    deliveries and their jobs) and a need's lead posted Mon 2026-11-02, due by Thu 11-05."""
    monkeypatch.setattr(get_settings(), "sla_reassign", True)
    allow_local_receivers(monkeypatch)
    receiver = Receiver()
    try:
        for bank in setup["banks"]:
            endpoint = as_role("bank", bank_code=bank).post(
                "/api/v1/webhooks", json={"url": receiver.url}
            )
            assert endpoint.status_code == 201, endpoint.text
        with time_machine.travel("2026-11-02 09:00 +0800", tick=False):
            need = _post_need(client, setup["firm"], max_banks=1)
        yield {**setup, "need": need, "receiver": receiver}
    finally:
        receiver.close()


def _feed_positions(session: Session) -> list[tuple[str, int]]:
    return [(row.bank_code, row.last_seq) for row in session.scalars(select(BankFeed))]


def test_a_future_date_is_refused_and_flags_nothing(session, watched) -> None:
    before, positions = row_counts(session), _feed_positions(session)
    on_the_4th = time_machine.travel("2026-11-04 10:00 +0800", tick=False)
    with on_the_4th, pytest.raises(Unprocessable) as refused:
        check_deadlines(session, date(2026, 11, 6))
    assert refused.value.code == "future_as_of" and refused.value.extra["field"] == "as_of"
    assert "2026-11-06" in refused.value.detail and "--simulate" in refused.value.detail
    assert changed(before, row_counts(session)) == {}
    assert _feed_positions(session) == positions
    (lead,) = _leads_of(session, watched["need"]["id"])
    assert lead.sla_breached_at is None and lead.status == "new"


def test_a_simulated_check_tells_what_it_would_do_and_writes_nothing(
    client, session, watched
) -> None:
    before, positions = row_counts(session), _feed_positions(session)
    sent = list(watched["receiver"].received)  # the lead's lead.created
    (lead,) = _leads_of(session, watched["need"]["id"])
    with time_machine.travel("2026-11-04 10:00 +0800", tick=False):
        simulated = simulate_deadlines(session, date(2026, 11, 6))
        assert simulate_deadlines(session).breached == 0  # today: still within its time
    assert (simulated.as_of, simulated.breached, simulated.reassigned) == (date(2026, 11, 6), 1, 1)
    (late,) = simulated.sample
    assert (late.lead_id, late.bank_code, late.need_id) == (lead.id, lead.bank_code, lead.need_id)
    assert late.contact_due_date == date(2026, 11, 5)
    assert late.offered_to == [watched["banks"][1]]
    # Nothing persisted: no flag, no withdrawn or new lead, event, delivery, job, audit entry.
    assert changed(before, row_counts(session)) == {}
    assert _feed_positions(session) == positions
    (again,) = _leads_of(session, watched["need"]["id"])
    assert again.sla_breached_at is None and again.status == "new" and again.version == 1
    with time_machine.travel("2026-11-04 10:00 +0800", tick=False):
        assert client.get(f"/api/v1/leads/{lead.id}").json()["sla_breached"] is False
    assert watched["receiver"].received == sent

    # On the day, the real check does just that; these are the tables it writes.
    with time_machine.travel("2026-11-06 10:00 +0800", tick=False):
        assert check_deadlines(session) == {"breached": 1, "reassigned": 1}
    touched = changed(before, row_counts(session))
    assert touched["lead"] == 1 and touched["bank_event"] == 3  # breached, withdrawn, new
    assert touched["webhook_delivery"] == 3 and touched["job"] >= 1
    assert touched["audit_entry"] >= 2
    assert _feed_positions(session) != positions
    old, new = _leads_of(session, watched["need"]["id"])
    assert old.id == lead.id and old.sla_breached_at is not None and old.status == "withdrawn"
    assert new.bank_code == late.offered_to[0]

"""The demo's half year of activity (``service.demo_activity``): needs and leads at every
stage, their times in order and spread over months, banks that differ, loans and reminders;
added once."""

import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select

from service.access.models import UserAccount
from service.cli import run_migrations
from service.core.models import today_local, utcnow
from service.demo_activity import DEMO_BANK, DEMO_MANAGERS, DEMO_NOTE, SLOW_BANK
from service.leads.models import BankEvent, Lead
from service.leads.states import LeadStatus
from service.loans.models import Loan
from service.matching.models import FinancingNeed
from service.models import __all__ as _models  # noqa: F401
from service.seeding import seed_demo, seed_reference
from tests.conftest import create_database, row_counts

WUXI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url, drop = create_database(tmp_path_factory.mktemp("demo-activity"))
    run_migrations("head", url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
        seed_demo(session)
    yield engine
    engine.dispose()
    drop()


def _utc(value):  # noqa: ANN001, ANN202 - SQLite hands back naive UTC
    from datetime import UTC

    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _leads(engine) -> list[Lead]:  # noqa: ANN001
    with Session(engine) as session:
        return list(session.exec(select(Lead)).all())


def test_a_second_seed_adds_nothing(demo) -> None:
    before = row_counts(demo)
    with Session(demo, expire_on_commit=False) as session:
        counts = seed_demo(session)
    assert not [k for k, v in counts.items() if v and not k.endswith(".unchanged")], counts
    assert row_counts(demo) == before


def test_every_stage_and_every_way_of_reaching_no_bank(demo) -> None:
    leads = _leads(demo)
    assert len(leads) >= 150
    statuses = Counter(str(lead.status) for lead in leads)
    assert set(statuses) == {str(s) for s in LeadStatus}, statuses
    assert len({lead.declined_reason for lead in leads if lead.declined_reason}) >= 5
    assert sum(lead.sla_breached_at is not None for lead in leads) >= 5
    with Session(demo) as session:
        needs = session.exec(
            select(FinancingNeed).where(col(FinancingNeed.note).startswith(DEMO_NOTE))
        ).all()
        assert len(needs) >= 200
        with_lead = {lead.need_id for lead in leads}
        alone = [n for n in needs if n.id not in with_lead]
        assert any(not n.consent_share_details for n in alone)  # no consent
        assert any(n.consent_share_details for n in alone)  # nothing eligible
        outside = session.execute(
            text(
                "SELECT count(*) FROM financing_need n JOIN enterprise e ON e.id = n.enterprise_id"
                " WHERE e.credit_code NOT LIKE '__3202%'"
            )
        ).scalar_one()
        assert outside >= 1
        assert all(n.consent_share_details for n in needs if n.id in with_lead)
        districts = session.execute(
            text(
                "SELECT count(DISTINCT e.district_code), count(DISTINCT e.cluster_code) FROM lead l"
                " JOIN enterprise e ON e.id = l.enterprise_id"
            )
        ).one()
        assert districts[0] >= 5 and districts[1] >= 5


def test_times_are_in_order_and_span_months(demo) -> None:
    leads = _leads(demo)
    now = utcnow()
    for lead in leads:
        created, viewed = _utc(lead.created_at), _utc(lead.viewed_at)
        contacted, closed = _utc(lead.first_contact_at), _utc(lead.closed_at)
        steps = [t for t in (created, viewed, contacted) if t is not None]
        assert steps == sorted(steps) and steps[-1] <= now, lead.id
        if closed is not None:
            assert closed >= steps[-1], lead.id
        if lead.approved_date is not None and contacted is not None:
            assert lead.approved_date >= contacted.date() - timedelta(days=1)
        if lead.disbursed_date is not None:
            assert lead.approved_date is not None
            assert lead.disbursed_date >= lead.approved_date
        if lead.sla_breached_at is not None:  # flagged the night after its due date
            flagged = _utc(lead.sla_breached_at).astimezone(WUXI)
            assert flagged.date() == lead.contact_due_date + timedelta(days=1), lead.id
            assert contacted is None or contacted.astimezone(WUXI) > flagged, lead.id
        if lead.status in (LeadStatus.contacted, LeadStatus.approved, LeadStatus.disbursed):
            assert contacted is not None and viewed is not None
    created = sorted(_utc(lead.created_at) for lead in leads)
    assert created[-1] - created[0] >= timedelta(days=90)
    with Session(demo) as session:
        # The banks' events happened when the leads moved, in feed order.
        for lead in leads:
            events = session.exec(
                select(BankEvent).where(BankEvent.lead_id == lead.id).order_by(col(BankEvent.seq))
            ).all()
            times = [_utc(e.occurred_at) for e in events]
            assert times == sorted(times) and times[0] == _utc(lead.created_at), lead.id


def test_banks_differ_and_loans_come_due(demo) -> None:
    leads = _leads(demo)

    def median_hours(bank: str) -> float:
        return statistics.median(
            (_utc(lead.first_contact_at) - _utc(lead.created_at)).total_seconds() / 3600
            for lead in leads
            if lead.bank_code == bank and lead.first_contact_at is not None
        )

    assert median_hours(DEMO_BANK) * 5 < median_hours(SLOW_BANK)
    # The demo bank's account managers (the demo people) work part of its leads.
    with Session(demo) as session:
        managers = set(
            session.exec(
                select(col(UserAccount.id)).where(col(UserAccount.login).in_(DEMO_MANAGERS))
            ).all()
        )
    assigned = [lead for lead in leads if lead.assignee_user_id is not None]
    assert assigned and {lead.bank_code for lead in assigned} == {DEMO_BANK}
    assert {lead.assignee_user_id for lead in assigned} == managers
    assert all(lead.assigned_at is not None for lead in assigned)
    with Session(demo) as session:
        loans = session.exec(select(Loan).where(col(Loan.lead_id).is_not(None))).all()
        disbursed = [lead for lead in leads if lead.status == LeadStatus.disbursed]
        assert len(loans) == len(disbursed) >= 20
        soon = today_local() + timedelta(days=30)
        assert sum(loan.maturity_date <= soon for loan in loans) >= 2
        assert all(loan.maturity_date > today_local() for loan in loans)
        reminders = session.execute(text("SELECT count(*) FROM loan_reminder")).scalar_one()
        assert reminders > 6  # beyond the demo's imported loans

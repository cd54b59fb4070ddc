"""The demo's requests and ratings (``service.demo_requests``): every kind and status, their
times in order, escalations once, ratings of ended leads only, the demo accounts' requests;
added once."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from service.access.models import UserAccount
from service.appeals.kinds import AppealKind
from service.appeals.models import Appeal, AppealEvent, ServiceRating
from service.appeals.states import AppealStatus
from service.cli import run_migrations
from service.core.models import today_local, utcnow
from service.demo_activity import DEMO_BANK
from service.demo_requests import DEMO_ENTERPRISE_LOGIN
from service.leads.models import Lead
from service.leads.states import TERMINAL
from service.models import __all__ as _models  # noqa: F401
from service.seeding import seed_demo, seed_reference
from tests.conftest import create_database, row_counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url, drop = create_database(tmp_path_factory.mktemp("demo-requests"))
    run_migrations("head", url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
        seed_demo(session)
    yield engine
    engine.dispose()
    drop()


def _utc(value: datetime | None) -> datetime | None:  # SQLite hands back naive UTC
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _appeals(engine: Any) -> list[Appeal]:
    with Session(engine) as session:
        return list(session.exec(select(Appeal).order_by(col(Appeal.id))).all())


def test_a_second_seed_adds_nothing(demo: Any) -> None:
    before = row_counts(demo)
    with Session(demo, expire_on_commit=False) as session:
        counts = seed_demo(session)
    assert not [k for k, v in counts.items() if v and not k.endswith(".unchanged")], counts
    assert counts["appeal.unchanged"] > 0
    assert row_counts(demo) == before


def test_every_kind_and_status_in_sane_numbers(demo: Any) -> None:
    appeals = _appeals(demo)
    assert 25 <= len(appeals) <= 40
    assert {a.kind for a in appeals} == set(AppealKind)
    statuses = Counter(AppealStatus(a.status) for a in appeals)
    assert set(statuses) == set(AppealStatus), statuses
    assert statuses[AppealStatus.confirmed] >= 8
    assert statuses[AppealStatus.dispatched] >= 4
    assert max(statuses.values()) <= len(appeals) // 2
    ratings = {a.rating for a in appeals if a.status == AppealStatus.confirmed}
    assert ratings == {1, 2, 3, 4, 5}
    charges = [a for a in appeals if a.kind == AppealKind.unreasonable_charge]
    assert len({a.charge_rule for a in charges}) >= 4
    assert {a.charge_item for a in charges} >= {
        "insurance",
        "appraisal",
        "guarantee",
    }
    for a in appeals:
        if a.kind == AppealKind.rate_above_offer:
            assert a.offered_rate_bp and a.charged_rate_bp and a.charged_rate_bp > a.offered_rate_bp
    assert {a.show_to_bank for a in appeals} == {True, False}
    assert any(a.lead_id for a in appeals) and any(a.loan_id for a in appeals)
    assert any(a.handler_department_code for a in appeals)
    assert any(a.reopens == 1 and a.status == AppealStatus.confirmed for a in appeals)
    merged = [a for a in appeals if a.status == AppealStatus.merged]
    assert all(a.merged_into_id for a in merged)


def test_times_span_two_quarters_and_follow_the_steps(demo: Any) -> None:
    appeals = _appeals(demo)
    now = utcnow()
    created = sorted(_utc(a.created_at) for a in appeals)  # type: ignore[type-var]
    assert created[-1] <= now and now - created[0] >= timedelta(days=120)
    # Newest first by id is newest first by time.
    assert [_utc(a.created_at) for a in appeals] == created
    with Session(demo) as session:
        for a in appeals:
            events = session.exec(
                select(AppealEvent)
                .where(AppealEvent.appeal_id == a.id)
                .order_by(col(AppealEvent.id))
            ).all()
            times = [_utc(e.at) for e in events]
            assert times == sorted(times) and times[0] == _utc(a.created_at), a.id  # type: ignore[type-var]
            assert times[-1] <= now, a.id  # type: ignore[operator]
            if a.dispatched_date is not None:
                assert a.due_date is not None and a.due_date > a.dispatched_date
                assert a.dispatched_date >= _utc(a.created_at).date() - timedelta(days=1)  # type: ignore[union-attr]


def test_escalated_once_and_overdue_still_open(demo: Any) -> None:
    appeals = _appeals(demo)
    today = today_local()
    escalated = [a for a in appeals if a.escalated_at is not None]
    assert len(escalated) >= 3
    with Session(demo) as session:
        for a in escalated:
            events = session.exec(
                select(AppealEvent).where(
                    AppealEvent.appeal_id == a.id, AppealEvent.kind == "escalated"
                )
            ).all()
            assert len(events) == 1, a.id
            assert a.late
            assert events[0].data["days_late"] == 1  # the night after its due date
    overdue = [a for a in appeals if a.status == AppealStatus.dispatched and a.due_date < today]  # type: ignore[operator]
    assert overdue and all(a.escalated_at is not None for a in overdue)
    # An answer after the escalation is late; one in time is not.
    assert any(a.late and a.answered_at for a in appeals)
    assert any(not a.late and a.answered_at for a in appeals)


def test_lead_ratings_only_of_ended_leads_and_banks_differ(demo: Any) -> None:
    with Session(demo) as session:
        ratings = session.exec(select(ServiceRating)).all()
        leads = {lead.id: lead for lead in session.exec(select(Lead)).all()}
    of_leads = [r for r in ratings if r.lead_id is not None]
    ended = [lead for lead in leads.values() if lead.status in TERMINAL]
    assert len(of_leads) >= len(ended) // 4
    for r in of_leads:
        lead = leads[r.lead_id]
        assert lead.status in TERMINAL and r.bank_code == lead.bank_code
        assert _utc(r.created_at) > _utc(lead.closed_at)  # type: ignore[operator]
    of_requests = [r for r in ratings if r.appeal_id is not None]
    assert len(of_requests) == sum(a.status == AppealStatus.confirmed for a in _appeals(demo))
    by_bank: dict[str, list[int]] = {}
    for r in of_leads:
        by_bank.setdefault(r.bank_code or "", []).append(r.score)
    means = {b: sum(s) / len(s) for b, s in by_bank.items() if len(s) >= 5}
    assert max(means.values()) - min(means.values()) >= 1.0
    assert {r.score for r in of_leads} == {1, 2, 3, 4, 5}
    assert any(r.comment for r in of_leads)


def test_the_demo_accounts_have_requests(demo: Any) -> None:
    with Session(demo) as session:
        user = session.exec(
            select(UserAccount).where(UserAccount.login == DEMO_ENTERPRISE_LOGIN)
        ).one()
    appeals = _appeals(demo)
    own = [a for a in appeals if a.enterprise_id == user.enterprise_id]
    states = {a.status for a in own}
    assert len(own) >= 5 and len(states) >= 4
    assert AppealStatus.closed in states  # awaiting its confirmation
    mine = [a for a in appeals if a.handler_bank_code == DEMO_BANK]
    assert any(a.status == AppealStatus.dispatched and a.escalated_at for a in mine)
    assert any(a.status == AppealStatus.dispatched and not a.escalated_at for a in mine)

"""Use cases of the renewal reminders: the reminder run (sending every reminder due, as the
worker does hourly and the office may ask for), its simulation, and listing reminders.

Rules here: the stages are configured (``FINMATCH_REMINDER_STAGES``; when each falls due is
``schedule``); a run sends each loan's stage once (a unique key; safe to run twice or from
several processes), sends missed ones marked late, gives provisional dates their final date
once the calendar knows their year, and refuses a date after today (its reminders would reach
the banks early) unless it is a simulation, which writes nothing. Only the office runs or
simulates from the API. A bank lists its own reminders, an enterprise its own, the office all
(``policy.between_scope``); the borrower is named only when the caller may know it."""

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, between_scope, identified_enterprises, require
from service.core.database import rolled_back
from service.core.models import refuse_future, today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.settings import get_settings
from service.jobs.service import unnoticed
from service.leads import bank_events, outbox
from service.loans import queries, schedule
from service.loans.models import ReminderRun
from service.loans.schemas import (
    ReminderPreview,
    ReminderPublic,
    ReminderRunPublic,
    ReminderRunSimulation,
    columns,
)

REMINDER_RUN = "loans.reminders"
# Key of the transaction-scoped advisory lock that lets one reminder run at a time proceed on
# PostgreSQL (the unique key of a reminder is what makes it exactly once; the lock only
# saves a second runner the work). "FMRM".
_RUN_LOCK = 0x464D524D
SIMULATION_SAMPLE = 20


def stages() -> tuple[int, ...]:
    """The configured reminder stages, in days before maturity."""
    return schedule.parse_stages(get_settings().reminder_stages)


def run_reminders(
    session: Session,
    as_of: date | None = None,
    trigger: str = "worker",
    commit: bool = True,
    *,
    future: bool = False,
) -> ReminderRun:
    """Send every reminder due by ``as_of`` (today by default) that was not sent yet, for
    every active loan that has not matured: after downtime the missed ones go out, marked
    late. A reminder whose date was found on a year without its official holiday notice is
    marked provisional; each run first gives the provisional ones sent earlier their final
    date once the calendar knows their year (after a ``holidays`` upgrade). Set-based, in
    one transaction; safe to run twice or from several processes at once (each loan,
    maturity and stage has one reminder, by a unique key). A date after today is refused
    (``future_as_of``: its reminders would reach the banks early) unless ``future``, which
    only ``simulate_reminders`` gives."""
    as_of = as_of or today_local()
    if not future:
        refuse_future(as_of, "把到那天才该发的续贷提醒发给银行")
    plan = stages()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_LOCK})
    now = utcnow()
    run = ReminderRun(as_of=as_of, stages=",".join(map(str, plan)), trigger=trigger, started_at=now)
    session.add(run)
    session.flush()
    assert run.id is not None
    run.recomputed = _settle_provisional(session)
    for index, days in enumerate(plan):
        first = index == 0
        due = schedule.due_maturities(as_of, days, first)
        estimated = {m for m in due if schedule.stage(m, days, first).provisional}
        queries.insert_reminders(
            session,
            run.id,
            as_of,
            days,
            due,
            final=index == len(plan) - 1,
            now=now,
            provisional=estimated,
        )
    run.reminders, run.late = queries.counted(session, run.id)
    if run.reminders:
        queries.open_cases(session, run.id, now)
        _announce_reminders(session, run.id, now)
    run.finished_at = utcnow()
    if commit:
        session.commit()
    else:
        session.flush()
    return run


def simulate_reminders(
    session: Session, as_of: date | None = None, trigger: str = "api"
) -> ReminderRunSimulation:
    """What ``run_reminders`` would do as of ``as_of`` (any date, the future too): the same
    run, commit included, inside a transaction that is rolled back, so that nothing of it
    persists (the run, reminders, renewal cases, bank events, webhook deliveries, jobs,
    audit entries)."""
    with rolled_back(session) as scratch, unnoticed():
        run = run_reminders(scratch, as_of, trigger=trigger, future=True)
        assert run.id is not None
        by_bank = dict(queries.counts_by_bank(scratch, run.id))
        sample = queries.first_of_run(scratch, run.id, SIMULATION_SAMPLE)
        return ReminderRunSimulation(
            as_of=run.as_of,
            stages=[int(s) for s in run.stages.split(",")],
            reminders=run.reminders,
            late=run.late,
            recomputed=run.recomputed,
            by_bank=by_bank,
            sample=[ReminderPreview.model_validate(row, from_attributes=True) for row in sample],
        )


def request_run(
    session: Session, principal: Principal, as_of: date | None, simulate: bool
) -> ReminderRunPublic | ReminderRunSimulation:
    """The office runs the reminders now (``simulate``: only tells what the run would do)."""
    require(principal, Role.office)
    if simulate:
        return simulate_reminders(session, as_of, trigger="api")
    return run_public(run_reminders(session, as_of, trigger="api"))


def _settle_provisional(session: Session) -> int:
    """Recompute the provisional reminders' dates; those the calendar now knows for certain
    get their final date (and late flag) and stop being provisional. How many changed."""
    final: dict[tuple[int, bool], dict[date, date]] = {}
    plans: dict[tuple[int, bool], set[str]] = {}
    for maturity, days, plan in queries.provisional_stages(session):
        first = schedule.is_first(days, [int(d) for d in plan.split(",")])
        again = schedule.stage(maturity, days, first)
        if again.provisional:
            continue
        final.setdefault((days, first), {})[maturity] = again.remind_date
        plans.setdefault((days, first), set()).add(plan)
    return sum(
        queries.settle_reminders(session, days, sorted(plans[(days, first)]), dates)
        for (days, first), dates in final.items()
    )


def _announce_reminders(session: Session, run_id: int, now: Any) -> None:
    """The banks' ``loan.reminder`` events and their webhook deliveries, in bulk."""
    endpoints = queries.enabled_endpoints(session)
    for bank_code, count in queries.counts_by_bank(session, run_id):
        last = bank_events.next_seqs(session, bank_code, count)
        first = last - count + 1
        queries.insert_events(session, run_id, bank_code, first, now)
        for endpoint in endpoints:
            if endpoint.bank_code != bank_code:
                continue
            if endpoint.event_types and queries.REMINDER_EVENT not in endpoint.event_types:
                continue
            assert endpoint.id is not None
            queries.insert_deliveries(session, endpoint.id, bank_code, first, last, now)
            outbox.schedule(session, endpoint.id)


def run_reminder_job(session: Session) -> dict:
    """Worker job (periodic): today's reminders. The runner commits nothing more."""
    run = run_reminders(session, trigger="worker", commit=False)
    return {
        "run_id": run.id,
        "as_of": run.as_of.isoformat(),
        "reminders": run.reminders,
        "recomputed": run.recomputed,
    }


def run_public(run: ReminderRun) -> ReminderRunPublic:
    return ReminderRunPublic(
        **columns(run, exclude={"stages"}), stages=[int(s) for s in run.stages.split(",")]
    )


def list_reminders(
    session: Session,
    principal: Principal,
    page: PageParams,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    final: bool | None = None,
    late: bool | None = None,
    since: date | None = None,
) -> Page[ReminderPublic]:
    """Reminders, newest first: a bank's, an enterprise's, the office's all (``final=true``:
    the last-stage ones the office is told of)."""
    bank_code, enterprise_id = between_scope(principal, bank_code, enterprise_id)
    key = cursor_key(page, 1, (int,))
    rows = queries.reminder_page(
        session,
        page.limit + 1,
        key[0] if key else None,
        bank_code=bank_code,
        enterprise_id=enterprise_id,
        final=final,
        late=late,
        since=since,
    )
    result = make_page(rows, page.limit, lambda row: [row[0].id])
    known = identified_enterprises(principal, {row[0].enterprise_id for row in result.items})
    names = queries.enterprise_names(session, known)
    result.items = [
        ReminderPublic(
            **columns(reminder, exclude={"run_id"}),
            contract_no=contract_no,
            principal_fen=principal_fen,
            enterprise_name=names.get(reminder.enterprise_id),
        )
        for reminder, contract_no, principal_fen in result.items
    ]
    return result

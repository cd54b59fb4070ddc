"""The reminder run's statements: set-based, so a run over a million loans is a handful of
statements whatever the number of reminders it sends."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, case, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from service.core.models import UTCDateTime
from service.leads.models import BankEvent, DeliveryStatus, WebhookDelivery
from service.loans.models import Loan, LoanReminder, LoanStatus, ReminderRun, RenewalCase
from service.loans.renewal import CaseStatus

REMINDER_EVENT = "loan.reminder"


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def insert_reminders(
    session: Session,
    run_id: int,
    as_of: date,
    stage_days: int,
    due: dict[date, date],
    final: bool,
    now: datetime,
    provisional: set[date],
) -> None:
    """One stage's reminders for every active loan maturing on a date in ``due`` (maturity ->
    reminder date), unless already sent; those maturing on a date in ``provisional`` have a
    provisional reminder date. (Count them by run: the driver's row count of an
    INSERT … SELECT … ON CONFLICT is not reliable through SQLAlchemy here.)"""
    if not due:
        return
    remind = case(due, value=Loan.maturity_date)
    estimated = (
        Loan.maturity_date.in_(sorted(provisional)) if provisional else literal(False, Boolean)
    )
    source = select(
        Loan.id,
        Loan.bank_code,
        Loan.enterprise_id,
        Loan.maturity_date,
        literal(stage_days, Integer),
        remind,
        estimated,
        remind < as_of,
        literal(final),
        literal(run_id, Integer),
        literal(now, UTCDateTime()),
    ).where(
        Loan.status == LoanStatus.active,
        Loan.maturity_date >= min(due),
        Loan.maturity_date <= max(due),
    )
    statement = (
        _insert(session)(LoanReminder)
        .from_select(
            [
                "loan_id",
                "bank_code",
                "enterprise_id",
                "maturity_date",
                "stage_days",
                "remind_date",
                "provisional",
                "late",
                "final",
                "run_id",
                "created_at",
            ],
            source,
        )
        .on_conflict_do_nothing(index_elements=["loan_id", "maturity_date", "stage_days"])
    )
    session.execute(statement)


def provisional_stages(session: Session) -> list[tuple[date, int, str]]:
    """(maturity, stage, the sending run's stages) of every provisional reminder, once each."""
    rows = session.execute(
        select(LoanReminder.maturity_date, LoanReminder.stage_days, ReminderRun.stages)
        .join(ReminderRun, ReminderRun.id == LoanReminder.run_id)
        .where(LoanReminder.provisional == True)  # noqa: E712 - the partial index's predicate
        .distinct()
    ).all()
    return [(maturity, days, stages) for maturity, days, stages in rows]


def settle_reminders(
    session: Session, stage_days: int, plans: list[str], dates: dict[date, date]
) -> int:
    """Give the provisional reminders of one stage, sent by runs with one of ``plans`` and
    maturing on a date in ``dates``, their final date (maturity -> reminder date); late again
    means sent after it. Returns how many changed."""
    remind = case(dates, value=LoanReminder.maturity_date)
    sent_on = (
        select(ReminderRun.as_of).where(ReminderRun.id == LoanReminder.run_id).scalar_subquery()
    )
    runs = select(ReminderRun.id).where(ReminderRun.stages.in_(plans))  # type: ignore[attr-defined]
    result = session.execute(
        update(LoanReminder)
        .where(
            LoanReminder.provisional == True,  # noqa: E712
            LoanReminder.stage_days == stage_days,
            LoanReminder.maturity_date.in_(sorted(dates)),  # type: ignore[attr-defined]
            LoanReminder.run_id.in_(runs),  # type: ignore[attr-defined]
        )
        .values(remind_date=remind, provisional=False, late=remind < sent_on)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def counted(session: Session, run_id: int) -> tuple[int, int]:
    """(reminders, of which late) added by a run."""
    total, late = session.execute(
        select(func.count(), func.count().filter(LoanReminder.late.is_(True))).where(  # type: ignore[attr-defined]
            LoanReminder.run_id == run_id
        )
    ).one()
    return total, late


def first_of_run(session: Session, run_id: int, limit: int) -> list[Any]:
    """The first ``limit`` reminders of a run by reminder date, with their contract number."""
    return list(
        session.execute(
            select(
                LoanReminder.loan_id,
                Loan.contract_no,
                LoanReminder.bank_code,
                LoanReminder.enterprise_id,
                LoanReminder.maturity_date,
                LoanReminder.stage_days,
                LoanReminder.remind_date,
                LoanReminder.provisional,
                LoanReminder.late,
                LoanReminder.final,
            )
            .join(Loan, Loan.id == LoanReminder.loan_id)
            .where(LoanReminder.run_id == run_id)
            .order_by(LoanReminder.remind_date, LoanReminder.id)
            .limit(limit)
        ).all()
    )


def open_cases(session: Session, run_id: int, now: datetime) -> None:
    """A renewal case for every loan reminded in this run that has none yet."""
    source = (
        select(
            LoanReminder.loan_id,
            literal(str(CaseStatus.open), String),
            literal(1, Integer),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .where(LoanReminder.run_id == run_id)
        .distinct()
    )
    statement = (
        _insert(session)(RenewalCase)
        .from_select(["loan_id", "status", "version", "created_at", "updated_at"], source)
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )
    session.execute(statement)


def ensure_case(session: Session, loan_id: int, now: datetime) -> None:
    """The loan's renewal case, unless it has one (a concurrent opener may win: fine)."""
    statement = (
        _insert(session)(RenewalCase)
        .values(
            loan_id=loan_id, status=str(CaseStatus.open), version=1, created_at=now, updated_at=now
        )
        .on_conflict_do_nothing(index_elements=["loan_id"])
    )
    session.execute(statement)


def counts_by_bank(session: Session, run_id: int) -> list[tuple[str, int]]:
    rows = session.execute(
        select(LoanReminder.bank_code, func.count())
        .where(LoanReminder.run_id == run_id)
        .group_by(LoanReminder.bank_code)
        .order_by(LoanReminder.bank_code)  # banks' feed counters locked in one order
    ).all()
    return [(bank, count) for bank, count in rows]


def _event_data(dialect: str) -> Any:
    """The event's data, built by the database: the reminder's ids, dates and flags."""
    pairs: list[Any] = []
    if dialect == "postgresql":
        for key, column in (
            ("loan_id", LoanReminder.loan_id),
            ("reminder_id", LoanReminder.id),
            ("stage_days", LoanReminder.stage_days),
            ("remind_date", LoanReminder.remind_date),
            ("maturity_date", LoanReminder.maturity_date),
            ("provisional", LoanReminder.provisional),
            ("late", LoanReminder.late),
            ("final", LoanReminder.final),
        ):
            pairs += [literal(key, String), column]
        return func.jsonb_build_object(*pairs)
    for key, column in (
        ("loan_id", LoanReminder.loan_id),
        ("reminder_id", LoanReminder.id),
        ("stage_days", LoanReminder.stage_days),
        ("remind_date", LoanReminder.remind_date),
        ("maturity_date", LoanReminder.maturity_date),
    ):
        pairs += [literal(key, String), column]
    for key, column in (
        ("provisional", LoanReminder.provisional),
        ("late", LoanReminder.late),
        ("final", LoanReminder.final),
    ):
        pairs += [literal(key, String), func.json(case((column, "true"), else_="false"))]
    return func.json_object(*pairs)


def insert_events(
    session: Session, run_id: int, bank_code: str, first_seq: int, now: datetime
) -> None:
    """The bank's ``loan.reminder`` events for this run, at positions first_seq, first_seq+1,
    … in reminder order."""
    dialect = session.get_bind().dialect.name
    source = select(
        literal(bank_code, String),
        literal(first_seq - 1, Integer) + func.row_number().over(order_by=LoanReminder.id),
        literal(REMINDER_EVENT, String),
        _event_data(dialect),
        literal(now, UTCDateTime()),
    ).where(LoanReminder.run_id == run_id, LoanReminder.bank_code == bank_code)
    session.execute(
        BankEvent.__table__.insert().from_select(  # type: ignore[attr-defined]
            ["bank_code", "seq", "type", "data", "occurred_at"], source
        )
    )


def insert_deliveries(
    session: Session, endpoint_id: int, bank_code: str, first_seq: int, last_seq: int, now: Any
) -> None:
    """Outbox rows for one endpoint: the bank's events at positions first_seq..last_seq."""
    source = select(
        literal(endpoint_id, Integer),
        BankEvent.id,
        literal("msg_", String) + cast(BankEvent.id, String) + literal(f"_{endpoint_id}", String),
        literal(str(DeliveryStatus.pending), String),
        literal(0, Integer),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).where(
        BankEvent.bank_code == bank_code,
        BankEvent.seq >= first_seq,
        BankEvent.seq <= last_seq,
    )
    statement = (
        _insert(session)(WebhookDelivery)
        .from_select(
            [
                "endpoint_id",
                "event_id",
                "msg_id",
                "status",
                "attempts",
                "next_attempt_at",
                "created_at",
            ],
            source,
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
    )
    session.execute(statement)

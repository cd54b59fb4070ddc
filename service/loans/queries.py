"""The loans' SQL: the reads of the use cases (a loan by contract number, the rows a list or
an import needs, in bulk), and the reminder run's statements, set-based, so that a run over a
million loans is a handful of statements whatever the number of reminders it sends. No rule
lives here: who may see what is decided by the use cases."""

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from service.core.database import ROW_LOCK
from service.core.models import UTCDateTime
from service.enterprises.models import Enterprise
from service.leads.models import BankEvent, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from service.loans.models import (
    BridgeApplication,
    BridgeStatus,
    Loan,
    LoanReminder,
    LoanStatus,
    ReminderRun,
    RenewalCase,
)
from service.loans.renewal import CaseStatus
from service.products.models import Bank, Product

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
    maturity = col(Loan.maturity_date)
    remind = case(due, value=maturity)
    estimated = maturity.in_(sorted(provisional)) if provisional else literal(False, Boolean)
    source = select(
        col(Loan.id),
        col(Loan.bank_code),
        col(Loan.enterprise_id),
        maturity,
        literal(stage_days, Integer),
        remind,
        estimated,
        remind < as_of,
        literal(final),
        literal(run_id, Integer),
        literal(now, UTCDateTime()),
    ).where(
        col(Loan.status) == LoanStatus.active,
        maturity >= min(due),
        maturity <= max(due),
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
        select(
            col(LoanReminder.maturity_date), col(LoanReminder.stage_days), col(ReminderRun.stages)
        )
        .join(ReminderRun, col(ReminderRun.id) == col(LoanReminder.run_id))
        .where(col(LoanReminder.provisional) == True)  # noqa: E712 - the partial index's predicate
        .distinct()
    ).all()
    return [(maturity, days, stages) for maturity, days, stages in rows]


def settle_reminders(
    session: Session, stage_days: int, plans: list[str], dates: dict[date, date]
) -> int:
    """Give the provisional reminders of one stage, sent by runs with one of ``plans`` and
    maturing on a date in ``dates``, their final date (maturity -> reminder date); late again
    means sent after it. Returns how many changed."""
    remind = case(dates, value=col(LoanReminder.maturity_date))
    sent_on = (
        select(col(ReminderRun.as_of))
        .where(col(ReminderRun.id) == col(LoanReminder.run_id))
        .scalar_subquery()
    )
    runs = select(col(ReminderRun.id)).where(col(ReminderRun.stages).in_(plans))
    result = session.execute(
        update(LoanReminder)
        .where(
            col(LoanReminder.provisional) == True,  # noqa: E712
            col(LoanReminder.stage_days) == stage_days,
            col(LoanReminder.maturity_date).in_(sorted(dates)),
            col(LoanReminder.run_id).in_(runs),
        )
        .values(remind_date=remind, provisional=False, late=remind < sent_on)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def counted(session: Session, run_id: int) -> tuple[int, int]:
    """(reminders, of which late) added by a run."""
    total, late = session.execute(
        select(func.count(), func.count().filter(col(LoanReminder.late).is_(True))).where(
            col(LoanReminder.run_id) == run_id
        )
    ).one()
    return total, late


def first_of_run(session: Session, run_id: int, limit: int) -> list[Any]:
    """The first ``limit`` reminders of a run by reminder date, with their contract number."""
    return list(
        session.execute(
            select(
                col(LoanReminder.loan_id),
                col(Loan.contract_no),
                col(LoanReminder.bank_code),
                col(LoanReminder.enterprise_id),
                col(LoanReminder.maturity_date),
                col(LoanReminder.stage_days),
                col(LoanReminder.remind_date),
                col(LoanReminder.provisional),
                col(LoanReminder.late),
                col(LoanReminder.final),
            )
            .join(Loan, col(Loan.id) == col(LoanReminder.loan_id))
            .where(col(LoanReminder.run_id) == run_id)
            .order_by(col(LoanReminder.remind_date), col(LoanReminder.id))
            .limit(limit)
        ).all()
    )


def open_cases(session: Session, run_id: int, now: datetime) -> None:
    """A renewal case for every loan reminded in this run that has none yet."""
    source = (
        select(
            col(LoanReminder.loan_id),
            literal(str(CaseStatus.open), String),
            literal(1, Integer),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .where(col(LoanReminder.run_id) == run_id)
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
        select(col(LoanReminder.bank_code), func.count())
        .where(col(LoanReminder.run_id) == run_id)
        .group_by(col(LoanReminder.bank_code))
        .order_by(col(LoanReminder.bank_code))  # banks' feed counters locked in one order
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
        pairs += [literal(key, String), func.json(case((col(column), "true"), else_="false"))]
    return func.json_object(*pairs)


def insert_events(
    session: Session, run_id: int, bank_code: str, first_seq: int, now: datetime
) -> None:
    """The bank's ``loan.reminder`` events for this run, at positions first_seq, first_seq+1,
    … in reminder order."""
    dialect = session.get_bind().dialect.name
    source = select(
        literal(bank_code, String),
        literal(first_seq - 1, Integer) + func.row_number().over(order_by=col(LoanReminder.id)),
        literal(REMINDER_EVENT, String),
        _event_data(dialect),
        literal(now, UTCDateTime()),
    ).where(col(LoanReminder.run_id) == run_id, col(LoanReminder.bank_code) == bank_code)
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
        col(BankEvent.id),
        literal("msg_", String)
        + cast(col(BankEvent.id), String)
        + literal(f"_{endpoint_id}", String),
        literal(str(DeliveryStatus.pending), String),
        literal(0, Integer),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).where(
        col(BankEvent.bank_code) == bank_code,
        col(BankEvent.seq) >= first_seq,
        col(BankEvent.seq) <= last_seq,
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


# --- the use cases' reads -------------------------------------------------------------------

CHUNK = 1000  # ids or codes in one IN (…): well under every driver's parameter limit


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def loan_id_by_contract(session: Session, bank_code: str, contract_no: str) -> int | None:
    return session.scalar(
        select(col(Loan.id)).where(
            col(Loan.bank_code) == bank_code, col(Loan.contract_no) == contract_no
        )
    )


def loans_by_contract(session: Session, bank_code: str, numbers: Sequence[str]) -> list[Loan]:
    """The bank's loans with these contract numbers."""
    found: list[Loan] = []
    for chunk in _chunks(numbers):
        found += session.scalars(
            select(Loan).where(col(Loan.bank_code) == bank_code, col(Loan.contract_no).in_(chunk))
        )
    return found


def enterprise_id_by_credit_code(session: Session, code: str) -> int | None:
    return session.scalar(select(col(Enterprise.id)).where(col(Enterprise.credit_code) == code))


def enterprise_ids_by_credit_code(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """Credit code -> id of the library's enterprises with these codes."""
    found: dict[str, int] = {}
    for chunk in _chunks(codes):
        rows = session.execute(
            select(col(Enterprise.credit_code), col(Enterprise.id)).where(
                col(Enterprise.credit_code).in_(chunk)
            )
        )
        found.update((code, id_) for code, id_ in rows if id_ is not None)
    return found


def enterprises_by_id(session: Session, ids: Iterable[int]) -> dict[int, Enterprise]:
    rows = session.scalars(select(Enterprise).where(col(Enterprise.id).in_(set(ids))))
    return {e.id: e for e in rows if e.id is not None}


def enterprise_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(
        select(col(Enterprise.id), col(Enterprise.name)).where(col(Enterprise.id).in_(set(ids)))
    )
    return {id_: name for id_, name in rows if id_ is not None}


def bank_codes(session: Session) -> set[str]:
    return set(session.scalars(select(col(Bank.code))))


def bank_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(col(Bank.code), col(Bank.name)))}


def product_by_code(session: Session, code: str) -> Product | None:
    return session.scalar(select(Product).where(col(Product.code) == code))


def products_by_code(session: Session) -> dict[str, tuple[int, str]]:
    """Product code -> (id, bank) of every product."""
    rows = session.execute(select(col(Product.code), col(Product.id), col(Product.bank_code)))
    return {code: (id_, bank) for code, id_, bank in rows if id_ is not None}


def product_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(
        select(col(Product.id), col(Product.code)).where(col(Product.id).in_(set(ids)))
    )
    return {id_: code for id_, code in rows if id_ is not None}


def cases_by_loan(session: Session, loan_ids: Iterable[int]) -> dict[int, RenewalCase]:
    rows = session.scalars(select(RenewalCase).where(col(RenewalCase.loan_id).in_(list(loan_ids))))
    return {c.loan_id: c for c in rows}


def case_of(
    session: Session, loan_id: int, lock: bool = False, fresh: bool = False
) -> RenewalCase | None:
    """The loan's renewal case (``fresh``: as stored now, over what the session holds;
    ``lock``: row-locked for a change)."""
    statement = select(RenewalCase).where(col(RenewalCase.loan_id) == loan_id)
    if lock:
        statement = statement.with_for_update(**ROW_LOCK)
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    return session.scalar(statement)


def reminders_sent(
    session: Session, loan_ids: Iterable[int]
) -> dict[tuple[int, date, int], LoanReminder]:
    """The reminders sent for these loans by (loan, maturity, stage)."""
    rows = session.scalars(
        select(LoanReminder).where(col(LoanReminder.loan_id).in_(list(loan_ids)))
    )
    return {(r.loan_id, r.maturity_date, r.stage_days): r for r in rows}


def enabled_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(
        session.scalars(select(WebhookEndpoint).where(col(WebhookEndpoint.enabled).is_(True)))
    )


def bridge_application_id(
    session: Session, loan_id: int, statuses: Iterable[BridgeStatus]
) -> int | None:
    """One of the loan's bridge applications in one of these states, if any."""
    return session.scalar(
        select(col(BridgeApplication.id)).where(
            col(BridgeApplication.loan_id) == loan_id,
            col(BridgeApplication.status).in_(list(statuses)),
        )
    )


def loan_page(
    session: Session,
    limit: int,
    after: tuple[date, int] | None,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    status: LoanStatus | None = None,
    case_status: CaseStatus | None = None,
    maturing_from: date | None = None,
    maturing_to: date | None = None,
) -> list[Loan]:
    """Up to ``limit`` loans by maturity (then id) after the ``after`` key, filtered."""
    statement = select(Loan)
    if bank_code is not None:
        statement = statement.where(col(Loan.bank_code) == bank_code)
    if enterprise_id is not None:
        statement = statement.where(col(Loan.enterprise_id) == enterprise_id)
    if status is not None:
        statement = statement.where(col(Loan.status) == status)
    if maturing_from is not None:
        statement = statement.where(col(Loan.maturity_date) >= maturing_from)
    if maturing_to is not None:
        statement = statement.where(col(Loan.maturity_date) <= maturing_to)
    if case_status is not None:
        cases = select(col(RenewalCase.loan_id)).where(col(RenewalCase.status) == case_status)
        statement = statement.where(col(Loan.id).in_(cases))
    if after is not None:
        maturity, loan_id = after
        statement = statement.where(
            (col(Loan.maturity_date) > maturity)
            | ((col(Loan.maturity_date) == maturity) & (col(Loan.id) > loan_id))
        )
    order = statement.order_by(col(Loan.maturity_date), col(Loan.id))
    return list(session.scalars(order.limit(limit)))


def reminder_page(
    session: Session,
    limit: int,
    before_id: int | None,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    final: bool | None = None,
    late: bool | None = None,
    since: date | None = None,
) -> list[tuple[LoanReminder, str, int]]:
    """Up to ``limit`` (reminder, contract number, principal), newest first, before the
    ``before_id`` reminder, filtered."""
    statement = select(LoanReminder, col(Loan.contract_no), col(Loan.principal_fen)).join(
        Loan, col(Loan.id) == col(LoanReminder.loan_id)
    )
    if bank_code is not None:
        statement = statement.where(col(LoanReminder.bank_code) == bank_code)
    if enterprise_id is not None:
        statement = statement.where(col(LoanReminder.enterprise_id) == enterprise_id)
    if final is not None:
        statement = statement.where(col(LoanReminder.final).is_(final))
    if late is not None:
        statement = statement.where(col(LoanReminder.late).is_(late))
    if since is not None:
        statement = statement.where(col(LoanReminder.remind_date) >= since)
    if before_id is not None:
        statement = statement.where(col(LoanReminder.id) < before_id)
    rows = session.execute(statement.order_by(col(LoanReminder.id).desc()).limit(limit))
    return [(reminder, contract_no, principal_fen) for reminder, contract_no, principal_fen in rows]


def bridge_page(
    session: Session,
    limit: int,
    before_id: int | None,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    status: BridgeStatus | None = None,
    loan_id: int | None = None,
) -> list[BridgeApplication]:
    """Up to ``limit`` bridge applications, newest first, before ``before_id``, filtered."""
    statement = select(BridgeApplication)
    if bank_code is not None:
        statement = statement.where(col(BridgeApplication.bank_code) == bank_code)
    if enterprise_id is not None:
        statement = statement.where(col(BridgeApplication.enterprise_id) == enterprise_id)
    if status is not None:
        statement = statement.where(col(BridgeApplication.status) == status)
    if loan_id is not None:
        statement = statement.where(col(BridgeApplication.loan_id) == loan_id)
    if before_id is not None:
        statement = statement.where(col(BridgeApplication.id) < before_id)
    order = statement.order_by(col(BridgeApplication.id).desc())
    return list(session.scalars(order.limit(limit)))


def maturing_at_partner_banks(
    conn: Connection, enterprise_ids: Sequence[int] | None, first: date, last: date
) -> list[tuple[int, str | None]]:
    """(enterprise, renewal case status or None) of every active loan maturing between
    ``first`` and ``last`` at a bank that cooperates with the bridge fund (of these
    enterprises, when given)."""
    statement = (
        select(col(Loan.enterprise_id), col(RenewalCase.status))
        .join(Bank, col(Bank.code) == col(Loan.bank_code))
        .outerjoin(RenewalCase, col(RenewalCase.loan_id) == col(Loan.id))
        .where(
            col(Loan.status) == LoanStatus.active,
            col(Loan.maturity_date) >= first,
            col(Loan.maturity_date) <= last,
            col(Bank.bridge_fund_partner).is_(True),
        )
    )
    if enterprise_ids is not None:
        statement = statement.where(col(Loan.enterprise_id).in_(list(enterprise_ids)))
    return [(enterprise_id, status) for enterprise_id, status in conn.execute(statement)]

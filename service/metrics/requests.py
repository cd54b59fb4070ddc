"""The office's figures on requests (诉求) and on enterprises' satisfaction, for a period of
Asia/Shanghai dates (a quarter by default: the city's 季度交办会 reviews one).

Definitions (a person can recount each from the request list):
- raised: requests whose ``created_at`` falls in the period, whatever became of them
  (rejected, merged and withdrawn included); grouped by kind, by the bank concerned
  (``bank_code``), by handler (the department dispatched to; a bank handler is one row
  银行承办, none yet 未交办) and by the enterprise's district.
- on time: of the requests whose latest answer (``answered_at``) falls in the period, those
  of which no deadline was missed (``late`` false: never escalated as overdue, and every
  answer given on or before its due date).
- days to close: over the requests whose latest closing (``closed_at``) falls in the period,
  the median of calendar days from the date raised to the date closed (Asia/Shanghai); the
  reopen rate is the share of those same requests reopened at least once (``reopens`` ≥ 1).
  A reopened request counts when it is closed again.
- satisfaction: ratings given in the period (``service_rating.created_at``): by bank (of
  leads and of requests a bank handled), by product (of leads), by request kind (of
  requests), and in total (departments' included).
- open overdue: today, requests still with their handler (dispatched) whose due date has
  passed, the office's overdue list.

Rows are read with a few plain selects and counted here, in Python, so that SQLite and
PostgreSQL agree on dates (a quarter's requests are thousands, not millions)."""

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals.kinds import KIND_LABEL, AppealKind, HandlerKind
from service.appeals.models import Appeal, Department, ServiceRating
from service.appeals.states import AppealStatus
from service.core.errors import Unprocessable
from service.core.models import today_local
from service.core.settings import get_settings
from service.enterprises.models import Enterprise
from service.leads.queries import product_names
from service.metrics.numbers import median, ratio, rounded
from service.metrics.request_schemas import (
    Closing,
    CountRow,
    OnTime,
    OverdueItem,
    RatingRow,
    RatingTable,
    RequestReport,
    RequestScope,
)
from service.products.models import Bank
from service.taxonomy.models import District

QUARTER_PATTERN = re.compile(r"(\d{4})Q([1-4])")
YEARS = (2000, 2100)
NO_BANK = "未涉及具体银行"
BANK_HANDLED = "银行承办"
NOT_DISPATCHED = "未交办"
UNSET = "未填写"
TOTAL = "合计"


# --- the period -------------------------------------------------------------------------------


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def recent_quarters(today: date, count: int) -> list[str]:
    """The quarter of ``today`` and the ``count - 1`` before it, the latest first."""
    index = today.year * 4 + (today.month - 1) // 3
    return [f"{i // 4}Q{i % 4 + 1}" for i in range(index, index - count, -1)]


def quarter_dates(quarter: str) -> tuple[date, date]:
    """First and last day of ``2026Q4``; anything else is a 422 ``invalid_quarter``."""
    found = QUARTER_PATTERN.fullmatch(quarter.strip().upper())
    if found is None or not YEARS[0] <= int(found[1]) <= YEARS[1]:
        raise Unprocessable(
            f"季度须写作「年份Q季度」，如 2026Q4（年份 {YEARS[0]}–{YEARS[1]}，季度 1–4）。",
            code="invalid_quarter",
            field="quarter",
        )
    year, q = int(found[1]), int(found[2])
    first = date(year, 3 * q - 2, 1)
    after = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first, after - timedelta(days=1)


def request_scope(
    quarter: str | None, from_date: date | None, to_date: date | None, today: date
) -> RequestScope:
    """A quarter, or from/to (a missing end is the end of the other's quarter, a missing
    start the start of the other's quarter), or, with neither, the current quarter."""
    if quarter is not None:
        if from_date is not None or to_date is not None:
            raise Unprocessable(
                "季度（quarter）与起止日期（from、to）只能给出其一。",
                code="invalid_period",
                field="quarter",
            )
        first, last = quarter_dates(quarter)
        return RequestScope(from_date=first, to=last, quarter=quarter_of(first), as_of=today)
    if from_date is None and to_date is None:
        first, last = quarter_dates(quarter_of(today))
        return RequestScope(from_date=first, to=last, quarter=quarter_of(today), as_of=today)
    first = from_date or quarter_dates(quarter_of(to_date or today))[0]
    last = to_date or quarter_dates(quarter_of(first))[1]
    if first > last:
        raise Unprocessable(
            f"起始日期 {first} 晚于截止日期 {last}。", code="invalid_period", field="from"
        )
    whole = quarter_dates(quarter_of(first)) == (first, last)
    return RequestScope(
        from_date=first, to=last, quarter=quarter_of(first) if whole else None, as_of=today
    )


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC-comparable instants, and the zone its dates are read in."""

    start: datetime
    end: datetime
    tz: tzinfo

    @classmethod
    def of(cls, scope: RequestScope) -> "Window":
        tz = ZoneInfo(get_settings().timezone)
        return cls(
            start=datetime.combine(scope.from_date, time(), tzinfo=tz),
            end=datetime.combine(scope.to + timedelta(days=1), time(), tzinfo=tz),
            tz=tz,
        )

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealRow:
    id: int
    kind: str
    bank_code: str | None
    handler_kind: str | None
    handler_department_code: str | None
    district_code: str | None
    created_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    late: bool
    reopens: int


@dataclass(frozen=True)
class RatingFact:
    score: int
    bank_code: str | None
    product_id: int | None
    appeal_kind: str | None
    of_lead: bool


def appeal_rows(session: Session, window: Window) -> list[AppealRow]:
    """Requests raised, answered or closed in the window."""
    a = Appeal
    stmt = (
        select(
            col(a.id),
            col(a.kind),
            col(a.bank_code),
            col(a.handler_kind),
            col(a.handler_department_code),
            col(Enterprise.district_code),
            col(a.created_at),
            col(a.answered_at),
            col(a.closed_at),
            col(a.late),
            col(a.reopens),
        )
        .join(Enterprise, col(Enterprise.id) == col(a.enterprise_id))
        .where(
            or_(
                *(
                    (column >= window.start) & (column < window.end)
                    for column in (col(a.created_at), col(a.answered_at), col(a.closed_at))
                )
            )
        )
        .order_by(col(a.id))
    )
    return [AppealRow(*r) for r in session.execute(stmt)]


def rating_facts(session: Session, window: Window) -> list[RatingFact]:
    r = ServiceRating
    stmt = select(
        col(r.score), col(r.bank_code), col(r.product_id), col(r.appeal_kind), col(r.lead_id)
    ).where(col(r.created_at) >= window.start, col(r.created_at) < window.end)
    return [
        RatingFact(score, bank, product, kind, lead is not None)
        for score, bank, product, kind, lead in session.execute(stmt)
    ]


def overdue_items(session: Session, today: date) -> list[OverdueItem]:
    """Dispatched requests past their due date, the longest overdue first."""
    a = Appeal
    stmt = (
        select(
            col(a.id),
            col(Enterprise.name),
            col(a.kind),
            col(a.handler_bank_code),
            col(a.handler_department_code),
            col(a.due_date),
            col(a.escalated_at),
        )
        .join(Enterprise, col(Enterprise.id) == col(a.enterprise_id))
        .where(col(a.status) == AppealStatus.dispatched, col(a.due_date) < today)
        .order_by(col(a.due_date), col(a.id))
    )
    banks, departments = bank_labels(session), department_labels(session)
    out = []
    for rid, name, kind, bank, department, due, escalated in session.execute(stmt):
        handler = banks.get(bank, bank) if bank else departments.get(department, department)
        out.append(
            OverdueItem(
                id=rid,
                enterprise_name=name,
                kind_label=kind_label(kind),
                handler_name=handler or NOT_DISPATCHED,
                due_date=due,
                days_overdue=(today - due).days,
                escalated_at=escalated,
            )
        )
    return out


def bank_labels(session: Session) -> dict[str, str]:
    return {c: n for c, n in session.execute(select(col(Bank.code), col(Bank.short_name)))}


def department_labels(session: Session) -> dict[str, str]:
    return {c: n for c, n in session.execute(select(col(Department.code), col(Department.name)))}


def district_labels(session: Session) -> list[tuple[str, str]]:
    stmt = select(col(District.code), col(District.name)).order_by(
        col(District.sort_order), col(District.code)
    )
    return [(c, n) for c, n in session.execute(stmt)]


def kind_label(kind: str | None) -> str:
    return KIND_LABEL[AppealKind(kind)] if kind in KIND_LABEL else str(kind)


# --- figures (pure) ---------------------------------------------------------------------------


def _counted(counts: Counter[str | None], label: dict[str, str], none: str) -> list[CountRow]:
    """Most raised first (then by name); the requests with none recorded last."""
    rows = [
        CountRow(key=k, label=label.get(k, k), raised=n) for k, n in counts.items() if k is not None
    ]
    rows.sort(key=lambda r: (-r.raised, r.label))
    if counts.get(None):
        rows.append(CountRow(key=None, label=none, raised=counts[None]))
    return rows


def by_kind(rows: Iterable[AppealRow]) -> list[CountRow]:
    counts = Counter(r.kind for r in rows)
    extra = sorted(k for k in counts if k not in KIND_LABEL)
    return [
        CountRow(key=str(k), label=kind_label(k), raised=counts.get(k, 0))
        for k in [*KIND_LABEL, *extra]
    ]


def by_handler(rows: Iterable[AppealRow], departments: dict[str, str]) -> list[CountRow]:
    counts: Counter[str | None] = Counter()
    bank_handled = 0
    for r in rows:
        if r.handler_kind == HandlerKind.bank:
            bank_handled += 1
        else:
            counts[r.handler_department_code] += 1
    out = _counted(Counter({k: n for k, n in counts.items() if k}), departments, NOT_DISPATCHED)
    if bank_handled:
        out.append(CountRow(key=HandlerKind.bank.value, label=BANK_HANDLED, raised=bank_handled))
    if counts.get(None):
        out.append(CountRow(key=None, label=NOT_DISPATCHED, raised=counts[None]))
    return out


def by_district(rows: Iterable[AppealRow], names: list[tuple[str, str]]) -> list[CountRow]:
    """Every district in the reference order (zeros included), an unknown code under itself,
    then the enterprises with none recorded."""
    counts = Counter(r.district_code for r in rows)
    known = {c for c, _ in names}
    out = [CountRow(key=c, label=n, raised=counts.get(c, 0)) for c, n in names]
    out += [
        CountRow(key=c, label=c, raised=n)
        for c, n in sorted(counts.items(), key=lambda i: str(i[0]))
        if c is not None and c not in known
    ]
    if counts.get(None):
        out.append(CountRow(key=None, label=UNSET, raised=counts[None]))
    return out


def on_time(rows: Iterable[AppealRow], window: Window) -> OnTime:
    answered = [r for r in rows if window.holds(r.answered_at)]
    punctual = sum(1 for r in answered if not r.late)
    return OnTime(answered=len(answered), on_time=punctual, rate=ratio(punctual, len(answered)))


def closing(rows: Iterable[AppealRow], window: Window) -> Closing:
    closed = [r for r in rows if r.closed_at is not None and window.holds(r.closed_at)]
    days = [
        (window.day(r.closed_at) - window.day(r.created_at)).days
        for r in closed
        if r.closed_at is not None
    ]
    reopened = sum(1 for r in closed if r.reopens >= 1)
    return Closing(
        closed=len(closed),
        median_days=rounded(median(days), 1),
        reopened=reopened,
        reopen_rate=ratio(reopened, len(closed)),
    )


def rating_row(key: str | None, label: str, facts: list[RatingFact]) -> RatingRow:
    n = len(facts)
    return RatingRow(
        key=key,
        label=label,
        ratings=n,
        average=rounded(Fraction(sum(f.score for f in facts), n), 2) if n else None,
        lead_ratings=sum(1 for f in facts if f.of_lead),
        request_ratings=sum(1 for f in facts if not f.of_lead),
    )


def _ranked(groups: dict[str, list[RatingFact]], label: dict[str, str]) -> RatingTable:
    """Best average first, then the most ratings, then by name; and their total."""
    rows = [rating_row(k, label.get(k, k), facts) for k, facts in groups.items()]
    rows.sort(key=lambda r: (-(r.average or 0), -r.ratings, r.label))
    return RatingTable(rows=rows, total=rating_row(None, TOTAL, _all(groups)))


def _all(groups: dict[str, list[RatingFact]]) -> list[RatingFact]:
    return [f for facts in groups.values() for f in facts]


def satisfaction(
    facts: list[RatingFact], banks: dict[str, str], products: dict[str, str]
) -> tuple[RatingRow, RatingTable, RatingTable, RatingTable]:
    """In total, by bank, by product (leads), by request kind (requests)."""
    per_bank: dict[str, list[RatingFact]] = defaultdict(list)
    per_product: dict[str, list[RatingFact]] = defaultdict(list)
    per_kind: dict[str, list[RatingFact]] = defaultdict(list)
    for f in facts:
        if f.bank_code:
            per_bank[f.bank_code].append(f)
        if f.of_lead and f.product_id is not None:
            per_product[str(f.product_id)].append(f)
        if not f.of_lead and f.appeal_kind:
            per_kind[f.appeal_kind].append(f)
    extra = sorted(k for k in per_kind if k not in KIND_LABEL)
    kinds = [rating_row(str(k), kind_label(k), per_kind.get(k, [])) for k in [*KIND_LABEL, *extra]]
    return (
        rating_row(None, TOTAL, facts),
        _ranked(per_bank, banks),
        _ranked(per_product, products),
        RatingTable(rows=kinds, total=rating_row(None, TOTAL, _all(per_kind))),
    )


# --- use cases --------------------------------------------------------------------------------


def request_report(
    session: Session,
    principal: Principal,
    quarter: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> RequestReport:
    require(principal, Role.office)
    today = today_local()
    scope = request_scope(quarter, from_date, to_date, today)
    return build_report(session, scope, today)


def build_report(session: Session, scope: RequestScope, today: date) -> RequestReport:
    window = Window.of(scope)
    rows = appeal_rows(session, window)
    raised = [r for r in rows if window.holds(r.created_at)]
    banks, departments = bank_labels(session), department_labels(session)
    facts = rating_facts(session, window)
    products = {
        str(pid): name
        for pid, (_, name) in product_names(
            session, {f.product_id for f in facts if f.product_id is not None}
        ).items()
    }
    total, per_bank, per_product, per_kind = satisfaction(facts, banks, products)
    return RequestReport(
        scope=scope,
        raised=len(raised),
        by_kind=by_kind(raised),
        by_bank=_counted(Counter(r.bank_code for r in raised), banks, NO_BANK),
        by_handler=by_handler(raised, departments),
        by_district=by_district(raised, district_labels(session)),
        on_time=on_time(rows, window),
        closing=closing(rows, window),
        satisfaction=total,
        satisfaction_by_bank=per_bank,
        satisfaction_by_product=per_product,
        satisfaction_by_kind=per_kind,
        open_overdue=count_overdue(session, today),
    )


def count_overdue(session: Session, today: date) -> int:
    stmt = select(func.count()).where(
        col(Appeal.status) == AppealStatus.dispatched, col(Appeal.due_date) < today
    )
    return int(session.execute(stmt).scalar_one())

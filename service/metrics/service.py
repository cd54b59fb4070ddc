"""The office's metrics over leads: the conversion funnel, first-contact times and deadline
breaches, amounts and rates, decline reasons; as JSON models or CSV.

The use cases at the bottom read the rows (``queries``) and hand them to the aggregations
above them, which are pure: plain rows in, report rows out, no session and no clock (today
and the zone are arguments). Ratios and averages are computed exactly (integers and
fractions) and rounded half up only when shown. The median of an even count is the mean of
the two middle values; the 90th percentile is by nearest rank, the ⌈0.9·n⌉-th smallest value,
so it is always a value that occurred."""

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel import Session

from service.core.errors import Unprocessable
from service.core.models import today_local
from service.core.settings import get_settings
from service.core.tables import csv_bytes as to_csv
from service.leads.sla import is_breached
from service.leads.states import (
    DECLINE_REASON_LABEL,
    DeclineReason,
    LeadStatus,
    stage_reached,
)
from service.loans.renewal import no_principal_renewal
from service.metrics import queries
from service.metrics.queries import LeadFilter, LeadRow, LoanRow
from service.metrics.schemas import (
    AmountGroup,
    AmountReport,
    AmountRow,
    DeclineGroup,
    DeclineGroupRow,
    DeclineReasonCount,
    DeclineReport,
    FunnelGroup,
    FunnelReport,
    FunnelRow,
    MaturityReport,
    MaturityRow,
    MaturityScope,
    RenewalReport,
    RenewalRow,
    ReportQuery,
    ReportScope,
    ResponseTimeReport,
    ResponseTimeRow,
)
from service.products.service import get_bank, get_product
from service.taxonomy.ownership import UNKNOWN, UNKNOWN_LABEL
from service.taxonomy.service import Vocabulary
from service.taxonomy.sizing import SIZE_LABEL
from service.taxonomy.workdays import working_days_between

TOTAL_LABEL = "合计"
UNSET_LABEL = "未填写"
UNCLASSIFIED_LABEL = "未划型"
UNSPECIFIED_REASON = "unspecified"
UNSPECIFIED_REASON_LABEL = "未注明"

SCHEME_LABEL = {
    "xikedai": "锡科贷",
    "xixindai": "锡信贷",
    "zhuanjingtexin": "专精特新贷",
    "sukedai": "苏科贷",
    "bridge_fund": "转贷应急资金",
    "own": "银行自营产品",
}
SIZE_ORDER = ("large", "medium", "small", "micro")

_MICROS_PER_HOUR = 3_600_000_000


# --- numbers --------------------------------------------------------------------------------


def rounded(value: Fraction | int | None, places: int) -> float | None:
    """``value`` rounded half up (away from zero) to ``places`` decimals."""
    if value is None:
        return None
    value = Fraction(value)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def ratio(numerator: int, denominator: int, places: int = 4) -> float | None:
    """numerator / denominator rounded; None when the denominator is 0."""
    return rounded(Fraction(numerator, denominator), places) if denominator else None


def median(values: Iterable[Fraction | int]) -> Fraction | None:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    middle = n // 2
    if n % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def percentile_nearest_rank(values: Iterable[Fraction | int], pct: int) -> Fraction | None:
    """The ⌈pct/100·n⌉-th smallest value (nearest-rank method); ``pct`` in 1..100."""
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in 1..100, got {pct}")
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    rank = -(-pct * n // 100)  # ceiling, in integers
    return Fraction(ordered[rank - 1])


def lpr_in_force(history: Sequence[tuple[date, int]], on: date) -> int | None:
    """The rate of the last fixing effective on or before ``on``; ``history`` oldest first."""
    position = bisect_right(history, on, key=lambda item: item[0])
    return history[position - 1][1] if position else None


# --- grouping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupKey:
    key: str | None
    label: str
    rank: int | None = field(default=None, compare=False)  # a reader's order, when not the key


def local_date(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def group_of(row: LeadRow, by: str, tz: tzinfo) -> GroupKey:
    """The group a lead falls in for ``by`` (a FunnelGroup, AmountGroup or DeclineGroup value);
    ``month`` is the Asia/Shanghai month the lead was created in."""
    if by == "bank":
        return GroupKey(row.bank_code, row.bank_name)
    if by == "product":
        # Several banks sell a 锡科贷: the bank in the label tells them apart.
        return GroupKey(row.product_code, f"{row.product_name}（{row.bank_name}）")
    if by == "scheme":
        return GroupKey(row.scheme, SCHEME_LABEL.get(row.scheme, row.scheme))
    if by == "cluster":
        return GroupKey(row.cluster_code, row.cluster_name or row.cluster_code or UNSET_LABEL)
    if by == "district":
        return GroupKey(row.district_code, row.district_name or row.district_code or UNSET_LABEL)
    if by == "size_class":
        size = row.size_class
        return GroupKey(size, SIZE_LABEL.get(size, size) if size else UNCLASSIFIED_LABEL)
    if by == "ownership":
        if row.ownership is None:
            return GroupKey(None, UNKNOWN_LABEL)
        return GroupKey(row.ownership, row.ownership_name or row.ownership, row.ownership_order)
    if by == "month":
        month = local_date(row.created_at, tz).strftime("%Y-%m")
        return GroupKey(month, month)
    if by == "none":
        return GroupKey(None, TOTAL_LABEL)
    raise ValueError(f"unknown grouping {by!r}")


def _order(by: str) -> Callable[[GroupKey], tuple[Any, ...]]:
    """Groups in a reader's order: months in time, size classes large to micro, ownership
    types as the statistics list them, the rest by key; the group of leads without a value
    last."""

    def key(group: GroupKey) -> tuple[Any, ...]:
        if group.key is None:
            return (1, 0, "")
        if by == "size_class" and group.key in SIZE_ORDER:
            return (0, SIZE_ORDER.index(group.key), group.key)
        if group.rank is not None:
            return (0, group.rank, group.key)
        return (0, len(SIZE_ORDER), group.key)

    return key


def _grouped(rows: Iterable[LeadRow], by: str, tz: tzinfo) -> list[tuple[GroupKey, list[LeadRow]]]:
    groups: dict[GroupKey, list[LeadRow]] = defaultdict(list)
    for row in rows:
        groups[group_of(row, by, tz)].append(row)
    order = _order(by)
    return sorted(groups.items(), key=lambda item: order(item[0]))


# --- funnel ---------------------------------------------------------------------------------


def depth(row: LeadRow) -> int:
    """The deepest funnel stage a lead reached: 0 created, 1 viewed, 2 contacted, 3 approved,
    4 disbursed. From the times each stage left, which a declined or withdrawn lead keeps,
    and from the status itself."""
    reached = stage_reached(row.status) or 0
    marks = (row.viewed_at, row.first_contact_at, row.approved_date, row.disbursed_date)
    for stage, mark in enumerate(marks, start=1):
        if mark is not None:
            reached = max(reached, stage)
    return reached


def funnel_row(group: GroupKey, rows: Sequence[LeadRow]) -> FunnelRow:
    depths = [depth(row) for row in rows]
    leads = len(rows)
    stages = {
        name: sum(1 for d in depths if d >= stage)
        for stage, name in enumerate(("viewed", "contacted", "approved", "disbursed"), start=1)
    }
    stages["declined"] = sum(1 for row in rows if row.status == LeadStatus.declined)
    stages["withdrawn"] = sum(1 for row in rows if row.status == LeadStatus.withdrawn)
    rates = {f"{name}_rate": ratio(count, leads) for name, count in stages.items()}
    return FunnelRow(key=group.key, label=group.label, leads=leads, **stages, **rates)


def funnel(
    rows: Iterable[LeadRow], by: FunnelGroup | str, tz: tzinfo
) -> tuple[list[FunnelRow], FunnelRow]:
    leads = list(rows)
    groups = [funnel_row(group, members) for group, members in _grouped(leads, str(by), tz)]
    return groups, funnel_row(GroupKey(None, TOTAL_LABEL), leads)


# --- first contact --------------------------------------------------------------------------


def breached(row: LeadRow, tz: tzinfo, today: date) -> bool:
    """Whether the bank missed the first-contact deadline: flagged by the deadline check, or
    first contacted after the due date, or not contacted by it. A lead never contacted that
    the bank declined or the enterprise withdrew is judged on the date it closed: declining
    in time answers the lead, closing after the due date does not undo the delay."""
    if row.sla_breached_at is not None:
        return True
    if row.contact_due_date is None:
        return False
    if row.first_contact_at is not None:
        return is_breached(row.contact_due_date, local_date(row.first_contact_at, tz), today)
    if row.status in (LeadStatus.declined, LeadStatus.withdrawn) and row.closed_at is not None:
        return local_date(row.closed_at, tz) > row.contact_due_date
    return is_breached(row.contact_due_date, None, today)


def response_time_row(
    group: GroupKey, rows: Sequence[LeadRow], tz: tzinfo, today: date
) -> ResponseTimeRow:
    hours: list[Fraction] = []
    days: list[int] = []
    due_passed = measured = breaches = 0
    for row in rows:
        contacted = row.first_contact_at is not None
        if row.first_contact_at is not None:
            elapsed = (row.first_contact_at - row.created_at) // timedelta(microseconds=1)
            hours.append(Fraction(elapsed, _MICROS_PER_HOUR))
            days.append(
                working_days_between(
                    local_date(row.created_at, tz), local_date(row.first_contact_at, tz)
                )
            )
        passed = row.contact_due_date is not None and today > row.contact_due_date
        late = breached(row, tz, today)
        due_passed += passed
        measured += contacted or passed or late
        breaches += late
    return ResponseTimeRow(
        key=group.key,
        label=group.label,
        leads=len(rows),
        contacted=len(hours),
        median_hours=rounded(median(hours), 1),
        p90_hours=rounded(percentile_nearest_rank(hours, 90), 1),
        median_working_days=rounded(median(days), 1),
        due_passed=due_passed,
        measured=measured,
        breaches=breaches,
        breach_rate=ratio(breaches, measured),
    )


def response_times(
    rows: Iterable[LeadRow], tz: tzinfo, today: date
) -> tuple[list[ResponseTimeRow], ResponseTimeRow]:
    leads = list(rows)
    groups = [
        response_time_row(group, members, tz, today)
        for group, members in _grouped(leads, "bank", tz)
    ]
    return groups, response_time_row(GroupKey(None, TOTAL_LABEL), leads, tz, today)


# --- amounts --------------------------------------------------------------------------------


@dataclass
class _Weighted:
    """Count and sum of amounts, with amount-weighted sums of rate and of spread over LPR."""

    count: int = 0
    amount_fen: int = 0
    rate_sum: int = 0  # Σ rate_bp · amount_fen
    rate_weight: int = 0
    spread_sum: int = 0  # Σ (rate_bp − LPR_bp) · amount_fen
    spread_weight: int = 0

    def add(self, amount: int | None, rate: int | None, lpr: int | None) -> None:
        self.count += 1
        if amount is None:
            return
        self.amount_fen += amount
        if rate is None:
            return
        self.rate_sum += rate * amount
        self.rate_weight += amount
        if lpr is not None:
            self.spread_sum += (rate - lpr) * amount
            self.spread_weight += amount

    def avg_rate(self) -> float | None:
        return rounded(Fraction(self.rate_sum, self.rate_weight), 1) if self.rate_weight else None

    def avg_spread(self) -> float | None:
        if not self.spread_weight:
            return None
        return rounded(Fraction(self.spread_sum, self.spread_weight), 1)


def amount_row(
    group: GroupKey, rows: Sequence[LeadRow], lpr_history: Sequence[tuple[date, int]]
) -> AmountRow:
    approved, disbursed = _Weighted(), _Weighted()
    for row in rows:
        if row.approved_date is not None:
            lpr = lpr_in_force(lpr_history, row.approved_date)
            approved.add(row.approved_amount_fen, row.approved_rate_bp, lpr)
        if row.disbursed_date is not None:
            lpr = lpr_in_force(lpr_history, row.disbursed_date)
            disbursed.add(row.disbursed_amount_fen, row.disbursed_rate_bp, lpr)
    return AmountRow(
        key=group.key,
        label=group.label,
        approved=approved.count,
        approved_amount_fen=approved.amount_fen,
        approved_avg_rate_bp=approved.avg_rate(),
        approved_avg_spread_bp=approved.avg_spread(),
        disbursed=disbursed.count,
        disbursed_amount_fen=disbursed.amount_fen,
        disbursed_avg_rate_bp=disbursed.avg_rate(),
        disbursed_avg_spread_bp=disbursed.avg_spread(),
    )


def amounts(
    rows: Iterable[LeadRow],
    by: AmountGroup | str,
    tz: tzinfo,
    lpr_history: Sequence[tuple[date, int]],
) -> tuple[list[AmountRow], AmountRow]:
    leads = list(rows)
    groups = [
        amount_row(group, members, lpr_history) for group, members in _grouped(leads, str(by), tz)
    ]
    return groups, amount_row(GroupKey(None, TOTAL_LABEL), leads, lpr_history)


# --- decline reasons ------------------------------------------------------------------------

_REASON_ORDER = {str(reason): i for i, reason in enumerate(DeclineReason)}


def decline_group(group: GroupKey, rows: Sequence[LeadRow]) -> DeclineGroupRow:
    counts = Counter(
        row.declined_reason or UNSPECIFIED_REASON
        for row in rows
        if row.status == LeadStatus.declined
    )
    declined = sum(counts.values())
    ordered = sorted(
        counts.items(), key=lambda item: (-item[1], _REASON_ORDER.get(item[0], len(_REASON_ORDER)))
    )
    reasons = [
        DeclineReasonCount(
            reason=reason,
            label=_reason_label(reason),
            count=count,
            share=rounded(Fraction(count, declined), 4),
        )
        for reason, count in ordered
    ]
    return DeclineGroupRow(key=group.key, label=group.label, declined=declined, reasons=reasons)


def _reason_label(reason: str) -> str:
    try:
        return DECLINE_REASON_LABEL[DeclineReason(reason)]
    except ValueError:
        return UNSPECIFIED_REASON_LABEL if reason == UNSPECIFIED_REASON else reason


def decline_reasons(
    rows: Iterable[LeadRow], by: DeclineGroup | str, tz: tzinfo
) -> tuple[list[DeclineGroupRow], DeclineGroupRow]:
    declined = [row for row in rows if row.status == LeadStatus.declined]
    groups = (
        []
        if str(by) == DeclineGroup.none
        else [decline_group(group, members) for group, members in _grouped(declined, str(by), tz)]
    )
    return groups, decline_group(GroupKey(None, TOTAL_LABEL), declined)


# --- CSV ------------------------------------------------------------------------------------


def _table_csv(rows: Sequence[BaseModel]) -> bytes:
    header = list(type(rows[0]).model_fields)
    return to_csv(header, ([getattr(row, name) for name in header] for row in rows))


def funnel_csv(report: FunnelReport) -> bytes:
    """One line per group, then the total (key empty, label 合计)."""
    return _table_csv([*report.groups, report.total])


def response_times_csv(report: ResponseTimeReport) -> bytes:
    return _table_csv([*report.groups, report.total])


def amounts_csv(report: AmountReport) -> bytes:
    return _table_csv([*report.groups, report.total])


def decline_reasons_csv(report: DeclineReport) -> bytes:
    """One line per group and reason, then the total's reasons (key empty, label 合计)."""
    header = ["key", "label", "declined", "reason", "reason_label", "count", "share"]
    lines = [
        [group.key, group.label, group.declined, r.reason, r.label, r.count, r.share]
        for group in [*report.groups, report.total]
        for r in group.reasons
    ]
    return to_csv(header, lines)


def csv_filename(report_name: str, query: ReportQuery, group_by: str | None = None) -> str:
    parts = [
        "finmatch",
        report_name,
        *([f"by-{group_by}"] if group_by else []),
        *([query.bank] if query.bank else []),
        *([query.product] if query.product else []),
        *([query.ownership] if query.ownership else []),
        *([] if query.private is None else ["private" if query.private else "non-private"]),
        query.from_date.isoformat() if query.from_date else "start",
        query.to_date.isoformat() if query.to_date else "today",
    ]
    # Codes are already [a-z0-9_-]; the filter keeps the header safe whatever they hold.
    return re.sub(r"[^A-Za-z0-9_.-]", "-", "_".join(parts)) + ".csv"


# --- use cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    scope: ReportScope
    rows: list[LeadRow]
    tz: tzinfo


def _check_period(query: ReportQuery) -> None:
    if query.from_date and query.to_date and query.from_date > query.to_date:
        raise Unprocessable(
            f"起始日期 {query.from_date} 晚于截止日期 {query.to_date}。",
            code="invalid_period",
            field="from",
        )


def _ownership(session: Session, query: ReportQuery) -> str | None:
    """The ownership filter as a code (a name is accepted too), or ``unknown``."""
    if query.ownership is None or query.ownership == UNKNOWN:
        return query.ownership
    return Vocabulary(session).ownership(query.ownership)


def _read(session: Session, query: ReportQuery) -> _Context:
    """Check the query and read the leads it covers."""
    _check_period(query)
    tz = ZoneInfo(get_settings().timezone)
    product_id = None
    if query.bank is not None:
        get_bank(session, query.bank)
    if query.product is not None:
        product_id = get_product(session, query.product).id
    ownership = _ownership(session, query)
    where = LeadFilter(
        created_from=_start_of(query.from_date, tz),
        created_before=_start_of(query.to_date + timedelta(days=1), tz) if query.to_date else None,
        bank_code=query.bank,
        product_id=product_id,
        ownership=ownership,
        private=query.private,
    )
    scope = ReportScope(
        from_date=query.from_date,
        to=query.to_date,
        bank=query.bank,
        product=query.product,
        ownership=ownership,
        private=query.private,
        as_of=today_local(),
    )
    return _Context(scope=scope, rows=list(queries.lead_rows(session, where)), tz=tz)


def _start_of(day: date | None, tz: tzinfo) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=tz)


class LeadReports:
    """The lead reports of one query from one read of its leads, for a page that shows
    several of them."""

    def __init__(self, session: Session, query: ReportQuery) -> None:
        self._session = session
        self._ctx = _read(session, query)

    def funnel(self, by: FunnelGroup) -> FunnelReport:
        ctx = self._ctx
        groups, total = funnel(ctx.rows, by, ctx.tz)
        return FunnelReport(scope=ctx.scope, group_by=by, groups=groups, total=total)

    def response_times(self) -> ResponseTimeReport:
        ctx = self._ctx
        groups, total = response_times(ctx.rows, ctx.tz, ctx.scope.as_of)
        return ResponseTimeReport(scope=ctx.scope, groups=groups, total=total)

    def amounts(self, by: AmountGroup) -> AmountReport:
        ctx = self._ctx
        groups, total = amounts(ctx.rows, by, ctx.tz, queries.lpr_1y_history(self._session))
        return AmountReport(scope=ctx.scope, group_by=by, groups=groups, total=total)

    def declines(self, by: DeclineGroup) -> DeclineReport:
        ctx = self._ctx
        groups, total = decline_reasons(ctx.rows, by, ctx.tz)
        return DeclineReport(scope=ctx.scope, group_by=by, groups=groups, total=total)


def funnel_report(session: Session, query: ReportQuery, by: FunnelGroup) -> FunnelReport:
    return LeadReports(session, query).funnel(by)


def response_time_report(session: Session, query: ReportQuery) -> ResponseTimeReport:
    return LeadReports(session, query).response_times()


def amount_report(session: Session, query: ReportQuery, by: AmountGroup) -> AmountReport:
    return LeadReports(session, query).amounts(by)


def decline_report(session: Session, query: ReportQuery, by: DeclineGroup) -> DeclineReport:
    return LeadReports(session, query).declines(by)


# --- renewals -------------------------------------------------------------------------------

CONTACT_AHEAD_DAYS = 30
_AFTER_COMMITMENT = {"committed", "bridge_needed", "bridged", "renewed"}


def renewal_row(key: str | None, label: str, rows: Sequence[LoanRow], today: date) -> RenewalRow:
    """Renewal compliance of a set of maturing loans: contacted at least 30 days ahead,
    renewed by the maturity date, bridged, failed (each over the loans maturing)."""
    n = len(rows)
    ahead = timedelta(days=CONTACT_AHEAD_DAYS)
    contacted = sum(
        1 for r in rows if r.contacted_date and r.contacted_date <= r.maturity_date - ahead
    )
    renewed = [r for r in rows if r.case_status == "renewed"]
    on_time = sum(1 for r in renewed if r.renewed_date and r.renewed_date <= r.maturity_date)
    bridged = sum(1 for r in rows if r.bridged_date is not None)
    failed = sum(1 for r in rows if r.case_status == "failed")
    repaid = sum(1 for r in rows if r.case_status == "repaid" or r.status == "repaid")
    return RenewalRow(
        key=key,
        label=label,
        maturing=n,
        principal_fen=sum(r.principal_fen for r in rows),
        matured=sum(1 for r in rows if r.maturity_date < today),
        contacted_30=contacted,
        contacted_30_rate=ratio(contacted, n),
        renewed_before_maturity=on_time,
        renewed_before_maturity_rate=ratio(on_time, n),
        renewed=len(renewed),
        bridged=bridged,
        bridged_rate=ratio(bridged, n),
        failed=failed,
        failed_rate=ratio(failed, n),
        repaid=repaid,
        open=n - len(renewed) - failed - repaid,
    )


def renewals(rows: Sequence[LoanRow], today: date) -> tuple[list[RenewalRow], RenewalRow]:
    by_bank: dict[str, list[LoanRow]] = {}
    for row in rows:
        by_bank.setdefault(row.bank_code, []).append(row)
    groups = [
        renewal_row(code, members[0].bank_name, members, today)
        for code, members in sorted(by_bank.items())
    ]
    return groups, renewal_row(None, "合计", rows, today)


def maturity_row(key: str | None, label: str, rows: Sequence[LoanRow]) -> MaturityRow:
    eligible = sum(
        1 for r in rows if no_principal_renewal(r.size_class, r.kind, r.maturity_date).eligible
    )
    return MaturityRow(
        key=key,
        label=label,
        loans=len(rows),
        principal_fen=sum(r.principal_fen for r in rows),
        no_principal_eligible=eligible,
        contacted=sum(1 for r in rows if r.contacted_date is not None),
        committed=sum(1 for r in rows if r.case_status in _AFTER_COMMITMENT),
    )


def maturities(rows: Sequence[LoanRow]) -> tuple[list[MaturityRow], MaturityRow]:
    by_month: dict[str, list[LoanRow]] = {}
    for row in rows:
        by_month.setdefault(row.maturity_date.strftime("%Y-%m"), []).append(row)
    groups = [maturity_row(month, month, members) for month, members in sorted(by_month.items())]
    return groups, maturity_row(None, "合计", rows)


def _maturity_scope(
    session: Session, query: ReportQuery, default_from: date | None = None
) -> MaturityScope:
    _check_period(query)
    return MaturityScope(
        from_date=query.from_date or default_from,
        to=query.to_date,
        bank=query.bank,
        product=query.product,
        ownership=_ownership(session, query),
        private=query.private,
        as_of=today_local(),
    )


def _product_id(session: Session, query: ReportQuery) -> int | None:
    if query.bank is not None:
        get_bank(session, query.bank)
    return get_product(session, query.product).id if query.product is not None else None


def renewal_report(session: Session, query: ReportQuery) -> RenewalReport:
    product_id = _product_id(session, query)
    scope = _maturity_scope(session, query)
    rows = queries.loan_rows(
        session,
        scope.from_date,
        scope.to,
        scope.bank,
        product_id=product_id,
        ownership=scope.ownership,
        private=scope.private,
    )
    groups, total = renewals(rows, scope.as_of)
    return RenewalReport(scope=scope, groups=groups, total=total)


def maturity_report(session: Session, query: ReportQuery) -> MaturityReport:
    """Active loans by month of maturity, from today unless ``from`` says otherwise."""
    product_id = _product_id(session, query)
    scope = _maturity_scope(session, query, default_from=today_local())
    rows = queries.loan_rows(
        session,
        scope.from_date,
        scope.to,
        scope.bank,
        active_only=True,
        product_id=product_id,
        ownership=scope.ownership,
        private=scope.private,
    )
    groups, total = maturities(rows)
    return MaturityReport(scope=scope, groups=groups, total=total)


def renewals_csv(report: RenewalReport) -> bytes:
    return _table_csv([*report.groups, report.total])


def maturities_csv(report: MaturityReport) -> bytes:
    return _table_csv([*report.groups, report.total])

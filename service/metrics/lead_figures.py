"""The office's figures over leads, from plain rows (``queries.LeadRow``) to report rows: the
conversion funnel, first-contact times and deadline breaches, amounts with their rates and
spreads over the LPR, decline reasons. Pure: no session and no clock (today and the zone are
arguments).

How leads are grouped (by bank, product, scheme, cluster, district, size class, ownership or
the Asia/Shanghai month of creation) and in which order the groups are read is here
(``group_of``); so are the rules of each figure: a lead counts at every funnel stage up to the
deepest it reached (``depth``); a first contact after the due date, or none by it, is a breach,
a lead closed without contact judged on the day it closed (``breached``); rates and spreads are
weighted by amount (``amount_row``)."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from fractions import Fraction
from typing import Any

from service.leads.sla import is_breached
from service.leads.states import (
    DECLINE_REASON_LABEL,
    DeclineReason,
    LeadStatus,
    stage_reached,
)
from service.metrics.numbers import lpr_in_force, median, percentile_nearest_rank, ratio, rounded
from service.metrics.queries import LeadRow
from service.metrics.schemas import (
    AmountGroup,
    AmountRow,
    DeclineGroup,
    DeclineGroupRow,
    DeclineReasonCount,
    FunnelGroup,
    FunnelRow,
    ResponseTimeRow,
)
from service.taxonomy.ownership import UNKNOWN_LABEL
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

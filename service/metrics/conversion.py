"""Which banks convert: per bank, the leads made in a period and how many reached 已联系, 已批复
and 已放款 (counted in SQL, whatever the number of leads), with the median days to a first
contact, ranked by contact rate against the city's average.

A lead reached a stage when its status is that stage or a deeper one, or it carries the mark
the stage leaves (first contact time, approval date, disbursement date), which a declined or
withdrawn lead keeps: the same rule as the funnel (``lead_figures.depth``). A bank with fewer
than ``MIN_SAMPLE`` leads is not ranked: a lucky 100 % of two leads says little, so it is
listed after the ranked banks and marked."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlmodel import Session, col

from service.enterprises.models import Enterprise
from service.leads.models import Lead
from service.leads.states import LeadStatus
from service.metrics.answer_schemas import AnswerScope, ConversionReport, ConversionRow
from service.metrics.numbers import median, ratio, rounded
from service.metrics.queries import ownership_conditions
from service.products.models import Bank

MIN_SAMPLE = 5
CITY_LABEL = "全市"
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BankCounts:
    code: str
    name: str
    leads: int
    contacted: int
    approved: int
    disbursed: int


@dataclass(frozen=True)
class Period:
    """Leads (or needs) created in [created_from, created_before), UTC instants; of 民营
    enterprises or not when ``private`` is given."""

    created_from: datetime | None = None
    created_before: datetime | None = None
    private: bool | None = None

    def on(self, created: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.created_from is not None:
            out.append(created >= self.created_from)
        if self.created_before is not None:
            out.append(created < self.created_before)
        return out + ownership_conditions(None, self.private)


def reached_contact() -> ColumnElement[bool]:
    return or_(
        col(Lead.first_contact_at).is_not(None),
        col(Lead.approved_date).is_not(None),
        col(Lead.disbursed_date).is_not(None),
        col(Lead.status).in_([LeadStatus.contacted, LeadStatus.approved, LeadStatus.disbursed]),
    )


def reached_approval() -> ColumnElement[bool]:
    return or_(
        col(Lead.approved_date).is_not(None),
        col(Lead.disbursed_date).is_not(None),
        col(Lead.status).in_([LeadStatus.approved, LeadStatus.disbursed]),
    )


def reached_disbursement() -> ColumnElement[bool]:
    return or_(col(Lead.disbursed_date).is_not(None), col(Lead.status) == LeadStatus.disbursed)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def bank_counts(session: Session, period: Period) -> list[BankCounts]:
    """Per bank with leads in the period: leads and how many reached each stage."""
    stmt = (
        select(
            col(Lead.bank_code),
            col(Bank.short_name),
            func.count(col(Lead.id)),
            _count(reached_contact()),
            _count(reached_approval()),
            _count(reached_disbursement()),
        )
        .join(Bank, col(Bank.code) == col(Lead.bank_code))
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .where(*period.on(col(Lead.created_at)))
        .group_by(col(Lead.bank_code), col(Bank.short_name))
    )
    return [BankCounts(*row) for row in session.execute(stmt)]


def contact_days(session: Session, period: Period) -> dict[str, list[Fraction]]:
    """Per bank, the days from creation to first contact of each contacted lead."""
    stmt = (
        select(col(Lead.bank_code), col(Lead.created_at), col(Lead.first_contact_at))
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .where(and_(col(Lead.first_contact_at).is_not(None), *period.on(col(Lead.created_at))))
    )
    out: dict[str, list[Fraction]] = defaultdict(list)
    for bank_code, created, contacted in session.execute(stmt):
        out[bank_code].append(
            Fraction((contacted - created) // timedelta(microseconds=1))
            / (_DAY // timedelta(microseconds=1))
        )
    return out


def conversion_row(
    key: str | None, label: str, counts: BankCounts, days: Sequence[Fraction]
) -> ConversionRow:
    n = counts.leads
    return ConversionRow(
        key=key,
        label=label,
        leads=n,
        contacted=counts.contacted,
        contact_rate=ratio(counts.contacted, n),
        approved=counts.approved,
        approval_rate=ratio(counts.approved, n),
        disbursed=counts.disbursed,
        disbursement_rate=ratio(counts.disbursed, n),
        median_days_to_contact=rounded(median(days), 1),
        small_sample=n < MIN_SAMPLE,
        rank=None,
    )


def _rate_key(row: ConversionRow) -> tuple[float, float, float, str]:
    return (
        -(row.contact_rate or 0),
        -(row.approval_rate or 0),
        -(row.disbursement_rate or 0),
        row.label,
    )


def rank(rows: Sequence[ConversionRow]) -> list[ConversionRow]:
    """Banks with enough leads ranked by contact rate (then approval, disbursement, name),
    then the small samples in the same order, unranked."""
    ranked = sorted((r for r in rows if not r.small_sample), key=_rate_key)
    small = sorted((r for r in rows if r.small_sample), key=_rate_key)
    numbered = [r.model_copy(update={"rank": i}) for i, r in enumerate(ranked, start=1)]
    return numbered + small


def conversion(
    counts: Sequence[BankCounts], days: dict[str, list[Fraction]], scope: AnswerScope
) -> ConversionReport:
    """The report from the per-bank counts and contact days. Pure."""
    rows = [conversion_row(c.code, c.name, c, days.get(c.code, [])) for c in counts]
    city = BankCounts(
        code="",
        name=CITY_LABEL,
        leads=sum(c.leads for c in counts),
        contacted=sum(c.contacted for c in counts),
        approved=sum(c.approved for c in counts),
        disbursed=sum(c.disbursed for c in counts),
    )
    every_day = [d for bank_days in days.values() for d in bank_days]
    city_row = conversion_row(None, CITY_LABEL, city, every_day).model_copy(
        update={"small_sample": False}
    )
    return ConversionReport(scope=scope, min_sample=MIN_SAMPLE, groups=rank(rows), city=city_row)

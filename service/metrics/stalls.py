"""Where leads stall, now: the open leads at each stage (新线索未查看, 已查看未联系, 已联系未批复,
已批复未放款) per bank, and how many days since each entered that stage (creation, the bank's
first view, the first contact, the approval date); and the open needs that reached no bank,
per reason.

Why a need has no lead is decided as the lead workflow decides it (``leads.lifecycle.
offer_need``): a need without the enterprise's consent to share is offered to nobody; then an
enterprise registered outside the service area (``FINMATCH_SERVICE_AREA``, by the area code of
its credit code: ``matching.scoring.in_service_area``) is matched to no product; then a need
whose stored matches hold no product of a bank it allows has no eligible product. What is left
(a match and consent, yet no lead) is waiting to be offered."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import exists, select
from sqlmodel import Session, col

from service.enterprises.models import Enterprise
from service.leads.lifecycle import OPEN_NEED
from service.leads.models import Lead
from service.leads.states import LeadStatus
from service.matching.facts import service_area
from service.matching.models import FinancingNeed, NeedMatch
from service.matching.scoring import in_service_area
from service.metrics.answer_schemas import (
    StallBank,
    StallReport,
    StallStage,
    UnreachedReason,
    WaitFigures,
)
from service.metrics.numbers import median, rounded
from service.products.models import Bank, Product

STAGES: tuple[tuple[LeadStatus, str, str], ...] = (
    (LeadStatus.new, "新线索未查看", "线索生成"),
    (LeadStatus.viewed, "已查看未联系", "银行首次查看"),
    (LeadStatus.contacted, "已联系未批复", "首次联系"),
    (LeadStatus.approved, "已批复未放款", "批复日期"),
)
REASONS: tuple[tuple[str, str], ...] = (
    ("no_consent", "企业未同意共享信息"),
    ("out_of_service_area", "不在服务区域"),
    ("no_product", "没有符合条件的产品"),
    ("pending", "待分派"),
)


@dataclass(frozen=True)
class OpenLead:
    bank_code: str
    bank_name: str
    status: str
    created_at: datetime
    viewed_at: datetime | None
    first_contact_at: datetime | None
    approved_date: date | None


@dataclass(frozen=True)
class UnreachedNeed:
    created_at: datetime
    consented: bool
    area_code: str | None
    allowed_banks: list[str] | None
    matched_banks: frozenset[str]


def open_leads(session: Session) -> list[OpenLead]:
    stmt = (
        select(
            col(Lead.bank_code),
            col(Bank.short_name),
            col(Lead.status),
            col(Lead.created_at),
            col(Lead.viewed_at),
            col(Lead.first_contact_at),
            col(Lead.approved_date),
        )
        .join(Bank, col(Bank.code) == col(Lead.bank_code))
        .where(col(Lead.status).in_([s for s, _, _ in STAGES]))
    )
    return [OpenLead(*row) for row in session.execute(stmt)]


def unreached_needs(session: Session) -> list[UnreachedNeed]:
    """Open needs with no lead, with what decides why: consent, registered area, the banks
    of their stored matches and the banks the enterprise allows."""
    has_lead = exists().where(col(Lead.need_id) == col(FinancingNeed.id))
    rows = session.execute(
        select(
            col(FinancingNeed.id),
            col(FinancingNeed.created_at),
            col(FinancingNeed.consent_share_details),
            col(Enterprise.registered_area_code),
            col(FinancingNeed.bank_codes),
        )
        .join(Enterprise, col(Enterprise.id) == col(FinancingNeed.enterprise_id))
        .where(col(FinancingNeed.status).in_(list(OPEN_NEED)), ~has_lead)
    ).all()
    matched: dict[int, set[str]] = defaultdict(set)
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for need_id, bank_code in session.execute(
            select(col(NeedMatch.need_id), col(Product.bank_code))
            .join(Product, col(Product.id) == col(NeedMatch.product_id))
            .where(col(NeedMatch.need_id).in_(chunk))
        ):
            matched[need_id].add(bank_code)
    return [
        UnreachedNeed(created, bool(consent), area, banks, frozenset(matched.get(need_id, ())))
        for need_id, created, consent, area, banks in rows
    ]


def unreached_reason(need: UnreachedNeed, area: Sequence[str]) -> str:
    """Why a need reached no bank, in the order the service decides."""
    if not need.consented:
        return "no_consent"
    if not in_service_area(need.area_code, area):
        return "out_of_service_area"
    allowed = need.matched_banks
    if need.allowed_banks is not None:
        allowed = allowed & set(need.allowed_banks)
    if not allowed:
        return "no_product"
    return "pending"


def _days(entered: date, today: date) -> int:
    return max(0, (today - entered).days)


def wait(days: Sequence[int]) -> WaitFigures:
    return WaitFigures(
        count=len(days),
        median_days=rounded(median(days), 1),
        oldest_days=max(days) if days else None,
    )


def entered(lead: OpenLead, tz: tzinfo) -> date:
    """The day a lead entered the stage it waits at (creation when the mark is missing)."""
    if lead.status == LeadStatus.approved and lead.approved_date is not None:
        return lead.approved_date
    mark = {
        LeadStatus.viewed: lead.viewed_at,
        LeadStatus.contacted: lead.first_contact_at,
    }.get(LeadStatus(lead.status))
    return (mark or lead.created_at).astimezone(tz).date()


def stalls(
    leads: Iterable[OpenLead],
    needs: Iterable[UnreachedNeed],
    area: Sequence[str],
    today: date,
    tz: tzinfo,
) -> StallReport:
    """The report from the open leads and unreached needs. Pure."""
    by_stage: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    names: dict[str, str] = {}
    for lead in leads:
        names[lead.bank_code] = lead.bank_name
        by_stage[lead.status][lead.bank_code].append(_days(entered(lead, tz), today))
    stages = []
    for status, label, since in STAGES:
        banks = by_stage.get(status, {})
        every = [d for days in banks.values() for d in days]
        bank_rows = [
            StallBank(key=code, label=names[code], **wait(days).model_dump())
            for code, days in banks.items()
        ]
        bank_rows.sort(key=lambda b: (-b.count, -(b.oldest_days or 0), b.label))
        stages.append(
            StallStage(
                stage=str(status),
                label=label,
                since=since,
                banks=bank_rows,
                **wait(every).model_dump(),
            )
        )
    by_reason: dict[str, list[int]] = defaultdict(list)
    for need in needs:
        days = _days(need.created_at.astimezone(tz).date(), today)
        by_reason[unreached_reason(need, area)].append(days)
    reasons = [
        UnreachedReason(reason=code, label=label, **wait(by_reason.get(code, [])).model_dump())
        for code, label in REASONS
    ]
    every_need = [d for days in by_reason.values() for d in days]
    return StallReport(
        as_of=today, stages=stages, unreached=wait(every_need), unreached_reasons=reasons
    )


def stall_report(session: Session, today: date, tz: tzinfo) -> StallReport:
    return stalls(open_leads(session), unreached_needs(session), service_area(), today, tz)

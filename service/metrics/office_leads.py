"""The office's view of single leads: a searchable list (by enterprise name, bank, status;
numbered pages with the total) and one lead with its need, its enterprise, its bank and
product by name, and its status history (who changed what, when) from the audit log.

Read-only, and for the office only (``require``): reading a lead here never marks it viewed,
which is the bank's first look and starts the clock of the stage after it."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from service.access.models import ApiKey, AuditEntry, Role, UserAccount
from service.access.policy import ROLE_LABEL, Principal, require
from service.core.settings import get_settings
from service.enterprises.models import Enterprise
from service.leads.exceptions import LeadNotFound
from service.leads.models import Lead
from service.leads.states import DECLINE_REASON_LABEL, STATUS_LABEL, DeclineReason, LeadStatus
from service.matching.models import FinancingNeed
from service.products.models import Bank, Product, ProductVersion

NAME_MAX = 100
PER_PAGE = 50
MAX_PAGE = 2000
# What a change to these fields says, in the history; others are listed by name only.
FIELD_LABEL = {
    "status": "状态",
    "first_contact_at": "首次联系",
    "viewed_at": "银行查看",
    "approved_amount_fen": "批复金额",
    "approved_date": "批复日期",
    "disbursed_amount_fen": "放款金额",
    "disbursed_date": "放款日期",
    "declined_reason": "拒绝原因",
    "assignee_user_id": "经办人",
}


@dataclass(frozen=True)
class LeadSearch:
    """Leads of enterprises whose name contains ``name``, of one bank, in one status."""

    name: str | None = None
    bank: str | None = None
    status: str | None = None
    page: int = 1


@dataclass(frozen=True)
class LeadLine:
    id: int
    enterprise_id: int
    enterprise_name: str
    bank_code: str
    bank_name: str
    product_name: str
    status: str
    status_label: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LeadList:
    items: list[LeadLine]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    what: str


@dataclass
class LeadDetail:
    line: LeadLine
    lead: Lead
    enterprise: Enterprise
    need: FinancingNeed | None
    decline_reason: str | None
    history: list[HistoryLine] = field(default_factory=list)


def _status_label(status: str) -> str:
    try:
        return STATUS_LABEL[LeadStatus(status)]
    except ValueError:
        return status


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _lines_select() -> Any:
    version = (
        select(col(ProductVersion.name))
        .where(
            col(ProductVersion.product_id) == col(Product.id),
            col(ProductVersion.version) == col(Product.current_version),
        )
        .scalar_subquery()
    )
    return (
        select(
            col(Lead.id),
            col(Lead.enterprise_id),
            col(Enterprise.name),
            col(Lead.bank_code),
            col(Bank.short_name),
            version,
            col(Lead.status),
            col(Lead.created_at),
            col(Lead.updated_at),
        )
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .join(Bank, col(Bank.code) == col(Lead.bank_code))
        .join(Product, col(Product.id) == col(Lead.product_id))
    )


def _line(row: Any) -> LeadLine:
    id_, enterprise_id, name, bank_code, bank_name, product, status, created, updated = row
    return LeadLine(
        id=id_,
        enterprise_id=enterprise_id,
        enterprise_name=name,
        bank_code=bank_code,
        bank_name=bank_name,
        product_name=product or "",
        status=status,
        status_label=_status_label(status),
        created_at=created,
        updated_at=updated,
    )


def search_leads(session: Session, principal: Principal, search: LeadSearch) -> LeadList:
    """A page of leads, newest first, with how many match in all."""
    require(principal, Role.office)
    conditions: list[ColumnElement[bool]] = []
    name = (search.name or "").replace("\x00", "").strip()[:NAME_MAX]
    if name:
        conditions.append(col(Enterprise.name).like(_like(name), escape="\\"))
    if search.bank:
        conditions.append(col(Lead.bank_code) == search.bank)
    if search.status:
        conditions.append(col(Lead.status) == search.status)
    total = session.execute(
        select(func.count())
        .select_from(Lead)
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .where(*conditions)
    ).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, search.page), pages, MAX_PAGE)
    rows = session.execute(
        _lines_select()
        .where(*conditions)
        .order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    return LeadList(items=[_line(r) for r in rows], total=total, page=page, pages=pages)


def _who(
    entry: AuditEntry, banks: dict[str, str], users: dict[int, str], keys: dict[int, str]
) -> str:
    if entry.actor_role == "system":
        return "系统"
    try:
        role = ROLE_LABEL[Role(entry.actor_role)]
    except ValueError:
        role = entry.actor_role
    place = banks.get(entry.actor_bank_code or "", role) if entry.actor_bank_code else role
    if entry.actor_user_id is not None and entry.actor_user_id in users:
        return f"{place} · {users[entry.actor_user_id]}"
    if entry.actor_key_id is not None and entry.actor_key_id in keys:
        return f"{place} · 接口「{keys[entry.actor_key_id]}」"
    return place


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name == "status":
        return _status_label(str(value))
    if name == "declined_reason":
        try:
            return DECLINE_REASON_LABEL[DeclineReason(value)]
        except ValueError:
            return str(value)
    if name.endswith("_fen") and isinstance(value, int):
        return f"{value / 1_000_000:,.2f}万元"
    if name.endswith("_at") and isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value[:19]
        if at.tzinfo is not None:
            at = at.astimezone(ZoneInfo(get_settings().timezone))
        return at.strftime("%Y-%m-%d %H:%M")
    return str(value)[:19]


def _what(entry: AuditEntry) -> str:
    changes = entry.changes or {}
    if entry.action == "create":
        return f"生成线索（{_status_label(str(changes.get('status', 'new')))}）"
    parts = []
    for name, label in FIELD_LABEL.items():
        change = changes.get(name)
        if isinstance(change, list) and len(change) == 2:
            if name == "status":
                parts.append(f"{label}：{_shown(name, change[0])} → {_shown(name, change[1])}")
            elif name != "assignee_user_id":
                parts.append(f"{label}：{_shown(name, change[1])}")
            else:
                parts.append("更换经办人")
    return "；".join(parts)


def history(session: Session, lead_id: int) -> list[HistoryLine]:
    """The lead's changes from the audit log, oldest first: status, contact, approval,
    disbursement, decline reason and assignee (reads and bookkeeping are left out)."""
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(
                col(AuditEntry.subject_type) == "lead",
                col(AuditEntry.subject_id) == str(lead_id),
                col(AuditEntry.action) != "read",
            )
            .order_by(col(AuditEntry.id))
        )
    )
    user_ids = {e.actor_user_id for e in entries if e.actor_user_id is not None}
    key_ids = {e.actor_key_id for e in entries if e.actor_key_id is not None}
    users: dict[int, str] = dict(
        session.execute(
            select(col(UserAccount.id), col(UserAccount.display_name)).where(
                col(UserAccount.id).in_(user_ids)
            )
        ).all()
    )
    keys: dict[int, str] = dict(
        session.execute(
            select(col(ApiKey.id), col(ApiKey.name)).where(col(ApiKey.id).in_(key_ids))
        ).all()
    )
    banks: dict[str, str] = dict(
        session.execute(select(col(Bank.code), col(Bank.short_name))).all()
    )
    lines = [HistoryLine(at=e.at, who=_who(e, banks, users, keys), what=_what(e)) for e in entries]
    # Bookkeeping (the feed position, a version) is not part of the lead's story.
    return [line for line in lines if line.what]


def lead_detail(session: Session, principal: Principal, lead_id: int) -> LeadDetail:
    """One lead for the office. Reading it changes nothing: it is not marked viewed."""
    require(principal, Role.office)
    row = session.execute(_lines_select().where(col(Lead.id) == lead_id)).first()
    if row is None:
        raise LeadNotFound(f"线索 {lead_id} 不存在。")
    lead = session.get(Lead, lead_id)
    enterprise = session.get(Enterprise, row[1])
    assert lead is not None and enterprise is not None  # joined just above
    need = session.get(FinancingNeed, lead.need_id) if lead.need_id else None
    reason = None
    if lead.declined_reason:
        reason = _shown("declined_reason", lead.declined_reason)
    return LeadDetail(
        line=_line(row),
        lead=lead,
        enterprise=enterprise,
        need=need,
        decline_reason=reason,
        history=history(session, lead_id),
    )

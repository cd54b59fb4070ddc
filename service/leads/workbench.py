"""Use cases of one lead as a bank's person works it on the pages: opening it (a new lead
becomes viewed), its history with who did each step, why it matched, and the steps the bank
may take next.

Rules that live here:
- Opening a ``new`` lead as its bank (a person or the bank's key) records it ``viewed``
  through ``lifecycle.change_status``, once; the office or the enterprise opening it changes
  nothing. A concurrent change wins: the page shows the lead as it is.
- The history is the audit log of the lead (every change, with its actor): a person by name,
  the bank's key as "银行系统（API）", the office as "金融办", jobs as "系统".
- Why it matched is matching's explanation of the product for the need (or the profile) as
  of today; the reasons, which may quote the enterprise's figures, show only where the bank
  may see its private facts (``access.policy.lead_enterprise_tiers``); the factors' names,
  weights and points always.
- The next steps offered are the state machine's (``states.allowed_next``) that a bank may
  set (``states.may_set``)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.access.models import AuditEntry, Role, UserAccount
from service.access.policy import Principal, lead_enterprise_tiers, works_as_manager
from service.core.errors import AppError
from service.enterprises.models import Enterprise
from service.leads import lifecycle
from service.leads.models import LeadSource
from service.leads.schemas import LeadPublic, StatusChange
from service.leads.states import OPEN, STATUS_LABEL, LeadStatus, allowed_next, may_set
from service.matching.models import FinancingNeed
from service.matching.recommendations import explain
from service.taxonomy.industry import SECTION_NAMES, section_of_division

SOURCE_LABEL = {
    LeadSource.need: "企业发布融资需求并授权推送",
    LeadSource.application: "企业申请产品",
    LeadSource.prospect: "本行联系潜在客户，企业同意",
    LeadSource.reassigned: "其他银行逾期未联系，转派本行",
}
ACTOR_LABEL = {
    "office": "金融办",
    "enterprise": "企业",
    "system": "系统",
    "bank": "银行系统（API）",
}


@dataclass(frozen=True)
class Step:
    at: datetime
    who: str
    what: str


def open_lead(session: Session, principal: Principal, lead_id: int) -> LeadPublic:
    """The lead as the caller sees it; a ``new`` lead opened by its bank becomes ``viewed``."""
    lead = lifecycle.get_lead(session, principal, lead_id)
    if principal.role == Role.bank and lead.status == LeadStatus.new:
        try:
            lead = lifecycle.change_status(
                session, principal, lead_id, StatusChange(status=LeadStatus.viewed), lead.version
            )
        except AppError:  # changed meanwhile (412, 409): show it as it is now
            session.rollback()
            lead = lifecycle.get_lead(session, principal, lead_id)
    return lifecycle.leads_public(session, principal, [lead])[0]


def bank_next_steps(status: LeadStatus) -> list[LeadStatus]:
    """Where a bank may move the lead from ``status``, in status order."""
    return [s for s in allowed_next(LeadStatus(status)) if may_set("bank", s)]


def history(session: Session, principal: Principal, lead_id: int) -> list[Step]:
    """Every step of the lead, oldest first, with who took it."""
    lead = lifecycle.get_lead(session, principal, lead_id)
    entries = list(
        session.exec(
            select(AuditEntry)
            .where(
                col(AuditEntry.subject_type) == "lead",
                col(AuditEntry.subject_id) == str(lead.id),
                col(AuditEntry.action) != "read",
            )
            .order_by(col(AuditEntry.id))
        )
    )
    people: set[int] = set()
    for entry in entries:
        if entry.actor_user_id:
            people.add(entry.actor_user_id)
        moved = (entry.changes or {}).get("assignee_user_id")
        if isinstance(moved, list):
            people.update(p for p in moved if isinstance(p, int))
    names = _names(session, people)
    steps = []
    for entry in entries:
        what = _what(entry, names)
        if what:
            steps.append(Step(entry.at, _who(entry, names), what))
    return steps


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(
        select(col(UserAccount.id), col(UserAccount.display_name)).where(
            col(UserAccount.id).in_(ids)
        )
    )
    return {person_id: name for person_id, name in rows if person_id is not None}


def _who(entry: AuditEntry, names: dict[int, str]) -> str:
    if entry.actor_user_id:
        return names.get(entry.actor_user_id, "（已删除的人员）")
    return ACTOR_LABEL.get(entry.actor_role, entry.actor_role)


def _status(code: Any) -> str:
    try:
        return STATUS_LABEL[LeadStatus(code)]
    except ValueError:
        return str(code)


def _what(entry: AuditEntry, names: dict[int, str]) -> str:
    """The step in words; empty for a change that is no step (its feed position)."""
    changes = entry.changes or {}
    if entry.action == "create":
        try:
            source = SOURCE_LABEL[LeadSource(str(changes.get("source")))]
        except ValueError:
            source = ""
        return f"线索生成（{source}）" if source else "线索生成"
    parts = []
    status = changes.get("status")
    if isinstance(status, list):
        parts.append(f"状态：{_status(status[0])} → {_status(status[1])}")
    moved = changes.get("assignee_user_id")
    if isinstance(moved, list):
        parts.append(
            f"分配给 {names.get(moved[1], '（已删除的人员）')}" if moved[1] else "取消分配"
        )
    breached = changes.get("sla_breached_at")
    if isinstance(breached, list) and breached[1]:
        parts.append("超过首次联系期限未联系")
    consented = changes.get("consented")
    if isinstance(consented, list) and consented[0] and not consented[1]:
        parts.append("企业撤回授权，改为匿名")
    return "；".join(parts)


def sees_private(session: Session, principal: Principal, lead: LeadPublic) -> bool:
    """Whether the caller may see the lead's enterprise's private facts
    (``access.policy.lead_enterprise_tiers``)."""
    lead_row = lifecycle.get_lead(session, principal, lead.id)
    enterprise = session.get(Enterprise, lead_row.enterprise_id)
    sharing = bool(enterprise and enterprise.share_with_banks)
    return lead_enterprise_tiers(
        principal, lead_row.consented, sharing, lead_row.need_id is not None
    )[1]


def why_matched(session: Session, principal: Principal, lead: LeadPublic) -> dict[str, Any] | None:
    """The product's fit for the lead's need (or the enterprise's profile) as of today:
    the score and each factor; None when it cannot be worked out any more (a product
    withdrawn, an enterprise gone)."""
    lead_row = lifecycle.get_lead(session, principal, lead.id)
    private = sees_private(session, principal, lead)
    try:
        found = explain(session, lead.product_code, lead_row.enterprise_id, lead_row.need_id)
    except AppError:
        return None
    return {
        "eligible": found.eligible,
        "score": found.score,
        "factors": [
            {
                "label": f.label,
                "weight": f.weight,
                "contribution": f.contribution,
                "reason": f.reason if private else None,
            }
            for f in found.factors
        ],
        "failures": [g.reason for g in found.failures] if private else [],
    }


def industry_name(code: str | None) -> str | None:
    """The industry's section (门类) in words, from its code (GB/T 4754)."""
    if not code:
        return None
    letter = code[0] if code[0].isalpha() else None
    if letter is None and code[:2].isdigit():
        letter = section_of_division(int(code[:2]))
    return SECTION_NAMES.get(letter or "")


def assign_choice(principal: Principal, lead: LeadPublic) -> str | None:
    """Which assign form the caller gets on the lead's page: ``choose`` (anyone of the bank:
    the office, the bank's key, its administrator), ``claim`` (an account manager and an
    unassigned lead), ``release`` (an account manager and its own lead), or None."""
    if lead.status not in OPEN:
        return None
    current = lead.assignee.id if lead.assignee else None
    if not works_as_manager(principal):
        return "choose" if principal.role in (Role.office, Role.bank) else None
    if current is None:
        return "claim"
    return "release" if current == principal.user_id else None


def need_note(session: Session, principal: Principal, lead: LeadPublic) -> str | None:
    """The enterprise's note on its need: only where the bank may see its private facts
    (a note may say who it is)."""
    if lead.need is None:
        return None
    need = session.get(FinancingNeed, lead.need.need_id)
    if need is None:
        return None
    return need.note if sees_private(session, principal, lead) else None

"""Use cases of requests (诉求): raising one, reading one or a list, and what each caller sees
of it. (The steps after raising are ``steps.py``; files ``attachments.py``.)

Rules that live here:
- An enterprise raises its own requests; the office raises one for an enterprise (a call to
  the hotline). The lead or loan named must be the enterprise's; the bank is taken from it,
  and a kind about a bank's conduct must name a bank. A charge names the 七不准 / 四公开 rule
  it breaks; a rate complaint the rate charged, above the one offered.
- Who sees a request: the office every one, the enterprise its own, a bank those dispatched
  to it; to anyone else it does not exist (404). A bank sees who raised it (the enterprise,
  its lead, loan and files) only if the enterprise allowed it."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals import queries
from service.appeals.exceptions import AppealNotFound, InvalidAppeal
from service.appeals.kinds import CHARGE_RULE_LABEL, KIND_LABEL, NEEDS_BANK, AppealKind
from service.appeals.models import Appeal, AppealAttachment, AppealEvent
from service.appeals.schemas import (
    AppealCreate,
    AppealEventPublic,
    AppealPublic,
    AttachmentPublic,
)
from service.appeals.states import (
    ACTION_LABEL,
    FINAL,
    MAY,
    STATUS_LABEL,
    Action,
    Actor,
    AppealStatus,
    allowed_actions,
)
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Enterprise
from service.leads.models import Lead
from service.loans.models import Loan
from service.products.models import Bank

EVENT_LABEL = {
    "raised": "提交诉求",
    "escalated": "逾期督办",
    "attached": "上传附件",
    "merged_in": "并入重复诉求",
    **{str(a): label for a, label in ACTION_LABEL.items()},
}


def actor_of(principal: Principal) -> Actor:
    if principal.role == Role.office:
        return Actor.office
    if principal.role == Role.bank:
        return Actor.handler
    return Actor.enterprise


def sees(principal: Principal, row: Appeal) -> bool:
    if principal.is_office:
        return True
    if principal.role == Role.bank:
        return row.handler_bank_code is not None and row.handler_bank_code == principal.bank_code
    return principal.role == Role.enterprise and principal.enterprise_id == row.enterprise_id


def get_appeal(
    session: Session, principal: Principal, appeal_id: int, lock: bool = False
) -> Appeal:
    row = queries.appeal(session, appeal_id, lock=lock)
    if row is None or not sees(principal, row):
        raise AppealNotFound(f"诉求 {appeal_id} 不存在。")
    return row


def add_event(
    session: Session,
    row: Appeal,
    kind: str,
    principal: Principal | None,
    from_status: str | None,
    **data: object,
) -> None:
    assert row.id is not None
    session.add(
        AppealEvent(
            appeal_id=row.id,
            kind=kind,
            from_status=from_status,
            to_status=str(row.status),
            actor_role=str(principal.role) if principal else "system",
            actor=principal.ref if principal else "system",
            data={k: v for k, v in data.items() if v is not None}
            | ({"bank_code": principal.bank_code} if principal and principal.bank_code else {}),
        )
    )


def raise_appeal(session: Session, principal: Principal, data: AppealCreate) -> Appeal:
    require(principal, Role.enterprise, Role.office)
    enterprise_id = _enterprise_of(session, principal, data.enterprise_id)
    bank_code = _bank_of(session, enterprise_id, data)
    offered = _check_terms(session, data)
    row = Appeal(
        enterprise_id=enterprise_id,
        kind=data.kind,
        charge_rule=data.charge_rule,
        charge_item=data.charge_item,
        charge_amount_fen=data.charge_amount_fen,
        offered_rate_bp=offered,
        charged_rate_bp=data.charged_rate_bp,
        bank_code=bank_code,
        lead_id=data.lead_id,
        loan_id=data.loan_id,
        title=data.title.strip(),
        description=data.description.strip(),
        show_to_bank=data.show_to_bank,
        raised_by=principal.ref,
    )
    if not row.title or not row.description:
        field = "title" if not row.title else "description"
        raise InvalidAppeal("标题和说明不能只有空白", field=field)
    session.add(row)
    session.flush()
    add_event(session, row, "raised", principal, None)
    session.commit()
    return row


def _enterprise_of(session: Session, principal: Principal, requested: int | None) -> int:
    if principal.role == Role.enterprise:
        if requested is not None and requested != principal.enterprise_id:
            raise InvalidAppeal("企业只能为本企业提出诉求", field="enterprise_id")
        assert principal.enterprise_id is not None
        return principal.enterprise_id
    if requested is None:
        raise InvalidAppeal(
            "金融办代企业提出诉求时须指明企业（enterprise_id）", field="enterprise_id"
        )
    if session.get(Enterprise, requested) is None:
        raise InvalidAppeal(
            f"企业 {requested} 不存在", field="enterprise_id", code="unknown_enterprise"
        )
    return requested


def _bank_of(session: Session, enterprise_id: int, data: AppealCreate) -> str | None:
    """The bank the request concerns: named, or that of its lead or loan (which must be the
    enterprise's and agree with each other and with the bank named)."""
    found: list[tuple[str, str]] = []
    if data.lead_id is not None:
        lead = session.get(Lead, data.lead_id)
        if lead is None or lead.enterprise_id != enterprise_id:
            raise InvalidAppeal(f"线索 {data.lead_id} 不存在", field="lead_id", code="unknown_lead")
        found.append(("lead_id", lead.bank_code))
    if data.loan_id is not None:
        loan = session.get(Loan, data.loan_id)
        if loan is None or loan.enterprise_id != enterprise_id:
            raise InvalidAppeal(f"贷款 {data.loan_id} 不存在", field="loan_id", code="unknown_loan")
        found.append(("loan_id", loan.bank_code))
    bank_code = data.bank_code
    if bank_code is not None and session.get(Bank, bank_code) is None:
        raise InvalidAppeal(f"未知的银行代码 '{bank_code}'", field="bank_code", code="unknown_bank")
    for field, code in found:
        if bank_code is not None and code != bank_code:
            raise InvalidAppeal("所选线索或贷款不属于所填的银行", field=field)
        bank_code = code
    if bank_code is None and data.kind in NEEDS_BANK:
        raise InvalidAppeal(
            f"「{KIND_LABEL[data.kind]}」须指明涉及的银行（bank_code，或选择线索、贷款）",
            field="bank_code",
        )
    return bank_code


def _check_terms(session: Session, data: AppealCreate) -> int | None:
    """The kind's own details; returns the offered rate (the lead's approved one if not
    given)."""
    charge = (data.charge_rule, data.charge_item, data.charge_amount_fen)
    if data.kind == AppealKind.unreasonable_charge:
        if data.charge_rule is None:
            raise InvalidAppeal(
                "不合理收费须选择违反的「七不准」或「四公开」条款", field="charge_rule"
            )
    elif any(v is not None for v in charge):
        raise InvalidAppeal("只有不合理收费才填写收费条款、项目和金额", field="charge_rule")
    offered = data.offered_rate_bp
    if data.kind == AppealKind.rate_above_offer:
        if offered is None and data.lead_id is not None:
            lead = session.get(Lead, data.lead_id)
            offered = lead.approved_rate_bp or lead.disbursed_rate_bp if lead else None
        if offered is None:
            raise InvalidAppeal("请填写银行承诺的利率（offered_rate_bp）", field="offered_rate_bp")
        if data.charged_rate_bp is None:
            raise InvalidAppeal("请填写实际执行的利率（charged_rate_bp）", field="charged_rate_bp")
        if data.charged_rate_bp <= offered:
            raise InvalidAppeal(
                f"实际利率 {data.charged_rate_bp / 100:.2f}% 不高于承诺的 {offered / 100:.2f}%",
                field="charged_rate_bp",
            )
    elif data.offered_rate_bp is not None or data.charged_rate_bp is not None:
        raise InvalidAppeal("只有「实际利率高于承诺」才填写利率", field="offered_rate_bp")
    return offered


@dataclass(frozen=True)
class AppealFilters:
    status: AppealStatus | None = None
    kind: AppealKind | None = None
    bank: str | None = None
    department: str | None = None
    overdue: bool = False
    open_only: bool = False


def list_appeals(
    session: Session, principal: Principal, page: PageParams, filters: AppealFilters
) -> Page[AppealPublic]:
    """Newest first: the office every request (triage queue with ``status=raised``, the
    overdue list with ``overdue``), a bank those dispatched to it, an enterprise its own."""
    key = cursor_key(page, 1, (int,))
    statuses: list[str] | None = None
    if filters.status is not None:
        statuses = [str(filters.status)]
    elif filters.open_only:
        statuses = [str(s) for s in AppealStatus if s not in FINAL and s != AppealStatus.closed]
    handler_bank = filters.bank
    enterprise_id = None
    if principal.role == Role.bank:
        handler_bank = principal.bank_code
    elif principal.role == Role.enterprise:
        enterprise_id = principal.enterprise_id
        handler_bank = filters.bank
    rows = queries.appeal_page(
        session,
        page.limit + 1,
        key[0] if key else None,
        enterprise_id=enterprise_id,
        handler_bank_code=handler_bank,
        statuses=statuses,
        kind=str(filters.kind) if filters.kind else None,
        department_code=filters.department,
        overdue_on=today_local() if filters.overdue else None,
    )
    shown = present(session, principal, rows[: page.limit])
    return make_page(rows, page.limit, lambda a: [a.id], items=shown)


def present(
    session: Session,
    principal: Principal,
    rows: list[Appeal],
    events: list[AppealEvent] | None = None,
) -> list[AppealPublic]:
    """What the caller sees of these requests."""
    banks = queries.bank_names(session)
    departments = queries.department_names(session)
    facts = queries.enterprise_facts(session, {r.enterprise_id for r in rows})
    files = queries.attachments_of(session, [r.id for r in rows if r.id is not None])
    categories = queries.category_names(session)
    today = today_local()
    actor = actor_of(principal)
    out = []
    for row in rows:
        assert row.id is not None
        named = principal.role != Role.bank or row.show_to_bank
        name, district = facts.get(row.enterprise_id, (None, None))
        handler_code = row.handler_bank_code or row.handler_department_code
        handler_name = (
            banks.get(row.handler_bank_code)
            if row.handler_bank_code
            else departments.get(row.handler_department_code or "")
        )
        attachments = [
            attachment_public(row.id, f)
            for f in files.get(row.id, [])
            if named or f.uploaded_by_role == "bank"
        ]
        out.append(
            AppealPublic(
                id=row.id,
                kind=row.kind,
                kind_label=KIND_LABEL[AppealKind(row.kind)],
                title=row.title,
                description=row.description,
                status=row.status,
                status_label=STATUS_LABEL[AppealStatus(row.status)],
                enterprise_id=row.enterprise_id if named else None,
                enterprise_name=name if named else None,
                district_code=district,
                bank_code=row.bank_code,
                bank_name=banks.get(row.bank_code) if row.bank_code else None,
                lead_id=row.lead_id if named else None,
                loan_id=row.loan_id if named else None,
                charge_rule=row.charge_rule,
                charge_rule_label=CHARGE_RULE_LABEL[row.charge_rule] if row.charge_rule else None,
                charge_item=row.charge_item,
                charge_amount_fen=row.charge_amount_fen,
                offered_rate_bp=row.offered_rate_bp,
                charged_rate_bp=row.charged_rate_bp,
                show_to_bank=row.show_to_bank,
                category_code=row.category_code,
                category_name=categories.get(row.category_code or ""),
                merged_into_id=row.merged_into_id,
                handler_kind=row.handler_kind,
                handler_code=handler_code,
                handler_name=handler_name,
                dispatched_date=row.dispatched_date,
                due_date=row.due_date,
                due_date_provisional=row.due_date_provisional,
                overdue=is_overdue(row, today),
                escalated_at=row.escalated_at,
                late=row.late,
                answer=row.answer,
                answered_at=row.answered_at,
                result=row.result,
                closed_at=row.closed_at,
                reopens=row.reopens,
                reopen_reason=row.reopen_reason,
                rating=row.rating,
                rating_comment=row.rating_comment,
                confirmed_at=row.confirmed_at,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                next_actions=next_actions(row, actor),
                attachments=attachments,
                events=_events(session, principal, events, banks) if events is not None else None,
            )
        )
    return out


def is_overdue(row: Appeal, today: date) -> bool:
    return (
        row.status == AppealStatus.dispatched and row.due_date is not None and row.due_date < today
    )


def next_actions(row: Appeal, actor: Actor) -> list[Action]:
    return [a for a in allowed_actions(AppealStatus(row.status), row.reopens) if actor in MAY[a]]


def attachment_public(appeal_id: int, row: AppealAttachment) -> AttachmentPublic:
    assert row.id is not None
    return AttachmentPublic(
        id=row.id,
        filename=row.filename,
        media_type=row.media_type,
        size_bytes=row.size_bytes,
        uploaded_by_role=row.uploaded_by_role,
        created_at=row.created_at,
        url=f"/api/v1/requests/{appeal_id}/attachments/{row.id}",
    )


ROLE_NAME = {"office": "金融办", "bank": "银行", "enterprise": "企业", "system": "系统"}


def _events(
    session: Session,
    principal: Principal,
    rows: list[AppealEvent],
    banks: dict[str, str],
) -> list[AppealEventPublic]:
    """Each step with who took it: the office sees the person's name; a bank its own
    people's; everyone else the office, the bank by name, or the enterprise."""
    people = queries.people(session, {e.actor for e in rows if e.actor.startswith("user:")})
    out = []
    for e in rows:
        who = ROLE_NAME.get(e.actor_role, e.actor_role)
        bank_code = e.data.get("bank_code") if e.actor_role == "bank" else None
        if bank_code:
            who = banks.get(str(bank_code), who)
        person = people.get(e.actor)
        if person is not None and (
            principal.is_office
            or (principal.role == Role.bank and person[1] == principal.bank_code)
        ):
            who = f"{person[0]}（{who}）"
        out.append(
            AppealEventPublic(
                kind=e.kind,
                label=EVENT_LABEL.get(e.kind, e.kind),
                from_status=e.from_status,
                to_status=e.to_status,
                actor_role=e.actor_role,
                actor_name=who,
                data=e.data,
                at=e.at,
            )
        )
    return out


def read_one(session: Session, principal: Principal, appeal_id: int) -> tuple[Appeal, AppealPublic]:
    row = get_appeal(session, principal, appeal_id)
    events = queries.events_of(session, appeal_id)
    if principal.role == Role.bank and not row.show_to_bank:
        events = [e for e in events if e.kind != "attached" or e.actor_role == "bank"]
    return row, present(session, principal, [row], events)[0]


def touch(row: Appeal) -> None:
    row.updated_at = utcnow()

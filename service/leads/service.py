"""Use cases of leads: offering needs to banks, applications, contact requests, outcomes,
the banks' feeds and events, and first-contact deadlines."""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, check_sees_bank, require, sees_enterprise
from service.core.concurrency import check_version
from service.core.database import ROW_LOCK, rolled_back
from service.core.errors import NotFound
from service.core.events import emit
from service.core.models import refuse_future, refuse_nulls, today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.settings import get_settings
from service.jobs.service import unnoticed
from service.leads import feed, queries, sender, sla
from service.leads.exceptions import (
    ContactRequestClosed,
    ContactRequestExists,
    ContactRequestNotFound,
    InvalidLeadRequest,
    LeadExists,
    LeadNotFound,
    NotEligible,
)
from service.leads.models import (
    BankEvent,
    BankFeed,
    ContactRequest,
    ContactRequestStatus,
    DeliveryStatus,
    Lead,
    LeadSource,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from service.leads.outbox import schedule
from service.leads.schemas import (
    EVENT_TYPES,
    AttemptPublic,
    BankEventPublic,
    ContactRequestPublic,
    DeadlineSimulation,
    DeliveryPublic,
    LateLead,
    LeadPublic,
    StatusChange,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)
from service.leads.sender import new_secret
from service.leads.states import OPEN, LeadStatus, Outcome, OutcomeInvalid, check
from service.matching.models import EnterpriseMatch, FinancingNeed, NeedMatch, NeedStatus
from service.matching.service import config_version_in_force, explain
from service.products.models import Bank, Product, ProductVersion
from service.products.service import get_product

OPEN_NEED = (NeedStatus.open, NeedStatus.matched)


# --- the bank's feed ------------------------------------------------------------------------


def _next_seq(session: Session, bank_code: str) -> int:
    """The bank's next feed position. The counter row stays locked until commit, so positions
    become visible in the order they were handed out."""
    return next_seqs(session, bank_code, 1)


def _announce(session: Session, lead: Lead, kind: str, **data: Any) -> BankEvent:
    """Move the lead to the head of its bank's feed and add the event there."""
    seq = _next_seq(session, lead.bank_code)
    lead.seq = seq
    lead.updated_at = utcnow()
    session.flush()
    data = {"lead_id": lead.id, "status": str(lead.status), **data}
    return _add_event(session, lead.bank_code, seq, kind, data, lead.id)


def publish(session: Session, bank_code: str, kind: str, data: dict[str, Any]) -> BankEvent:
    """Add an event about something other than a lead (a loan's reminder, its renewal) to the
    bank's events; webhooks follow as for leads. ``data`` holds ids, dates and statuses."""
    return _add_event(session, bank_code, _next_seq(session, bank_code), kind, data, None)


def next_seqs(session: Session, bank_code: str, count: int) -> int:
    """Reserve ``count`` consecutive feed positions for a bank (for events added in bulk);
    returns the last. The counter row stays locked until commit, as for one position."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(BankFeed).values(bank_code=bank_code, last_seq=0).on_conflict_do_nothing()
    )
    return session.execute(
        update(BankFeed)
        .where(BankFeed.bank_code == bank_code)
        .values(last_seq=BankFeed.last_seq + count)
        .returning(BankFeed.last_seq)
    ).scalar_one()


def _add_event(
    session: Session, bank_code: str, seq: int, kind: str, data: dict[str, Any], lead_id: int | None
) -> BankEvent:
    event = BankEvent(bank_code=bank_code, seq=seq, type=kind, lead_id=lead_id, data=data)
    session.add(event)
    session.flush()
    for listener in _event_listeners:
        listener(session, event)
    return event


_event_listeners: list[Any] = []


def on_bank_event(listener: Any) -> None:
    """``listener(session, event)`` runs in the transaction that adds each bank event (the
    webhook outbox uses it)."""
    if listener not in _event_listeners:
        _event_listeners.append(listener)


# --- making leads ---------------------------------------------------------------------------


def _subject(need_id: int | None, enterprise_id: int) -> str:
    return f"need:{need_id}" if need_id is not None else f"enterprise:{enterprise_id}"


def _open_banks(session: Session, subject: str) -> set[str]:
    return set(
        session.scalars(
            select(Lead.bank_code).where(Lead.subject_key == subject, Lead.status.in_(OPEN))
        )
    )


def _make(
    session: Session,
    *,
    enterprise_id: int,
    need_id: int | None,
    product_id: int,
    product_version: int,
    config_version: int,
    score_centi: int,
    source: LeadSource,
    consented: bool,
    reassigned_from_id: int | None = None,
) -> Lead:
    bank_code = session.scalar(select(Product.bank_code).where(Product.id == product_id))
    assert bank_code is not None
    subject = _subject(need_id, enterprise_id)
    if bank_code in _open_banks(session, subject):
        existing = session.scalar(
            select(Lead.id).where(
                Lead.subject_key == subject, Lead.bank_code == bank_code, Lead.status.in_(OPEN)
            )
        )
        raise LeadExists(
            f"该{'融资需求' if need_id else '企业'}与这家银行已有进行中的线索 {existing}。",
            lead_id=existing,
        )
    lead = Lead(
        subject_key=subject,
        need_id=need_id,
        enterprise_id=enterprise_id,
        bank_code=bank_code,
        product_id=product_id,
        product_version=product_version,
        config_version=config_version,
        score_centi=score_centi,
        source=source,
        consented=consented,
        seq=0,
        contact_due_date=sla.contact_due_date(
            today_local(), get_settings().sla_contact_working_days
        ),
        reassigned_from_id=reassigned_from_id,
    )
    session.add(lead)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent offer to the same bank won the race
        raise LeadExists("该融资需求与这家银行已有进行中的线索。") from exc
    _announce(session, lead, "lead.created", source=str(source))
    return lead


def _fair_order(session: Session, banks: Sequence[str]) -> dict[str, int]:
    """Banks' turn among equal scores: the one that got a lead least recently goes first."""
    latest = dict(
        session.execute(
            select(Lead.bank_code, func.max(Lead.id))
            .where(Lead.bank_code.in_(banks))
            .group_by(Lead.bank_code)
        ).all()
    )
    return {bank: latest.get(bank) or 0 for bank in banks}


def offer_need(
    session: Session,
    need_id: int,
    exclude: set[str] | None = None,
    source: LeadSource = LeadSource.need,
    reassigned_from_id: int | None = None,
) -> list[Lead]:
    """Offer a consenting open need to its best products' banks: the best product of each
    bank, best first, up to the need's number of banks (counting those it already has).
    Equal scores go to the bank that got a lead least recently. No commit."""
    need = session.get(FinancingNeed, need_id)
    if need is None or not need.consent_share_details or need.status not in OPEN_NEED:
        return []
    subject = _subject(need.id, need.enterprise_id)
    open_banks = _open_banks(session, subject)
    taken = open_banks | (exclude or set())
    slots = need.max_banks - len(open_banks)
    if slots <= 0:
        return []
    rows = session.execute(
        select(NeedMatch, Product.bank_code)
        .join(Product, Product.id == NeedMatch.product_id)
        .where(NeedMatch.need_id == need.id)
        .order_by(NeedMatch.need_rank)
    ).all()
    allowed = set(need.bank_codes) if need.bank_codes is not None else None
    best: dict[str, NeedMatch] = {}
    for match, bank_code in rows:
        if allowed is not None and bank_code not in allowed:
            continue  # the enterprise chose other banks
        if bank_code not in taken and bank_code not in best:
            best[bank_code] = match
    turn = _fair_order(session, list(best))
    chosen = sorted(best.items(), key=lambda bm: (-bm[1].score_centi, turn[bm[0]], bm[0]))
    return [
        _make(
            session,
            enterprise_id=need.enterprise_id,
            need_id=need.id,
            product_id=match.product_id,
            product_version=match.product_version,
            config_version=match.config_version,
            score_centi=match.score_centi,
            source=source,
            consented=True,
            reassigned_from_id=reassigned_from_id,
        )
        for _, match in chosen[:slots]
    ]


def on_need_posted(session: Session, need_id: int) -> None:
    offer_need(session, need_id)


def on_need_changed(session: Session, need_id: int) -> None:
    """Consent withdrawn: the banks stop seeing who it is. A bank no longer among the chosen:
    its open lead of the need is withdrawn. Consent given, or more banks allowed: offer it
    (again)."""
    need = session.get(FinancingNeed, need_id)
    if need is None:
        return
    if need.bank_codes is not None:
        allowed = set(need.bank_codes)
        for lead in _open_leads(session, _subject(need.id, need.enterprise_id)):
            offered = lead.source in (LeadSource.need, LeadSource.reassigned)
            if offered and lead.bank_code not in allowed:
                _close(session, lead, LeadStatus.withdrawn)
                _announce(session, lead, "lead.withdrawn")
    if not need.consent_share_details:
        for lead in _open_leads(session, _subject(need.id, need.enterprise_id)):
            if lead.source == LeadSource.need and lead.consented:
                lead.consented = False
                lead.version += 1
                _announce(session, lead, "lead.updated", consented=False)
        return
    offer_need(session, need_id)


def on_need_withdrawn(session: Session, need_id: int) -> None:
    need = session.get(FinancingNeed, need_id)
    if need is None:
        return
    for lead in _open_leads(session, _subject(need.id, need.enterprise_id)):
        _close(session, lead, LeadStatus.withdrawn)
        _announce(session, lead, "lead.withdrawn")


def _open_leads(session: Session, subject: str) -> list[Lead]:
    return list(
        session.scalars(
            select(Lead)
            .where(Lead.subject_key == subject, Lead.status.in_(OPEN))
            .order_by(Lead.id)
            .with_for_update(**ROW_LOCK)
        )
    )


def _close(session: Session, lead: Lead, status: LeadStatus) -> None:
    lead.status = status
    lead.version += 1
    lead.closed_at = utcnow()


def apply(
    session: Session,
    principal: Principal,
    product_code: str,
    need_id: int | None = None,
    enterprise_id: int | None = None,
) -> Lead:
    """The enterprise (or the office for it) applies for a product it is eligible for: a lead
    to that product's bank, with consent."""
    require(principal, Role.office, Role.enterprise)
    if principal.role == Role.enterprise:
        enterprise_id = enterprise_id or principal.enterprise_id
    if need_id is None and enterprise_id is None:
        raise InvalidLeadRequest("请给出 need_id 或 enterprise_id。", field="need_id")
    if need_id is not None:
        need = session.get(FinancingNeed, need_id)
        if need is None or not sees_enterprise(principal, need.enterprise_id):
            raise NotFound(f"融资需求 {need_id} 不存在。", code="need_not_found")
        if need.status not in OPEN_NEED:
            raise InvalidLeadRequest("融资需求已关闭，不能再申请。", code="need_closed", status=409)
        if enterprise_id is not None and enterprise_id != need.enterprise_id:
            raise InvalidLeadRequest(
                "融资需求不属于该企业。", code="need_not_of_enterprise", field="need_id"
            )
        enterprise_id = need.enterprise_id
    assert enterprise_id is not None
    if not sees_enterprise(principal, enterprise_id):
        raise NotFound(f"企业 {enterprise_id} 不存在。", code="enterprise_not_found")
    explanation = explain(session, product_code, enterprise_id, need_id)
    if not explanation.eligible:
        raise NotEligible(
            f"不符合产品「{explanation.product_name}」的条件："
            + "；".join(f.reason for f in explanation.failures),
            failures=[f.model_dump() for f in explanation.failures],
        )
    product = get_product(session, product_code)
    lead = _make(
        session,
        enterprise_id=enterprise_id,
        need_id=need_id,
        product_id=product.id,  # type: ignore[arg-type]
        product_version=explanation.product_version,
        config_version=explanation.config_version,
        score_centi=round((explanation.score or 0) * 100),
        source=LeadSource.application,
        consented=True,
    )
    session.commit()
    return lead


# --- contact requests -----------------------------------------------------------------------


def request_contact(
    session: Session, principal: Principal, product_code: str, prospect_id: str, message: str | None
) -> ContactRequest:
    """A bank asks to contact one of its product's prospects (by the id in the prospect list)."""
    product = get_product(session, product_code)
    check_sees_bank(principal, product.bank_code)
    basis, _, raw = prospect_id.partition("-")
    match: NeedMatch | EnterpriseMatch | None = None
    if raw.isdigit() and basis == "need":
        match = session.get(NeedMatch, int(raw))
    elif raw.isdigit() and basis == "profile":
        match = session.get(EnterpriseMatch, int(raw))
    if match is None or match.product_id != product.id or not _listed(session, match):
        raise InvalidLeadRequest(
            f"产品 {product_code} 的潜在客户中没有 {prospect_id}。",
            code="unknown_prospect",
            field="prospect_id",
        )
    need_id = match.need_id if isinstance(match, NeedMatch) else None
    request = ContactRequest(
        bank_code=product.bank_code,
        product_id=product.id,  # type: ignore[arg-type]
        enterprise_id=match.enterprise_id,
        need_id=need_id,
        message=message,
    )
    session.add(request)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ContactRequestExists("已向该企业发出联系请求，等待企业答复。") from exc
    return request


def _listed(session: Session, match: NeedMatch | EnterpriseMatch) -> bool:
    """Whether the product's prospect list shows the match (a need still open, a profile
    match still kept): a guessed id of any other answers as an unknown one."""
    if isinstance(match, NeedMatch):
        status = session.scalar(
            select(FinancingNeed.status).where(FinancingNeed.id == match.need_id)
        )
        return status in OPEN_NEED
    return match.product_rank is not None


def list_contact_requests(
    session: Session, principal: Principal, status: ContactRequestStatus | None = None
) -> list[ContactRequestPublic]:
    statement = select(ContactRequest)
    if principal.role == Role.enterprise:
        statement = statement.where(ContactRequest.enterprise_id == principal.enterprise_id)
    elif principal.role == Role.bank:
        statement = statement.where(ContactRequest.bank_code == principal.bank_code)
    if status is not None:
        statement = statement.where(ContactRequest.status == status)
    rows = list(session.scalars(statement.order_by(ContactRequest.id.desc()).limit(500)))
    return contact_requests_public(session, principal, rows)


def contact_request_public(
    session: Session, principal: Principal, request: ContactRequest
) -> ContactRequestPublic:
    return contact_requests_public(session, principal, [request])[0]


def contact_requests_public(
    session: Session, principal: Principal, requests: list[ContactRequest]
) -> list[ContactRequestPublic]:
    """As the holder sees them: a bank learns who the enterprise is only once it accepts (then
    through the lead). Product names in one statement for the whole list."""
    products = {
        pid: (code, name)
        for pid, code, name in session.execute(
            select(Product.id, Product.code, ProductVersion.name)
            .join(
                ProductVersion,
                (ProductVersion.product_id == Product.id)
                & (ProductVersion.version == Product.current_version),
            )
            .where(Product.id.in_({r.product_id for r in requests}))
        )
    }
    banks = {
        code: name
        for code, name in session.execute(
            select(Bank.code, Bank.name).where(Bank.code.in_({r.bank_code for r in requests}))
        )
    }
    hidden = principal.role == Role.bank
    return [
        ContactRequestPublic(
            id=request.id,  # type: ignore[arg-type]
            bank_code=request.bank_code,
            bank_name=banks.get(request.bank_code),
            product_code=products[request.product_id][0],
            product_name=products[request.product_id][1],
            enterprise_id=None if hidden else request.enterprise_id,
            need_id=None if hidden else request.need_id,
            message=request.message,
            status=request.status,
            lead_id=request.lead_id,
            created_at=request.created_at,
            decided_at=request.decided_at,
        )
        for request in requests
    ]


def decide_contact_request(
    session: Session, principal: Principal, request_id: int, accept: bool
) -> ContactRequestPublic:
    """The enterprise (or the office for it) accepts (a lead to that bank, with consent) or
    declines. Deciding the same way twice is the same as once."""
    require(principal, Role.office, Role.enterprise)
    request = session.get(ContactRequest, request_id, with_for_update=ROW_LOCK)
    if request is None or not sees_enterprise(principal, request.enterprise_id):
        raise ContactRequestNotFound(f"联系请求 {request_id} 不存在。")
    wanted = ContactRequestStatus.accepted if accept else ContactRequestStatus.declined
    if request.status == wanted:
        return contact_request_public(session, principal, request)
    if request.status != ContactRequestStatus.pending:
        raise ContactRequestClosed(f"联系请求 {request_id} 已答复，不能再更改。")
    request.status = wanted
    request.decided_at = utcnow()
    if accept:
        subject = _subject(request.need_id, request.enterprise_id)
        existing = session.scalar(
            select(Lead).where(
                Lead.subject_key == subject,
                Lead.bank_code == request.bank_code,
                Lead.status.in_(OPEN),
            )
        )
        if existing is not None:
            request.lead_id = existing.id
        else:
            product = session.get(Product, request.product_id)
            assert product is not None
            match = session.scalar(
                select(EnterpriseMatch.score_centi).where(
                    EnterpriseMatch.enterprise_id == request.enterprise_id,
                    EnterpriseMatch.product_id == request.product_id,
                )
            )
            lead = _make(
                session,
                enterprise_id=request.enterprise_id,
                need_id=request.need_id,
                product_id=request.product_id,
                product_version=product.current_version,
                config_version=config_version_in_force(session) or 0,
                score_centi=match or 0,
                source=LeadSource.prospect,
                consented=True,
            )
            request.lead_id = lead.id
    session.commit()
    return contact_request_public(session, principal, request)


# --- outcomes -------------------------------------------------------------------------------


def _visible(principal: Principal, lead: Lead) -> bool:
    if principal.is_office:
        return True
    if principal.role == Role.bank:
        return lead.bank_code == principal.bank_code
    return lead.enterprise_id == principal.enterprise_id


def get_lead(session: Session, principal: Principal, lead_id: int, lock: bool = False) -> Lead:
    lead = session.get(
        Lead, lead_id, with_for_update=ROW_LOCK if lock else None, populate_existing=lock
    )
    if lead is None or not _visible(principal, lead):
        raise LeadNotFound(f"线索 {lead_id} 不存在。")
    return lead


def change_status(
    session: Session,
    principal: Principal,
    lead_id: int,
    change: StatusChange,
    expected_version: int | None = None,
) -> Lead:
    """Move a lead along: the bank records what happened; the enterprise may withdraw. A wrong
    step is a 409; a change based on a stale version (If-Match) a 412."""
    lead = get_lead(session, principal, lead_id, lock=True)
    check_version(expected_version, lead.version, "线索")
    outcome = Outcome(
        to=change.status,
        actor=str(principal.role),
        reason=change.reason,
        note=change.note,
        amount_fen=change.amount_fen,
        rate_bp=change.rate_bp,
        term_months=change.term_months,
        on_date=change.on_date,
    )
    check(LeadStatus(lead.status), outcome, lead.approved_amount_fen)
    maturity = (
        _maturity(session, lead, change, change.on_date or today_local())
        if change.status == LeadStatus.disbursed
        else None
    )
    now = utcnow()
    previous = LeadStatus(lead.status)
    lead.status = change.status
    lead.version += 1
    if change.note is not None:
        lead.note = change.note
    # Each stage reached keeps its time, whatever ends the lead later (for the funnel).
    if change.status in (LeadStatus.viewed, LeadStatus.contacted, LeadStatus.approved):
        lead.viewed_at = lead.viewed_at or now
    if change.status in (LeadStatus.contacted, LeadStatus.approved):
        lead.first_contact_at = lead.first_contact_at or now
    if change.status == LeadStatus.approved:
        lead.approved_amount_fen = change.amount_fen
        lead.approved_rate_bp = change.rate_bp
        lead.approved_term_months = change.term_months
        lead.approved_date = change.on_date or today_local()
    elif change.status == LeadStatus.disbursed:
        lead.disbursed_amount_fen = change.amount_fen
        lead.disbursed_rate_bp = change.rate_bp
        lead.disbursed_date = change.on_date or today_local()
    elif change.status == LeadStatus.declined:
        lead.declined_reason = change.reason
    if change.status not in OPEN:
        lead.closed_at = now
    kind = "lead.withdrawn" if change.status == LeadStatus.withdrawn else "lead.updated"
    _announce(session, lead, kind, previous=str(previous))
    if change.status == LeadStatus.disbursed:
        # The loans domain records the loan (its maturity starts the renewal reminders).
        emit(
            session,
            "lead.disbursed",
            lead=lead,
            maturity_date=maturity,
            contract_no=change.contract_no,
            purpose=_purpose(session, lead),
        )
    session.commit()
    return lead


def _purpose(session: Session, lead: Lead) -> str | None:
    if lead.need_id is None:
        return None
    return session.scalar(select(FinancingNeed.purpose).where(FinancingNeed.id == lead.need_id))


def _maturity(session: Session, lead: Lead, change: StatusChange, disbursed: date) -> date:
    """When a disbursed loan matures: as given, or the disbursement date plus the term (given
    now, at approval, or in the need). Checked before anything changes."""
    if change.maturity_date is not None:
        if change.maturity_date <= disbursed:
            raise OutcomeInvalid("maturity_date", "到期日须晚于放款日")
        return change.maturity_date
    term = change.term_months or lead.approved_term_months
    if term is None and lead.need_id is not None:
        term = session.scalar(
            select(FinancingNeed.term_months).where(FinancingNeed.id == lead.need_id)
        )
    if term is None:
        raise OutcomeInvalid(
            "maturity_date", "放款须填写到期日（maturity_date）或期限（term_months）"
        )
    return disbursed + relativedelta(months=term)


# --- reading leads --------------------------------------------------------------------------


def recent_leads(
    session: Session,
    principal: Principal,
    lead_status: LeadStatus | None = None,
    enterprise_id: int | None = None,
    bank_code: str | None = None,
    limit: int = 50,
) -> list[LeadPublic]:
    """The caller's latest-changed leads (a bank's own, an enterprise's own, the office's
    any), for people rather than integrations, which page the feed."""
    statement = select(Lead)
    if principal.role == Role.bank:
        bank_code = principal.bank_code
    elif principal.role == Role.enterprise:
        enterprise_id = principal.enterprise_id
    if bank_code is not None:
        statement = statement.where(Lead.bank_code == bank_code)
    if enterprise_id is not None:
        statement = statement.where(Lead.enterprise_id == enterprise_id)
    if lead_status is not None:
        statement = statement.where(Lead.status == lead_status)
    rows = session.scalars(statement.order_by(Lead.updated_at.desc(), Lead.id.desc()).limit(limit))
    return leads_public(session, principal, list(rows))


def leads_public(session: Session, principal: Principal, leads: list[Lead]) -> list[LeadPublic]:
    """Leads as their holders see them (see ``feed.items``); a bank's read of who the
    enterprise is is audited."""
    if not leads:
        return []
    order = [lead.id for lead in leads]
    by_id = {row.id: row for row in queries.by_ids(session, order)}
    dialect = session.get_bind().dialect.name
    items = feed.run(
        session, feed.shown(dialect, principal, [by_id[i] for i in order], today_local())
    )
    return [LeadPublic.model_validate(item) for item in items]


def list_events(
    session: Session,
    principal: Principal,
    page: PageParams,
    after: int | None = None,
    bank_code: str | None = None,
) -> Page[BankEventPublic]:
    """A bank's events in order, from any position (``after``, or the cursor): replayable."""
    if principal.role == Role.bank:
        bank_code = principal.bank_code
    else:
        require(principal, Role.office)
    statement = select(BankEvent)
    if bank_code is not None:
        statement = statement.where(BankEvent.bank_code == bank_code)
    column = BankEvent.seq if bank_code is not None else BankEvent.id
    key = cursor_key(page, 1, (int,))
    start = key[0] if key else after
    if start is not None:
        statement = statement.where(column > start)
    rows = list(session.scalars(statement.order_by(column).limit(page.limit + 1)))
    result = make_page(rows, page.limit, lambda e: [e.seq if bank_code is not None else e.id])
    result.items = [BankEventPublic.model_validate(e, from_attributes=True) for e in result.items]
    return result


# --- first-contact deadlines ----------------------------------------------------------------


def check_deadlines(
    session: Session, today: date | None = None, *, future: bool = False
) -> dict[str, int]:
    """Flag every lead not contacted by the end of its due date (once: a flagged lead is not
    flagged again), tell its bank, and with ``FINMATCH_SLA_REASSIGN`` offer a need's lead to
    the next-best bank that has none. Safe to run any number of times, by several runners.
    A date after today is refused (``future_as_of``: leads still within their time would
    be reported late) unless ``future``, which only ``simulate_deadlines`` gives."""
    late = _flag_late(session, today or today_local(), future)
    return {"breached": len(late), "reassigned": sum(len(offered) for _, offered in late)}


def _flag_late(session: Session, today: date, future: bool) -> list[tuple[Lead, list[Lead]]]:
    """The deadline check, committed: each lead it flagged, with the leads that offer its
    need to other banks instead."""
    if not future:
        refuse_future(today, "把尚未到期的线索记为超时并告知银行")
    late = list(
        session.scalars(
            select(Lead)
            .where(
                Lead.status.in_([LeadStatus.new, LeadStatus.viewed]),
                Lead.first_contact_at.is_(None),
                Lead.sla_breached_at.is_(None),
                Lead.contact_due_date < today,
            )
            .order_by(Lead.id)
            .with_for_update(skip_locked=True)
        )
    )
    flagged: list[tuple[Lead, list[Lead]]] = []
    now = utcnow()
    for lead in late:
        lead.sla_breached_at = now
        lead.version += 1
        _announce(
            session, lead, "lead.sla_breached", contact_due_date=lead.contact_due_date.isoformat()
        )
        offered: list[Lead] = []
        if get_settings().sla_reassign and lead.need_id is not None:
            offered = _reassign(session, lead)
        flagged.append((lead, offered))
    session.commit()
    return flagged


SIMULATION_SAMPLE = 20


def simulate_deadlines(session: Session, today: date | None = None) -> DeadlineSimulation:
    """What ``check_deadlines`` would do as of ``today`` (any date, the future too): the same
    check, commit included, inside a transaction that is rolled back, so that nothing of it
    persists (flags, withdrawn and new leads, bank events, webhook deliveries, jobs, audit
    entries)."""
    today = today or today_local()
    with rolled_back(session) as scratch, unnoticed():
        late = _flag_late(scratch, today, future=True)
        return DeadlineSimulation(
            as_of=today,
            breached=len(late),
            reassigned=sum(len(offered) for _, offered in late),
            sample=[
                LateLead(
                    lead_id=lead.id,  # type: ignore[arg-type]
                    bank_code=lead.bank_code,
                    enterprise_id=lead.enterprise_id,
                    need_id=lead.need_id,
                    contact_due_date=lead.contact_due_date,
                    offered_to=[new.bank_code for new in offered],
                )
                for lead, offered in late[:SIMULATION_SAMPLE]
            ],
        )


def _reassign(session: Session, lead: Lead) -> list[Lead]:
    """Close the untouched lead (withdrawn from that bank) and offer the need to the next-best
    bank that has not had it."""
    had = set(session.scalars(select(Lead.bank_code).where(Lead.subject_key == lead.subject_key)))
    _close(session, lead, LeadStatus.withdrawn)
    lead.note = "首次联系超时，已转给其他银行"
    _announce(session, lead, "lead.withdrawn", reason="sla_breached")
    return offer_need(
        session,
        lead.need_id,  # type: ignore[arg-type]
        exclude=had,
        source=LeadSource.reassigned,
        reassigned_from_id=lead.id,
    )


def run_deadline_check(session: Session) -> dict[str, int]:
    """Job handler."""
    return check_deadlines(session)


SLA_CHECK = "leads.deadline_check"


# --- webhook endpoints ----------------------------------------------------------------------


def _check_url(url: str) -> str:
    """https to a host that resolves to public addresses only (see sender); checked again at
    every send, since the host's DNS answer may change."""
    url = url.strip()
    try:
        sender.check_destination(url, sender.UrlPolicy.from_settings())
    except sender.DestinationRefused as refused:
        raise InvalidLeadRequest(refused.message, code=refused.code, field="url") from None
    return url


def _check_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown or not types:
        raise InvalidLeadRequest(
            f"未知的事件类型：{', '.join(unknown) or '（空列表）'}；可选：{', '.join(EVENT_TYPES)}。",
            code="unknown_event_type",
            field="event_types",
        )
    return sorted(set(types))


def _webhook_public(endpoint: WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic.model_validate(endpoint, from_attributes=True)


def _endpoint(session: Session, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    require(principal, Role.office, Role.bank)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not (principal.is_office or endpoint.bank_code == principal.bank_code):
        raise NotFound(f"回调地址 {endpoint_id} 不存在。", code="webhook_not_found")
    return endpoint


def create_webhook(
    session: Session, principal: Principal, data: WebhookCreate
) -> WebhookWithSecret:
    require(principal, Role.office, Role.bank)
    bank_code = principal.bank_code if principal.role == Role.bank else data.bank_code
    if principal.role == Role.bank and data.bank_code not in (None, principal.bank_code):
        check_sees_bank(principal, data.bank_code)  # type: ignore[arg-type]
    if not bank_code or session.get(Bank, bank_code) is None:
        raise InvalidLeadRequest(
            f"银行 {bank_code!r} 不存在。", code="unknown_bank", field="bank_code"
        )
    endpoint = WebhookEndpoint(
        bank_code=bank_code,
        url=_check_url(data.url),
        description=data.description,
        event_types=_check_types(data.event_types),
        secret=new_secret(),
    )
    session.add(endpoint)
    session.commit()
    return WebhookWithSecret(**_webhook_public(endpoint).model_dump(), secret=endpoint.secret)


def list_webhooks(session: Session, principal: Principal) -> list[WebhookPublic]:
    require(principal, Role.office, Role.bank)
    statement = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if principal.role == Role.bank:
        statement = statement.where(WebhookEndpoint.bank_code == principal.bank_code)
    return [_webhook_public(e) for e in session.scalars(statement)]


def get_webhook(session: Session, principal: Principal, endpoint_id: int) -> WebhookPublic:
    return _webhook_public(_endpoint(session, principal, endpoint_id))


def update_webhook(
    session: Session, principal: Principal, endpoint_id: int, data: WebhookUpdate
) -> WebhookPublic:
    endpoint = _endpoint(session, principal, endpoint_id)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(WebhookEndpoint, changes)
    if "url" in changes or changes.get("enabled"):
        # Enabling again checks the stored URL too: it may predate the rules, or its host
        # may resolve elsewhere now.
        endpoint.url = _check_url(changes.get("url", endpoint.url) or "")
    if "description" in changes:
        endpoint.description = changes["description"]
    if "event_types" in changes:
        endpoint.event_types = _check_types(changes["event_types"])
    if changes.get("enabled") is not None:
        endpoint.enabled = changes["enabled"]
        endpoint.disabled_reason = None if endpoint.enabled else "已手动停用"
    endpoint.updated_at = utcnow()
    endpoint.version += 1
    session.commit()
    return _webhook_public(endpoint)


def rotate_secret(session: Session, principal: Principal, endpoint_id: int) -> WebhookWithSecret:
    """A new secret; for the next 24 hours messages carry signatures with both."""
    endpoint = _endpoint(session, principal, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = utcnow() + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    endpoint.updated_at = utcnow()
    session.commit()
    return WebhookWithSecret(**_webhook_public(endpoint).model_dump(), secret=endpoint.secret)


def delete_webhook(session: Session, principal: Principal, endpoint_id: int) -> None:
    endpoint = _endpoint(session, principal, endpoint_id)
    session.delete(endpoint)
    session.commit()


def list_deliveries(
    session: Session,
    principal: Principal,
    endpoint_id: int,
    page: PageParams,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryPublic]:
    """The endpoint's delivery log, newest first, with every attempt."""
    _endpoint(session, principal, endpoint_id)
    statement = (
        select(WebhookDelivery, BankEvent.type)
        .join(BankEvent, BankEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(WebhookDelivery.id < key[0])
    rows = session.execute(
        statement.order_by(WebhookDelivery.id.desc()).limit(page.limit + 1)
    ).all()
    result = make_page(list(rows), page.limit, lambda row: [row[0].id])
    ids = [row[0].id for row in result.items]
    log: dict[int, list[AttemptPublic]] = {}
    for a in session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(ids))
        .order_by(WebhookAttempt.id)
    ):
        log.setdefault(a.delivery_id, []).append(
            AttemptPublic.model_validate(a, from_attributes=True)
        )
    result.items = [
        DeliveryPublic(
            id=d.id,  # type: ignore[arg-type]
            event_id=d.event_id,
            event_type=event_type,
            msg_id=d.msg_id,
            status=str(d.status),
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.pending else None,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            log=log.get(d.id, []),  # type: ignore[arg-type]
        )
        for d, event_type in result.items
    ]
    return result


def retry_delivery(
    session: Session, principal: Principal, endpoint_id: int, delivery_id: int
) -> None:
    """Send a dead or failed delivery again (after the receiver was fixed)."""
    endpoint = _endpoint(session, principal, endpoint_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"投递记录 {delivery_id} 不存在。", code="delivery_not_found")
    if not endpoint.enabled:
        raise InvalidLeadRequest("回调地址已停用，请先启用。", code="webhook_disabled", status=409)
    if delivery.status != DeliveryStatus.delivered:
        delivery.status = DeliveryStatus.pending
        delivery.next_attempt_at = utcnow()
        schedule(session, endpoint.id)  # type: ignore[arg-type]
    session.commit()


ROTATION_OVERLAP = timedelta(hours=24)

"""Use cases of leads themselves: making them (a consenting need offered to banks, an
application), moving them along (a bank's outcomes, an enterprise's withdrawal), and reading
them as their holders see them.

Rules that live here:
- Never two open leads of one subject (a need, or an enterprise without one) with one bank:
  checked first, and enforced by a unique index for a concurrent offer (``make_lead``).
- A lead's first contact is due a number of working days after it is made (``sla``).
- A consenting open need goes to the best product of each bank, best first, up to the need's
  number of banks; equal scores go to the bank that got a lead least recently; banks the
  enterprise did not choose never get it (``offer_need``). A need changed or withdrawn
  withdraws or anonymises its leads (``on_need_changed``, ``on_need_withdrawn``).
- The steps a lead may take are ``states.check``; a stale If-Match is a 412; each stage
  reached keeps its time; a disbursed lead tells the loans domain (``lead.disbursed``) with
  its maturity, worked out before anything changes (``change_status``).
- Who sees a lead: ``access.policy.sees_between`` (the office, its bank, its enterprise); a
  hidden lead answers as a missing one. Lists hold what the caller sees
  (``access.policy.between_scope``)."""

from collections.abc import Sequence
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import (
    Principal,
    between_scope,
    require,
    sees_between,
    sees_enterprise,
)
from service.core.concurrency import check_version
from service.core.database import ROW_LOCK
from service.core.errors import NotFound
from service.core.events import emit
from service.core.models import today_local, utcnow
from service.core.settings import get_settings
from service.leads import feed, queries, sla
from service.leads.bank_events import announce
from service.leads.exceptions import (
    InvalidLeadRequest,
    LeadExists,
    LeadNotFound,
    NotEligible,
    OutcomeInvalid,
)
from service.leads.models import Lead, LeadSource
from service.leads.schemas import LeadPublic, StatusChange
from service.leads.states import OPEN, LeadStatus, Outcome, check
from service.matching.models import FinancingNeed, NeedMatch, NeedStatus
from service.matching.recommendations import explain
from service.products.service import get_product

OPEN_NEED = (NeedStatus.open, NeedStatus.matched)


# --- making leads ---------------------------------------------------------------------------


def subject_key(need_id: int | None, enterprise_id: int) -> str:
    """What a lead is about: its need, or the enterprise when it has none."""
    return f"need:{need_id}" if need_id is not None else f"enterprise:{enterprise_id}"


def make_lead(
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
    """A new lead to the product's bank, at the head of its feed. No commit."""
    bank_code = queries.product_bank(session, product_id)
    assert bank_code is not None
    subject = subject_key(need_id, enterprise_id)
    if bank_code in queries.open_bank_codes(session, subject):
        existing = queries.open_lead_id(session, subject, bank_code)
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
    announce(session, lead, "lead.created", source=str(source))
    return lead


def _fair_order(session: Session, banks: Sequence[str]) -> dict[str, int]:
    """Banks' turn among equal scores: the one that got a lead least recently goes first."""
    latest = queries.latest_lead_by_bank(session, banks)
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
    subject = subject_key(need.id, need.enterprise_id)
    open_banks = queries.open_bank_codes(session, subject)
    taken = open_banks | (exclude or set())
    slots = need.max_banks - len(open_banks)
    if slots <= 0:
        return []
    rows = queries.ranked_need_matches(session, need_id)
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
        make_lead(
            session,
            enterprise_id=need.enterprise_id,
            need_id=need_id,
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
        for lead in queries.open_leads_locked(session, subject_key(need_id, need.enterprise_id)):
            offered = lead.source in (LeadSource.need, LeadSource.reassigned)
            if offered and lead.bank_code not in allowed:
                close_lead(lead, LeadStatus.withdrawn)
                announce(session, lead, "lead.withdrawn")
    if not need.consent_share_details:
        for lead in queries.open_leads_locked(session, subject_key(need_id, need.enterprise_id)):
            if lead.source == LeadSource.need and lead.consented:
                lead.consented = False
                lead.version += 1
                announce(session, lead, "lead.updated", consented=False)
        return
    offer_need(session, need_id)


def on_need_withdrawn(session: Session, need_id: int) -> None:
    need = session.get(FinancingNeed, need_id)
    if need is None:
        return
    for lead in queries.open_leads_locked(session, subject_key(need_id, need.enterprise_id)):
        close_lead(lead, LeadStatus.withdrawn)
        announce(session, lead, "lead.withdrawn")


def close_lead(lead: Lead, status: LeadStatus) -> None:
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
    assert product.id is not None
    lead = make_lead(
        session,
        enterprise_id=enterprise_id,
        need_id=need_id,
        product_id=product.id,
        product_version=explanation.product_version,
        config_version=explanation.config_version,
        score_centi=round((explanation.score or 0) * 100),
        source=LeadSource.application,
        consented=True,
    )
    session.commit()
    return lead


# --- outcomes -------------------------------------------------------------------------------


def get_lead(session: Session, principal: Principal, lead_id: int, lock: bool = False) -> Lead:
    lead = session.get(
        Lead, lead_id, with_for_update=ROW_LOCK if lock else None, populate_existing=lock
    )
    if lead is None or not sees_between(principal, lead.bank_code, lead.enterprise_id):
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
    announce(session, lead, kind, previous=str(previous))
    if change.status == LeadStatus.disbursed:
        # The loans domain records the loan (its maturity starts the renewal reminders).
        emit(
            session,
            "lead.disbursed",
            lead=lead,
            maturity_date=maturity,
            contract_no=change.contract_no,
            purpose=None if lead.need_id is None else queries.need_purpose(session, lead.need_id),
        )
    session.commit()
    return lead


def _maturity(session: Session, lead: Lead, change: StatusChange, disbursed: date) -> date:
    """When a disbursed loan matures: as given, or the disbursement date plus the term (given
    now, at approval, or in the need). Checked before anything changes."""
    if change.maturity_date is not None:
        if change.maturity_date <= disbursed:
            raise OutcomeInvalid("maturity_date", "到期日须晚于放款日")
        return change.maturity_date
    term = change.term_months or lead.approved_term_months
    if term is None and lead.need_id is not None:
        term = queries.need_term_months(session, lead.need_id)
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
    bank_code, enterprise_id = between_scope(principal, bank_code, enterprise_id)
    rows = queries.recent_leads(session, bank_code, enterprise_id, lead_status, limit)
    return leads_public(session, principal, rows)


def leads_public(session: Session, principal: Principal, leads: list[Lead]) -> list[LeadPublic]:
    """Leads as their holders see them (see ``feed.shown``); a bank's read of who the
    enterprise is is audited."""
    if not leads:
        return []
    order = [lead.id for lead in leads if lead.id is not None]
    by_id = {row.id: row for row in queries.by_ids(session, order)}
    dialect = session.get_bind().dialect.name
    items = feed.run(
        session, feed.shown(dialect, principal, [by_id[i] for i in order], today_local())
    )
    return [LeadPublic.model_validate(item) for item in items]

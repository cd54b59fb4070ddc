"""Use cases of contact requests: a bank asks to contact one of its product's prospects; the
enterprise (or the office for it) accepts, which makes a lead with consent, or declines.

Rules that live here:
- A bank asks only about prospects its product's list shows now (a need still open, a
  profile match still kept); any other id answers as an unknown one (``_listed``).
- One pending request per bank, product and prospect (a unique constraint: a second is a 409).
- A bank does not learn who the enterprise is from a request, only through the lead once the
  enterprise accepts.
- Deciding the same way twice is the same as once; a decided request cannot change. Accepting
  reuses an open lead of that bank for the same subject, or makes one."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import (
    Principal,
    between_scope,
    check_sees_bank,
    require,
    sees_enterprise,
    sees_requester,
)
from service.core.database import ROW_LOCK
from service.core.models import utcnow
from service.leads import queries
from service.leads.exceptions import (
    ContactRequestClosed,
    ContactRequestExists,
    ContactRequestNotFound,
    InvalidLeadRequest,
)
from service.leads.lifecycle import OPEN_NEED, make_lead, subject_key
from service.leads.models import ContactRequest, ContactRequestStatus, LeadSource
from service.leads.schemas import ContactRequestPublic
from service.matching.models import EnterpriseMatch, NeedMatch
from service.matching.queries import config_version_in_force
from service.products.models import Product
from service.products.service import get_product


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
    assert product.id is not None
    need_id = match.need_id if isinstance(match, NeedMatch) else None
    request = ContactRequest(
        bank_code=product.bank_code,
        product_id=product.id,
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
        return queries.need_status(session, match.need_id) in OPEN_NEED
    return match.product_rank is not None


def list_contact_requests(
    session: Session, principal: Principal, status: ContactRequestStatus | None = None
) -> list[ContactRequestPublic]:
    """An enterprise's requests from banks, a bank's own requests, all for the office; newest
    first."""
    bank_code, enterprise_id = between_scope(principal, None, None)
    rows = queries.contact_requests(session, bank_code, enterprise_id, status)
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
    products = queries.product_names(session, {r.product_id for r in requests})
    banks = queries.bank_names(session, {r.bank_code for r in requests})
    hidden = not sees_requester(principal)
    return [
        _request_public(request, banks.get(request.bank_code), products[request.product_id], hidden)
        for request in requests
    ]


def _request_public(
    request: ContactRequest, bank_name: str | None, product: tuple[str, str], hidden: bool
) -> ContactRequestPublic:
    assert request.id is not None
    return ContactRequestPublic(
        id=request.id,
        bank_code=request.bank_code,
        bank_name=bank_name,
        product_code=product[0],
        product_name=product[1],
        enterprise_id=None if hidden else request.enterprise_id,
        need_id=None if hidden else request.need_id,
        message=request.message,
        status=request.status,
        lead_id=request.lead_id,
        created_at=request.created_at,
        decided_at=request.decided_at,
    )


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
        subject = subject_key(request.need_id, request.enterprise_id)
        existing = queries.open_lead_id(session, subject, request.bank_code)
        if existing is not None:
            request.lead_id = existing
        else:
            product = session.get(Product, request.product_id)
            assert product is not None
            score = queries.profile_score(session, request.enterprise_id, request.product_id)
            lead = make_lead(
                session,
                enterprise_id=request.enterprise_id,
                need_id=request.need_id,
                product_id=request.product_id,
                product_version=product.current_version,
                config_version=config_version_in_force(session) or 0,
                score_centi=score or 0,
                source=LeadSource.prospect,
                consented=True,
            )
            request.lead_id = lead.id
    session.commit()
    return contact_request_public(session, principal, request)

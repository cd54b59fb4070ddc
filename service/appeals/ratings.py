"""Use cases of satisfaction ratings: the enterprise rates a bank's service on a lead once the
lead has ended (disbursed, declined or withdrawn), once per lead; a request's rating comes
with its confirmation (``steps``). Who sees them: the enterprise its own, the office all, a
bank those of its own service, without the enterprise's name unless it agreed."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals import queries
from service.appeals.exceptions import AlreadyRated, NotRatable
from service.appeals.models import ServiceRating
from service.appeals.schemas import RatingCreate, RatingPublic
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.leads.lifecycle import get_lead
from service.leads.queries import product_names
from service.leads.states import TERMINAL, LeadStatus


def rate_lead(session: Session, principal: Principal, data: RatingCreate) -> ServiceRating:
    require(principal, Role.enterprise)
    lead = get_lead(session, principal, data.lead_id, lock=True)  # another's lead: a 404
    if LeadStatus(lead.status) not in TERMINAL:
        raise NotRatable("线索结束（已放款、已拒绝或已撤回）后才能评价银行的服务", field="lead_id")
    if queries.rated_leads(session, [lead.id or 0]):
        raise AlreadyRated("这条线索已评价过；每条线索只能评价一次", field="lead_id")
    comment = data.comment.strip() if data.comment else None
    row = ServiceRating(
        enterprise_id=lead.enterprise_id,
        bank_code=lead.bank_code,
        lead_id=lead.id,
        product_id=lead.product_id,
        score=data.score,
        comment=comment or None,
        show_name=data.show_name,
        created_by=principal.ref,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # a concurrent rating of the same lead won
        session.rollback()
        raise AlreadyRated("这条线索已评价过；每条线索只能评价一次", field="lead_id") from None
    return row


def list_ratings(
    session: Session,
    principal: Principal,
    page: PageParams,
    bank: str | None = None,
    lead_id: int | None = None,
) -> Page[RatingPublic]:
    key = cursor_key(page, 1, (int,))
    enterprise_id = principal.enterprise_id if principal.role == Role.enterprise else None
    if principal.role == Role.bank:
        bank = principal.bank_code
    rows = queries.ratings_page(
        session,
        page.limit + 1,
        key[0] if key else None,
        enterprise_id=enterprise_id,
        bank_code=bank,
        lead_id=lead_id,
    )
    items = present(session, principal, rows[: page.limit])
    return make_page(rows, page.limit, lambda r: [r.id], items=items)


def present(
    session: Session, principal: Principal, rows: list[ServiceRating]
) -> list[RatingPublic]:
    banks = queries.bank_names(session)
    departments = queries.department_names(session)
    products = product_names(session, {r.product_id for r in rows if r.product_id})
    facts = queries.enterprise_facts(session, {r.enterprise_id for r in rows})
    out = []
    for r in rows:
        assert r.id is not None
        named = principal.role != Role.bank or r.show_name
        out.append(
            RatingPublic(
                id=r.id,
                score=r.score,
                comment=r.comment,
                subject="lead" if r.lead_id else "request",
                lead_id=r.lead_id if named else None,
                request_id=r.appeal_id,
                request_kind=r.appeal_kind,
                bank_code=r.bank_code,
                bank_name=banks.get(r.bank_code or ""),
                department_code=r.department_code,
                department_name=departments.get(r.department_code or ""),
                product_id=r.product_id,
                product_name=products[r.product_id][1] if r.product_id in products else None,
                enterprise_id=r.enterprise_id if named else None,
                enterprise_name=facts.get(r.enterprise_id, ("", None))[0] if named else None,
                created_at=r.created_at,
            )
        )
    return out

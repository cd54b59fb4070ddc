"""A bank's worklist of leads for its people: search, filters, sort and numbered pages with
the total, for the bank's pages (integrations page the feed instead, ``feed``).

Rules that live here:
- The list holds what the caller sees (``access.policy.between_scope``): a bank its own
  leads, the office any bank's it names.
- Who an enterprise is shows only as ``access.policy.lead_enterprise_tiers`` allows: a lead
  for a need without consent stays anonymous, and the search by name or credit code never
  matches it, nor does sorting by enterprise order it by its hidden name (``_identified``
  is that rule in SQL).
- An account manager opens on the leads it works (``assignee=me``), everyone else on all
  (``access.policy.works_as_manager``); ``all`` asks for all explicitly.
- A page is two statements whatever its size: the count (with the bank's open leads nobody
  works yet) and the page itself, joined to the need, enterprise, product, district and
  assignee. Sorting is by a fixed list of columns only."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from service.access.models import Role, UserAccount
from service.access.policy import (
    Principal,
    between_scope,
    lead_enterprise_tiers,
    require,
    works_as_manager,
)
from service.core.errors import Unprocessable
from service.core.models import today_local
from service.enterprises.models import Enterprise
from service.leads.assignment import bank_people
from service.leads.models import Lead
from service.leads.states import OPEN, LeadStatus
from service.matching.models import FinancingNeed
from service.products.models import Product, ProductVersion
from service.taxonomy.models import District

PAGE_SIZE = 50
MAX_PAGE = 100_000
STATUS_ORDER = {status: rank for rank, status in enumerate(LeadStatus)}
DUE = ("due", "breached")  # contact deadline: due today or earlier / breached


@dataclass(frozen=True)
class WorklistFilter:
    """What a person asks of the list; every field optional. ``assignee``: None for the
    caller's landing list, ``all``, ``me``, ``none`` or a person's id (as text)."""

    q: str | None = None  # an enterprise's name (part of it) or credit code
    status: LeadStatus | None = None
    product_id: int | None = None
    district_code: str | None = None
    cluster_code: str | None = None
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    assignee: str | None = None
    due: str | None = None  # "due" | "breached"
    sort: str = "updated"
    descending: bool = True
    page: int = 1
    bank_code: str | None = None  # the office's choice; a bank always gets its own


@dataclass
class Worklist:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    assignee: str  # the assignee filter applied: all | me | none | an id
    unassigned_open: int  # the bank's open leads nobody works yet
    sorts: tuple[str, ...] = field(default=())


def _enterprise_shown() -> ColumnElement[bool]:
    return or_(
        col(Lead.consented).is_(True),
        col(Enterprise.share_with_banks).is_(True),
        col(Lead.need_id).is_(None),
    )


def _identified(principal: Principal) -> ColumnElement[bool]:
    """``lead_enterprise_tiers``' "who it is" in SQL: everything for the office, and for a
    bank a lead with consent, an enterprise sharing with banks, or a lead without a need.
    (The rows are checked again with the policy itself when shown.)"""
    if principal.role != Role.bank:
        return literal(True)
    return _enterprise_shown()


SORTS: dict[str, Any] = {
    "enterprise": lambda p: case((_identified(p), col(Enterprise.name)), else_=None),
    "amount": lambda p: col(FinancingNeed.amount_fen),
    "term": lambda p: col(FinancingNeed.term_months),
    "purpose": lambda p: col(FinancingNeed.purpose),
    "district": lambda p: col(District.sort_order),
    "score": lambda p: col(Lead.score_centi),
    "due": lambda p: col(Lead.contact_due_date),
    "assignee": lambda p: col(UserAccount.display_name),
    "status": lambda p: case(
        *((col(Lead.status) == str(s), r) for s, r in STATUS_ORDER.items()), else_=99
    ),
    "updated": lambda p: col(Lead.updated_at),
}


def landing_assignee(principal: Principal) -> str:
    """Where the list opens: an account manager on its own leads, others on all."""
    return "me" if works_as_manager(principal) else "all"


def _assignee_condition(principal: Principal, value: str) -> ColumnElement[bool] | None:
    if value == "all":
        return None
    if value == "none":
        return col(Lead.assignee_user_id).is_(None)
    if value == "me":
        if principal.user_id is None:
            return false()  # a key is nobody's person: no lead is its own
        return col(Lead.assignee_user_id) == principal.user_id
    if value.isascii() and value.isdigit() and 0 < int(value) <= 2_147_483_647:
        return col(Lead.assignee_user_id) == int(value)
    raise Unprocessable("负责人筛选无效。", code="invalid_assignee_filter", field="assignee")


def _conditions(
    principal: Principal, wanted: WorklistFilter, assignee: str, today: date
) -> list[ColumnElement[bool]]:
    bank_code, _ = between_scope(principal, wanted.bank_code, None)
    out: list[ColumnElement[bool]] = []
    if bank_code is not None:
        out.append(col(Lead.bank_code) == bank_code)
    if wanted.q:
        text = wanted.q.strip()
        found = col(Enterprise.name).contains(text, autoescape=True)
        if text.isascii() and text.isalnum():
            found = or_(
                found, col(Enterprise.credit_code).startswith(text.upper(), autoescape=True)
            )
        out.append(and_(_identified(principal), found))
    if wanted.status is not None:
        out.append(col(Lead.status) == str(wanted.status))
    if wanted.product_id is not None:
        out.append(col(Lead.product_id) == wanted.product_id)
    if wanted.district_code:
        out.append(col(Enterprise.district_code) == wanted.district_code)
    if wanted.cluster_code:
        out.append(col(Enterprise.cluster_code) == wanted.cluster_code)
    if wanted.amount_min_fen is not None:
        out.append(col(FinancingNeed.amount_fen) >= wanted.amount_min_fen)
    if wanted.amount_max_fen is not None:
        out.append(col(FinancingNeed.amount_fen) <= wanted.amount_max_fen)
    by_assignee = _assignee_condition(principal, assignee)
    if by_assignee is not None:
        out.append(by_assignee)
    if wanted.due is not None:
        not_contacted = and_(
            col(Lead.status).in_([str(LeadStatus.new), str(LeadStatus.viewed)]),
            col(Lead.first_contact_at).is_(None),
        )
        if wanted.due == "due":
            out.append(and_(not_contacted, col(Lead.contact_due_date) <= today))
        elif wanted.due == "breached":
            out.append(
                or_(
                    col(Lead.sla_breached_at).is_not(None),
                    and_(not_contacted, col(Lead.contact_due_date) < today),
                )
            )
        else:
            raise Unprocessable("联系期限筛选无效。", code="invalid_due_filter", field="due")
    return out


def _joined(statement: Any) -> Select[Any]:
    return (
        statement.join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .join(Product, col(Product.id) == col(Lead.product_id))
        .join(
            ProductVersion,
            and_(
                col(ProductVersion.product_id) == col(Product.id),
                col(ProductVersion.version) == col(Product.current_version),
            ),
        )
        .outerjoin(FinancingNeed, col(FinancingNeed.id) == col(Lead.need_id))
        .outerjoin(UserAccount, col(UserAccount.id) == col(Lead.assignee_user_id))
        .outerjoin(District, col(District.code) == col(Enterprise.district_code))
    )


def worklist(session: Session, principal: Principal, wanted: WorklistFilter) -> Worklist:
    """A page of the caller's leads as the filter asks, with the total and the number of
    pages; a page past the last is the last."""
    require(principal, Role.office, Role.bank)
    if wanted.sort not in SORTS:
        raise Unprocessable("排序字段无效。", code="invalid_sort", field="sort")
    today = today_local()
    assignee = wanted.assignee or landing_assignee(principal)
    conditions = _conditions(principal, wanted, assignee, today)
    bank_code, _ = between_scope(principal, wanted.bank_code, None)
    other = aliased(Lead)
    unassigned = (
        select(func.count())
        .select_from(other)
        .where(
            other.assignee_user_id.is_(None),  # type: ignore[union-attr]
            other.status.in_([str(s) for s in OPEN]),  # type: ignore[attr-defined]
            *([col(other.bank_code) == bank_code] if bank_code is not None else []),
        )
        .correlate(None)
        .scalar_subquery()
    )
    total, unassigned_open = session.execute(
        _joined(select(func.count(), unassigned).select_from(Lead)).where(*conditions)
    ).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, wanted.page), pages)
    order = SORTS[wanted.sort](principal)
    ordered = order.desc().nulls_last() if wanted.descending else order.asc().nulls_last()
    tie = col(Lead.id).desc() if wanted.descending else col(Lead.id).asc()
    rows = session.execute(
        _joined(
            select(
                col(Lead.id),
                col(Lead.status),
                col(Lead.consented),
                col(Lead.need_id),
                col(Lead.score_centi),
                col(Lead.contact_due_date),
                col(Lead.first_contact_at),
                col(Lead.sla_breached_at),
                col(Lead.updated_at),
                col(Lead.assignee_user_id),
                col(Enterprise.name).label("enterprise_name"),
                col(Enterprise.share_with_banks),
                col(ProductVersion.name).label("product_name"),
                col(FinancingNeed.amount_fen),
                col(FinancingNeed.term_months),
                col(FinancingNeed.purpose),
                col(District.name).label("district_name"),
                col(UserAccount.display_name).label("assignee_name"),
            ).select_from(Lead)
        )
        .where(*conditions)
        .order_by(ordered, tie)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Worklist(
        rows=[_shown(principal, row, today) for row in rows],
        total=total,
        page=page,
        pages=pages,
        assignee=assignee,
        unassigned_open=unassigned_open,
        sorts=tuple(SORTS),
    )


def _shown(principal: Principal, row: Any, today: date) -> dict[str, Any]:
    visible, _ = lead_enterprise_tiers(
        principal, row.consented, bool(row.share_with_banks), row.need_id is not None
    )
    contacted = row.first_contact_at is not None or row.status not in ("new", "viewed")
    return {
        "id": row.id,
        "status": row.status,
        "enterprise_name": row.enterprise_name if visible else None,
        "product_name": row.product_name,
        "amount_fen": row.amount_fen,
        "term_months": row.term_months,
        "purpose": row.purpose,
        "district_name": row.district_name,
        "score": row.score_centi / 100,
        "contact_due_date": row.contact_due_date,
        "sla_breached": row.sla_breached_at is not None
        or (not contacted and today > row.contact_due_date),
        "assignee_name": row.assignee_name,
        "mine": principal.user_id is not None and row.assignee_user_id == principal.user_id,
        "updated_at": row.updated_at,
    }


def choices(session: Session, principal: Principal, bank_code: str | None = None) -> dict:
    """What the list's filters offer: the products the caller's leads are for (id, name) and
    the bank's active people (``assignment.bank_people``)."""
    require(principal, Role.office, Role.bank)
    bank, _ = between_scope(principal, bank_code, None)
    statement = (
        select(col(Product.id), col(ProductVersion.name))
        .join(
            ProductVersion,
            and_(
                col(ProductVersion.product_id) == col(Product.id),
                col(ProductVersion.version) == col(Product.current_version),
            ),
        )
        .where(col(Product.id).in_(select(col(Lead.product_id)).distinct()))
        .order_by(col(ProductVersion.name), col(Product.id))
    )
    if bank is not None:
        statement = statement.where(col(Product.bank_code) == bank)
    products = [(pid, name) for pid, name in session.execute(statement)]
    people = bank_people(session, principal, bank) if bank is not None else []
    return {"products": products, "people": people}

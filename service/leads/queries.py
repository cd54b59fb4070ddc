"""Reads of leads as their holders see them: the page in one joined statement, then the
enterprises' contacts in one statement (their valid qualifications come from the enterprise
library's query); and the audit entry of a bank's read. Rows, not ORM objects, and on
PostgreSQL through the driver (``core.database.fetch``): a bank pulls pages of 100."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, and_, bindparam, insert, select
from sqlmodel import Session, col

from service.access.models import AuditEntry
from service.core.database import Statement, among
from service.core.models import UTCDateTime, utcnow
from service.enterprises.models import Contact, Enterprise
from service.leads.models import Lead
from service.matching.models import FinancingNeed
from service.products.models import Product, ProductVersion

LEAD_COLUMNS = tuple(Lead.__table__.c)  # type: ignore[attr-defined]
PAGE_COLUMNS = (
    *LEAD_COLUMNS,
    Enterprise.name.label("enterprise_name"),  # type: ignore[attr-defined]
    Enterprise.credit_code,
    Enterprise.cluster_code,
    Enterprise.district_code,
    Enterprise.size_class,
    Enterprise.registered_in_wuxi,
    Enterprise.industry_code,
    Enterprise.share_with_banks,
    Enterprise.employees,
    Enterprise.revenue_fen,
    Enterprise.total_assets_fen,
    Enterprise.credit_grade,
    Product.code.label("product_code"),  # type: ignore[attr-defined]
    ProductVersion.name.label("product_name"),  # type: ignore[attr-defined]
    FinancingNeed.amount_fen.label("need_amount_fen"),  # type: ignore[attr-defined]
    FinancingNeed.term_months.label("need_term_months"),  # type: ignore[attr-defined]
    FinancingNeed.purpose.label("need_purpose"),  # type: ignore[attr-defined]
    FinancingNeed.collateral.label("need_collateral"),
    FinancingNeed.wanted_by_date.label("need_wanted_by_date"),  # type: ignore[attr-defined]
)


# The filters a page of leads may have, each with its own named parameter.
FILTERS: dict[str, Any] = {
    "bank_code": lambda: Lead.bank_code == bindparam("bank_code"),
    "enterprise_id": lambda: Lead.enterprise_id == bindparam("enterprise_id"),
    "need_id": lambda: Lead.need_id == bindparam("need_id"),
    "status": lambda: Lead.status == bindparam("status", type_=String),
    "product_id": lambda: Lead.product_id == bindparam("product_id"),
    "updated_since": lambda: Lead.updated_at >= bindparam("updated_since", type_=UTCDateTime),
    "after_seq": lambda: Lead.seq > bindparam("after_seq"),
    "after_id": lambda: Lead.id > bindparam("after_id"),
}


def page_statement(conditions: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """Leads with their enterprise, product (current version's name) and need, one row each."""
    return (
        select(*PAGE_COLUMNS)
        .join(Enterprise, Enterprise.id == Lead.enterprise_id)
        .join(Product, Product.id == Lead.product_id)
        .join(
            ProductVersion,
            and_(
                ProductVersion.product_id == Product.id,
                ProductVersion.version == Product.current_version,
            ),
        )
        .outerjoin(FinancingNeed, FinancingNeed.id == Lead.need_id)
        .where(*conditions)
    )


def page(where: dict[str, Any], by_seq: bool, limit: int) -> Statement:
    """Up to ``limit`` leads matching ``where`` (names from ``FILTERS``) in feed order (seq)
    or id order."""

    def build() -> Select[Any]:
        order = Lead.seq if by_seq else Lead.id
        conditions = [FILTERS[name]() for name in sorted(where)]
        return page_statement(conditions).order_by(order).limit(bindparam("limit", type_=Integer))

    shape = ("leads.page", tuple(sorted(where)), by_seq)
    return Statement(shape, build, {**where, "limit": limit})


def by_ids(session: Session, ids: Sequence[int]) -> list[Any]:
    return list(session.execute(page_statement([Lead.id.in_(list(ids))])).all())


def contacts(session: Session | str, enterprise_ids: Sequence[int]) -> Statement:
    """(enterprise_id, name, title, phone, email) of the enterprises' contacts."""

    def build() -> Select[Any]:
        return (
            select(Contact.enterprise_id, Contact.name, Contact.title, Contact.phone, Contact.email)
            .where(among(session, Contact.enterprise_id, [], name="ids"))
            .order_by(Contact.enterprise_id, Contact.id)
        )

    return Statement("leads.contacts", build, {"ids": list(enterprise_ids)})


def contacts_by_enterprise(rows: Sequence[Any]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for enterprise_id, name, title, phone, email in rows:
        out.setdefault(enterprise_id, []).append(
            {"name": name, "title": title, "phone": phone, "email": email}
        )
    return out


READ_SUBJECT = "leads"  # a read's subject_id: what was read (the enterprises are in the list)


def audit_read(
    key_id: int | None, bank_code: str | None, enterprise_ids: Sequence[int]
) -> Statement:
    """The audit entry of a bank's read of these enterprises' details (one request)."""

    def build() -> Any:
        return insert(AuditEntry).values(
            {
                name: bindparam(name, type_=column.type)
                for name, column in AuditEntry.__table__.c.items()  # type: ignore[attr-defined]
                if name in AUDIT_READ_COLUMNS
            }
        )

    values = {
        "at": utcnow(),
        "actor_key_id": key_id,
        "actor_role": "bank",
        "actor_bank_code": bank_code,
        "action": "read",
        "subject_type": "enterprise",
        "subject_id": READ_SUBJECT,
        "enterprise_ids": list(enterprise_ids),
    }
    return Statement("leads.audit_read", build, values, writes=True)


AUDIT_READ_COLUMNS = (
    "at",
    "actor_key_id",
    "actor_role",
    "actor_bank_code",
    "action",
    "subject_type",
    "subject_id",
    "enterprise_ids",
)


def consented_enterprises(session: Session, enterprise_ids: set[int], bank_code: str) -> set[int]:
    """Of these enterprises, those with a lead of the bank that carries their consent."""
    if not enterprise_ids:
        return set()
    return set(
        session.scalars(
            select(Lead.enterprise_id).where(
                col(Lead.enterprise_id).in_(enterprise_ids),
                Lead.bank_code == bank_code,
                col(Lead.consented).is_(True),
            )
        )
    )

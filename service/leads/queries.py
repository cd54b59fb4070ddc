"""Reads of leads as their holders see them: the page in one joined statement, then the
enterprises' contacts in one statement (their valid qualifications come from the enterprise
library's query); and the audit rows of a bank's reads in one statement. Rows, not ORM
objects: a bank pulls pages of 100."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, insert, select
from sqlmodel import Session

from service.access.models import AuditEntry
from service.core.database import among
from service.core.models import utcnow
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
    Product.code.label("product_code"),  # type: ignore[attr-defined]
    ProductVersion.name.label("product_name"),  # type: ignore[attr-defined]
    FinancingNeed.amount_fen.label("need_amount_fen"),  # type: ignore[attr-defined]
    FinancingNeed.term_months.label("need_term_months"),  # type: ignore[attr-defined]
    FinancingNeed.purpose.label("need_purpose"),  # type: ignore[attr-defined]
    FinancingNeed.collateral.label("need_collateral"),
    FinancingNeed.wanted_by_date.label("need_wanted_by_date"),  # type: ignore[attr-defined]
)


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


def contacts(session: Session, enterprise_ids: Sequence[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    if not enterprise_ids:
        return out
    rows = session.execute(
        select(Contact.enterprise_id, Contact.name, Contact.title, Contact.phone, Contact.email)
        .where(among(session, Contact.enterprise_id, enterprise_ids))
        .order_by(Contact.enterprise_id, Contact.id)
    )
    for enterprise_id, name, title, phone, email in rows:
        out.setdefault(enterprise_id, []).append(
            {"name": name, "title": title, "phone": phone, "email": email}
        )
    return out


def audit_reads(
    session: Session,
    key_id: int | None,
    bank_code: str | None,
    enterprise_ids: Sequence[int],
) -> None:
    """One audit row per enterprise whose details a bank read, in one statement."""
    if not enterprise_ids:
        return
    base = {
        "at": utcnow(),
        "actor_key_id": key_id,
        "actor_role": "bank",
        "actor_bank_code": bank_code,
        "action": "read",
        "subject_type": "enterprise",
    }
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "INSERT INTO audit_entry (at, actor_key_id, actor_role, actor_bank_code, action, "
            "subject_type, subject_id, enterprise_id) SELECT %(at)s, %(actor_key_id)s, "
            "%(actor_role)s, %(actor_bank_code)s, %(action)s, %(subject_type)s, e::text, e "
            "FROM unnest(%(ids)s::integer[]) AS e",
            {**base, "ids": list(enterprise_ids)},
        )
        return
    session.execute(
        insert(AuditEntry),
        [{**base, "subject_id": str(e), "enterprise_id": e} for e in enterprise_ids],
    )

"""Reads of the catalogue."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlmodel import Session

from service.core.database import ROW_LOCK
from service.products.models import Bank, Product, ProductVersion


def product_by_code(session: Session, code: str, for_update: bool = False) -> Product | None:
    stmt = select(Product).where(Product.code == code)
    if for_update:
        stmt = stmt.with_for_update(**ROW_LOCK).execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def version_of(session: Session, product_id: int, version: int) -> ProductVersion | None:
    return session.scalars(
        select(ProductVersion).where(
            ProductVersion.product_id == product_id, ProductVersion.version == version
        )
    ).first()


def versions_of(session: Session, product_id: int) -> list[ProductVersion]:
    return list(
        session.scalars(
            select(ProductVersion)
            .where(ProductVersion.product_id == product_id)
            .order_by(ProductVersion.version)
        )
    )


def current_page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order_by_updated: bool,
    after: list | None,
    limit: int,
) -> list[tuple[Product, ProductVersion, str]]:
    stmt = (
        select(Product, ProductVersion, Bank.name)
        .join(
            ProductVersion,
            and_(
                ProductVersion.product_id == Product.id,
                ProductVersion.version == Product.current_version,
            ),
        )
        .join(Bank, Bank.code == Product.bank_code)
        .where(and_(True, *conditions))
    )
    if order_by_updated:
        if after is not None:
            at, pid = datetime.fromisoformat(after[0]), int(after[1])
            stmt = stmt.where(
                or_(Product.updated_at > at, and_(Product.updated_at == at, Product.id > pid))
            )
        stmt = stmt.order_by(Product.updated_at, Product.id)
    else:
        if after is not None:
            stmt = stmt.where(Product.id > int(after[0]))
        stmt = stmt.order_by(Product.id)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt.limit(limit + 1))]


def bank_page(
    session: Session, after: str | None, limit: int, kind: str | None = None
) -> list[Bank]:
    stmt = select(Bank)
    if kind:
        stmt = stmt.where(Bank.kind == kind)
    if after is not None:
        stmt = stmt.where(Bank.code > after)
    return list(session.scalars(stmt.order_by(Bank.code).limit(limit + 1)))

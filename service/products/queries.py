"""The catalogue's SQL: reads of banks, products and their versions, and the conditional
update that moves a product to a new version."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col

from service.core.database import ROW_LOCK
from service.products.models import Bank, Product, ProductStatus, ProductVersion


def product_by_code(session: Session, code: str, for_update: bool = False) -> Product | None:
    stmt = select(Product).where(col(Product.code) == code)
    if for_update:
        stmt = stmt.with_for_update(**ROW_LOCK).execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def version_of(session: Session, product_id: int, version: int) -> ProductVersion | None:
    return session.scalars(
        select(ProductVersion).where(
            col(ProductVersion.product_id) == product_id, col(ProductVersion.version) == version
        )
    ).first()


def versions_of(session: Session, product_id: int) -> list[ProductVersion]:
    return list(
        session.scalars(
            select(ProductVersion)
            .where(col(ProductVersion.product_id) == product_id)
            .order_by(col(ProductVersion.version))
        )
    )


def advance_product(
    session: Session, product: Product, version: int, status: ProductStatus, now: datetime
) -> bool:
    """Move the product to ``version`` and ``status`` if it is still at the version it was
    read at; False when another change came first."""
    result = session.execute(
        update(Product)
        .where(
            col(Product.id) == product.id,
            col(Product.current_version) == product.current_version,
        )
        .values(current_version=version, updated_at=now, status=status)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def current_page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order_by_updated: bool,
    after: list | None,
    limit: int,
) -> list[tuple[Product, ProductVersion, str]]:
    stmt = (
        select(Product, ProductVersion, col(Bank.name))
        .join(
            ProductVersion,
            and_(
                col(ProductVersion.product_id) == col(Product.id),
                col(ProductVersion.version) == col(Product.current_version),
            ),
        )
        .join(Bank, col(Bank.code) == col(Product.bank_code))
        .where(and_(True, *conditions))
    )
    if order_by_updated:
        if after is not None:
            at, pid = datetime.fromisoformat(after[0]), int(after[1])
            stmt = stmt.where(
                or_(
                    col(Product.updated_at) > at,
                    and_(col(Product.updated_at) == at, col(Product.id) > pid),
                )
            )
        stmt = stmt.order_by(col(Product.updated_at), col(Product.id))
    else:
        if after is not None:
            stmt = stmt.where(col(Product.id) > int(after[0]))
        stmt = stmt.order_by(col(Product.id))
    return [(r[0], r[1], r[2]) for r in session.execute(stmt.limit(limit + 1))]


def bank_page(
    session: Session, after: str | None, limit: int, kind: str | None = None
) -> list[Bank]:
    stmt = select(Bank)
    if kind:
        stmt = stmt.where(col(Bank.kind) == kind)
    if after is not None:
        stmt = stmt.where(col(Bank.code) > after)
    return list(session.scalars(stmt.order_by(col(Bank.code)).limit(limit + 1)))


def bank_names(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every bank."""
    return [(code, name) for code, name in session.execute(select(col(Bank.code), col(Bank.name)))]

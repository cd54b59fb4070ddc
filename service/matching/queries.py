"""Matching's SQL: the reads and plain writes of financing needs, their stored matches, a
product's stored prospects, projects' financing needs and the scoring configuration's versions,
and the stamp that tells when the in-process catalogue is stale. The stored profile matches'
bulk maintenance (COPY, keyset reads of whole lists) is ``upkeep``; the reads that turn rows
into the scorer's inputs are ``facts``."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from service.core.database import ROW_LOCK, among
from service.enterprises.models import Project
from service.matching.models import (
    EnterpriseMatch,
    FinancingNeed,
    NeedMatch,
    NeedStatus,
    ScoringConfigRow,
)
from service.products.models import Bank, Product
from service.taxonomy.models import LprRate

OPEN = (NeedStatus.open, NeedStatus.matched)  # a need still matched and shown to banks
_CHUNK = 5_000  # enterprise ids per statement


# --- needs ----------------------------------------------------------------------------------


def need_page(
    session: Session,
    enterprise_id: int | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> list[FinancingNeed]:
    """Needs by id after ``after_id``, ``limit`` + 1 of them (the extra one tells a next page)."""
    stmt = select(FinancingNeed)
    if enterprise_id is not None:
        stmt = stmt.where(col(FinancingNeed.enterprise_id) == enterprise_id)
    if status is not None:
        stmt = stmt.where(col(FinancingNeed.status) == status)
    if after_id is not None:
        stmt = stmt.where(col(FinancingNeed.id) > after_id)
    return list(session.scalars(stmt.order_by(col(FinancingNeed.id)).limit(limit + 1)))


def open_needs_for_update(
    session: Session, enterprise_ids: Sequence[int] | None = None
) -> list[FinancingNeed]:
    """The open needs (every one, or those of these enterprises), locked, by id (within each
    chunk of enterprises), so that a concurrent change of one of them waits instead of racing
    the rewrite of its matches."""
    stmt = select(FinancingNeed).where(col(FinancingNeed.status).in_(OPEN))
    if enterprise_ids is None:
        return list(
            session.scalars(stmt.order_by(col(FinancingNeed.id)).with_for_update(**ROW_LOCK))
        )
    ids = sorted(set(enterprise_ids))
    needs: list[FinancingNeed] = []
    for start in range(0, len(ids), _CHUNK):
        needs += session.scalars(
            stmt.where(among(session, FinancingNeed.enterprise_id, ids[start : start + _CHUNK]))
            .order_by(col(FinancingNeed.id))
            .with_for_update(**ROW_LOCK)
        )
    return needs


def delete_need_matches(session: Session, need_id: int) -> None:
    session.execute(delete(NeedMatch).where(col(NeedMatch.need_id) == need_id))


def known_bank_codes(session: Session, codes: Sequence[str]) -> set[str]:
    """Of these bank codes, those of existing banks."""
    return set(session.scalars(select(col(Bank.code)).where(col(Bank.code).in_(codes))))


def projects_with_need(session: Session, enterprise_id: int) -> list[Project]:
    """The enterprise's projects still under way that need financing, by id."""
    return list(
        session.scalars(
            select(Project)
            .where(
                col(Project.enterprise_id) == enterprise_id,
                col(Project.financing_need_fen) > 0,
                col(Project.status).notin_(["completed", "suspended"]),
            )
            .order_by(col(Project.id))
        )
    )


# --- a product's stored prospects -----------------------------------------------------------


def need_prospects(session: Session, product_id: int) -> list[Any]:
    """(NeedMatch, FinancingNeed) rows of the product's matches with open needs."""
    return list(
        session.execute(
            select(NeedMatch, FinancingNeed)
            .join(FinancingNeed, col(FinancingNeed.id) == col(NeedMatch.need_id))
            .where(col(NeedMatch.product_id) == product_id, col(FinancingNeed.status).in_(OPEN))
        ).all()
    )


def profile_prospects(session: Session, product_id: int) -> list[EnterpriseMatch]:
    """The stored profile matches kept as the product's prospects."""
    return list(
        session.scalars(
            select(EnterpriseMatch).where(
                col(EnterpriseMatch.product_id) == product_id,
                col(EnterpriseMatch.product_rank).is_not(None),
            )
        )
    )


# --- scoring configuration ------------------------------------------------------------------


def config_version_in_force(session: Session) -> int | None:
    """The newest version (the one in force); None before the first."""
    return session.scalar(select(func.max(ScoringConfigRow.version)))


def config_page(session: Session, before: int | None, limit: int) -> list[ScoringConfigRow]:
    """Versions newest first, below ``before``, ``limit`` + 1 of them."""
    stmt = select(ScoringConfigRow)
    if before is not None:
        stmt = stmt.where(col(ScoringConfigRow.version) < before)
    return list(
        session.scalars(stmt.order_by(col(ScoringConfigRow.version).desc()).limit(limit + 1))
    )


# --- the in-process catalogue's stamp -------------------------------------------------------

_STAMP = select(
    select(func.max(Product.updated_at)).scalar_subquery(),
    select(func.count()).select_from(Product).scalar_subquery(),
    select(func.max(Bank.updated_at)).scalar_subquery(),
    select(func.max(ScoringConfigRow.version)).scalar_subquery(),
    select(func.count()).select_from(LprRate).scalar_subquery(),
)


def catalogue_stamp(session: Session) -> tuple[Any, ...]:
    """What changes when the catalogue in force does: the newest product and bank changes, the
    newest configuration, and row counts (a deletion, a new LPR)."""
    return tuple(session.execute(_STAMP).one())

"""Reads of requests, their events, attachments and ratings, and the names they show."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from service.access.models import UserAccount
from service.appeals.models import (
    Appeal,
    AppealAttachment,
    AppealCategory,
    AppealEvent,
    Department,
    ServiceRating,
)
from service.appeals.states import OPEN, AppealStatus
from service.core.database import ROW_LOCK
from service.enterprises.models import Enterprise
from service.products.models import Bank


def appeal(session: Session, appeal_id: int, lock: bool = False) -> Appeal | None:
    return session.get(
        Appeal, appeal_id, with_for_update=ROW_LOCK if lock else None, populate_existing=lock
    )


def appeal_page(
    session: Session,
    limit: int,
    before_id: int | None,
    *,
    enterprise_id: int | None = None,
    handler_bank_code: str | None = None,
    statuses: Iterable[str] | None = None,
    kind: str | None = None,
    department_code: str | None = None,
    overdue_on: date | None = None,
) -> list[Appeal]:
    """Newest first, ``limit`` rows from below ``before_id``."""
    stmt = select(Appeal)
    if enterprise_id is not None:
        stmt = stmt.where(col(Appeal.enterprise_id) == enterprise_id)
    if handler_bank_code is not None:
        stmt = stmt.where(col(Appeal.handler_bank_code) == handler_bank_code)
    if statuses is not None:
        stmt = stmt.where(col(Appeal.status).in_(list(statuses)))
    if kind is not None:
        stmt = stmt.where(col(Appeal.kind) == kind)
    if department_code is not None:
        stmt = stmt.where(col(Appeal.handler_department_code) == department_code)
    if overdue_on is not None:
        stmt = stmt.where(
            col(Appeal.status) == AppealStatus.dispatched, col(Appeal.due_date) < overdue_on
        )
    if before_id is not None:
        stmt = stmt.where(col(Appeal.id) < before_id)
    return list(session.scalars(stmt.order_by(col(Appeal.id).desc()).limit(limit)))


def events_of(session: Session, appeal_id: int) -> list[AppealEvent]:
    return list(
        session.scalars(
            select(AppealEvent)
            .where(col(AppealEvent.appeal_id) == appeal_id)
            .order_by(col(AppealEvent.id))
        )
    )


def attachments_of(
    session: Session, appeal_ids: Iterable[int]
) -> dict[int, list[AppealAttachment]]:
    ids = list(appeal_ids)
    out: dict[int, list[AppealAttachment]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.scalars(
        select(AppealAttachment)
        .where(col(AppealAttachment.appeal_id).in_(ids))
        .order_by(col(AppealAttachment.id))
    )
    for row in rows:
        out[row.appeal_id].append(row)
    return out


def count_attachments(session: Session, appeal_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AppealAttachment)
            .where(col(AppealAttachment.appeal_id) == appeal_id)
        )
        or 0
    )


def enterprise_facts(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """(name, district code) of these enterprises."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(col(Enterprise.id), col(Enterprise.name), col(Enterprise.district_code)).where(
            col(Enterprise.id).in_(wanted)
        )
    )
    return {i: (name, district) for i, name, district in rows}


def bank_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(col(Bank.code), col(Bank.name))).all())  # type: ignore[arg-type]


def department_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(col(Department.code), col(Department.name))).all())  # type: ignore[arg-type]


def category_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(col(AppealCategory.code), col(AppealCategory.name))).all())  # type: ignore[arg-type]


def people(session: Session, refs: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """(display name, bank code) of the people named ``user:<id>`` in these actor refs."""
    ids = {int(r.split(":", 1)[1]) for r in refs if r.split(":", 1)[1].isdigit()}
    if not ids:
        return {}
    rows = session.execute(
        select(
            col(UserAccount.id), col(UserAccount.display_name), col(UserAccount.bank_code)
        ).where(col(UserAccount.id).in_(ids))
    )
    return {f"user:{i}": (name, bank) for i, name, bank in rows}


def late_claimed(session: Session, today: date, limit: int = 500) -> list[Appeal]:
    """Dispatched requests past their due date not yet escalated for it, locked so that
    another runner skips them (SKIP LOCKED; SQLite has one writer at a time anyway)."""
    stmt = (
        select(Appeal)
        .where(
            col(Appeal.status) == AppealStatus.dispatched,
            col(Appeal.due_date) < today,
            col(Appeal.escalated_at).is_(None),
        )
        .order_by(col(Appeal.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def count_escalated_overdue(session: Session, today: date) -> int:
    """Requests escalated and still with their handler past their due date: one count over
    the (status, due_date) index's range of dispatched requests due before today."""
    stmt = (
        select(func.count())
        .select_from(Appeal)
        .where(
            col(Appeal.status) == AppealStatus.dispatched,
            col(Appeal.due_date) < today,
            col(Appeal.escalated_at).is_not(None),
        )
    )
    return int(session.scalar(stmt) or 0)


def mark_escalated(session: Session, appeal_id: int, at: Any, version: int) -> bool:
    """Flag one request escalated, only if nobody did (the unique 'exactly once')."""
    result = session.execute(
        update(Appeal)
        .where(
            col(Appeal.id) == appeal_id,
            col(Appeal.escalated_at).is_(None),
            col(Appeal.version) == version,
        )
        .values(escalated_at=at, late=True, version=version + 1, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def ratings_page(
    session: Session,
    limit: int,
    before_id: int | None,
    *,
    enterprise_id: int | None = None,
    bank_code: str | None = None,
    lead_id: int | None = None,
) -> list[ServiceRating]:
    stmt = select(ServiceRating)
    if enterprise_id is not None:
        stmt = stmt.where(col(ServiceRating.enterprise_id) == enterprise_id)
    if bank_code is not None:
        stmt = stmt.where(col(ServiceRating.bank_code) == bank_code)
    if lead_id is not None:
        stmt = stmt.where(col(ServiceRating.lead_id) == lead_id)
    if before_id is not None:
        stmt = stmt.where(col(ServiceRating.id) < before_id)
    return list(session.scalars(stmt.order_by(col(ServiceRating.id).desc()).limit(limit)))


def rated_leads(session: Session, lead_ids: Iterable[int]) -> set[int]:
    ids = list(lead_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(col(ServiceRating.lead_id)).where(col(ServiceRating.lead_id).in_(ids))
        )
    )


def open_appeals_of(session: Session, enterprise_id: int, exclude: int) -> list[Appeal]:
    """Other open requests of the enterprise (candidates to merge into)."""
    return list(
        session.scalars(
            select(Appeal).where(
                col(Appeal.enterprise_id) == enterprise_id,
                col(Appeal.id) != exclude,
                col(Appeal.status).in_([str(status) for status in OPEN]),
            )
        )
    )

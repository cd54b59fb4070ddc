"""A bank's events: what happened to its leads (and, from other domains, its loans), in the
bank's feed order, replayable from any position.

Rules that live here:
- Feed positions (``seq``) are handed out per bank from a counter row that stays locked until
  commit, so positions become visible in the order they were handed out (``next_seqs``).
- Every change of a lead moves the lead to the head of its bank's feed and adds an event
  there (``announce``); other domains add events of their own with ``publish``.
- Every event added is announced in its transaction as ``EVENT_ADDED`` (``core.events``): the
  webhook outbox queues its deliveries on it, so an event and its deliveries commit together.
- A bank reads its own events; the office any bank's, or all of them in id order."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, between_scope, require
from service.core.events import emit
from service.core.models import utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.leads import queries
from service.leads.models import BankEvent, BankFeed, Lead
from service.leads.schemas import BankEventPublic

EVENT_ADDED = "bank_event.added"  # payload: bank_event (the BankEvent, flushed)


def next_seqs(session: Session, bank_code: str, count: int) -> int:
    """Reserve ``count`` consecutive feed positions for a bank (for events added in bulk);
    returns the last. The counter row stays locked until commit, as for one position."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(BankFeed).values(bank_code=bank_code, last_seq=0).on_conflict_do_nothing()
    )
    return session.execute(
        update(BankFeed)
        .where(col(BankFeed.bank_code) == bank_code)
        .values(last_seq=col(BankFeed.last_seq) + count)
        .returning(col(BankFeed.last_seq))
    ).scalar_one()


def _next_seq(session: Session, bank_code: str) -> int:
    """The bank's next feed position. The counter row stays locked until commit, so positions
    become visible in the order they were handed out."""
    return next_seqs(session, bank_code, 1)


def announce(session: Session, lead: Lead, kind: str, **data: Any) -> BankEvent:
    """Move the lead to the head of its bank's feed and add the event there."""
    seq = _next_seq(session, lead.bank_code)
    lead.seq = seq
    lead.updated_at = utcnow()
    session.flush()
    data = {"lead_id": lead.id, "status": str(lead.status), **data}
    return _add_event(session, lead.bank_code, seq, kind, data, lead.id)


def publish(session: Session, bank_code: str, kind: str, data: dict[str, Any]) -> BankEvent:
    """Add an event about something other than a lead (a loan's reminder, its renewal) to the
    bank's events; webhooks follow as for leads. ``data`` holds ids, dates and statuses."""
    return _add_event(session, bank_code, _next_seq(session, bank_code), kind, data, None)


def publish_to_district(
    session: Session, district_code: str, kind: str, data: dict[str, Any]
) -> BankEvent:
    """An event for a district office (no bank's feed: ``seq`` 0); its endpoints get it."""
    event = BankEvent(district_code=district_code, seq=0, type=kind, data=data)
    session.add(event)
    session.flush()
    emit(session, EVENT_ADDED, bank_event=event)
    return event


def _add_event(
    session: Session, bank_code: str, seq: int, kind: str, data: dict[str, Any], lead_id: int | None
) -> BankEvent:
    event = BankEvent(bank_code=bank_code, seq=seq, type=kind, lead_id=lead_id, data=data)
    session.add(event)
    session.flush()
    emit(session, EVENT_ADDED, bank_event=event)
    return event


def list_events(
    session: Session,
    principal: Principal,
    page: PageParams,
    after: int | None = None,
    bank_code: str | None = None,
) -> Page[BankEventPublic]:
    """A bank's events in order, from any position (``after``, or the cursor): replayable."""
    if principal.role != Role.bank:
        require(principal, Role.office)  # a bank reads its own; an enterprise has none
    bank_code, _ = between_scope(principal, bank_code, None)
    key = cursor_key(page, 1, (int,))
    start = key[0] if key else after
    rows = queries.bank_events(session, bank_code, start, page.limit + 1)
    result = make_page(rows, page.limit, lambda e: [e.seq if bank_code is not None else e.id])
    result.items = [BankEventPublic.model_validate(e, from_attributes=True) for e in result.items]
    return result

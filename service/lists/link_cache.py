"""The library as the linker sees it, kept in the process and brought up to date at each import.

Fetching 500,000 names and indexing them costs seconds; an import of a few thousand names needs
only milliseconds of what changed since the last one. As the enterprise name search's copy
(``enterprises.name_index``): the library never deletes enterprises and every write bumps
``updated_at``, so a change of MAX(id) or MAX(updated_at) tells that rows must be read again,
and only those after the highest id or recently updated are (a margin back, as transactions
commit in an order their timestamps need not follow). The index answers as one built from
the current rows (``link_index``). The number of rows is compared too: when rows vanished
(a rolled-back insert, a test's transaction), or fewer than expected are held, the copy is
built afresh rather than trusted."""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, col

from service.enterprises.models import Enterprise
from service.lists.link_index import LinkIndex

_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True)
class _Mark:
    max_id: int | None
    max_updated_at: datetime | None
    rows: int


@dataclass(frozen=True)
class _Copy:
    mark: _Mark
    index: LinkIndex


_copies: dict[str, _Copy] = {}
_lock = threading.Lock()


def _mark(session: Session) -> _Mark:
    """The highest id, the latest ``updated_at`` and the number of enterprises."""
    # three statements in one: the two maxima from their indexes, the count by a scan
    row = session.execute(
        select(
            select(func.max(col(Enterprise.id))).scalar_subquery(),
            select(func.max(col(Enterprise.updated_at))).scalar_subquery(),
            select(func.count()).select_from(Enterprise).scalar_subquery(),
        )
    ).one()
    return _Mark(row[0], row[1], row[2])


def _grown(held: _Mark, now: _Mark) -> bool:
    """Neither the highest id nor the latest update went back: rows were only added or
    changed (else some vanished, and the copy is built afresh)."""
    return (
        held.max_id is not None
        and now.max_id is not None
        and now.max_id >= held.max_id
        and held.max_updated_at is not None
        and now.max_updated_at is not None
        and now.max_updated_at >= held.max_updated_at
    )


def _changed_since(
    session: Session, after_id: int | None, since: datetime
) -> list[tuple[int, str, str, str | None]]:
    """The enterprises after an id or updated since a time, as the index holds them: plain
    tuples (after a bulk load the margin can hold hundreds of thousands of rows, most of them
    unchanged, and ``LinkIndex.updated`` skips those without making objects of them)."""
    sql = (
        "SELECT id, name, name_normalized, district_code FROM enterprise"
        " WHERE updated_at >= :since OR id > :after_id"
    )
    params = {"since": since, "after_id": after_id if after_id is not None else 0}
    return session.connection().execute(text(sql), params).all()  # type: ignore[return-value]


def _fresh(session: Session) -> LinkIndex:
    """Every enterprise, by id (the index reads ties off its postings' heads in that order)."""
    # Raw rows: half a million ORM-processed tuples would cost seconds.
    rows = (
        session.connection()
        .exec_driver_sql(
            "SELECT id, name, name_normalized, district_code FROM enterprise ORDER BY id"
        )
        .all()
    )
    return LinkIndex(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
    )


def library_index(session: Session) -> LinkIndex:
    """Every enterprise's name, normalised name and district, indexed for blocking, as the
    session sees them. The index is shared: read it, never change it (``updated`` makes a
    new one)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    key = engine.url.render_as_string(hide_password=True)
    mark = _mark(session)
    with _lock:
        held = _copies.get(key)
        if held is not None and held.mark == mark:
            return held.index
        index = None
        if held is not None and _grown(held.mark, mark):
            assert held.mark.max_updated_at is not None
            since = held.mark.max_updated_at - _MARGIN
            index = held.index.updated(_changed_since(session, held.mark.max_id, since))
            if index.live != mark.rows:
                index = None
        if index is None:
            index = _fresh(session)
        _copies[key] = _Copy(mark, index)
        return index


def forget() -> None:
    """Drop every copy (tests, or after a bulk load in this process)."""
    with _lock:
        _copies.clear()

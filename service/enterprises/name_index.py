"""An in-process copy of the library's normalised names for fuzzy search.

Fetching 500,000 names from the database costs about a second; scoring them in C costs a third
of that. So the names are kept in memory and refreshed incrementally: the library never deletes
enterprises, every write bumps ``updated_at``, so a change of MAX(id) or MAX(updated_at) (two
index lookups) tells that rows must be fetched again, and only the recently updated ones are.
Results are always checked against the database afterwards, so a stale or rolled-back entry can
cost a wasted score but never a wrong answer."""

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from service.enterprises import queries

# Transactions commit in an order their timestamps need not follow; re-read this far back.
_MARGIN = timedelta(minutes=2)


@dataclass
class _Snapshot:
    max_id: int | None = None
    max_updated_at: datetime | None = None
    ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    position: dict[int, int] = field(default_factory=dict)

    def merge(self, rows: list[tuple[int, str]]) -> None:
        for enterprise_id, name in rows:
            at = self.position.get(enterprise_id)
            if at is None:
                self.position[enterprise_id] = len(self.ids)
                self.ids.append(enterprise_id)
                self.names.append(name)
            else:
                self.names[at] = name


_snapshots: dict[str, _Snapshot] = {}
_lock = threading.Lock()


def library_names(session: Session) -> tuple[list[int], list[str], dict[int, int]]:
    """(ids, normalised names, id → index) of every enterprise, possibly with entries that no
    longer exist. The lists are shared: read them, never change them."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    key = engine.url.render_as_string(hide_password=True)
    max_id, max_updated_at = queries.name_high_water(session)
    with _lock:
        snapshot = _snapshots.get(key)
        if snapshot is None or (
            snapshot.max_id is not None and (max_id is None or max_id < snapshot.max_id)
        ):
            snapshot = _Snapshot()
            snapshot.merge(queries.normalised_names(session))
        elif (max_id, max_updated_at) != (snapshot.max_id, snapshot.max_updated_at):
            since = snapshot.max_updated_at - _MARGIN if snapshot.max_updated_at else None
            snapshot.merge(queries.normalised_names(session, snapshot.max_id, since))
        snapshot.max_id, snapshot.max_updated_at = max_id, max_updated_at
        _snapshots[key] = snapshot
        return snapshot.ids, snapshot.names, snapshot.position


def forget() -> None:
    """Drop every snapshot (tests, or after a bulk load in this process)."""
    with _lock:
        _snapshots.clear()

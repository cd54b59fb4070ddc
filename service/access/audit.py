"""Every change to the libraries, the catalogue, needs, leads and keys is written to the audit
log by one flush hook, so no use case can forget it: who (the request's caller, or `system` for
the CLI and jobs), when, what and which fields changed from what to what. A bulk import that
writes its rows without ORM objects records them with ``write``, in the same form."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction

from service.access.models import AuditEntry, Role
from service.access.policy import Principal
from service.core.bulk import insert_rows
from service.core.models import utcnow

SYSTEM = Principal(Role.office)  # CLI commands and jobs act as the office, without a key
_audited: dict[type, str] = {}
_hidden = {"secret_hash", "secret", "previous_secret", "password_hash", "token_hash"}
ACTOR = "actor"  # key of session.info that holds the caller of the request


def audit(model: type, subject_type: str) -> None:
    """Record changes of ``model`` under ``subject_type``."""
    _audited[model] = subject_type


def act_as(session: OrmSession, principal: Principal) -> None:
    session.info[ACTOR] = principal


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    return str(value)


def _same(value: Any) -> Any:
    return value


def _changes(instance: Any, created: bool) -> dict[str, Any]:
    state = inspect(instance)
    out: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if key in _hidden or key in ("created_at", "updated_at"):
            continue
        history = state.attrs[key].history
        if created:
            value = getattr(instance, key)
            if value is not None:
                out[key] = _value(value)
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                out[key] = [_value(old), _value(new)]
    return out


def _enterprise_of(instance: Any, subject_type: str) -> int | None:
    if subject_type == "enterprise":
        return instance.id
    return getattr(instance, "enterprise_id", None)


def _entry(
    actor: Principal,
    at: datetime,
    action: str,
    subject_type: str,
    subject_id: Any,
    enterprise_id: int | None,
    changes: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor_key_id": actor.key_id,
        "actor_user_id": actor.user_id,
        "actor_role": str(actor.role) if actor is not SYSTEM else "system",
        "actor_bank_code": actor.bank_code,
        "actor_enterprise_id": actor.enterprise_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "enterprise_id": enterprise_id,
        "changes": changes,
    }


@dataclass(frozen=True)
class Change:
    """A change written without ORM objects (a bulk import), as the flush hook records one:
    a create lists its values, an update each changed field as [old, new]."""

    action: str  # create | update
    subject_type: str
    subject_id: int
    enterprise_id: int | None
    changes: dict[str, Any]


def write(session: OrmSession, principal: Principal, changes: Iterable[Change]) -> int:
    """Record changes that bypassed the ORM, as the session's caller; returns how many."""
    now = utcnow()
    # COPY on PostgreSQL writes dates as ISO text itself; elsewhere they are made JSON here.
    value = _same if session.get_bind().dialect.name == "postgresql" else _value
    rows = [
        _entry(
            principal,
            now,
            c.action,
            c.subject_type,
            c.subject_id,
            c.enterprise_id,
            {
                k: [value(v[0]), value(v[1])] if c.action == "update" else value(v)
                for k, v in c.changes.items()
            },
        )
        for c in changes
    ]
    insert_rows(session, AuditEntry.__table__, rows)  # type: ignore[attr-defined]
    return len(rows)


def record(
    session: OrmSession,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: Any,
    changes: dict[str, Any] | None = None,
) -> None:
    """One entry for an event no row change shows (a sign-in, a failed one, a lock); an actor
    of None is someone not signed in (``anonymous``)."""
    entry = _entry(actor or SYSTEM, utcnow(), action, subject_type, subject_id, None, changes)
    if actor is None:
        entry["actor_role"] = "anonymous"
    session.connection().execute(insert(AuditEntry), [entry])


def _after_flush(session: OrmSession, _context: UOWTransaction) -> None:
    if not _audited:
        return
    actor: Principal = session.info.get(ACTOR, SYSTEM)
    rows = []
    now = utcnow()
    for action, instances in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for instance in instances:
            subject_type = _audited.get(type(instance))
            if subject_type is None:
                continue
            if action == "delete":
                changes: dict[str, Any] | None = None
            else:
                changes = _changes(instance, created=action == "create")
                if action == "update" and not changes:
                    continue
            identity = inspect(instance).identity
            rows.append(
                _entry(
                    actor,
                    now,
                    action,
                    subject_type,
                    identity[0] if identity else getattr(instance, "id", ""),
                    _enterprise_of(instance, subject_type),
                    changes,
                )
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def install() -> None:
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)

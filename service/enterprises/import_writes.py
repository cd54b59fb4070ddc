"""Writing a committed library import's plans in bulk (``core.bulk``: COPY on PostgreSQL):
the enterprises, qualifications, contacts and projects a batch of rows creates or changes,
versions bumped where something changed, and each change in the audit log as the flush hook
would record it (a new enterprise's entry lists its qualifications and contact with it). What a
row does is decided by ``merge``; the use case that reads, plans and commits is
``import_service``."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.access import audit
from service.access.policy import Principal
from service.core.bulk import insert_rows, update_rows
from service.enterprises import merge
from service.enterprises.models import RowAction
from service.enterprises.queries import CONTACT, ENTERPRISE, PROJECT, QUALIFICATION

_ENTERPRISE_COLUMNS = tuple(c.name for c in ENTERPRISE.columns if c.name != "id")
_PROJECT_COLUMNS = tuple(c.name for c in PROJECT.columns if c.name != "id")
_UNAUDITED = frozenset({"created_at", "updated_at"})


def _values(subject_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """A new row as the flush hook records its create: its values, without the empty ones."""
    return {
        k: v for k, v in {"id": subject_id, **row}.items() if v is not None and k not in _UNAUDITED
    }


def apply_enterprises(
    session: Session, principal: Principal, plans: Sequence[merge.Plan], now: datetime
) -> list[int]:
    """Write the batch's plans; the ids of the enterprises created or changed. A new
    enterprise's audit entry lists its qualifications and contact with it; a known one's
    new qualifications and contacts have entries of their own."""
    changes: list[audit.Change] = []
    creates = [p for p in plans if p.action == RowAction.create]
    updates = [p for p in plans if p.action == RowAction.update]
    ids: dict[int, int] = {}  # id(plan) -> its enterprise
    new = [
        {
            **{c: p.columns.get(c) for c in _ENTERPRISE_COLUMNS},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for p in creates
    ]
    created: dict[int, dict[str, Any]] = {}  # id(plan) -> its create entry's values
    for plan, enterprise_id, row in zip(
        creates, insert_rows(session, ENTERPRISE, new, ids=True), new, strict=True
    ):
        ids[id(plan)] = enterprise_id
        created[id(plan)] = _values(enterprise_id, row)
    changed = []
    for plan in updates:
        held = plan.held
        assert held is not None
        ids[id(plan)] = held["id"]
        merged = {**held, **plan.columns}
        changed.append(
            {
                "id": held["id"],
                "version": held["version"] + 1,
                "updated_at": now,
                **{c: merged[c] for c in merge.UPDATED_COLUMNS},
            }
        )
        fields = {c: (held[c], v) for c, v in plan.columns.items() if held[c] != v}
        if fields:
            changes.append(audit.Change("update", "enterprise", held["id"], held["id"], fields))
    update_rows(session, ENTERPRISE, changed)
    owners = [p for p in plans for _ in p.qualifications]
    qualifications = [
        {**q, "enterprise_id": ids[id(p)], "created_at": now}
        for p in plans
        for q in p.qualifications
    ]
    qualification_ids = insert_rows(session, QUALIFICATION, qualifications, ids=True)
    for plan, qualification_id, row in zip(owners, qualification_ids, qualifications, strict=True):
        _record_new(changes, created, plan, "qualification", qualification_id, row)
    changes += _apply_contacts(session, plans, ids, created)
    changes += [
        audit.Change("create", "enterprise", values["id"], values["id"], values)
        for values in created.values()
    ]
    audit.write(session, principal, changes)
    return [ids[id(p)] for p in (*creates, *updates)]


def _record_new(
    changes: list[audit.Change],
    created: dict[int, dict[str, Any]],
    plan: merge.Plan,
    subject_type: str,
    subject_id: int,
    row: dict[str, Any],
) -> None:
    values = _values(subject_id, row)
    entry = created.get(id(plan))
    if entry is not None:  # with its new enterprise
        values.pop("enterprise_id", None)
        entry.setdefault(f"{subject_type}s", []).append(values)
    else:
        changes.append(
            audit.Change("create", subject_type, subject_id, row["enterprise_id"], values)
        )


def _apply_contacts(
    session: Session,
    plans: Sequence[merge.Plan],
    ids: dict[int, int],
    created: dict[int, dict[str, Any]],
) -> list[audit.Change]:
    changes: list[audit.Change] = []
    owners = [p for p in plans if p.contact is not None and "id" not in p.contact]
    new = [
        {"enterprise_id": ids[id(p)], **{f: p.contact.get(f) for f in merge.CONTACT_COLUMNS}}
        for p in owners
        if p.contact is not None
    ]
    for plan, contact_id, row in zip(
        owners, insert_rows(session, CONTACT, new, ids=True), new, strict=True
    ):
        _record_new(changes, created, plan, "contact", contact_id, row)
    changed = []
    for plan in plans:
        contact = plan.contact
        if contact is None or "id" not in contact:
            continue
        held = next(c for c in plan.held_contacts if c["id"] == contact["id"])
        merged = {**held, **contact}
        changed.append({"id": held["id"], **{f: merged[f] for f in merge.CONTACT_FIELDS}})
        changes.append(
            audit.Change(
                "update",
                "contact",
                held["id"],
                ids[id(plan)],
                {k: (held[k], v) for k, v in contact.items() if k != "id"},
            )
        )
    update_rows(session, CONTACT, changed)
    return changes


def apply_projects(
    session: Session, principal: Principal, plans: Sequence[merge.Plan], now: datetime
) -> list[int]:
    """Write the planned projects; returns the enterprises whose projects were written."""
    new: list[dict[str, Any]] = [
        {
            **{c: p.columns.get(c) for c in _PROJECT_COLUMNS},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for p in plans
        if p.action == RowAction.create
    ]
    changes = [
        audit.Change(
            "create", "project", project_id, row["enterprise_id"], _values(project_id, row)
        )
        for project_id, row in zip(insert_rows(session, PROJECT, new, ids=True), new, strict=True)
    ]
    changed = []
    for plan in plans:
        held = plan.held
        if plan.action != RowAction.update or held is None:
            continue
        merged = {**held, **plan.columns}
        changed.append(
            {
                "id": held["id"],
                "version": held["version"] + 1,
                "updated_at": now,
                **{c: merged[c] for c in merge.PROJECT_FIELDS},
            }
        )
        changes.append(
            audit.Change(
                "update",
                "project",
                held["id"],
                held["enterprise_id"],
                {c: (held[c], v) for c, v in plan.columns.items()},
            )
        )
    update_rows(session, PROJECT, changed)
    audit.write(session, principal, changes)
    return sorted({change.enterprise_id for change in changes if change.enterprise_id is not None})

"""Publishing a library release (定期发布): a numbered, immutable snapshot of the enterprise
and project libraries as they are today, for the office only.

Every item is kept whole (public and private facts) with whether its enterprise shared its
private facts with banks then, a digest of it and a digest of its public facts alone (none:
a project on no key-project list has no public facts). The release counts what banks get of
it and carries two checksums: of everything, and of what banks saw at publication. Numbers
follow each other; two publications at once cannot take the same number (409)."""

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, bank_view, require
from service.core.errors import Conflict
from service.core.models import today_local
from service.enterprises.queries import contacts_by_enterprise, projects_after
from service.lists import queries
from service.lists.models import LibraryRelease, ReleaseItem

_BATCH = 5000


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(data).encode()).hexdigest()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _by_enterprise(rows: Iterable[tuple[int, dict[str, Any]]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for enterprise_id, item in rows:
        out.setdefault(enterprise_id, []).append(item)
    return out


def _enterprise_items(session: Session, on: date) -> Iterator[tuple[int, bool, dict[str, Any]]]:
    """Every enterprise with its public and private facts, and whether it shares the private
    ones with banks."""
    qualifications = _by_enterprise(
        (
            q[0],
            {"type_code": q[1], "issued_date": _iso(q[2]), "expires_date": _iso(q[3])},
        )
        for q in queries.qualifications_valid_on(session, on)
    )
    contacts = contacts_by_enterprise(session, None)
    needs = _by_enterprise(
        (
            n[0],
            {
                "id": n[1],
                "amount_fen": n[2],
                "term_months": n[3],
                "purpose": str(n[4]),
                "wanted_by_date": _iso(n[5]),
            },
        )
        for n in queries.needs_for_any_bank(session)
    )
    for e in queries.enterprise_facts(session):
        yield (
            e[0],
            bool(e[9]),
            {
                "id": e[0],
                "credit_code": e[1],
                "name": e[2],
                "district_code": e[3],
                "cluster_code": e[4],
                "chain_tag": e[5],
                "industry_code": e[6],
                "size_class": e[7],
                "registered_in_wuxi": e[8],
                "ownership": e[10],
                "established_date": _iso(e[11]),
                "qualifications": qualifications.get(e[0], []),
                "employees": e[12],
                "revenue_fen": e[13],
                "total_assets_fen": e[14],
                "credit_grade": e[15],
                "contacts": contacts.get(e[0], []),
                "needs": needs.get(e[0], []),
            },
        )


def _project_items(
    session: Session, shared: set[int]
) -> Iterator[tuple[int, bool, dict[str, Any]]]:
    """Every project with its public and private facts, and whether its enterprise shares
    the private ones with banks (``shared``: those enterprises)."""
    after: int | None = None
    while True:
        batch = projects_after(session, after, _BATCH)
        for p, enterprise_name, _ in batch:
            assert p.id is not None
            yield (
                p.id,
                p.enterprise_id in shared,
                {
                    "id": p.id,
                    "enterprise_id": p.enterprise_id,
                    "enterprise_name": enterprise_name,
                    "name": p.name,
                    "kind": str(p.kind),
                    "cluster_code": p.cluster_code,
                    "total_investment_fen": p.total_investment_fen,
                    "equipment_investment_fen": p.equipment_investment_fen,
                    "financing_need_fen": p.financing_need_fen,
                    "year": p.year,
                    "status": str(p.status),
                    "description": p.description,
                    "listed_in": p.listed_in,
                },
            )
        if len(batch) < _BATCH:
            return
        after = batch[-1][0].id


def publish(session: Session, principal: Principal, note: str | None = None) -> LibraryRelease:
    """A new release of both libraries as they are now, numbered after the last."""
    require(principal, Role.office)
    number = queries.last_release_number(session) + 1
    on = today_local()
    whole, banks = hashlib.sha256(), hashlib.sha256()
    counts = {"enterprise": 0, "project": 0, "shared_enterprises": 0, "shared_projects": 0}
    counts |= {"public_projects": 0, "private_projects": 0}
    shared_enterprises: set[int] = set()
    release = LibraryRelease(
        number=number,
        as_of=on,
        enterprises=0,
        projects=0,
        shared_enterprises=0,
        shared_projects=0,
        checksum="",
        shared_checksum="",
        note=note,
        created_by=principal.ref,
    )
    session.add(release)
    try:
        session.flush()
    except Exception as exc:  # noqa: BLE001 - another publication took the number
        session.rollback()
        raise Conflict("另一个发布正在进行，请稍后重试。", code="release_in_progress") from exc
    batch: list[dict[str, Any]] = []

    def add(kind: str, item_id: int, shared: bool, data: dict[str, Any]) -> None:
        digest = _digest(data)
        public = bank_view(kind, data, consented=False)
        public_digest = _digest(public) if public is not None else None
        whole.update(f"{kind}:{item_id}:{digest}\n".encode())
        seen = digest if shared else public_digest  # what banks get of it
        if seen is not None:
            banks.update(f"{kind}:{item_id}:{seen}\n".encode())
        counts[kind] += 1
        if shared:
            counts[f"shared_{kind}s"] += 1
        if kind == "project":
            if public_digest is not None:
                counts["public_projects"] += 1
            elif shared:
                counts["private_projects"] += 1
        batch.append(
            {
                "release_number": number,
                "kind": kind,
                "item_id": item_id,
                "shared": shared,
                "digest": digest,
                "public_digest": public_digest,
                "data": data,
            }
        )
        if len(batch) >= _BATCH:
            session.execute(insert(ReleaseItem), batch)
            batch.clear()

    for item_id, shared, data in _enterprise_items(session, on):
        if shared:
            shared_enterprises.add(item_id)
        add("enterprise", item_id, shared, data)
    for item_id, shared, data in _project_items(session, shared_enterprises):
        add("project", item_id, shared, data)
    if batch:
        session.execute(insert(ReleaseItem), batch)
    release.enterprises, release.projects = counts["enterprise"], counts["project"]
    release.shared_enterprises = counts["shared_enterprises"]
    release.shared_projects = counts["shared_projects"]
    release.public_projects = counts["public_projects"]
    release.private_projects = counts["private_projects"]
    release.checksum, release.shared_checksum = whole.hexdigest(), banks.hexdigest()
    session.commit()
    return release

"""Library releases (定期发布): the office publishes numbered, immutable snapshots of the
enterprise and project libraries; banks fetch the latest (ETag / If-None-Match), any earlier
one, and the difference between two. A bank sees only the enterprises that consented to share
their details with banks (and their projects); the office sees everything.

Consent is read twice for a bank: when the release is published (only what was shared then is
in its view) and when the bank reads it (an enterprise that has withdrawn its consent since
is withheld from every release, its entries marked and counted, until it consents again).
The stored snapshot never changes; the office reads it as published."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.errors import Conflict, NotFound, Unprocessable
from service.core.models import today_local
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Enterprise, Project, Qualification
from service.lists.models import LibraryRelease, ReleaseItem
from service.lists.schemas import ChangePublic, ReleaseItemPublic, ReleasePublic

KINDS = ("enterprise", "project")
_BATCH = 5000


class ReleaseNotFound(NotFound):
    code = "release_not_found"


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _enterprise_items(session: Session, on: date) -> Iterator[tuple[int, bool, dict[str, Any]]]:
    qualifications: dict[int, list[dict[str, Any]]] = {}
    for q in session.execute(
        select(
            Qualification.enterprise_id,
            Qualification.type_code,
            Qualification.issued_date,
            Qualification.expires_date,
        )
        .where(
            Qualification.issued_date <= on,
            or_(Qualification.expires_date.is_(None), Qualification.expires_date >= on),  # type: ignore[union-attr]
        )
        .order_by(Qualification.enterprise_id, Qualification.type_code, Qualification.issued_date)
    ):
        qualifications.setdefault(q[0], []).append(
            {
                "type_code": q[1],
                "issued_date": q[2].isoformat(),
                "expires_date": q[3].isoformat() if q[3] else None,
            }
        )
    for e in session.execute(
        select(
            Enterprise.id,
            Enterprise.credit_code,
            Enterprise.name,
            Enterprise.district_code,
            Enterprise.cluster_code,
            Enterprise.chain_tag,
            Enterprise.industry_code,
            Enterprise.size_class,
            Enterprise.registered_in_wuxi,
            Enterprise.share_with_banks,
        ).order_by(Enterprise.id)
    ):
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
                "qualifications": qualifications.get(e[0], []),
            },
        )


def _project_items(
    session: Session, shared: set[int]
) -> Iterator[tuple[int, bool, dict[str, Any]]]:
    for p in session.execute(
        select(
            Project.id,
            Project.enterprise_id,
            Project.name,
            Project.kind,
            Project.cluster_code,
            Project.total_investment_fen,
            Project.financing_need_fen,
            Project.year,
            Project.status,
        ).order_by(Project.id)
    ):
        yield (
            p[0],
            p[1] in shared,
            {
                "id": p[0],
                "enterprise_id": p[1],
                "name": p[2],
                "kind": str(p[3]),
                "cluster_code": p[4],
                "total_investment_fen": p[5],
                "financing_need_fen": p[6],
                "year": p[7],
                "status": str(p[8]),
            },
        )


def publish(session: Session, principal: Principal, note: str | None = None) -> LibraryRelease:
    """A new release of both libraries as they are now, numbered after the last."""
    require(principal, Role.office)
    last = session.scalar(select(func.max(LibraryRelease.number))) or 0
    number = last + 1
    on = today_local()
    whole, shared_only = hashlib.sha256(), hashlib.sha256()
    counts = {"enterprise": [0, 0], "project": [0, 0]}
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
        text = _canonical(data)
        digest = hashlib.sha256(text.encode()).hexdigest()
        line = f"{kind}:{item_id}:{digest}\n".encode()
        whole.update(line)
        counts[kind][0] += 1
        if shared:
            shared_only.update(line)
            counts[kind][1] += 1
        batch.append(
            {
                "release_number": number,
                "kind": kind,
                "item_id": item_id,
                "shared": shared,
                "digest": digest,
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
    release.enterprises, release.shared_enterprises = counts["enterprise"]
    release.projects, release.shared_projects = counts["project"]
    release.checksum, release.shared_checksum = whole.hexdigest(), shared_only.hexdigest()
    session.commit()
    return release


# --- consent withdrawn since publication -----------------------------------------------------

CONSENT_WITHDRAWN = "consent_withdrawn"


def _consents_now(item: Any) -> ColumnElement[bool]:
    """Whether a release item's enterprise shares its details with banks today: an enterprise
    item by its id, a project by the enterprise it belonged to when published."""
    sharing = select(Enterprise.id).where(Enterprise.share_with_banks.is_(True))  # type: ignore[attr-defined]
    return or_(
        and_(item.kind == "enterprise", item.item_id.in_(sharing)),
        and_(item.kind == "project", item.data["enterprise_id"].as_integer().in_(sharing)),
    )


@dataclass(frozen=True)
class Withheld:
    """What a bank's view of a release leaves out because consent was withdrawn since."""

    enterprises: tuple[int, ...] = ()
    projects: int = 0

    @property
    def note(self) -> str | None:
        if not self.enterprises:
            return None
        projects = f"及其 {self.projects} 个项目" if self.projects else ""
        return (
            f"本版发布后，有 {len(self.enterprises)} 家企业撤回了向银行共享信息的授权：它们的"
            f"企业信息{projects}不再向银行提供（条目标注 withheld），请删除已保存的这些信息；"
            "企业重新授权后恢复提供。"
        )


def _withheld(session: Session, release: LibraryRelease, principal: Principal) -> Withheld:
    if _sees_all(principal) or not release.shared_enterprises:
        return Withheld()
    shared = and_(
        ReleaseItem.release_number == release.number,
        ReleaseItem.shared.is_(True),  # type: ignore[attr-defined]
        ~_consents_now(ReleaseItem),
    )
    enterprises = session.scalars(
        select(ReleaseItem.item_id)
        .where(shared, ReleaseItem.kind == "enterprise")
        .order_by(ReleaseItem.item_id)
    ).all()
    if not enterprises:
        return Withheld()
    projects = session.scalar(
        select(func.count()).select_from(ReleaseItem).where(shared, ReleaseItem.kind == "project")
    )
    return Withheld(tuple(enterprises), projects or 0)


def _withheld_counts(
    session: Session, numbers: list[int], principal: Principal
) -> dict[int, Withheld]:
    """``_withheld`` for a page of releases, in one statement."""
    if _sees_all(principal) or not numbers:
        return {}
    rows = session.execute(
        select(ReleaseItem.release_number, ReleaseItem.kind, ReleaseItem.item_id).where(
            ReleaseItem.release_number.in_(numbers),  # type: ignore[attr-defined]
            ReleaseItem.shared.is_(True),  # type: ignore[attr-defined]
            ~_consents_now(ReleaseItem),
        )
    ).all()
    enterprises: dict[int, list[int]] = {}
    projects: dict[int, int] = {}
    for number, kind, item_id in rows:
        if kind == "enterprise":
            enterprises.setdefault(number, []).append(item_id)
        else:
            projects[number] = projects.get(number, 0) + 1
    return {
        number: Withheld(tuple(sorted(ids)), projects.get(number, 0))
        for number, ids in enterprises.items()
    }


# --- reading --------------------------------------------------------------------------------


def _sees_all(principal: Principal) -> bool:
    require(principal, Role.office, Role.bank)
    return principal.is_office


def release_public(
    release: LibraryRelease, principal: Principal, withheld: Withheld | None = None
) -> ReleasePublic:
    everything = _sees_all(principal)
    withheld = withheld or Withheld()
    return ReleasePublic(
        number=release.number,
        as_of=release.as_of,
        enterprises=release.enterprises
        if everything
        else release.shared_enterprises - len(withheld.enterprises),
        projects=release.projects if everything else release.shared_projects - withheld.projects,
        shared_enterprises=release.shared_enterprises,
        shared_projects=release.shared_projects,
        checksum=release.checksum if everything else release.shared_checksum,
        withheld_since_consent_withdrawn=len(withheld.enterprises),
        withheld_projects_since_consent_withdrawn=withheld.projects,
        withheld_note=withheld.note,
        note=release.note,
        created_by=release.created_by,
        created_at=release.created_at,
    )


def etag(release: LibraryRelease, principal: Principal, withheld: Withheld | None = None) -> str:
    """Strong. The stored release never changes; the office's and the banks' views differ, and
    a bank's changes with the enterprises withheld from it (as consent is withdrawn and given
    again)."""
    scope = "all" if _sees_all(principal) else "shared"
    if withheld and withheld.enterprises:
        ids = ",".join(map(str, withheld.enterprises)).encode()
        scope += "-w" + hashlib.sha256(ids).hexdigest()[:16]
    return f'"release-{release.number}-{scope}"'


def view(session: Session, principal: Principal, number: int | None) -> tuple[str, ReleasePublic]:
    """A release (by number, or the latest) as the caller sees it today, with its ETag."""
    release = get_release(session, principal, number)
    withheld = _withheld(session, release, principal)
    return etag(release, principal, withheld), release_public(release, principal, withheld)


def get_release(session: Session, principal: Principal, number: int | None) -> LibraryRelease:
    """A release by number, or the latest (None)."""
    _sees_all(principal)
    if number is None:
        release = session.scalar(
            select(LibraryRelease).order_by(LibraryRelease.number.desc()).limit(1)  # type: ignore[attr-defined]
        )
        if release is None:
            raise ReleaseNotFound("尚未发布任何版本。", code="no_release")
        return release
    release = session.get(LibraryRelease, number)
    if release is None:
        raise ReleaseNotFound(f"第 {number} 版不存在。")
    return release


def list_releases(session: Session, principal: Principal, page: PageParams) -> Page[ReleasePublic]:
    _sees_all(principal)
    statement = select(LibraryRelease)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(LibraryRelease.number < key[0])
    rows = list(
        session.scalars(statement.order_by(LibraryRelease.number.desc()).limit(page.limit + 1))  # type: ignore[attr-defined]
    )
    result = make_page(rows, page.limit, lambda r: [r.number])
    withheld = _withheld_counts(session, [r.number for r in result.items], principal)
    result.items = [release_public(r, principal, withheld.get(r.number)) for r in result.items]
    return result


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise Unprocessable(f"kind 应为 {' 或 '.join(KINDS)}。", code="invalid_kind", field="kind")


def _after(key: list[Any] | None, table: Any) -> Any:
    if not key:
        return True
    return or_(table.kind > key[0], and_(table.kind == key[0], table.item_id > key[1]))


def items(
    session: Session,
    principal: Principal,
    number: int,
    page: PageParams,
    kind: str | None = None,
) -> Page[ReleaseItemPublic]:
    """A release's items by kind and id; a bank gets the shared ones only, and of those whose
    enterprise has withdrawn its consent since, the kind and id marked withheld, no data."""
    _check_kind(kind)
    release = get_release(session, principal, number)
    everything = _sees_all(principal)
    consents = true() if everything else _consents_now(ReleaseItem)
    statement = select(ReleaseItem, consents).where(ReleaseItem.release_number == release.number)
    if not everything:
        statement = statement.where(ReleaseItem.shared.is_(True))  # type: ignore[attr-defined]
    if kind is not None:
        statement = statement.where(ReleaseItem.kind == kind)
    key = cursor_key(page, 2, (str, int))
    statement = statement.where(_after(key, ReleaseItem))
    rows = list(
        session.execute(
            statement.order_by(ReleaseItem.kind, ReleaseItem.item_id).limit(page.limit + 1)
        ).all()
    )
    result = make_page(rows, page.limit, lambda r: [r[0].kind, r[0].item_id])
    result.items = [
        ReleaseItemPublic(kind=r.kind, id=r.item_id, data=r.data)
        if shown
        else ReleaseItemPublic(kind=r.kind, id=r.item_id, data=None, withheld=CONSENT_WITHDRAWN)
        for r, shown in result.items
    ]
    return result


def diff(
    session: Session,
    principal: Principal,
    number: int,
    since: int,
    page: PageParams,
) -> Page[ChangePublic]:
    """What changed from release ``since`` to release ``number``, by kind and id: items
    added, removed (for a bank: no longer shared counts as removed) and changed (with the
    fields that changed). For a bank, the later release's items whose enterprise has withdrawn
    its consent since are not there: what the bank had of them in the earlier one is removed,
    marked withheld, and nothing of them is added or changed."""
    new = get_release(session, principal, number)
    old = get_release(session, principal, since)
    everything = _sees_all(principal)
    n, o = aliased(ReleaseItem), aliased(ReleaseItem)
    key = cursor_key(page, 2, (str, int))

    def published(alias: Any) -> Any:
        """In the caller's view when the release was published."""
        return True if everything else alias.shared.is_(True)

    def visible(alias: Any) -> Any:
        """In the caller's view of the release today."""
        return True if everything else and_(alias.shared.is_(True), _consents_now(alias))

    present = (
        select(n.kind, n.item_id, n.data, n.digest, o.data, o.digest)
        .outerjoin(
            o,
            and_(
                o.release_number == old.number,
                o.kind == n.kind,
                o.item_id == n.item_id,
                published(o),
            ),
        )
        .where(n.release_number == new.number, visible(n), _after(key, n))
        .where(or_(o.id.is_(None), o.digest != n.digest))
        .order_by(n.kind, n.item_id)
        .limit(page.limit + 1)
    )
    gone = (
        select(o.kind, o.item_id, true() if everything else _consents_now(o))
        .outerjoin(
            n,
            and_(
                n.release_number == new.number, n.kind == o.kind, n.item_id == o.item_id, visible(n)
            ),
        )
        .where(o.release_number == old.number, published(o), n.id.is_(None), _after(key, o))
        .order_by(o.kind, o.item_id)
        .limit(page.limit + 1)
    )
    changes: list[ChangePublic] = []
    for kind, item_id, data, _digest, old_data, old_digest in session.execute(present):
        if old_digest is None:
            changes.append(ChangePublic(kind=kind, id=item_id, change="added", data=data))
        else:
            fields = sorted(k for k in set(data) | set(old_data) if data.get(k) != old_data.get(k))
            changes.append(
                ChangePublic(kind=kind, id=item_id, change="changed", fields=fields, data=data)
            )
    for kind, item_id, consents in session.execute(gone):
        changes.append(
            ChangePublic(
                kind=kind,
                id=item_id,
                change="removed",
                data=None,
                withheld=None if consents else CONSENT_WITHDRAWN,
            )
        )
    changes.sort(key=lambda c: (c.kind, c.id))
    return make_page(changes, page.limit, lambda c: [c.kind, c.id])

"""Library releases (定期发布): the office publishes numbered, immutable snapshots of the
enterprise and project libraries; banks fetch the latest (ETag / If-None-Match), any earlier
one, and the difference between two. The office sees everything. A bank sees every enterprise's
public facts and every listed project's, and the private facts of the enterprises that
consented (the tiers are ``access.policy``'s: ``bank_view``).

Consent is read twice for a bank: when the release is published (private facts are in its view
only if shared then) and when the bank reads it (an enterprise that has withdrawn its consent
since has its private facts withheld from every release, its entries marked and counted, until
it consents again). The stored snapshot never changes; the office reads it as published."""

import hashlib
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, insert, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import (
    FactTier,
    Principal,
    bank_view,
    require,
    tier_fields,
)
from service.core.errors import Conflict, NotFound, Unprocessable
from service.core.models import today_local
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Contact, Enterprise, Project, Qualification
from service.lists.models import LibraryRelease, ReleaseItem
from service.lists.schemas import ChangePublic, ReleaseItemPublic, ReleasePublic, TierPublic
from service.matching.models import FinancingNeed, NeedStatus

KINDS = ("enterprise", "project")
_BATCH = 5000


class ReleaseNotFound(NotFound):
    code = "release_not_found"


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(data).encode()).hexdigest()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _by_enterprise(rows: Any) -> dict[int, list[dict[str, Any]]]:
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
            .order_by(
                Qualification.enterprise_id, Qualification.type_code, Qualification.issued_date
            )
        )
    )
    contacts = _by_enterprise(
        (c[0], {"name": c[1], "title": c[2], "phone": c[3], "email": c[4], "is_primary": c[5]})
        for c in session.execute(
            select(
                Contact.enterprise_id,
                Contact.name,
                Contact.title,
                Contact.phone,
                Contact.email,
                Contact.is_primary,
            ).order_by(Contact.enterprise_id, Contact.id)
        )
    )
    # Open needs that any bank may be offered (a need kept for some banks reaches them as leads).
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
        for n in session.execute(
            select(
                FinancingNeed.enterprise_id,
                FinancingNeed.id,
                FinancingNeed.amount_fen,
                FinancingNeed.term_months,
                FinancingNeed.purpose,
                FinancingNeed.wanted_by_date,
            )
            .where(
                FinancingNeed.status.in_([NeedStatus.open, NeedStatus.matched]),  # type: ignore[attr-defined]
                # for any bank: no list of banks (JSON null as stored, or SQL NULL)
                or_(
                    FinancingNeed.bank_codes.is_(None),  # type: ignore[union-attr]
                    cast(FinancingNeed.bank_codes, String) == "null",
                ),
            )
            .order_by(FinancingNeed.enterprise_id, FinancingNeed.id)
        )
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
            Enterprise.ownership,
            Enterprise.established_date,
            Enterprise.employees,
            Enterprise.revenue_fen,
            Enterprise.total_assets_fen,
            Enterprise.credit_grade,
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
    for p in session.execute(
        select(
            Project.id,
            Project.enterprise_id,
            Enterprise.name,
            Project.name,
            Project.kind,
            Project.cluster_code,
            Project.total_investment_fen,
            Project.equipment_investment_fen,
            Project.financing_need_fen,
            Project.year,
            Project.status,
            Project.description,
            Project.listed_in,
        )
        .join(Enterprise, Enterprise.id == Project.enterprise_id)
        .order_by(Project.id)
    ):
        yield (
            p[0],
            p[1] in shared,
            {
                "id": p[0],
                "enterprise_id": p[1],
                "enterprise_name": p[2],
                "name": p[3],
                "kind": str(p[4]),
                "cluster_code": p[5],
                "total_investment_fen": p[6],
                "equipment_investment_fen": p[7],
                "financing_need_fen": p[8],
                "year": p[9],
                "status": str(p[10]),
                "description": p[11],
                "listed_in": p[12],
            },
        )


def publish(session: Session, principal: Principal, note: str | None = None) -> LibraryRelease:
    """A new release of both libraries as they are now, numbered after the last."""
    require(principal, Role.office)
    last = session.scalar(select(func.max(LibraryRelease.number))) or 0
    number = last + 1
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


# --- consent withdrawn since publication -----------------------------------------------------

CONSENT_WITHDRAWN = "consent_withdrawn"


def _consents_now(item: Any) -> ColumnElement[bool]:
    """Whether a release item's enterprise shares its private facts with banks today: an
    enterprise item by its id, a project by the enterprise it belonged to when published."""
    sharing = select(Enterprise.id).where(Enterprise.share_with_banks.is_(True))  # type: ignore[attr-defined]
    return or_(
        and_(item.kind == "enterprise", item.item_id.in_(sharing)),
        and_(item.kind == "project", item.data["enterprise_id"].as_integer().in_(sharing)),
    )


def _full_now(item: Any) -> ColumnElement[bool]:
    """A bank gets the item's private facts today: shared when published, and still."""
    return and_(item.shared.is_(True), _consents_now(item))


def _withdrawn(item: Any) -> ColumnElement[bool]:
    """Shared when published, not any more."""
    return and_(item.shared.is_(True), ~_consents_now(item))


@dataclass(frozen=True)
class Withheld:
    """What a bank's view of a release leaves out because consent was withdrawn since: the
    private facts of these enterprises, and the projects that have no public facts."""

    enterprises: tuple[int, ...] = ()
    projects: int = 0

    @property
    def note(self) -> str | None:
        if not self.enterprises:
            return None
        projects = f"，以及 {self.projects} 个未列入重点项目名单的项目" if self.projects else ""
        return (
            f"本版发布后，有 {len(self.enterprises)} 家企业撤回了向银行共享非公开信息的授权："
            f"它们的经营数据、信用等级、联系人和融资需求{projects}不再向银行提供（条目标注 "
            "withheld），请删除已保存的这些信息；公开信息照常提供，企业重新授权后恢复。"
        )


def _withheld(session: Session, release: LibraryRelease, principal: Principal) -> Withheld:
    found = _withheld_counts(session, [release.number], principal)
    return found.get(release.number, Withheld())


def _withheld_counts(
    session: Session, numbers: list[int], principal: Principal
) -> dict[int, Withheld]:
    """``Withheld`` of each release of a page, in one statement."""
    if _sees_all(principal) or not numbers:
        return {}
    rows = session.execute(
        select(
            ReleaseItem.release_number,
            ReleaseItem.kind,
            ReleaseItem.item_id,
            ReleaseItem.public_digest.is_(None),  # type: ignore[union-attr]
        ).where(
            ReleaseItem.release_number.in_(numbers),  # type: ignore[attr-defined]
            _withdrawn(ReleaseItem),
        )
    ).all()
    enterprises: dict[int, list[int]] = {}
    projects: dict[int, int] = {}
    for number, kind, item_id, private_only in rows:
        if kind == "enterprise":
            enterprises.setdefault(number, []).append(item_id)
        elif private_only:
            projects[number] = projects.get(number, 0) + 1
    return {
        number: Withheld(tuple(sorted(ids)), projects.get(number, 0))
        for number, ids in enterprises.items()
    }


# --- reading --------------------------------------------------------------------------------


def _sees_all(principal: Principal) -> bool:
    require(principal, Role.office, Role.bank)
    return principal.is_office


def _tiers() -> TierPublic:
    return TierPublic(
        public={kind: tier_fields(kind, FactTier.public) for kind in KINDS},
        private={kind: tier_fields(kind, FactTier.private) for kind in KINDS},
    )


def _warnings(release: LibraryRelease) -> list[str]:
    """What the office should know before banks read the release."""
    out = []
    if release.enterprises and not release.shared_enterprises:
        out.append(
            "本版没有企业同意向银行共享非公开信息：银行只能看到企业的公开信息"
            "（名称、信用代码、地区、集群、行业、资质），看不到经营数据、联系人和融资需求。"
            "可凭企业签署的入库申报表代为登记授权。"
        )
    hidden = release.projects - release.public_projects - release.private_projects
    if hidden > 0:
        out.append(
            f"有 {hidden} 个项目既未列入重点项目名单、其企业也未授权共享：银行看不到这些项目。"
        )
    return out


def release_public(
    release: LibraryRelease, principal: Principal, withheld: Withheld | None = None
) -> ReleasePublic:
    everything = _sees_all(principal)
    withheld = withheld or Withheld()
    return ReleasePublic(
        number=release.number,
        as_of=release.as_of,
        enterprises=release.enterprises,
        projects=release.projects
        if everything
        else release.public_projects + release.private_projects - withheld.projects,
        shared_enterprises=release.shared_enterprises,
        shared_projects=release.shared_projects,
        consented_enterprises=release.shared_enterprises,
        public_projects=release.public_projects,
        private_projects=release.private_projects,
        tiers=_tiers(),
        checksum=release.checksum if everything else release.shared_checksum,
        withheld_since_consent_withdrawn=len(withheld.enterprises),
        withheld_projects_since_consent_withdrawn=withheld.projects,
        withheld_note=withheld.note,
        warnings=_warnings(release) if everything else [],
        note=release.note,
        created_by=release.created_by,
        created_at=release.created_at,
    )


def etag(release: LibraryRelease, principal: Principal, withheld: Withheld | None = None) -> str:
    """Strong. The stored release never changes; the office's and the banks' views differ, and
    a bank's changes with the enterprises withheld from it (as consent is withdrawn and given
    again)."""
    scope = "all" if _sees_all(principal) else "banks"
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


def _in_bank_view(item: Any) -> ColumnElement[bool]:
    """The item is in a bank's view today: it has public facts, or its private ones are
    shared; or it was shared when published (then it is listed, marked withheld)."""
    return or_(item.public_digest.is_not(None), item.shared.is_(True))


def _shown(kind: str, data: dict[str, Any], full: bool, shared: bool) -> ReleaseItemPublic:
    """What a bank gets of one stored item."""
    seen = bank_view(kind, data, consented=full)
    withheld = CONSENT_WITHDRAWN if shared and not full else None
    return ReleaseItemPublic(kind=kind, id=data["id"], data=seen, withheld=withheld)


def _found(item: Any, search: str) -> ColumnElement[bool]:
    """An enterprise by a part of its name or by its credit code: public facts of every
    enterprise, so that a search reveals nothing a bank may not see."""
    code = unicodedata.normalize("NFKC", search).strip().upper()
    return and_(
        item.kind == "enterprise",
        or_(
            item.data["name"].as_string().contains(search.strip(), autoescape=True),
            item.data["credit_code"].as_string() == code,
        ),
    )


def items(
    session: Session,
    principal: Principal,
    number: int,
    page: PageParams,
    kind: str | None = None,
    search: str | None = None,
) -> Page[ReleaseItemPublic]:
    """A release's items by kind and id. A bank gets every item with public facts (with its
    private facts too when shared then and still), and of the items whose enterprise has
    withdrawn its consent since, the public facts or, for a project with none, the kind and
    id, marked withheld. With ``search``, only the enterprises whose name holds it or whose
    credit code it is."""
    _check_kind(kind)
    release = get_release(session, principal, number)
    everything = _sees_all(principal)
    full = true() if everything else _full_now(ReleaseItem)
    statement = select(ReleaseItem, full).where(ReleaseItem.release_number == release.number)
    if not everything:
        statement = statement.where(_in_bank_view(ReleaseItem))
    if kind is not None:
        statement = statement.where(ReleaseItem.kind == kind)
    if search and search.strip():
        statement = statement.where(_found(ReleaseItem, search))
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
        if everything
        else _shown(r.kind, {**r.data, "id": r.item_id}, bool(shown), r.shared)
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
    added, removed and changed (with the fields that changed). A bank compares what it got
    of the earlier release when it was published with what it gets of the later one today:
    an enterprise that started sharing has its private facts added (changed), one that has
    withdrawn its consent has them removed (changed, marked withheld), and a project with no
    public facts comes and goes with the consent."""
    new = get_release(session, principal, number)
    old = get_release(session, principal, since)
    everything = _sees_all(principal)
    n, o = aliased(ReleaseItem), aliased(ReleaseItem)
    key = cursor_key(page, 2, (str, int))

    def then(alias: Any) -> Any:
        """The digest of what the caller got of an item when it was published (null: none)."""
        if everything:
            return alias.digest
        return case((alias.shared.is_(True), alias.digest), else_=alias.public_digest)

    def now(alias: Any) -> Any:
        """The digest of what the caller gets of an item today (null: nothing)."""
        if everything:
            return alias.digest
        return case((_full_now(alias), alias.digest), else_=alias.public_digest)

    def full(alias: Any) -> Any:
        return true() if everything else _full_now(alias)

    old_view, new_view = then(o), now(n)
    consents = true() if everything else _consents_now(n)
    present = (
        select(n.kind, n.item_id, n.data, full(n), consents, o.data, o.shared, old_view)
        .outerjoin(
            o,
            and_(o.release_number == old.number, o.kind == n.kind, o.item_id == n.item_id),
        )
        .where(n.release_number == new.number, new_view.is_not(None), _after(key, n))
        .where(or_(old_view.is_(None), old_view != new_view))
        .order_by(n.kind, n.item_id)
        .limit(page.limit + 1)
    )
    gone = (
        select(o.kind, o.item_id, true() if everything else ~_withdrawn(o))
        .outerjoin(
            n,
            and_(n.release_number == new.number, n.kind == o.kind, n.item_id == o.item_id),
        )
        .where(o.release_number == old.number, old_view.is_not(None), _after(key, o))
        .where(or_(n.id.is_(None), new_view.is_(None)))
        .order_by(o.kind, o.item_id)
        .limit(page.limit + 1)
    )
    changes: list[ChangePublic] = []
    for kind, item_id, data, new_full, consenting, old_data, old_shared, before in session.execute(
        present
    ):
        if everything:
            seen, had = data, old_data
        else:
            seen = bank_view(kind, data, consented=bool(new_full))
            had = bank_view(kind, old_data, consented=bool(old_shared)) if before else None
        if before is None:
            changes.append(ChangePublic(kind=kind, id=item_id, change="added", data=seen))
            continue
        assert seen is not None and had is not None
        fields = sorted(k for k in set(seen) | set(had) if seen.get(k) != had.get(k))
        changes.append(
            ChangePublic(
                kind=kind,
                id=item_id,
                change="changed",
                fields=fields,
                data=seen,
                # private facts the bank had are gone because the consent was withdrawn
                withheld=CONSENT_WITHDRAWN if set(had) - set(seen) and not consenting else None,
            )
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

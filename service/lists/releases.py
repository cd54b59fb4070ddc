"""Reading library releases: banks fetch the latest (ETag / If-None-Match), any earlier one,
its items, and the difference between two; the office reads them too. (Publishing one is
``lists.publishing``.)

Who reads what is the access policy's: releases are the office's and the banks'
(``reads_releases_as_published``); the office reads a release as published, a bank every
enterprise's public facts and every listed project's, and the private facts of the
enterprises that consented (``bank_view``).

Consent is read twice for a bank: when the release is published (private facts are in its view
only if shared then) and when the bank reads it (an enterprise that has withdrawn its consent
since has its private facts withheld from every release, its entries marked and counted, until
it consents again: ``queries.full_now``). The stored snapshot never changes; the office reads it
as published."""

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.access.policy import (
    FactTier,
    Principal,
    bank_view,
    reads_releases_as_published,
    tier_fields,
)
from service.core.errors import Unprocessable
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.lists import queries
from service.lists.exceptions import ReleaseNotFound
from service.lists.models import LibraryRelease
from service.lists.schemas import ChangePublic, ReleaseItemPublic, ReleasePublic, TierPublic

KINDS = ("enterprise", "project")
CONSENT_WITHDRAWN = "consent_withdrawn"


# --- consent withdrawn since publication -----------------------------------------------------


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
    if reads_releases_as_published(principal) or not numbers:
        return {}
    enterprises: dict[int, list[int]] = {}
    projects: dict[int, int] = {}
    for number, kind, item_id, private_only in queries.withdrawn_items(session, numbers):
        if kind == "enterprise":
            enterprises.setdefault(number, []).append(item_id)
        elif private_only:
            projects[number] = projects.get(number, 0) + 1
    return {
        number: Withheld(tuple(sorted(ids)), projects.get(number, 0))
        for number, ids in enterprises.items()
    }


# --- releases -------------------------------------------------------------------------------


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
    everything = reads_releases_as_published(principal)
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
    scope = "all" if reads_releases_as_published(principal) else "banks"
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
    reads_releases_as_published(principal)
    if number is None:
        release = queries.latest_release(session)
        if release is None:
            raise ReleaseNotFound("尚未发布任何版本。", code="no_release")
        return release
    found = session.get(LibraryRelease, number)
    if found is None:
        raise ReleaseNotFound(f"第 {number} 版不存在。")
    return found


def list_releases(session: Session, principal: Principal, page: PageParams) -> Page[ReleasePublic]:
    reads_releases_as_published(principal)
    key = cursor_key(page, 1, (int,))
    rows = queries.release_page(session, key[0] if key else None, page.limit)
    result = make_page(rows, page.limit, lambda r: [r.number])
    withheld = _withheld_counts(session, [r.number for r in result.items], principal)
    result.items = [release_public(r, principal, withheld.get(r.number)) for r in result.items]
    return result


# --- items and changes ----------------------------------------------------------------------


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise Unprocessable(f"kind 应为 {' 或 '.join(KINDS)}。", code="invalid_kind", field="kind")


def _shown(kind: str, data: dict[str, Any], full: bool, shared: bool) -> ReleaseItemPublic:
    """What a bank gets of one stored item."""
    seen = bank_view(kind, data, consented=full)
    withheld = CONSENT_WITHDRAWN if shared and not full else None
    return ReleaseItemPublic(kind=kind, id=data["id"], data=seen, withheld=withheld)


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
    everything = reads_releases_as_published(principal)
    key = cursor_key(page, 2, (str, int))
    rows = queries.item_page(session, release.number, everything, key, page.limit, kind, search)
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
    everything = reads_releases_as_published(principal)
    key = cursor_key(page, 2, (str, int))
    present, gone = queries.changed_items(
        session, new.number, old.number, everything, key, page.limit
    )
    changes: list[ChangePublic] = []
    for kind, item_id, data, new_full, consenting, old_data, old_shared, before in present:
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
    for kind, item_id, consents in gone:
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

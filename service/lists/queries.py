"""Reads of lists and releases: the library as the linker sees it, imports and their entries,
the snapshot a release is made of, and the items of releases as each caller reads them.

The rule of a release item's private facts for a bank is written here, once, as SQL (it
filters and pages in the database): a bank gets them when the enterprise shared them when the
release was published and still does today (``full_now``); shared then and not any more is
``withdrawn`` (listed, marked, private facts left out). Which fields are private is the access
policy's (``bank_view``), applied by the use cases to what these reads return."""

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from service.core.database import among
from service.enterprises.models import Enterprise, Project, Qualification
from service.lists.models import LibraryRelease, ListEntry, ListImport, Match, ReleaseItem
from service.matching.models import FinancingNeed, NeedStatus
from service.taxonomy.models import QualificationType

# --- the library as the linker sees it, and what a list applies ------------------------------


def library_names(session: Session) -> Sequence[Any]:
    """(id, name, name_normalized, district_code) of every enterprise."""
    # Raw rows: half a million ORM-processed tuples would cost seconds.
    return (
        session.connection()
        .exec_driver_sql("SELECT id, name, name_normalized, district_code FROM enterprise")
        .all()
    )


def enterprise_ids_by_code(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """The library's enterprises of these credit codes, by code."""
    found: dict[str, int] = {}
    unique = sorted(set(codes))
    for start in range(0, len(unique), 1000):
        found.update(
            session.execute(
                select(col(Enterprise.credit_code), col(Enterprise.id)).where(
                    col(Enterprise.credit_code).in_(unique[start : start + 1000])
                )
            ).all()
        )
    return found


def qualification_issued(
    session: Session, enterprise_id: int, type_code: str, issued: date
) -> Qualification | None:
    """The enterprise's qualification of the type issued that day."""
    return session.scalar(
        select(Qualification).where(
            col(Qualification.enterprise_id) == enterprise_id,
            col(Qualification.type_code) == type_code,
            col(Qualification.issued_date) == issued,
        )
    )


def qualification_term(session: Session, type_code: str) -> int | None:
    """How many months a qualification of the type is valid (None: no term)."""
    return session.scalar(
        select(col(QualificationType.term_months)).where(col(QualificationType.code) == type_code)
    )


def project_named(session: Session, enterprise_id: int, name: str) -> Project | None:
    return session.scalar(
        select(Project).where(
            col(Project.enterprise_id) == enterprise_id, col(Project.name) == name
        )
    )


# --- imports and entries --------------------------------------------------------------------


def import_of_file(session: Session, qualification_type: str, checksum: str) -> ListImport | None:
    """The import of the same file for the same list, if there is one."""
    return session.scalar(
        select(ListImport).where(
            col(ListImport.qualification_type) == qualification_type,
            col(ListImport.checksum) == checksum,
        )
    )


def linked_entries(session: Session, import_id: int) -> Sequence[ListEntry]:
    """The entries of an import linked to an enterprise, in list order."""
    return session.scalars(
        select(ListEntry)
        .where(col(ListEntry.import_id) == import_id, col(ListEntry.enterprise_id).is_not(None))
        .order_by(col(ListEntry.row))
    ).all()


def import_page(session: Session, before: int | None, limit: int) -> list[ListImport]:
    """Imports newest first, before the id ``before``: up to ``limit`` and one more (which
    tells that there is a next page)."""
    statement = select(ListImport)
    if before is not None:
        statement = statement.where(col(ListImport.id) < before)
    return list(session.scalars(statement.order_by(col(ListImport.id).desc()).limit(limit + 1)))


def entry_page(
    session: Session,
    after: int | None,
    limit: int,
    import_id: int | None = None,
    match: Match | None = None,
    pending: bool | None = None,
) -> list[ListEntry]:
    """Entries in id order after the id ``after`` (up to ``limit`` and one more): of one
    import, of one way of matching, undecided (``pending``) or decided."""
    statement = select(ListEntry)
    if import_id is not None:
        statement = statement.where(col(ListEntry.import_id) == import_id)
    if match is not None:
        statement = statement.where(col(ListEntry.match) == match)
    if pending is True:
        statement = statement.where(col(ListEntry.decision).is_(None))
    elif pending is False:
        statement = statement.where(col(ListEntry.decision).is_not(None))
    if after is not None:
        statement = statement.where(col(ListEntry.id) > after)
    return list(session.scalars(statement.order_by(col(ListEntry.id)).limit(limit + 1)))


def pending_review_count(session: Session) -> int:
    """Entries for review that the office has not decided."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ListEntry)
            .where(col(ListEntry.match) == Match.review, col(ListEntry.decision).is_(None))
        )
        or 0
    )


# --- what a release is made of --------------------------------------------------------------


def last_release_number(session: Session) -> int:
    return session.scalar(select(func.max(LibraryRelease.number))) or 0


def qualifications_valid_on(session: Session, on: date) -> Iterable[Any]:
    """(enterprise_id, type_code, issued_date, expires_date) of every qualification valid on
    the day, by enterprise, type and issue date."""
    return session.execute(
        select(
            col(Qualification.enterprise_id),
            col(Qualification.type_code),
            col(Qualification.issued_date),
            col(Qualification.expires_date),
        )
        .where(
            col(Qualification.issued_date) <= on,
            or_(col(Qualification.expires_date).is_(None), col(Qualification.expires_date) >= on),
        )
        .order_by(
            col(Qualification.enterprise_id),
            col(Qualification.type_code),
            col(Qualification.issued_date),
        )
    )


def needs_for_any_bank(session: Session) -> Iterable[Any]:
    """(enterprise_id, id, amount_fen, term_months, purpose, wanted_by_date) of the open needs
    that any bank may be offered (a need kept for some banks reaches them as leads), by
    enterprise and id."""
    return session.execute(
        select(
            col(FinancingNeed.enterprise_id),
            col(FinancingNeed.id),
            col(FinancingNeed.amount_fen),
            col(FinancingNeed.term_months),
            col(FinancingNeed.purpose),
            col(FinancingNeed.wanted_by_date),
        )
        .where(
            col(FinancingNeed.status).in_([NeedStatus.open, NeedStatus.matched]),
            # for any bank: no list of banks (JSON null as stored, or SQL NULL)
            or_(
                col(FinancingNeed.bank_codes).is_(None),
                cast(col(FinancingNeed.bank_codes), String) == "null",
            ),
        )
        .order_by(col(FinancingNeed.enterprise_id), col(FinancingNeed.id))
    )


def enterprise_facts(session: Session) -> Iterable[Any]:
    """Every enterprise's facts as a release keeps them, and whether it shares its private
    facts with banks, by id."""
    return session.execute(
        select(
            col(Enterprise.id),
            col(Enterprise.credit_code),
            col(Enterprise.name),
            col(Enterprise.district_code),
            col(Enterprise.cluster_code),
            col(Enterprise.chain_tag),
            col(Enterprise.industry_code),
            col(Enterprise.size_class),
            col(Enterprise.registered_in_wuxi),
            col(Enterprise.share_with_banks),
            col(Enterprise.ownership),
            col(Enterprise.established_date),
            col(Enterprise.employees),
            col(Enterprise.revenue_fen),
            col(Enterprise.total_assets_fen),
            col(Enterprise.credit_grade),
        ).order_by(col(Enterprise.id))
    )


# --- releases -------------------------------------------------------------------------------


def latest_release(session: Session) -> LibraryRelease | None:
    return session.scalar(
        select(LibraryRelease).order_by(col(LibraryRelease.number).desc()).limit(1)
    )


def release_page(session: Session, before: int | None, limit: int) -> list[LibraryRelease]:
    """Releases newest first, before the number ``before``: up to ``limit`` and one more."""
    statement = select(LibraryRelease)
    if before is not None:
        statement = statement.where(col(LibraryRelease.number) < before)
    return list(
        session.scalars(statement.order_by(col(LibraryRelease.number).desc()).limit(limit + 1))
    )


def consents_now(item: Any) -> ColumnElement[bool]:
    """Whether a release item's enterprise shares its private facts with banks today: an
    enterprise item by its id, a project by the enterprise it belonged to when published."""
    sharing = select(col(Enterprise.id)).where(col(Enterprise.share_with_banks).is_(True))
    return or_(
        and_(item.kind == "enterprise", item.item_id.in_(sharing)),
        and_(item.kind == "project", item.data["enterprise_id"].as_integer().in_(sharing)),
    )


def full_now(item: Any) -> ColumnElement[bool]:
    """A bank gets the item's private facts today: shared when published, and still."""
    return and_(item.shared.is_(True), consents_now(item))


def withdrawn(item: Any) -> ColumnElement[bool]:
    """Shared when published, not any more."""
    return and_(item.shared.is_(True), ~consents_now(item))


def in_bank_view(item: Any) -> ColumnElement[bool]:
    """The item is in a bank's view today: it has public facts, or its private ones are
    shared; or it was shared when published (then it is listed, marked withheld)."""
    return or_(item.public_digest.is_not(None), item.shared.is_(True))


def found(item: Any, search: str) -> ColumnElement[bool]:
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


def after(key: list[Any] | None, table: Any) -> Any:
    """Items after the cursor's (kind, item id)."""
    if not key:
        return True
    return or_(table.kind > key[0], and_(table.kind == key[0], table.item_id > key[1]))


def withdrawn_items(session: Session, numbers: Sequence[int]) -> Sequence[Any]:
    """(release_number, kind, item_id, private_only) of the items of these releases whose
    enterprise has withdrawn its consent since: ``private_only`` a project with no public
    facts."""
    return session.execute(
        select(
            col(ReleaseItem.release_number),
            col(ReleaseItem.kind),
            col(ReleaseItem.item_id),
            col(ReleaseItem.public_digest).is_(None),
        ).where(col(ReleaseItem.release_number).in_(numbers), withdrawn(ReleaseItem))
    ).all()


def item_page(
    session: Session,
    number: int,
    as_published: bool,
    key: list[Any] | None,
    limit: int,
    kind: str | None = None,
    search: str | None = None,
) -> list[Any]:
    """(item, full) of a release by kind and id after the cursor's, up to ``limit`` and one
    more. ``as_published``: every item, in full; else the items in a bank's view today, with
    whether it gets their private facts (``full_now``)."""
    full = true() if as_published else full_now(ReleaseItem)
    statement = select(ReleaseItem, full).where(col(ReleaseItem.release_number) == number)
    if not as_published:
        statement = statement.where(in_bank_view(ReleaseItem))
    if kind is not None:
        statement = statement.where(col(ReleaseItem.kind) == kind)
    if search and search.strip():
        statement = statement.where(found(ReleaseItem, search))
    statement = statement.where(after(key, ReleaseItem))
    return list(
        session.execute(
            statement.order_by(col(ReleaseItem.kind), col(ReleaseItem.item_id)).limit(limit + 1)
        ).all()
    )


def _changes(
    new: int, old: int, as_published: bool, key: list[Any] | None, limit: int
) -> tuple[Select[Any], Select[Any]]:
    """The items of release ``new`` whose view differs from release ``old``'s (present), and
    those of ``old`` with no view in ``new`` (gone)."""
    n: Any = aliased(ReleaseItem)
    o: Any = aliased(ReleaseItem)

    def then(alias: Any) -> Any:
        """The digest of what the caller got of an item when it was published (null: none)."""
        if as_published:
            return alias.digest
        return case((alias.shared.is_(True), alias.digest), else_=alias.public_digest)

    def now(alias: Any) -> Any:
        """The digest of what the caller gets of an item today (null: nothing)."""
        if as_published:
            return alias.digest
        return case((full_now(alias), alias.digest), else_=alias.public_digest)

    def full(alias: Any) -> Any:
        return true() if as_published else full_now(alias)

    old_view, new_view = then(o), now(n)
    consents = true() if as_published else consents_now(n)
    present = (
        select(n.kind, n.item_id, n.data, full(n), consents, o.data, o.shared, old_view)
        .outerjoin(o, and_(o.release_number == old, o.kind == n.kind, o.item_id == n.item_id))
        .where(n.release_number == new, new_view.is_not(None), after(key, n))
        .where(or_(old_view.is_(None), old_view != new_view))
        .order_by(n.kind, n.item_id)
        .limit(limit + 1)
    )
    gone = (
        select(o.kind, o.item_id, true() if as_published else ~withdrawn(o))
        .outerjoin(n, and_(n.release_number == new, n.kind == o.kind, n.item_id == o.item_id))
        .where(o.release_number == old, old_view.is_not(None), after(key, o))
        .where(or_(n.id.is_(None), new_view.is_(None)))
        .order_by(o.kind, o.item_id)
        .limit(limit + 1)
    )
    return present, gone


def changed_items(
    session: Session, new: int, old: int, as_published: bool, key: list[Any] | None, limit: int
) -> tuple[Sequence[Any], Sequence[Any]]:
    """What changed from release ``old`` to release ``new`` as the caller sees them (by kind
    and id after the cursor's, up to ``limit`` and one more of each):

    - (kind, item_id, data, full, consents, old_data, old_shared, before) of the items whose
      view is new or differs: ``full`` whether the caller gets the private facts today,
      ``consents`` whether the enterprise shares them today, ``before`` null when the caller
      got nothing of the item in ``old``;
    - (kind, item_id, consents) of the items the caller got in ``old`` and gets nothing of in
      ``new``: ``consents`` false when they are gone because the consent was withdrawn."""
    present, gone = _changes(new, old, as_published, key, limit)
    return session.execute(present).all(), session.execute(gone).all()


def shared_when_published(
    session: Session, number: int, kind: str, ids: Sequence[int]
) -> dict[int, bool]:
    """Whether each of these items of a release was shared with banks when published."""
    if not ids:
        return {}
    rows = session.execute(
        select(col(ReleaseItem.item_id), col(ReleaseItem.shared)).where(
            col(ReleaseItem.release_number) == number,
            col(ReleaseItem.kind) == kind,
            among(session, ReleaseItem.item_id, ids),
        )
    )
    return {item_id: bool(shared) for item_id, shared in rows}


def credit_codes_in_release(
    session: Session, number: int, enterprise_ids: Sequence[int]
) -> dict[int, str]:
    """The credit codes of these enterprises as the release holds them."""
    if not enterprise_ids:
        return {}
    rows = session.execute(
        select(col(ReleaseItem.item_id), col(ReleaseItem.data)["credit_code"].as_string()).where(
            col(ReleaseItem.release_number) == number,
            col(ReleaseItem.kind) == "enterprise",
            among(session, ReleaseItem.item_id, enterprise_ids),
        )
    )
    return {item_id: code for item_id, code in rows}

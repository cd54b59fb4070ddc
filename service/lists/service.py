"""Use cases of lists: importing a government list (preview, then commit), the review queue,
and applying a list's qualification to the enterprises it names. Every use case is the
office's (``require``); its reads are ``lists.queries``, its errors ``lists.exceptions``.

Rules here: a row links by credit code first, else by name (``linking``), and a name linked
automatically while the list gives a code the library does not know goes to review; the same
file for the same list is the same import; a qualification is applied once (same type and
issue date), its expiry from the list, else from the type's term; a key-project list's
project joins the enterprise's project library (listed: its public facts become public)."""

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import insert
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.concurrency import bump_version, check_version
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.models import utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.tables import FileError, read_table
from service.enterprises.models import (
    Enterprise,
    Project,
    ProjectKind,
    ProjectStatus,
    Qualification,
)
from service.enterprises.schemas import EnterpriseCreate
from service.enterprises.service import create_enterprise
from service.lists import link_cache, linking, parsing, queries
from service.lists.exceptions import EntryDecided, EntryNotFound, ImportNotFound, InvalidListImport
from service.lists.models import Decision, ImportStatus, ListEntry, ListImport, Match
from service.lists.schemas import (
    EntryCreate,
    EntryPublic,
    ImportPublic,
)
from service.taxonomy.models import QualificationType
from service.taxonomy.service import district_aliases

Progress = Callable[[int, int], None]


# --- the library as the linker sees it ------------------------------------------------------


def library_index(session: Session) -> linking.LinkIndex:
    """Every enterprise's name, normalised name and district, indexed for blocking: the
    process's copy, brought up to date (``link_cache``)."""
    return link_cache.library_index(session)


# --- importing ------------------------------------------------------------------------------


def preview_import(
    session: Session,
    principal: Principal,
    content: bytes,
    filename: str | None,
    qualification_type: str,
    title: str | None = None,
    source: str | None = None,
    batch: str | None = None,
    issued_date: date | None = None,
    expires_date: date | None = None,
    progress: Progress | None = None,
) -> tuple[ListImport, bool]:
    """Read and link a list; nothing is applied until it is committed. Returns the import and
    whether it was already there (the same file for the same list: nothing changes)."""
    require(principal, Role.office)
    checksum = hashlib.sha256(content).hexdigest()
    kind = session.get(QualificationType, qualification_type)
    if kind is None:
        raise InvalidListImport(
            f"未知的资质类型「{qualification_type}」。",
            code="unknown_qualification_type",
            field="qualification_type",
        )
    existing = queries.import_of_file(session, qualification_type, checksum)
    if existing is not None:
        return existing, True
    if issued_date and expires_date and expires_date < issued_date:
        raise InvalidListImport(
            "有效期不能早于认定日期。", code="invalid_dates", field="expires_date"
        )
    try:
        rows = parsing.parse_rows(read_table(content, filename))
    except FileError as exc:
        raise InvalidListImport(exc.message, code=exc.code, status=exc.status, **exc.extra) from exc
    record = ListImport(
        qualification_type=qualification_type,
        title=(title or filename or kind.name)[:200],
        source=source,
        batch=batch,
        issued_date=issued_date,
        expires_date=expires_date,
        filename=filename[:200] if filename else None,
        checksum=checksum,
        rows=len(rows),
        created_by=principal.ref,
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    districts = district_aliases(session)
    by_code = queries.enterprise_ids_by_code(
        session, [r.credit_code for r in rows if r.credit_code]
    )
    index = library_index(session) if any(r.credit_code not in by_code for r in rows) else None
    counts: dict[str, int] = {m.value: 0 for m in Match}
    entries: list[dict[str, Any]] = []
    for done, row in enumerate(rows, start=1):
        entry = _link_row(record.id, row, districts, by_code, index)
        counts[entry["match"]] += 1
        entries.append(entry)
        if progress is not None:
            progress(done, len(rows))
    # In bulk: the import itself is the audit record of what came in; the office's
    # decisions on entries are audited one by one.
    for start in range(0, len(entries), 1000):
        session.execute(insert(ListEntry), entries[start : start + 1000])
    record.counts = counts
    session.commit()
    return record, False


def _link_row(
    import_id: int,
    row: parsing.ListRow,
    districts: dict[str, str],
    by_code: dict[str, int],
    index: linking.LinkIndex | None,
) -> dict[str, Any]:
    """The entry of one row, as the values of a ListEntry (inserted in bulk)."""
    district = districts.get(row.district or "") if row.district else None
    entry: dict[str, Any] = {
        "import_id": import_id,
        "row": row.line,
        "raw_name": row.name,
        "credit_code": row.credit_code,
        "district_code": district,
        "batch": row.batch,
        "issued_date": row.issued_date,
        "expires_date": row.expires_date,
        "project_name": row.project_name,
        "project_investment_fen": row.investment_fen,
        "project_year": row.year,
        "normalized": None,
        "match": Match.invalid,
        "score": None,
        "enterprise_id": None,
        "candidates": [],
        "errors": list(row.errors),
        "version": 1,
    }
    if row.district and district is None:
        entry["errors"].append(
            {
                "field": "district",
                "code": "unknown_district",
                "message": f"未知的地区「{row.district}」",
            }
        )
    if row.errors or (row.name is None and row.credit_code is None):
        return entry
    if row.credit_code and row.credit_code in by_code:
        entry.update(match=Match.code, enterprise_id=by_code[row.credit_code], score=100.0)
        return entry
    if row.name is None:  # a code alone, not in the library
        entry["match"] = Match.new
        return entry
    assert index is not None
    verdict = linking.link(index, row.name, district)
    entry["normalized"] = verdict.normalized
    entry["candidates"] = [
        {
            "enterprise_id": c.enterprise_id,
            "name": c.name,
            "normalized": c.normalized,
            "score": c.score,
            "reasons": list(c.reasons),
        }
        for c in verdict.candidates
    ]
    entry["score"] = verdict.best.score if verdict.best else None
    entry["match"] = Match(verdict.outcome)
    if entry["match"] == Match.auto:
        assert verdict.best is not None
        if row.credit_code:  # the list's code is not the library's: a person should look
            entry["match"] = Match.review
        else:
            entry["enterprise_id"] = verdict.best.enterprise_id
    return entry


def commit_import(session: Session, principal: Principal, import_id: int) -> ListImport:
    """Apply the list's qualification to every linked enterprise (by code, automatically,
    or confirmed). Review entries decided later apply as they are confirmed. Committing
    again changes nothing."""
    require(principal, Role.office)
    record = get_import(session, import_id, lock=True)
    if record.status == ImportStatus.committed:
        return record
    for entry in queries.linked_entries(session, import_id):
        _apply(session, record, entry)
    record.status = ImportStatus.committed
    record.committed_by = principal.ref
    record.committed_at = utcnow()
    session.commit()
    return record


def _apply(session: Session, record: ListImport, entry: ListEntry) -> None:
    """The list's qualification on the entry's enterprise, once (the same type and issue date
    already there is the same qualification)."""
    if entry.enterprise_id is None or entry.applied_qualification_id is not None:
        return
    issued = entry.issued_date or record.issued_date or record.created_at.date()
    existing = queries.qualification_issued(
        session, entry.enterprise_id, record.qualification_type, issued
    )
    if existing is None:
        expires = entry.expires_date or record.expires_date
        if expires is None:
            term = queries.qualification_term(session, record.qualification_type)
            if term:
                expires = issued + relativedelta(months=term) - relativedelta(days=1)
        source = " ".join(
            p for p in (record.source or record.title, entry.batch or record.batch) if p
        )
        existing = Qualification(
            enterprise_id=entry.enterprise_id,
            type_code=record.qualification_type,
            issued_date=issued,
            expires_date=expires,
            source=source[:200],
        )
        session.add(existing)
        enterprise = session.get(Enterprise, entry.enterprise_id)
        assert enterprise is not None
        bump_version(session, Enterprise, enterprise, "企业信息")
        emit(session, "enterprise.changed", enterprise_id=entry.enterprise_id)
    session.flush()
    entry.applied_qualification_id = existing.id
    if entry.project_name and entry.applied_project_id is None:
        entry.applied_project_id = _project(session, record, entry, issued)


def _project(session: Session, record: ListImport, entry: ListEntry, issued: date) -> int:
    """A key-project list's project, in the project library of the linked enterprise: the
    one of that name, or a new one."""
    assert entry.enterprise_id is not None and entry.project_name is not None
    found = queries.project_named(session, entry.enterprise_id, entry.project_name)
    if found is not None:
        assert found.id is not None
        if found.listed_in is None:  # on a key-project list now: its public facts are public
            found.listed_in = record.title[:200]
            bump_version(session, Project, found, "项目信息")
        return found.id
    enterprise = session.get(Enterprise, entry.enterprise_id)
    assert enterprise is not None
    project = Project(
        enterprise_id=entry.enterprise_id,
        name=entry.project_name,
        kind=ProjectKind.other,
        cluster_code=enterprise.cluster_code,
        total_investment_fen=entry.project_investment_fen or 0,
        year=entry.project_year or issued.year,
        status=ProjectStatus.approved,
        description=f"列入{record.title}"[:2000],
        listed_in=record.title[:200],
    )
    session.add(project)
    session.flush()
    assert project.id is not None
    return project.id


# --- reading --------------------------------------------------------------------------------


def read_import(session: Session, principal: Principal, import_id: int) -> ListImport:
    """An import, with its counts by how the rows were linked (the office)."""
    require(principal, Role.office)
    return get_import(session, import_id)


def get_import(session: Session, import_id: int, lock: bool = False) -> ListImport:
    record = session.get(ListImport, import_id, with_for_update=ROW_LOCK if lock else None)
    if record is None:
        raise ImportNotFound(f"名单导入 {import_id} 不存在。")
    return record


def import_public(record: ListImport, duplicate: bool = False) -> ImportPublic:
    return ImportPublic.model_validate(
        {**{k: getattr(record, k) for k in ListImport.model_fields}, "duplicate": duplicate}
    )


def list_imports(session: Session, principal: Principal, page: PageParams) -> Page[ImportPublic]:
    require(principal, Role.office)
    key = cursor_key(page, 1, (int,))
    rows = queries.import_page(session, key[0] if key else None, page.limit)
    result = make_page(rows, page.limit, lambda r: [r.id])
    result.items = [import_public(r) for r in result.items]
    return result


def list_entries(
    session: Session,
    principal: Principal,
    page: PageParams,
    import_id: int | None = None,
    match: Match | None = None,
    pending: bool | None = None,
) -> Page[EntryPublic]:
    """Entries in list order; ``pending=true`` with ``match=review``: the review queue."""
    require(principal, Role.office)
    if import_id is not None:
        get_import(session, import_id)
    key = cursor_key(page, 1, (int,))
    rows = queries.entry_page(
        session, key[0] if key else None, page.limit, import_id, match, pending
    )
    result = make_page(rows, page.limit, lambda e: [e.id])
    result.items = [entry_public(e) for e in result.items]
    return result


def entry_public(entry: ListEntry) -> EntryPublic:
    return EntryPublic.model_validate({k: getattr(entry, k) for k in ListEntry.model_fields})


def get_entry(session: Session, entry_id: int, lock: bool = False) -> ListEntry:
    entry = session.get(ListEntry, entry_id, with_for_update=ROW_LOCK if lock else None)
    if entry is None:
        raise EntryNotFound(f"名单条目 {entry_id} 不存在。")
    return entry


# --- the review queue -----------------------------------------------------------------------


def _decidable(entry: ListEntry) -> None:
    if entry.decision is not None:
        raise EntryDecided(
            f"该条目已处理（{entry.decision}，{entry.decided_by}）。", decision=str(entry.decision)
        )
    if entry.match not in (Match.review, Match.new):
        raise EntryDecided(
            "只有待审核或拟新增的条目需要处理。",
            code="entry_not_reviewable",
            match=str(entry.match),
        )


def confirm(
    session: Session,
    principal: Principal,
    entry_id: int,
    enterprise_id: int,
    expected_version: int | None = None,
) -> ListEntry:
    """The office links the entry to an enterprise (usually one of its candidates)."""
    require(principal, Role.office)
    entry = get_entry(session, entry_id, lock=True)
    check_version(expected_version, entry.version, "名单条目")
    _decidable(entry)
    if session.get(Enterprise, enterprise_id) is None:
        raise Unprocessable(f"企业 {enterprise_id} 不存在。", code="unknown_enterprise")
    entry.enterprise_id = enterprise_id
    _decide(entry, Decision.confirmed, principal)
    record = get_import(session, entry.import_id)
    if record.status == ImportStatus.committed:
        _apply(session, record, entry)
    session.commit()
    return entry


def reject(
    session: Session, principal: Principal, entry_id: int, expected_version: int | None = None
) -> ListEntry:
    """None of the candidates is this company: it stays a proposal for a new entry."""
    require(principal, Role.office)
    entry = get_entry(session, entry_id, lock=True)
    check_version(expected_version, entry.version, "名单条目")
    _decidable(entry)
    _decide(entry, Decision.rejected, principal)
    session.commit()
    return entry


def create_from_entry(
    session: Session, principal: Principal, entry_id: int, data: EntryCreate
) -> ListEntry:
    """Add the entry's company to the library (it needs a credit code: the list's, or one
    given now), linked to the entry; its qualification applies once the list is committed."""
    require(principal, Role.office)
    entry = get_entry(session, entry_id, lock=True)
    if entry.decision not in (None, Decision.rejected) or entry.match not in (
        Match.review,
        Match.new,
    ):
        raise EntryDecided("该条目已关联企业，不能再新增。")
    code = data.credit_code or entry.credit_code
    if code is None:
        raise Unprocessable(
            "新增企业须有统一社会信用代码：名单没有，请在请求中给出。",
            code="credit_code_required",
            field="credit_code",
        )
    enterprise = create_enterprise(
        session,
        EnterpriseCreate(
            credit_code=code,
            name=data.name or entry.raw_name or code,
            district_code=data.district_code or entry.district_code,
            cluster_code=data.cluster_code,
            industry_code=data.industry_code,
        ),
    )
    entry = get_entry(session, entry_id, lock=True)
    entry.enterprise_id = enterprise.id
    _decide(entry, Decision.created, principal)
    record = get_import(session, entry.import_id)
    if record.status == ImportStatus.committed:
        _apply(session, record, entry)
    session.commit()
    return entry


def _decide(entry: ListEntry, decision: Decision, principal: Principal) -> None:
    entry.decision = decision
    entry.decided_by = principal.ref
    entry.decided_at = utcnow()
    entry.version += 1


def pending_reviews(session: Session) -> int:
    return queries.pending_review_count(session)

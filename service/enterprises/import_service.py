"""Use cases of the bulk imports of the enterprise library and the project library: a preview
that checks every row and says what it would do (created, updated field by field, unchanged,
rejected with every reason), then a commit that applies the good rows in one transaction
against the library as it is then, and reading an import and its rows. Nothing is applied at
preview; committing again changes nothing. Imports are the office's alone.

Streaming, so that memory stays flat whatever the file's size: the file is read (within the
reader's limits, its clock counting the reading alone) into a spool on disk; its rows are then
checked (``imports``), compared with the library (``merge``) and stored a batch at a time, and
the commit reads them back a batch at a time and writes them in bulk (``import_writes``)."""

import hashlib
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from typing import IO, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.bulk import insert_rows, update_rows
from service.core.database import ROW_LOCK
from service.core.events import emit
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.tables import FileError, read_table
from service.enterprises import import_columns, imports, merge, queries
from service.enterprises.exceptions import ImportConflict, ImportNotFound, InvalidImport
from service.enterprises.import_writes import apply_enterprises, apply_projects
from service.enterprises.models import (
    Enterprise,
    ImportKind,
    ImportStatus,
    LibraryImport,
    RowAction,
)
from service.enterprises.queries import ROW
from service.enterprises.schemas import ImportPublic, ImportRowPublic
from service.taxonomy.service import (
    district_aliases,
    list_clusters,
    list_districts,
    list_ownership_types,
    list_qualification_types,
    load_size_rows,
)

BATCH = 1_000
Progress = Callable[[int], None]
KIND_LABEL = {ImportKind.enterprise: "企业库", ImportKind.project: "项目库"}


# --- reference data -------------------------------------------------------------------------


def references(session: Session, today: date | None = None) -> imports.References:
    types = list_qualification_types(session)
    return imports.References(
        districts={import_columns.alias(k): v for k, v in district_aliases(session).items()},
        district_of_area={d.area_code: d.code for d in list_districts(session) if d.area_code},
        clusters=import_columns.cluster_aliases((c.code, c.name) for c in list_clusters(session)),
        ownership=import_columns.ownership_aliases(
            (o.code, o.name, o.stats_code) for o in list_ownership_types(session)
        ),
        qualifications=import_columns.qualification_aliases((q.code, q.name) for q in types),
        qualification_names={q.code: q.name for q in types},
        terms={q.code: q.term_months for q in types},
        size_rows=load_size_rows(session),
        today=today or today_local(),
    )


# --- preview --------------------------------------------------------------------------------


def preview_import(
    session: Session,
    principal: Principal,
    kind: ImportKind,
    content: bytes,
    filename: str | None,
    progress: Progress | None = None,
) -> LibraryImport:
    """Read and check every row, and compare it with the library; store what each would do.
    Nothing is applied until the import is committed."""
    require(principal, Role.office)
    refs = references(session)
    with tempfile.TemporaryFile() as spool:
        header, count = _spool(content, filename, spool)
        try:
            columns = import_columns.map_headers(header, kind, refs)
        except FileError as exc:
            raise _invalid(exc) from exc
        record = LibraryImport(
            kind=kind,
            filename=(filename or "")[:200] or None,
            checksum=hashlib.sha256(content).hexdigest(),
            rows=count,
            created_by=principal.ref,
        )
        session.add(record)
        session.flush()
        counts: Counter[str] = Counter()
        now = utcnow()
        done = 0
        rows = imports.parse_rows(_unspool(spool), columns, kind, refs)
        while batch := list(islice(rows, BATCH)):
            counts += _preview_batch(session, record, batch, refs, principal, now)
            done += len(batch)
            if progress is not None:
                progress(done)
    record.counts = _tally(counts)
    session.commit()
    return record


def _tally(counts: Counter[str]) -> dict[str, int]:
    """Rows by action, every action named (0 included), and the rows with warnings."""
    return {**{a.value: counts[a.value] for a in RowAction}, "warnings": counts["warnings"]}


def _invalid(exc: FileError) -> InvalidImport:
    return InvalidImport(exc.message, code=exc.code, status=exc.status, **exc.extra)


def _spool(content: bytes, filename: str | None, spool: IO[bytes]) -> tuple[list[Any], int]:
    """Read the file into the spool, a row at a time (blank rows kept, so that rows keep their
    numbers); its header and how many data rows it has."""
    count = 0
    try:
        rows = read_table(content, filename, imports.LIMITS)
        header = next(rows, None)
        if header is None:
            raise FileError("empty_file", "文件是空的")
        for raw in rows:
            pickle.dump(raw, spool, pickle.HIGHEST_PROTOCOL)
            count += bool(raw)
    except FileError as exc:
        raise _invalid(exc) from exc
    if count == 0:
        raise InvalidImport("文件只有表头，没有数据行。", code="no_rows")
    spool.seek(0)
    return header, count


def _unspool(spool: IO[bytes]) -> Iterator[list[Any]]:
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _outcome(plan: merge.Plan) -> dict[str, Any]:
    """What a row does, as stored, with its digest."""
    outcome: dict[str, Any] = {
        "action": plan.action.value,
        "changes": plan.changes,
        "errors": [e.as_dict() for e in plan.errors],
        "warnings": [w.as_dict() for w in plan.warnings],
    }
    # The same plan is built in the same order at preview and at commit: its repr is a
    # stable fingerprint (and cheaper than JSON).
    outcome["digest"] = hashlib.sha1(repr(outcome).encode()).hexdigest()
    return outcome


def _preview_batch(
    session: Session,
    record: LibraryImport,
    rows: list[imports.Row],
    refs: imports.References,
    principal: Principal,
    now: datetime,
) -> Counter[str]:
    assert record.id is not None
    # key -> the row that first named it in earlier batches of this file
    first = queries.first_rows(session, record.id, [r.key for r in rows if r.key])
    for row in rows:
        key = row.key
        if key is None:
            continue
        if key in first:
            what = "统一社会信用代码" if not row.project else "该企业的同名项目"
            shown = row.credit_code if not row.project else f"「{row.values.get('name')}」"
            row.reject(
                "credit_code" if not row.project else "name",
                "duplicate_in_file",
                f"{what} {shown} 在第 {first[key]} 行已出现，本行不导入",
            )
        else:
            first[key] = row.line
    plans = _plans(session, record, rows, refs, principal, now, lock=False)
    counts: Counter[str] = Counter()
    stored = []
    for row, plan in zip(rows, plans, strict=True):
        counts[plan.action.value] += 1
        counts["warnings"] += bool(plan.warnings)
        stored.append(
            {
                "import_id": record.id,
                "row": row.line,
                "key": row.key,
                "credit_code": row.credit_code or row.written_code,
                "label": row.label,
                "values": row.values,
                **_outcome(plan),
            }
        )
    insert_rows(session, ROW, stored)
    return counts


def _plans(
    session: Session,
    record: LibraryImport,
    rows: Sequence[imports.Row],
    refs: imports.References,
    principal: Principal,
    now: datetime,
    lock: bool,
) -> list[merge.Plan]:
    """Each row's plan against the library as it is now (its rows locked, with ``lock``); a
    row already rejected keeps its reasons and warnings."""
    good = [r for r in rows if not r.errors and r.credit_code]
    codes = sorted({r.credit_code for r in good if r.credit_code})
    source = f"{KIND_LABEL[record.kind]}导入 #{record.id}（{record.filename or '文件'}）"[:200]
    plans: list[merge.Plan] = []
    if record.kind == ImportKind.enterprise:
        held = queries.held_enterprises(session, codes, lock)
        for row in rows:
            if row.errors or row.credit_code is None:
                plans.append(merge.Plan(RowAction.rejected, errors=list(row.errors)))
                continue
            plan = merge.plan_enterprise(
                row.line,
                row.credit_code,
                row.values,
                held.get(row.credit_code),
                refs,
                principal,
                now,
                source,
            )
            plans.append(plan)
    else:
        units = queries.units(session, codes)
        projects = queries.held_projects(
            session,
            [(units[r.credit_code].id, r.values["name"]) for r in good if r.credit_code in units],
            lock,
        )
        for row in rows:
            if row.errors or row.credit_code is None:
                plans.append(merge.Plan(RowAction.rejected, errors=list(row.errors)))
                continue
            unit = units.get(row.credit_code)
            found = projects.get((unit.id, row.values["name"]), []) if unit else []
            plans.append(merge.plan_project(row.line, row.values, unit, found, row.credit_code))
    for row, plan in zip(rows, plans, strict=True):
        plan.warnings = list(row.warnings) + plan.warnings
    return plans


# --- commit ---------------------------------------------------------------------------------


def commit_import(
    session: Session,
    principal: Principal,
    kind: ImportKind,
    import_id: int,
    progress: Progress | None = None,
) -> LibraryImport:
    """Apply every row that was not rejected, against the library as it is now (an enterprise
    edited since the preview is compared again, never overwritten with the preview's old
    values), in one transaction; each change audited as the committing principal's. A
    concurrent commit of the same import waits for this one and then changes nothing, as
    does committing again."""
    require(principal, Role.office)
    record = get_import(session, kind, import_id, lock=True)
    if record.status == ImportStatus.committed:
        return record
    assert record.id is not None
    refs = references(session)
    now = utcnow()
    applied: Counter[str] = Counter()
    applied[RowAction.rejected.value] = record.counts.get(RowAction.rejected.value, 0)
    changed: list[int] = []
    with_projects: list[int] = []
    after = 0
    done = 0
    try:
        while stored := queries.rows_to_apply(session, record.id, after, BATCH):
            after = stored[-1]["id"]
            rows = [
                imports.Row(
                    s["row"],
                    kind == ImportKind.project,
                    s["credit_code"],
                    s["credit_code"],
                    values=s["values"],
                )
                for s in stored
            ]
            plans = _plans(session, record, rows, refs, principal, now, lock=False)
            # Rows that change something are read again under a row lock, so that a change
            # made since (and committed) is compared with, never overwritten. (One that
            # changes nothing needs no lock: a later change stays as it is.)
            changing = [i for i, p in enumerate(plans) if p.action == RowAction.update]
            if changing:
                again = _plans(
                    session, record, [rows[i] for i in changing], refs, principal, now, lock=True
                )
                for i, plan in zip(changing, again, strict=True):
                    plans[i] = plan
            if kind == ImportKind.enterprise:
                changed += apply_enterprises(session, principal, plans, now)
            else:
                with_projects += apply_projects(session, principal, plans, now)
            update_rows(
                session,
                ROW,
                [
                    {"id": s["id"], **outcome}
                    for s, outcome in zip(stored, map(_outcome, plans), strict=True)
                    if outcome["digest"] != s["digest"]  # the library changed since
                ],
            )
            for plan in plans:
                applied[plan.action.value] += 1
                applied["warnings"] += bool(plan.warnings)
            done += len(stored)
            if progress is not None:
                progress(done)
        if changed:
            # The session may hold ORM copies of enterprises written here in bulk.
            for instance in list(session.identity_map.values()):
                if isinstance(instance, Enterprise):
                    session.expire(instance)
            emit(session, "enterprises.changed", enterprise_ids=changed)
        if with_projects:
            emit(session, "projects.changed", enterprise_ids=sorted(set(with_projects)))
        record.status = ImportStatus.committed
        record.committed_by = principal.ref
        record.committed_at = now
        record.applied = _tally(applied)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ImportConflict(
            "提交时企业库被同时修改（如同一信用代码的企业刚被新增），未导入任何内容；请重新提交。"
        ) from exc
    return record


# --- reading --------------------------------------------------------------------------------


def get_import(
    session: Session, kind: ImportKind, import_id: int, lock: bool = False
) -> LibraryImport:
    record = session.get(
        LibraryImport,
        import_id,
        with_for_update=ROW_LOCK if lock else None,
        populate_existing=lock,
    )
    if record is None or record.kind != kind:
        raise ImportNotFound(f"{KIND_LABEL[kind]}导入 {import_id} 不存在。")
    return record


def import_public(record: LibraryImport) -> ImportPublic:
    return ImportPublic.model_validate(record, from_attributes=True)


def read_import(
    session: Session, principal: Principal, kind: ImportKind, import_id: int
) -> LibraryImport:
    require(principal, Role.office)
    return get_import(session, kind, import_id)


def read_any_import(session: Session, principal: Principal, import_id: int) -> LibraryImport:
    """An import of either library (the pages address both by id)."""
    require(principal, Role.office)
    record = session.get(LibraryImport, import_id)
    if record is None:
        raise ImportNotFound(f"导入 {import_id} 不存在。")
    return record


def list_rows(
    session: Session,
    principal: Principal,
    kind: ImportKind,
    import_id: int,
    page: PageParams,
    action: RowAction | None = None,
    warned: bool = False,
) -> Page[ImportRowPublic]:
    """The import's rows in file order, optionally of one action, or only those with
    warnings: with the enterprise (or project) each names in the library now."""
    require(principal, Role.office)
    get_import(session, kind, import_id)
    key = cursor_key(page, 1, (int,))
    after = key[0] if key else None
    rows = queries.import_row_page(session, import_id, action, warned, after, page.limit + 1)
    result = make_page(list(rows), page.limit, lambda r: [r["id"]])
    subjects = queries.import_subjects(session, kind, [r["key"] for r in result.items if r["key"]])
    result.items = [
        ImportRowPublic.model_validate(
            {
                **{k: r[k] for k in ("id", "row", "credit_code", "label", "action")},
                **{k: r[k] for k in ("changes", "errors", "warnings")},
                "subject_id": subjects.get(r["key"] or ""),
            }
        )
        for r in result.items
    ]
    return result

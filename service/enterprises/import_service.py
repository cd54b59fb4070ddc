"""Use cases of the bulk imports of the enterprise library and the project library: a preview
that checks every row and says what it would do (created, updated field by field, unchanged,
rejected with every reason), then a commit that applies the good rows in one transaction
against the library as it is then. Nothing is applied at preview; committing again changes
nothing.

Streaming, so that memory stays flat whatever the file's size: the file is read (within the
reader's limits, its clock counting the reading alone) into a spool on disk; its rows are then
checked, compared with the library and stored a batch at a time, and the commit reads them
back a batch at a time. Writes go in bulk (``core.bulk``: COPY on PostgreSQL), each change
recorded in the audit log as the flush hook would record it."""

import hashlib
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from service.access import audit
from service.access.models import Role
from service.access.policy import Principal, require
from service.core.bulk import insert_rows, select_by, update_rows
from service.core.database import ROW_LOCK, among
from service.core.errors import Conflict, NotFound, Unprocessable
from service.core.events import emit
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.tables import FileError, read_table
from service.enterprises import imports, merge
from service.enterprises.models import (
    Contact,
    Enterprise,
    ImportKind,
    ImportPublic,
    ImportRowPublic,
    ImportStatus,
    LibraryImport,
    LibraryImportRow,
    Project,
    Qualification,
    RowAction,
)
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

ENTERPRISE = Enterprise.__table__  # type: ignore[attr-defined]
PROJECT = Project.__table__  # type: ignore[attr-defined]
QUALIFICATION = Qualification.__table__  # type: ignore[attr-defined]
CONTACT = Contact.__table__  # type: ignore[attr-defined]
ROW = LibraryImportRow.__table__  # type: ignore[attr-defined]
KIND_LABEL = {ImportKind.enterprise: "企业库", ImportKind.project: "项目库"}


class ImportNotFound(NotFound):
    code = "library_import_not_found"


class InvalidImport(Unprocessable):
    code = "invalid_library_import"


class ImportConflict(Conflict):
    code = "import_conflict"


# --- reference data -------------------------------------------------------------------------


def references(session: Session, today: date | None = None) -> imports.References:
    types = list_qualification_types(session)
    return imports.References(
        districts={imports.alias(k): v for k, v in district_aliases(session).items()},
        district_of_area={d.area_code: d.code for d in list_districts(session) if d.area_code},
        clusters=imports.cluster_aliases((c.code, c.name) for c in list_clusters(session)),
        ownership=imports.ownership_aliases(
            (o.code, o.name, o.stats_code) for o in list_ownership_types(session)
        ),
        qualifications=imports.qualification_aliases((q.code, q.name) for q in types),
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
            columns = imports.map_headers(header, kind, refs)
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


def _duplicates(session: Session, import_id: int, rows: list[imports.Row]) -> dict[str, int]:
    """Key -> the row that first named it in earlier batches of this file."""
    keys = sorted({r.key for r in rows if r.key})
    first: dict[str, int] = {}
    for row in select_by(session, ROW, "key", keys, where={"import_id": import_id}):
        if row["row"] < first.get(row["key"], row["row"] + 1):
            first[row["key"]] = row["row"]
    return first


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
    first = _duplicates(session, record.id, rows)
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
        held = _held_enterprises(session, codes, lock)
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
        units = _units(session, codes)
        projects = _held_projects(
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


def _held_enterprises(
    session: Session, codes: list[str], lock: bool
) -> dict[str, merge.HeldEnterprise]:
    by_id = {
        r["id"]: merge.HeldEnterprise(dict(r), set(), [])
        for r in select_by(session, ENTERPRISE, "credit_code", codes, lock)
    }
    ids = sorted(by_id)
    for q in select_by(session, QUALIFICATION, "enterprise_id", ids):
        by_id[q["enterprise_id"]].qualifications.add((q["type_code"], q["issued_date"]))
    for contact in sorted(select_by(session, CONTACT, "enterprise_id", ids), key=lambda c: c["id"]):
        by_id[contact["enterprise_id"]].contacts.append(dict(contact))
    return {held.columns["credit_code"]: held for held in by_id.values()}


def _units(session: Session, codes: list[str]) -> dict[str, merge.Unit]:
    return {
        r["credit_code"]: merge.Unit(r["id"], r["cluster_code"])
        for r in select_by(session, ENTERPRISE, "credit_code", codes)
    }


def _held_projects(
    session: Session, wanted: list[tuple[int, str]], lock: bool
) -> dict[tuple[int, str], list[dict[str, Any]]]:
    ids = sorted({enterprise_id for enterprise_id, _ in wanted})
    out: dict[tuple[int, str], list[dict[str, Any]]] = {}
    pairs = set(wanted)
    for row in sorted(
        select_by(session, PROJECT, "enterprise_id", ids, lock), key=lambda r: r["id"]
    ):
        pair = (row["enterprise_id"], row["name"])
        if pair in pairs:
            out.setdefault(pair, []).append(dict(row))
    return out


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
    after = 0
    done = 0
    try:
        while stored := _stored(session, record.id, after):
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
                changed += _apply_enterprises(session, principal, plans, now)
            else:
                _apply_projects(session, principal, plans, now)
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


def _stored(session: Session, import_id: int, after: int) -> Sequence[Any]:
    """The next batch of rows to apply (those not rejected at preview)."""
    return (
        session.execute(
            select(ROW.c.id, ROW.c.row, ROW.c.credit_code, ROW.c["values"], ROW.c.digest)
            .where(
                ROW.c.import_id == import_id,
                ROW.c.id > after,
                ROW.c.action != RowAction.rejected.value,
            )
            .order_by(ROW.c.id)
            .limit(BATCH)
        )
        .mappings()
        .all()
    )


_ENTERPRISE_COLUMNS = tuple(c.name for c in ENTERPRISE.columns if c.name != "id")
_ENTERPRISE_UPDATABLE = (
    *merge.ENTERPRISE_FIELDS,
    "name_normalized",
    "size_class",
    "size_industry_key",
    *merge.CONSENT_COLUMNS,
)
_PROJECT_COLUMNS = tuple(c.name for c in PROJECT.columns if c.name != "id")
_UNAUDITED = frozenset({"created_at", "updated_at"})


def _values(subject_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """A new row as the flush hook records its create: its values, without the empty ones."""
    return {
        k: v for k, v in {"id": subject_id, **row}.items() if v is not None and k not in _UNAUDITED
    }


def _apply_enterprises(
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
                **{c: merged[c] for c in _ENTERPRISE_UPDATABLE},
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


def _apply_projects(
    session: Session, principal: Principal, plans: Sequence[merge.Plan], now: datetime
) -> None:
    new = [
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
    statement = select(ROW).where(ROW.c.import_id == import_id)
    if action is not None:
        statement = statement.where(ROW.c.action == action.value)
    if warned:
        postgres = session.get_bind().dialect.name == "postgresql"
        length = func.jsonb_array_length if postgres else func.json_array_length
        statement = statement.where(length(ROW.c.warnings) > 0)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(ROW.c.id > key[0])
    rows = list(session.execute(statement.order_by(ROW.c.id).limit(page.limit + 1)).mappings())
    result = make_page(rows, page.limit, lambda r: [r["id"]])
    subjects = _subjects(session, kind, [r["key"] for r in result.items if r["key"]])
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


def _subjects(session: Session, kind: ImportKind, keys: list[str]) -> dict[str, int]:
    """key -> the enterprise (or project) it names in the library now."""
    codes = sorted({k[:18] for k in keys})
    if not codes:
        return {}
    units: dict[str, int] = dict(
        session.execute(
            select(ENTERPRISE.c.credit_code, ENTERPRISE.c.id).where(
                among(session, ENTERPRISE.c.credit_code, codes)
            )
        ).all()
    )
    if kind == ImportKind.enterprise:
        return units
    code_of = {enterprise_id: code for code, enterprise_id in units.items()}
    found: dict[str, int] = {}
    for project_id, enterprise_id, name in session.execute(
        select(PROJECT.c.id, PROJECT.c.enterprise_id, PROJECT.c.name)
        .where(
            among(session, PROJECT.c.enterprise_id, list(code_of)),
            PROJECT.c.name.in_(sorted({k[19:] for k in keys})),
        )
        .order_by(PROJECT.c.id)
    ):
        found.setdefault(f"{code_of[enterprise_id]}:{name}", project_id)
    return found

"""The SQL of the enterprise and project libraries and their imports: filter conditions,
pages, the search's candidates, the exports' batches, and the reads and row pages of a library
import (with the Core tables the import's bulk writes use)."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from service.core.bulk import select_by
from service.core.database import Statement, among, fetch
from service.enterprises import merge
from service.enterprises.models import (
    Contact,
    Enterprise,
    ImportKind,
    LibraryImportRow,
    Project,
    Qualification,
    RowAction,
)
from service.taxonomy.models import Cluster, OwnershipType

# The tables as the import's bulk reads and writes (core.bulk) see them.
ENTERPRISE: Table = Enterprise.__table__  # type: ignore[attr-defined]
PROJECT: Table = Project.__table__  # type: ignore[attr-defined]
QUALIFICATION: Table = Qualification.__table__  # type: ignore[attr-defined]
CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
ROW: Table = LibraryImportRow.__table__  # type: ignore[attr-defined]


# --- conditions -----------------------------------------------------------------------------


def qualification_valid_on(type_code: str, on: date) -> ColumnElement[bool]:
    """EXISTS a qualification of the type valid on the day (expiry day inclusive)."""
    return exists().where(
        col(Qualification.enterprise_id) == col(Enterprise.id),
        col(Qualification.type_code) == type_code,
        col(Qualification.issued_date) <= on,
        or_(col(Qualification.expires_date).is_(None), col(Qualification.expires_date) >= on),
    )


def tier_condition(cluster_code: Mapped[str | None], tier: str) -> ColumnElement[bool]:
    """The cluster (``col(Enterprise.cluster_code)`` or a project's) is of the tier."""
    return cluster_code.in_(select(col(Cluster.code)).where(col(Cluster.tier) == tier))


def private_condition(private: bool) -> ColumnElement[bool]:
    """The enterprise's ownership type counts as 民营 (``private``) or, known, does not: an
    enterprise whose ownership is unknown is in neither."""
    return col(Enterprise.ownership).in_(
        select(col(OwnershipType.code)).where(col(OwnershipType.private).is_(private))
    )


# --- qualifications and contacts ------------------------------------------------------------


def valid_qualifications(
    session: Session | str, enterprise_ids: Sequence[int], on: date
) -> Statement:
    """(enterprise_id, type_code) of the enterprises' qualifications valid on the day."""

    def build() -> Select[int, str]:
        on_day = bindparam("on", type_=Date)
        return (
            select(col(Qualification.enterprise_id), col(Qualification.type_code))
            .where(
                among(session, col(Qualification.enterprise_id), [], name="ids"),
                col(Qualification.issued_date) <= on_day,
                or_(
                    col(Qualification.expires_date).is_(None),
                    col(Qualification.expires_date) >= on_day,
                ),
            )
            .order_by(col(Qualification.enterprise_id), col(Qualification.type_code))
        )

    return Statement(
        "enterprises.valid_qualifications", build, {"ids": list(enterprise_ids), "on": on}
    )


def codes_by_enterprise(rows: Sequence[Any]) -> dict[int, list[str]]:
    """Rows of ``valid_qualifications`` as each enterprise's type codes, in code order."""
    out: dict[int, list[str]] = {}
    for enterprise_id, type_code in rows:
        codes = out.setdefault(enterprise_id, [])
        if type_code not in codes:
            codes.append(type_code)
    return out


def valid_qualification_codes(
    session: Session, enterprise_ids: Sequence[int], on: date
) -> dict[int, list[str]]:
    """The types of each enterprise's qualifications valid on the day, in code order."""
    if not enterprise_ids:
        return {}
    return codes_by_enterprise(fetch(session, valid_qualifications(session, enterprise_ids, on)))


def qualifications_of(session: Session, enterprise_id: int | None) -> list[Qualification]:
    return list(
        session.scalars(
            select(Qualification)
            .where(col(Qualification.enterprise_id) == enterprise_id)
            .order_by(col(Qualification.issued_date), col(Qualification.id))
        )
    )


def contacts_of(session: Session, enterprise_id: int | None) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(col(Contact.enterprise_id) == enterprise_id)
            .order_by(col(Contact.id))
        )
    )


# --- enterprises ----------------------------------------------------------------------------


def enterprise_by_credit_code(session: Session, credit_code: str) -> Enterprise | None:
    return session.scalars(
        select(Enterprise).where(col(Enterprise.credit_code) == credit_code)
    ).first()


def enterprise_page(
    session: Session, conditions: Sequence[ColumnElement[bool]], after_id: int | None, limit: int
) -> list[Enterprise]:
    stmt = select(Enterprise).where(and_(True, *conditions))
    if after_id is not None:
        stmt = stmt.where(col(Enterprise.id) > after_id)
    return list(session.scalars(stmt.order_by(col(Enterprise.id)).limit(limit + 1)))


def name_high_water(session: Session) -> tuple[int | None, datetime | None]:
    """The highest enterprise id and the latest ``updated_at``: what the name copy compares."""
    row = session.execute(
        select(func.max(col(Enterprise.id)), func.max(col(Enterprise.updated_at)))
    ).one()
    return row[0], row[1]


def normalised_names(
    session: Session, after_id: int | None = None, updated_since: datetime | None = None
) -> list[tuple[int, str]]:
    """(id, normalised name) of every enterprise, or of those after an id or updated since
    (either)."""
    stmt = select(col(Enterprise.id), col(Enterprise.name_normalized))
    if after_id is not None or updated_since is not None:
        conditions: list[ColumnElement[bool]] = []
        if after_id is not None:
            conditions.append(col(Enterprise.id) > after_id)
        if updated_since is not None:
            conditions.append(col(Enterprise.updated_at) >= updated_since)
        stmt = stmt.where(or_(*conditions))
    return [(row[0], row[1]) for row in session.execute(stmt) if row[0] is not None]


def filtered_ids(
    session: Session, conditions: Sequence[ColumnElement[bool]], at_most: int
) -> list[int] | None:
    """Ids passing the filters, or None when there are more than ``at_most``."""
    ids = list(session.scalars(select(col(Enterprise.id)).where(*conditions).limit(at_most + 1)))
    return None if len(ids) > at_most else [i for i in ids if i is not None]


def existing_ids(
    session: Session, ids: Sequence[int], conditions: Sequence[ColumnElement[bool]]
) -> set[int]:
    if not ids:
        return set()
    stmt = select(col(Enterprise.id)).where(col(Enterprise.id).in_(ids), *conditions)
    return {i for i in session.scalars(stmt) if i is not None}


def enterprises_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Enterprise]:
    if not ids:
        return {}
    found = session.scalars(select(Enterprise).where(col(Enterprise.id).in_(ids)))
    return {e.id: e for e in found if e.id is not None}


def library_size(session: Session, kind: str) -> int:
    """How many enterprises (``kind`` enterprise) or projects the library holds."""
    table = ENTERPRISE if kind == "enterprise" else PROJECT
    return session.scalar(select(func.count()).select_from(table)) or 0


def enterprise_batch(session: Session, after_id: int, limit: int) -> Sequence[Any]:
    """The next enterprises by id, with the columns an export shows."""
    return session.execute(
        select(
            col(Enterprise.id),
            col(Enterprise.credit_code),
            col(Enterprise.name),
            col(Enterprise.district_code),
            col(Enterprise.industry_code),
            col(Enterprise.cluster_code),
            col(Enterprise.chain_tag),
            col(Enterprise.ownership),
            col(Enterprise.size_class),
            col(Enterprise.employees),
            col(Enterprise.revenue_fen),
            col(Enterprise.total_assets_fen),
            col(Enterprise.established_date),
            col(Enterprise.credit_grade),
            col(Enterprise.share_with_banks),
            col(Enterprise.consent_source),
            col(Enterprise.consent_recorded_at),
            col(Enterprise.consent_form_ref),
            col(Enterprise.consent_form_signed_on),
        )
        .where(col(Enterprise.id) > after_id)
        .order_by(col(Enterprise.id))
        .limit(limit)
    ).all()


def qualifications_by_enterprise(
    session: Session, enterprise_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Each enterprise's qualifications (type, issued, expires), by issue date and type."""
    out: dict[int, list[dict[str, Any]]] = {}
    for q in session.execute(
        select(
            col(Qualification.enterprise_id),
            col(Qualification.type_code),
            col(Qualification.issued_date),
            col(Qualification.expires_date),
        )
        .where(among(session, col(Qualification.enterprise_id), enterprise_ids))
        .order_by(
            col(Qualification.enterprise_id),
            col(Qualification.issued_date),
            col(Qualification.type_code),
        )
    ):
        out.setdefault(q.enterprise_id, []).append(
            {"type_code": q.type_code, "issued_date": q.issued_date, "expires_date": q.expires_date}
        )
    return out


def contacts_by_enterprise(
    session: Session, enterprise_ids: Sequence[int] | None
) -> dict[int, list[dict[str, Any]]]:
    """Each enterprise's contacts (name, title, phone, email, is_primary), in the order added:
    of these enterprises, or of every one (None: what a library release keeps)."""
    statement = select(
        col(Contact.enterprise_id),
        col(Contact.name),
        col(Contact.title),
        col(Contact.phone),
        col(Contact.email),
        col(Contact.is_primary),
    )
    if enterprise_ids is not None:
        statement = statement.where(among(session, col(Contact.enterprise_id), enterprise_ids))
    out: dict[int, list[dict[str, Any]]] = {}
    for c in session.execute(statement.order_by(col(Contact.enterprise_id), col(Contact.id))):
        out.setdefault(c.enterprise_id, []).append(
            {
                "name": c.name,
                "title": c.title,
                "phone": c.phone,
                "email": c.email,
                "is_primary": c.is_primary,
            }
        )
    return out


# --- projects -------------------------------------------------------------------------------


def projects_after(
    session: Session,
    after_id: int | None,
    limit: int,
    conditions: Sequence[ColumnElement[bool]] = (),
) -> list[tuple[Project, str, str]]:
    """Up to ``limit`` projects after an id, by id, each with its enterprise's name and credit
    code: for a page of the project library and for a batch of its export."""
    stmt = (
        select(Project, col(Enterprise.name), col(Enterprise.credit_code))
        .join(Enterprise, col(Enterprise.id) == col(Project.enterprise_id))
        .where(and_(True, *conditions))
    )
    if after_id is not None:
        stmt = stmt.where(col(Project.id) > after_id)
    rows = session.execute(stmt.order_by(col(Project.id)).limit(limit))
    return [(row[0], row[1], row[2]) for row in rows]


# --- library imports ------------------------------------------------------------------------


def first_rows(session: Session, import_id: int, keys: Sequence[str]) -> dict[str, int]:
    """Key -> the first row of the import stored so far that names it."""
    first: dict[str, int] = {}
    for row in select_by(session, ROW, "key", sorted(keys), where={"import_id": import_id}):
        if row["row"] < first.get(row["key"], row["row"] + 1):
            first[row["key"]] = row["row"]
    return first


def held_enterprises(
    session: Session, codes: list[str], lock: bool
) -> dict[str, merge.HeldEnterprise]:
    """The enterprises with these credit codes as the library holds them (their rows locked,
    with ``lock``), with their qualifications and contacts."""
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


def units(session: Session, codes: list[str]) -> dict[str, merge.Unit]:
    """The enterprises with these credit codes, as the units their projects name."""
    return {
        r["credit_code"]: merge.Unit(r["id"], r["cluster_code"])
        for r in select_by(session, ENTERPRISE, "credit_code", codes)
    }


def held_projects(
    session: Session, wanted: list[tuple[int, str]], lock: bool
) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """(enterprise, name) -> the enterprise's projects of that name, by id (rows locked, with
    ``lock``)."""
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


def rows_to_apply(
    session: Session, import_id: int, after_id: int, limit: int
) -> Sequence[RowMapping]:
    """The import's next rows not rejected at preview, by id."""
    return (
        session.execute(
            select(ROW.c.id, ROW.c.row, ROW.c.credit_code, ROW.c["values"], ROW.c.digest)
            .where(
                ROW.c.import_id == import_id,
                ROW.c.id > after_id,
                ROW.c.action != RowAction.rejected.value,
            )
            .order_by(ROW.c.id)
            .limit(limit)
        )
        .mappings()
        .all()
    )


def import_row_page(
    session: Session,
    import_id: int,
    action: RowAction | None,
    warned: bool,
    after_id: int | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Up to ``limit`` rows of the import after an id, in file order: of one action, or only
    those with warnings."""
    statement = select(ROW).where(ROW.c.import_id == import_id)
    if action is not None:
        statement = statement.where(ROW.c.action == action.value)
    if warned:
        postgres = session.get_bind().dialect.name == "postgresql"
        length = func.jsonb_array_length if postgres else func.json_array_length
        statement = statement.where(length(ROW.c.warnings) > 0)
    if after_id is not None:
        statement = statement.where(ROW.c.id > after_id)
    return session.execute(statement.order_by(ROW.c.id).limit(limit)).mappings().all()


def import_subjects(session: Session, kind: ImportKind, keys: list[str]) -> dict[str, int]:
    """Row key -> the enterprise (or project) it names in the library now."""
    codes = sorted({k[:18] for k in keys})
    if not codes:
        return {}
    found_units: dict[str, int] = dict(
        session.execute(
            select(ENTERPRISE.c.credit_code, ENTERPRISE.c.id).where(
                among(session, ENTERPRISE.c.credit_code, codes)
            )
        ).all()
    )
    if kind == ImportKind.enterprise:
        return found_units
    code_of = {enterprise_id: code for code, enterprise_id in found_units.items()}
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

"""Writing a drawn library straight into the tables, without the per-row use cases: the rows
an enterprise and its qualifications, contacts and projects become (with the columns the create
path would derive, and the consent recorded from a signed form as the create path records it
for the office), one batch per transaction, and products with their version 1.

A batch skips the credit codes already present, so a re-run with the same seed adds nothing and
an interrupted run resumes; products whose code exists are skipped likewise. PostgreSQL takes
ids from the tables' sequences and rows by COPY; SQLite takes ids after MAX(id) inside the write
transaction and rows by executemany, with dates in SQLAlchemy's format."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, insert, select, text

from service.enterprises.derive import derive
from service.enterprises.models import ConsentSource
from service.products.models import ProductSpec
from service.products.schemas import ProductCreate
from service.synth.consent import FORM_RECORDED_BY
from service.synth.generator import Generator
from service.taxonomy.credit_code import CreditCode

ENTERPRISE_COLUMNS = (
    "id",
    "credit_code",
    "name",
    "name_normalized",
    "district_code",
    "industry_code",
    "cluster_code",
    "chain_tag",
    "employees",
    "revenue_fen",
    "total_assets_fen",
    "established_date",
    "credit_grade",
    "ownership",
    "share_with_banks",
    "consent_source",
    "consent_recorded_by",
    "consent_recorded_at",
    "consent_form_ref",
    "consent_form_signed_on",
    "registered_area_code",
    "registered_in_wuxi",
    "size_class",
    "size_industry_key",
    "version",
    "created_at",
    "updated_at",
)
QUALIFICATION_COLUMNS = (
    "enterprise_id",
    "type_code",
    "issued_date",
    "expires_date",
    "source",
    "created_at",
)
CONTACT_COLUMNS = ("enterprise_id", "name", "title", "phone", "email", "is_primary")
PROJECT_COLUMNS = (
    "enterprise_id",
    "name",
    "kind",
    "cluster_code",
    "total_investment_fen",
    "equipment_investment_fen",
    "financing_need_fen",
    "year",
    "status",
    "listed_in",
    "description",
    "version",
    "created_at",
    "updated_at",
)


class NotSeeded(RuntimeError):
    """The reference data the loader needs is missing."""


def check_reference(conn: Connection, need_banks: bool) -> None:
    tables = [
        "cluster",
        "district",
        "qualification_type",
        "ownership_type",
        "size_industry",
        "size_threshold",
    ]
    if need_banks:
        tables.append("bank")
    empty = [t for t in tables if not conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()]
    if empty:
        raise NotSeeded(
            f"参考数据缺失（{', '.join(empty)} 表为空）：请先运行 `finmatch seed`。"
            f" Reference data missing (empty: {', '.join(empty)}); "
            "run `finmatch seed` first."
        )


def _existing_codes(conn: Connection, codes: list[str], sqlite: bool) -> set[str]:
    if not sqlite:
        return set(
            conn.execute(
                text("SELECT credit_code FROM enterprise WHERE credit_code = ANY(:codes)"),
                {"codes": codes},
            ).scalars()
        )
    found: set[str] = set()
    for i in range(0, len(codes), 500):
        chunk = codes[i : i + 500]
        params = {f"c{j}": c for j, c in enumerate(chunk)}
        marks = ", ".join(f":c{j}" for j in range(len(chunk)))
        found.update(
            conn.execute(
                text(f"SELECT credit_code FROM enterprise WHERE credit_code IN ({marks})"), params
            ).scalars()
        )
    return found


def _reserve_ids(conn: Connection, table: str, n: int, sqlite: bool) -> list[int]:
    if sqlite:
        # Inside the batch's write transaction; a concurrent writer would make our commit fail
        # (SQLite serialises writers), never duplicate an id.
        top = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar() or 0
        return list(range(top + 1, top + 1 + n))
    # Each nextval is ours alone even with concurrent inserts.
    return list(
        conn.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": n},
        ).scalars()
    )


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    driver = conn.connection.driver_connection  # psycopg 3, in this transaction
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _executemany(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn.exec_driver_sql(sql, [tuple(_sqlite_value(v) for v in row) for row in rows])


def _sqlite_value(value: Any) -> Any:
    # The format SQLAlchemy's SQLite DateTime and Date types write and read.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


class Rows(NamedTuple):
    """One enterprise ready to write; the enterprise id is prepended when it is known."""

    credit_code: str
    enterprise: tuple
    qualifications: list[tuple]
    contacts: list[tuple]
    projects: list[tuple]


def prepare(
    generator: Generator, enterprise: dict[str, Any], projects: list[dict[str, Any]], now: datetime
) -> Rows:
    e = enterprise
    industry = e["industry_code"]
    row = generator._row(industry) if industry else None
    # derive() with the one row that applies: the same answer as with the whole table, without
    # searching it again for every enterprise.
    derived = derive(
        CreditCode(e["credit_code"]),
        e["name"],
        industry,
        e["employees"],
        e["revenue_fen"],
        e["total_assets_fen"],
        (row,) if row else (),
    )
    # A choice from a signed form, recorded as the create path records it for the office.
    recorded = "share_with_banks" in e
    signed = e.get("consent_form_signed_on")
    return Rows(
        e["credit_code"],
        (
            e["credit_code"],
            e["name"],
            derived.name_normalized,
            e["district_code"],
            industry,
            e["cluster_code"],
            e["chain_tag"],
            e["employees"],
            e["revenue_fen"],
            e["total_assets_fen"],
            date.fromisoformat(e["established_date"]),
            e["credit_grade"],
            e.get("ownership"),
            bool(e.get("share_with_banks", False)),
            ConsentSource.office_form.value if recorded else None,
            FORM_RECORDED_BY if recorded else None,
            now if recorded else None,
            e.get("consent_form_ref"),
            date.fromisoformat(signed) if signed else None,
            derived.registered_area_code,
            derived.registered_in_wuxi,
            derived.size_class,
            derived.size_industry_key,
            1,
            now,
            now,
        ),
        [
            (
                q["type_code"],
                date.fromisoformat(q["issued_date"]),
                date.fromisoformat(q["expires_date"]) if q["expires_date"] else None,
                q["source"],
                now,
            )
            for q in e["qualifications"]
        ],
        [(c["name"], c["title"], c["phone"], c["email"], c["is_primary"]) for c in e["contacts"]],
        [
            (
                p["name"],
                p["kind"],
                p["cluster_code"],
                p["total_investment_fen"],
                p["equipment_investment_fen"],
                p["financing_need_fen"],
                p["year"],
                p["status"],
                p.get("listed_in"),
                p["description"],
                1,
                now,
                now,
            )
            for p in projects
        ],
    )


def write_batch(engine: Engine, batch: list[Rows]) -> dict[str, int]:
    """One transaction: skip codes already present, take ids, write the four tables."""
    sqlite = engine.dialect.name == "sqlite"
    write = _executemany if sqlite else _copy
    with engine.begin() as conn:
        present = _existing_codes(conn, [r.credit_code for r in batch], sqlite)
        fresh = [r for r in batch if r.credit_code not in present]
        ids = _reserve_ids(conn, "enterprise", len(fresh), sqlite)
        e_rows: list[tuple] = []
        q_rows: list[tuple] = []
        c_rows: list[tuple] = []
        p_rows: list[tuple] = []
        for enterprise_id, r in zip(ids, fresh, strict=True):
            e_rows.append((enterprise_id, *r.enterprise))
            q_rows.extend((enterprise_id, *q) for q in r.qualifications)
            c_rows.extend((enterprise_id, *c) for c in r.contacts)
            p_rows.extend((enterprise_id, *p) for p in r.projects)
        write(conn, "enterprise", ENTERPRISE_COLUMNS, e_rows)
        write(conn, "qualification", QUALIFICATION_COLUMNS, q_rows)
        write(conn, "contact", CONTACT_COLUMNS, c_rows)
        write(conn, "project", PROJECT_COLUMNS, p_rows)
    return {
        "enterprises": len(e_rows),
        "qualifications": len(q_rows),
        "contacts": len(c_rows),
        "projects": len(p_rows),
        "skipped_enterprises": len(batch) - len(fresh),
    }


SPEC_FIELDS = tuple(ProductSpec.model_fields)


def load_products(engine: Engine, chunk: list[dict[str, Any]]) -> tuple[int, int]:
    from service.products.models import Product, ProductVersion

    product_table = Product.__table__  # type: ignore[attr-defined]
    version_table = ProductVersion.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        codes = [p["code"] for p in chunk]
        present = set(
            conn.execute(
                select(product_table.c.code).where(product_table.c.code.in_(codes))
            ).scalars()
        )
        fresh = [ProductCreate.model_validate(p) for p in chunk if p["code"] not in present]
        if not fresh:
            return 0, len(chunk)
        now = datetime.now(UTC)
        conn.execute(
            insert(product_table),
            [
                {
                    "code": p.code,
                    "bank_code": p.bank_code,
                    "current_version": 1,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in fresh
            ],
        )
        ids = {
            code: product_id
            for code, product_id in conn.execute(
                select(product_table.c.code, product_table.c.id).where(
                    product_table.c.code.in_([p.code for p in fresh])
                )
            )
        }
        versions = []
        for p in fresh:
            spec = {f: getattr(p, f) for f in SPEC_FIELDS}
            # Stored as the catalogue service stores them: JSON-ready, enums as strings.
            spec["eligibility"] = p.eligibility.model_dump(mode="json")
            spec["rate"] = p.rate.model_dump(mode="json")
            spec["fees"] = [f.model_dump(mode="json") for f in p.fees]
            spec["collateral_types"] = [str(c) for c in p.collateral_types]
            spec["purposes"] = [str(x) for x in p.purposes]
            spec["category"] = str(p.category)
            spec["term_unit"] = str(p.term_unit)
            versions.append({**spec, "product_id": ids[p.code], "version": 1, "created_at": now})
        conn.execute(insert(version_table), versions)
    return len(fresh), len(chunk) - len(fresh)


# --- the entry point ------------------------------------------------------------------------

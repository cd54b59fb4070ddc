"""Writing a full rematch's rows into ``enterprise_match``, in the caller's transaction.

On PostgreSQL the rows go into a fresh table (binary COPY, frozen where it can be, no index to
maintain yet, in the order of ``physical_order``); its constraints and indexes are built
afterwards (a sort each, not millions of index insertions); then it takes the stored table's
place: the old table is dropped and the new one takes its name, its constraints' and indexes'
names, its id sequence, grants and comment. Until the commit, readers read the old rows; the
swap holds the table's exclusive lock only for its last few catalogue statements, and a
reader that waited for it reads the new table (each statement of a READ COMMITTED transaction
takes its snapshot after its locks; a REPEATABLE READ transaction whose snapshot is older than
the swap would see the new table empty, as after a TRUNCATE; the service uses none). Every
rewrite of stored matches holds ``STORED_MATCHES_LOCK`` (see ``upkeep``) from before it reads
anything, so no incremental rematch writes the old table meanwhile; one that waited runs on
the new table after the commit. A table something else depends on (a view, a foreign key
pointing at it, a trigger, row security, ...) is not swapped but rewritten in place, as SQLite
always is: every row deleted, the new ones inserted."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import Connection, delete

from service.core.pgcopy import HEADER, TRAILER, binary_copy
from service.matching.models import EnterpriseMatch

TABLE = EnterpriseMatch.__table__  # type: ignore[attr-defined]
COLUMNS = (
    "enterprise_id",
    "product_id",
    "product_version",
    "config_version",
    "score_centi",
    "enterprise_rank",
    "product_rank",
    "computed_at",
)
WRITE_CHUNK = 100_000
# Sorts for the index builds in memory (5 million rows take some 300 MB), for this transaction.
INDEX_BUILD_MEMORY = "512MB"
FRESH = "_fresh"  # suffix of the new table's and its objects' names until the swap

_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_WIDTHS = {"int2": 2, "int4": 4, "int8": 8, "timestamptz": 8}


def product_versions(product_ids: np.ndarray, versions: dict[int, int]) -> np.ndarray:
    known = np.array(sorted(versions), dtype=np.int64)
    version_of = np.array([versions[p] for p in known.tolist()], dtype=np.int64)
    if not len(product_ids):
        return product_ids.astype(np.int64)
    return version_of[np.searchsorted(known, product_ids)]


def replace_all(
    conn: Connection,
    rows: dict[str, np.ndarray],
    versions: dict[int, int],
    config_version: int,
    now: datetime,
) -> str:
    """Make the stored rows exactly ``rows`` (rank 0 means no rank). Returns how: "swap"
    (a fresh table, PostgreSQL) or "rewrite" (delete and insert)."""
    if conn.dialect.name == "postgresql":
        plan = swap_plan(conn)
        if plan is not None:
            _fill_and_swap(conn, plan, rows, versions, config_version, now)
            return "swap"
    conn.execute(delete(TABLE))
    _insert(conn, rows, versions, config_version, now)
    if conn.dialect.name == "postgresql":
        # Fresh statistics, or the planner keeps the old table's and misses the prospect index.
        conn.exec_driver_sql(f"ANALYZE {TABLE.name}")
    return "rewrite"


# --- delete and insert ------------------------------------------------------------------------


def _insert(
    conn: Connection,
    rows: dict[str, np.ndarray],
    versions: dict[int, int],
    config_version: int,
    now: datetime,
) -> None:
    """Insert the rows: COPY on PostgreSQL, executemany elsewhere."""
    n = len(rows["enterprise_id"])
    product_version = product_versions(rows["product_id"], versions)
    postgres = conn.dialect.name == "postgresql"
    stamp = now.isoformat() if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    for lo in range(0, n, WRITE_CHUNK):
        part = slice(lo, lo + WRITE_CHUNK)
        columns = (
            rows["enterprise_id"][part].tolist(),
            rows["product_id"][part].tolist(),
            product_version[part].tolist(),
            rows["score_centi"][part].tolist(),
            rows["enterprise_rank"][part].tolist(),
            rows["product_rank"][part].tolist(),
        )
        if postgres:
            text = "".join(
                f"{e}\t{p}\t{v}\t{config_version}\t{s}\t{er or NULL}\t{pr or NULL}\t{stamp}\n"
                for e, p, v, s, er, pr in zip(*columns, strict=True)
            )
            _copy(conn, f"COPY {TABLE.name} ({', '.join(COLUMNS)}) FROM STDIN", [text])
        else:
            conn.exec_driver_sql(
                f"INSERT INTO {TABLE.name} ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (e, p, v, config_version, s, er or None, pr or None, stamp)
                    for e, p, v, s, er, pr in zip(*columns, strict=True)
                ],
            )


NULL = "\\N"  # COPY's text format


def _copy(conn: Connection, statement: str, chunks: Any) -> None:
    """COPY ``chunks`` into the server; a thread of psycopg's sends each while the next one
    is built (numpy releases the interpreter's lock), so building and loading overlap."""
    from psycopg.copy import QueuedLibpqWriter

    driver = conn.connection.driver_connection  # psycopg 3, inside this transaction
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
    ):
        for chunk in chunks:
            copy.write(chunk)


# --- the fresh table and the swap -------------------------------------------------------------


@dataclass
class SwapPlan:
    """What the stored table is made of, read from the catalogue, to give the fresh one."""

    relation: str  # schema-qualified, quoted
    schema: str
    columns: list[tuple[str, str]]  # (name, type name) in table order
    constraints: list[tuple[str, str]]  # (name, definition): keys, uniques, foreign keys
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX statement) of the other indexes
    sequences: list[tuple[str, str]]  # (sequence, column) owned by the table's columns
    grants: list[str] = field(default_factory=list)
    comment: str | None = None


def _one(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.exec_driver_sql(sql, params).scalar()


def swap_plan(conn: Connection) -> SwapPlan | None:
    """The stored table's make-up, or None where a swap would lose something: anything that
    depends on the table (views, foreign keys pointing at it, functions of its row type),
    triggers, rules, row security, identity or generated columns, column grants, storage
    options, a tablespace, inheritance, or column types the binary COPY does not write."""
    oid = _one(conn, "SELECT to_regclass(%(name)s)::oid", name=TABLE.name)
    if oid is None:
        return None
    facts = conn.exec_driver_sql(
        "SELECT c.relkind, c.relpersistence, c.reltablespace, c.reloptions, c.relrowsecurity,"
        " EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid),"
        " EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),"
        " c.relispartition, c.reltype,"
        " pg_get_userbyid(c.relowner) = current_user AS owned, n.nspname,"
        " format('%%I.%%I', n.nspname, c.relname) AS relation, obj_description(c.oid, 'pg_class')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %(oid)s",
        {"oid": oid},
    ).one()
    (kind, persistence, tablespace, options, security, rules, triggers, partition, rowtype) = facts[
        :9
    ]
    owned, schema, relation, comment = facts[9:]
    if (
        kind != "r"
        or persistence != "p"
        or tablespace
        or options
        or security
        or rules
        or triggers
        or partition
        or not owned
    ):
        return None
    dependents = _one(
        conn,
        "SELECT count(*) FROM pg_depend WHERE deptype = 'n' AND ("
        " (refclassid = 'pg_class'::regclass AND refobjid = %(oid)s)"
        " OR (refclassid = 'pg_type'::regclass AND refobjid = %(type)s))",
        oid=oid,
        type=rowtype,
    )
    inherits = _one(
        conn,
        "SELECT count(*) FROM pg_inherits WHERE inhrelid = %(oid)s OR inhparent = %(oid)s",
        oid=oid,
    )
    extended = _one(conn, "SELECT count(*) FROM pg_statistic_ext WHERE stxrelid = %(oid)s", oid=oid)
    if dependents or inherits or extended:
        return None
    columns = conn.exec_driver_sql(
        "SELECT a.attname, t.typname, a.attidentity, a.attgenerated, a.attacl IS NOT NULL,"
        " a.attstattarget, coalesce(array_to_string(a.attoptions, ',') ~ 'n_distinct', false)"
        " FROM pg_attribute a"
        " JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        {"oid": oid},
    ).all()
    if {c[0] for c in columns} != {"id", *COLUMNS} or any(
        c[1] not in _WIDTHS or c[2] or c[3] or c[4] or c[5] >= 0 or c[6] for c in columns
    ):
        return None
    constraints = conn.exec_driver_sql(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %(oid)s ORDER BY contype, conname",
        {"oid": oid},
    ).all()
    if any(kind not in ("p", "u", "f", "c") for _, kind, _ in constraints):
        return None
    indexes = conn.exec_driver_sql(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %(oid)s AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = %(oid)s)"
        " ORDER BY c.relname",
        {"oid": oid},
    ).all()
    sequences = conn.exec_driver_sql(
        "SELECT format('%%I.%%I', sn.nspname, s.relname), a.attname FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_namespace sn ON sn.oid = s.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
        " WHERE d.classid = 'pg_class'::regclass AND d.refobjid = %(oid)s AND d.deptype = 'a'",
        {"oid": oid},
    ).all()
    grants = conn.exec_driver_sql(
        "SELECT format('GRANT %%s ON %%s TO %%s%%s', g.privilege_type, %(relation)s::text,"
        " CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,"
        " CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
        " FROM pg_class c, aclexplode(c.relacl) g WHERE c.oid = %(oid)s AND g.grantee <> c.relowner",
        {"oid": oid, "relation": relation},
    ).all()
    parsed = []
    for name, statement in indexes:
        match = re.fullmatch(
            r"(CREATE (?:UNIQUE )?INDEX )(\S+)( ON (?:ONLY )?)(\S+)( .*)", statement
        )
        if match is None:
            return None
        parsed.append((name, match))
    plan = SwapPlan(
        relation=relation,
        schema=schema,
        columns=[(c[0], c[1]) for c in columns],
        constraints=[(name, definition) for name, kind, definition in constraints if kind != "c"],
        indexes=[],
        sequences=[(s, column) for s, column in sequences],
        grants=[g for (g,) in grants],
        comment=comment,
    )
    fresh = _quote(conn, schema, TABLE.name + FRESH)
    for name, match in parsed:
        plan.indexes.append(
            (name, f"{match[1]}{_ident(conn, name + FRESH)}{match[3]}{fresh}{match[5]}")
        )
    return plan


def _ident(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _quote(conn: Connection, schema: str, name: str) -> str:
    return f"{_ident(conn, schema)}.{_ident(conn, name)}"


def _fill_and_swap(
    conn: Connection,
    plan: SwapPlan,
    rows: dict[str, np.ndarray],
    versions: dict[int, int],
    config_version: int,
    now: datetime,
) -> None:
    fresh_name = TABLE.name + FRESH
    fresh = _quote(conn, plan.schema, fresh_name)
    run = conn.exec_driver_sql
    run(f"DROP TABLE IF EXISTS {fresh}")  # left by nothing committed, but cheap to be sure
    n = len(rows["enterprise_id"])
    rows = {name: column[physical_order(rows)] for name, column in rows.items()}
    first = _reserve_ids(conn, plan, n)
    names = [name for name, _ in plan.columns]
    values = _column_values(rows, versions, config_version, now, first)
    types = dict(plan.columns)
    run(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
    copy = f"COPY {fresh} ({', '.join(_ident(conn, c) for c in names)}) FROM STDIN"
    options = "FORMAT BINARY, FREEZE" if _create(conn, plan, fresh, copy) else "FORMAT BINARY"
    _copy(conn, f"{copy} ({options})", binary_copy([(values[c], _WIDTHS[types[c]]) for c in names]))
    for name, definition in plan.constraints:
        run(f"ALTER TABLE {fresh} ADD CONSTRAINT {_ident(conn, name + FRESH)} {definition}")
    for _, statement in plan.indexes:
        run(statement)
    run(f"ANALYZE {fresh}")
    # The swap: wait for the readers of the old table, then a few catalogue changes.
    run(f"LOCK TABLE {plan.relation} IN ACCESS EXCLUSIVE MODE")
    for sequence, column in plan.sequences:
        run(f"ALTER SEQUENCE {sequence} OWNED BY {fresh}.{_ident(conn, column)}")
    run(f"DROP TABLE {plan.relation}")
    run(f"ALTER TABLE {fresh} RENAME TO {_ident(conn, TABLE.name)}")
    for name, _ in plan.constraints:
        run(
            f"ALTER TABLE {plan.relation} RENAME CONSTRAINT {_ident(conn, name + FRESH)}"
            f" TO {_ident(conn, name)}"
        )
    for name, _ in plan.indexes:
        run(f"ALTER INDEX {_quote(conn, plan.schema, name + FRESH)} RENAME TO {_ident(conn, name)}")
    for grant in plan.grants:
        run(grant)
    if plan.comment is not None:
        literal = _one(conn, "SELECT quote_literal(%(c)s::text)", c=plan.comment)
        run(f"COMMENT ON TABLE {plan.relation} IS {literal}")


def _create(conn: Connection, plan: SwapPlan, fresh: str, copy: str) -> bool:
    """Create the fresh table (columns, types, defaults with the same id sequence, NOT NULL and
    check constraints) and say whether rows can be copied into it frozen: COPY FREEZE (no
    later pass to set every row's visibility hints, which the index builds would otherwise
    do) needs a table created in the current subtransaction with nothing else of the
    transaction's still open. An empty COPY FREEZE in a savepoint finds out."""

    def create() -> None:
        conn.exec_driver_sql(
            f"CREATE TABLE {fresh} (LIKE {plan.relation} INCLUDING DEFAULTS INCLUDING"
            " CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS)"
        )

    savepoint = conn.begin_nested()
    try:
        create()
        _copy(conn, f"{copy} (FORMAT BINARY, FREEZE)", [HEADER, TRAILER])
    except psycopg.Error as exc:
        if exc.sqlstate not in ("25000", "55000"):  # invalid transaction or object state
            raise
        savepoint.rollback()
        create()
        return False
    savepoint.commit()
    return True


def physical_order(rows: dict[str, np.ndarray]) -> np.ndarray:
    """The order the rows are written in: by product, then score (then as the engine gave
    them). The (product_id, score_centi) index, the costliest to build, then reads its rows
    already sorted, and so does the primary key (ids are given in this order); a product's
    prospect list sits on few pages."""
    # Two stable sorts, the minor key first; on 16-bit keys numpy's stable sort is a radix sort.
    order = np.argsort(rows["score_centi"].astype(np.int16), kind="stable")
    products = rows["product_id"][order]
    if len(products) and products.min() >= -(2**15) and products.max() < 2**15:
        products = products.astype(np.int16)
    return order[np.argsort(products, kind="stable")]


def _reserve_ids(conn: Connection, plan: SwapPlan, n: int) -> int:
    """The first of n consecutive new ids from the table's id sequence (every writer of the
    table holds the stored matches' lock, so none takes an id meanwhile)."""
    sequence = next((s for s, column in plan.sequences if column == "id"), None)
    if sequence is None or n == 0:
        return 1
    first = int(_one(conn, f"SELECT nextval('{sequence}')"))
    if n > 1:
        run = conn.exec_driver_sql
        run(f"SELECT setval('{sequence}', {first + n - 1})")
    return first


def _column_values(
    rows: dict[str, np.ndarray],
    versions: dict[int, int],
    config_version: int,
    now: datetime,
    first_id: int,
) -> dict[str, np.ndarray]:
    """Every column as an array (a rank of 0 masked: NULL)."""
    n = len(rows["enterprise_id"])
    micros = _micros(now)
    return {
        "id": np.arange(first_id, first_id + n, dtype=np.int64),
        "enterprise_id": rows["enterprise_id"],
        "product_id": rows["product_id"],
        "product_version": product_versions(rows["product_id"], versions),
        "config_version": np.full(n, config_version, dtype=np.int64),
        "score_centi": rows["score_centi"],
        "enterprise_rank": np.ma.masked_equal(rows["enterprise_rank"], 0),
        "product_rank": np.ma.masked_equal(rows["product_rank"], 0),
        "computed_at": np.full(n, micros, dtype=np.int64),
    }


def _micros(now: datetime) -> int:
    delta = now - _PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

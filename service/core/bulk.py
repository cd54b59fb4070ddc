"""Writing many rows at once, inside the caller's transaction: COPY on PostgreSQL (the ids of
new rows reserved from their table's sequence first, so they are known without RETURNING;
changed rows through a temporary table and one UPDATE … FROM), executemany elsewhere; and
reading many rows by key with one index probe each.

For the writes that go by the hundred thousand (a bulk import of the library): through
SQLAlchemy, an INSERT of many rows with RETURNING costs the driver more to prepare than the
server to run, and one UPDATE per row a round trip each."""

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session


def _is_json(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON)


def _iso(value: Any) -> Any:
    """Dates and times in JSON columns as ISO text (as the audit log keeps them)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _driver(session: Session) -> Any:
    driver = session.connection().connection.driver_connection  # psycopg 3, in this transaction
    assert driver is not None
    return driver


def _copy(session: Session, target: str, table: Table, names: Sequence[str], rows: Any) -> None:
    """COPY ``rows`` (lists of values in the order of ``names``) into ``target``."""
    quote = session.connection().dialect.identifier_preparer.quote
    listed = ", ".join(quote(n) for n in names)
    json_at = [i for i, n in enumerate(names) if _is_json(table.c[n])]
    dumps = json.JSONEncoder(ensure_ascii=False, default=_iso).encode
    with (
        _driver(session).cursor() as cursor,
        cursor.copy(f"COPY {target} ({listed}) FROM STDIN") as copy,
    ):
        for row in rows:
            for i in json_at:
                if row[i] is not None:
                    row[i] = dumps(row[i])
            copy.write_row(row)


def insert_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], ids: bool = False
) -> list[int]:
    """Insert ``rows`` (dicts with the same keys); with ``ids``, give each a new id from the
    table's sequence and return them in order."""
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        if ids:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list(connection.execute(statement, list(rows)).scalars())
        connection.execute(insert(table), list(rows))
        return []
    names = list(rows[0])
    new_ids: list[int] = []
    if ids:
        new_ids = list(
            connection.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                f"FROM generate_series(1, {len(rows)})"
            ).scalars()
        )
        names.append("id")
        values = ([*(row[n] for n in names[:-1]), i] for row, i in zip(rows, new_ids, strict=True))
    else:
        values = ([row[n] for n in names] for row in rows)
    _copy(session, table.name, table, names, values)
    return new_ids


def update_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Set each row's columns (dicts with the same keys, ``id`` naming the row)."""
    if not rows:
        return
    names = list(rows[0])
    connection = session.connection()
    changed = [n for n in names if n != "id"]
    if connection.dialect.name != "postgresql" or len(rows) < 50:
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({n: bindparam(f"_{n}") for n in changed})
        )
        connection.execute(statement, [{f"_{k}": v for k, v in row.items()} for row in rows])
        return
    quote = connection.dialect.identifier_preparer.quote
    listed = ", ".join(quote(n) for n in names)
    digest = hashlib.sha1(listed.encode()).hexdigest()[:10]
    scratch = f"_bulk_{table.name}_{digest}"
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} ON COMMIT DROP AS "
        f"SELECT {listed} FROM {table.name} WITH NO DATA"
    )
    connection.exec_driver_sql(f"TRUNCATE {scratch}")
    _copy(session, scratch, table, names, ([row[n] for n in names] for row in rows))
    assignments = ", ".join(f"{quote(n)} = s.{quote(n)}" for n in changed)
    connection.exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} FROM {scratch} s WHERE {table.name}.id = s.id"
    )


def select_by(
    session: Session,
    table: Table,
    column: str,
    values: Sequence[Any],
    lock: bool = False,
    where: dict[str, Any] | None = None,
) -> Sequence[Any]:
    """The rows of ``table`` whose ``column`` is one of ``values`` (and whose columns equal
    ``where``), as mappings; locked for a change with ``lock`` (FOR NO KEY UPDATE, in the
    order of the values). On PostgreSQL one index probe per value, whatever the planner's
    statistics say: a table that a bulk import is filling in the same transaction has none,
    and a scan of it per batch would make the import quadratic."""
    if not values:
        return []
    where = where or {}
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = select(table).where(
            table.c[column].in_(list(values)), *(table.c[k] == v for k, v in where.items())
        )
        if lock:
            statement = statement.with_for_update(key_share=True)
        return connection.execute(statement).mappings().all()
    kind = table.c[column].type.compile(dialect=connection.dialect)
    quote = connection.dialect.identifier_preparer.quote
    also = "".join(f" AND {quote(k)} = :w_{k}" for k in where)
    locking = " FOR NO KEY UPDATE" if lock else ""
    listed = ", ".join(f"t.{quote(c.name)}" for c in table.columns)  # not t.*: the model's order
    lateral = text(
        f"SELECT {listed} FROM unnest(CAST(:values AS {kind}[])) AS k(v) CROSS JOIN LATERAL "
        f"(SELECT * FROM {table.name} WHERE {quote(column)} = k.v{also} OFFSET 0{locking}) AS t"
    ).columns(*table.columns)
    params = {"values": list(values), **{f"w_{k}": v for k, v in where.items()}}
    return connection.execute(lateral, params).mappings().all()

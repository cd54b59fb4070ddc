"""The whole library read from PostgreSQL into the batch engine's arrays in two statements, with
no Python per enterprise: ``facts.load_enterprise_arrays`` on PostgreSQL.

1. One scan with GROUPING SETS lists each categorical column's distinct values in the order
   the enterprises first show them (by smallest id): the vocabularies, as
   ``enterprise_arrays.Columns`` builds them row by row.
2. One binary ``COPY (SELECT …) TO STDOUT`` sends every enterprise as fixed-width integers:
   the server replaces each categorical value by its index in the vocabulary, the
   qualifications valid on the day by a bit mask (``bit_or`` over the enterprise's rows), and
   a missing date or revenue by a flag. Every field is non-null and of fixed width, so the
   rows are one numpy structured array over the COPY's bytes.

The columns computed from others (tier from cluster, service area from area code, years in
business from the established date, grade rank from the grade) are evaluated once per
distinct value and spread with numpy. The result equals the chunked generic read
(``facts.read_enterprise_arrays``), vocabularies and bit order included; a value the second
statement meets that the first did not (an enterprise written in between, under READ
COMMITTED) makes ``read`` return None, and the caller reads the generic way."""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
from psycopg import sql

from service.matching import scoring
from service.matching.enterprise_arrays import (
    GRADE_MISSING,
    MAX_QUALIFICATION_CODES,
    EnterpriseArrays,
    rank_of_grade,
)

# Categorical columns read as vocabulary indices: the arrays' name → the enterprise column.
_CATEGORICAL = {
    "cluster": "cluster_code",
    "size_class": "size_class",
    "district": "district_code",
    "industry": "industry_code",
    "ownership": "ownership",
    "area_code": "registered_area_code",
    "credit_grade": "credit_grade",
}
# Columns with more distinct values than this are mapped with a hash join on the vocabulary
# rather than array_position (a linear search per row).
_SEARCH_AT_MOST = 64
_PG_EPOCH = date(2000, 1, 1)  # day 0 of `date - date`
_NO_DATE = np.iinfo(np.int32).min
_UNKNOWN = -1  # a value missing from the vocabulary read just before

# One row of the COPY: the field count, then each field's length and value (big-endian).
_FIELDS: list[tuple[str, str]] = [
    ("id", ">i8"),
    *((name, ">i2") for name in _CATEGORICAL),
    ("registered_in_wuxi", "?"),
    ("established", ">i4"),
    ("revenue_fen", ">i8"),
    ("has_revenue", "?"),
    ("qualifications", ">u8"),
]
_ROW = np.dtype(
    [("count", ">i2")]
    + [item for name, kind in _FIELDS for item in ((f"{name}_size", ">i4"), (name, kind))]
)
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def read(
    driver: Any,
    on: date,
    *,
    codes: Sequence[str],
    tier_of: Mapping[str, str],
    service_area: Sequence[str],
    bridge: Mapping[int, str],
) -> EnterpriseArrays | None:
    """Every enterprise of the library as arrays, read on ``driver`` (the psycopg connection
    of the caller's transaction). ``codes``: the qualification types in bit order (the
    qualification table's foreign key keeps every held code among them). None: read the
    generic way instead (the library changed between the two statements, or there are more
    qualification types than bits: the generic read fails only if one beyond is held)."""
    codes = list(dict.fromkeys(codes))
    if len(codes) > MAX_QUALIFICATION_CODES:
        return None
    with driver.cursor() as cursor:
        vocabs = _vocabularies(cursor)
        data = _copy(cursor, _statement(vocabs, codes, on))
    rows = _rows(data)
    if any(np.any(rows[name] == _UNKNOWN) for name in _CATEGORICAL):
        return None
    return _arrays(rows, vocabs, on, codes, tier_of, service_area, bridge)


def _vocabularies(cursor: Any) -> dict[str, list[str]]:
    """Each categorical column's non-null values, in the order of their first enterprise."""
    columns = list(_CATEGORICAL.values())
    sets = ", ".join(f"({c})" for c in columns)
    cursor.execute(
        f"SELECT GROUPING({', '.join(columns)}), {', '.join(columns)}, min(id) "
        f"FROM enterprise GROUP BY GROUPING SETS ({sets})"
    )
    full = (1 << len(columns)) - 1
    found: dict[str, list[tuple[int, str]]] = {name: [] for name in _CATEGORICAL}
    for grouping, *values, first in cursor.fetchall():
        # GROUPING's bit for a column is 0 in the set grouped by it (the leftmost is highest).
        at = next(i for i in range(len(columns)) if not grouping & (1 << (len(columns) - 1 - i)))
        assert grouping == full ^ (1 << (len(columns) - 1 - at))
        value = values[at]
        if value is not None:
            found[list(_CATEGORICAL)[at]].append((first, value))
    return {name: [v for _, v in sorted(pairs)] for name, pairs in found.items()}


def _statement(vocabs: dict[str, list[str]], codes: list[str], on: date) -> sql.Composed:
    select: list[sql.Composable] = [sql.SQL("e.id::int8")]
    joins: list[sql.Composable] = []
    for name, column in _CATEGORICAL.items():
        values = sql.Literal(vocabs[name])
        field = sql.Identifier(column)
        if len(vocabs[name]) <= _SEARCH_AT_MOST:
            index = sql.SQL("array_position({}::text[], e.{})").format(values, field)
        else:
            alias = sql.Identifier(f"v_{name}")
            joins.append(
                sql.SQL(
                    " LEFT JOIN unnest({values}::text[]) WITH ORDINALITY AS {alias} (value, n)"
                    " ON {alias}.value = e.{field}"
                ).format(values=values, alias=alias, field=field)
            )
            index = sql.SQL("{}.n").format(alias)
        select.append(
            sql.SQL(
                "coalesce({index}, CASE WHEN e.{field} IS NULL THEN 0 ELSE {unknown} END)::int2"
            ).format(index=index, field=field, unknown=sql.Literal(_UNKNOWN))
        )
    day = sql.Literal(on)
    select += [
        sql.SQL("coalesce(e.registered_in_wuxi, false)"),
        sql.SQL("coalesce(e.established_date - {}, {})::int4").format(
            sql.Literal(_PG_EPOCH), sql.Literal(int(_NO_DATE))
        ),
        sql.SQL("coalesce(e.revenue_fen, 0)::int8"),
        sql.SQL("e.revenue_fen IS NOT NULL"),
        sql.SQL("coalesce(q.mask, 0)::int8"),
    ]
    held = sql.SQL(
        "SELECT enterprise_id, bit_or(1::int8 << (array_position({codes}::text[], type_code) - 1))"
        " AS mask FROM qualification WHERE issued_date <= {day}"
        " AND (expires_date IS NULL OR expires_date >= {day}) GROUP BY enterprise_id"
    ).format(codes=sql.Literal(codes), day=day)
    query = sql.SQL(
        "SELECT {} FROM enterprise AS e{} LEFT JOIN ({}) AS q ON q.enterprise_id = e.id"
    )
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(
        query.format(sql.SQL(", ").join(select), sql.Composed(joins), held)
    )


def _copy(cursor: Any, statement: sql.Composed) -> bytes:
    parts: list[bytes] = []
    with cursor.copy(statement) as copy:
        for block in copy:
            parts.append(bytes(block))
    return b"".join(parts)


def _rows(data: bytes) -> np.ndarray:
    """The COPY's rows as a structured array (checked: the layout is the one expected)."""
    if data[: len(_SIGNATURE)] != _SIGNATURE:
        raise ValueError("not a binary COPY")
    extension = int.from_bytes(data[15:19], "big")
    start = 19 + extension
    if data[-2:] != b"\xff\xff" or (len(data) - start - 2) % _ROW.itemsize:
        raise ValueError("unexpected binary COPY layout")
    rows = np.frombuffer(
        data, dtype=_ROW, offset=start, count=(len(data) - start - 2) // _ROW.itemsize
    )
    if np.any(rows["count"] != len(_FIELDS)) or any(
        np.any(rows[f"{name}_size"] != np.dtype(kind).itemsize) for name, kind in _FIELDS
    ):
        raise ValueError("unexpected binary COPY layout")
    return rows


def _first_seen(raw: np.ndarray, values: Sequence[Any]) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Codes into ``values`` (several may be equal) as codes into a vocabulary of the distinct
    values in the order the rows first show them, None at 0 (as ``enterprise_arrays._Vocab``)."""
    present, first = np.unique(raw, return_index=True)
    index: dict[Any, int] = {None: 0}
    remap = np.zeros(len(values), dtype=np.int16)
    for code in present[np.argsort(first, kind="stable")].tolist():
        remap[code] = index.setdefault(values[code], len(index))
    return remap[raw], tuple(index)


def _arrays(
    rows: np.ndarray,
    vocabs: dict[str, list[str]],
    on: date,
    codes: list[str],
    tier_of: Mapping[str, str],
    service_area: Sequence[str],
    bridge: Mapping[int, str],
) -> EnterpriseArrays:
    ids = rows["id"].astype(np.int64)
    order = np.argsort(ids, kind="stable")
    if np.any(order[1:] < order[:-1]):  # the scan's order is usually the ids' already
        rows, ids = rows[order], ids[order]
    if len(ids) > 1 and np.any(np.diff(ids) <= 0):
        raise ValueError("enterprise ids must be unique and ascending")
    values = {name: (None, *vocabs[name]) for name in _CATEGORICAL}
    code = {name: rows[name].astype(np.int16) for name in _CATEGORICAL}
    clusters = values["cluster"]
    tier, tiers = _first_seen(code["cluster"], [tier_of.get(c or "") for c in clusters])
    areas = values["area_code"]
    served = np.array([scoring.in_service_area(a, service_area) for a in areas], dtype=bool)
    grades = np.array([rank_of_grade(g) for g in values["credit_grade"]], dtype=np.int8)
    assert grades[0] == GRADE_MISSING
    bridge_raw = np.zeros(len(ids), dtype=np.int16)
    states: list[str | None] = [None, *dict.fromkeys(bridge.values())]
    if bridge:
        holders = np.fromiter(bridge.keys(), dtype=np.int64, count=len(bridge))
        state = np.array([states.index(s) for s in bridge.values()], dtype=np.int16)
        at = np.minimum(np.searchsorted(ids, holders), max(len(ids) - 1, 0))
        known = (ids[at] == holders) if len(ids) else np.zeros(len(holders), dtype=bool)
        bridge_raw[at[known]] = state[known]
    bridge_codes, bridges = _first_seen(bridge_raw, states)
    days = rows["established"].astype(np.int32)
    has_established = days != _NO_DATE
    distinct, inverse = np.unique(days[has_established], return_inverse=True)
    years_of = np.array(
        [scoring._years_between(_PG_EPOCH + timedelta(days=d), on) for d in distinct.tolist()],
        dtype=np.int16,
    )
    years = np.zeros(len(ids), dtype=np.int16)
    years[has_established] = years_of[inverse]
    return EnterpriseArrays(
        on=on,
        ids=ids,
        cluster=code["cluster"],
        tier=tier,
        size_class=code["size_class"],
        district=code["district"],
        industry=code["industry"],
        ownership=code["ownership"],
        area_code=code["area_code"],
        bridge=bridge_codes,
        registered_in_wuxi=rows["registered_in_wuxi"].astype(bool),
        in_service_area=served[code["area_code"]],
        qualifications=rows["qualifications"].astype(np.uint64),
        years_in_business=years,
        has_established=has_established,
        revenue_fen=rows["revenue_fen"].astype(np.int64),
        has_revenue=rows["has_revenue"].astype(bool),
        grade_rank=grades[code["credit_grade"]],
        clusters=clusters,
        tiers=tiers,
        size_classes=values["size_class"],
        districts=values["district"],
        industries=values["industry"],
        ownerships=values["ownership"],
        area_codes=areas,
        bridges=bridges,
        qualification_codes=tuple(codes),
    )

"""A prototype of a PostgreSQL path for ``service.policies.store.read_columns`` (the whole
library), for ``bench/policy_eval.py``: each kind of fact read by one binary ``COPY (SELECT …)
TO STDOUT`` of fixed-width integers straight into a numpy structured array (as
service/matching/library_copy.py reads the matching library), no Python per row.

The server turns each text code into its place in a short reference list (qualification
types, project and loan kinds, products, schemes, policies, size classes), a date into a day
number, a missing value into -1, 民营 into the ownership type's flag and the service area into
a prefix test; numpy then renumbers the codes in the order the rows first show them, as
``batch.Vocabulary`` does row by row, so that the columns equal ``read_columns``'s. The
statements read the tables in the same way as ``read_columns`` (the same joins, no order but
the enterprises'), so the rows come in the same order."""

import numpy as np
import psycopg

from service.core.settings import get_settings
from service.enterprises.models import ProjectKind
from service.loans.models import LoanKind
from service.policies.batch import Columns, Vocabulary, ranks

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_EPOCH = "DATE '1970-01-01'"


def _copy(c: psycopg.Connection, select: str, fields: list[tuple[str, str]]) -> np.ndarray:
    row = np.dtype(
        [("count", ">i2")]
        + [item for name, kind in fields for item in ((f"{name}_size", ">i4"), (name, kind))]
    )
    parts: list[bytes] = []
    with c.cursor() as cursor, cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:  # type: ignore[arg-type]
        for block in copy:
            parts.append(bytes(block))
    data = b"".join(parts)
    if data[: len(_SIGNATURE)] != _SIGNATURE:
        raise ValueError("not a binary COPY")
    start = 19 + int.from_bytes(data[15:19], "big")
    if data[-2:] != b"\xff\xff" or (len(data) - start - 2) % row.itemsize:
        raise ValueError("unexpected binary COPY layout")
    rows = np.frombuffer(
        data, dtype=row, offset=start, count=(len(data) - start - 2) // row.itemsize
    )
    if np.any(rows["count"] != len(fields)):
        raise ValueError("unexpected binary COPY layout")
    return rows


def _listed(values: list[str], column: str) -> str:
    """The value's place (0-based) in ``values``, -1 when null."""
    if not values:
        return "-1"
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"coalesce(array_position(ARRAY[{quoted}]::text[], {column}::text) - 1, -1)::int4"


def _vocabulary(raw: np.ndarray, values: list[str], vocabulary: Vocabulary) -> np.ndarray:
    """Codes into ``values`` as codes of ``vocabulary``, numbered in the order first seen."""
    raw = raw.astype(np.int64)
    present, first = np.unique(raw[raw >= 0], return_index=True)
    remap = np.full(len(values) + 1, -1, dtype=np.int32)
    for code in present[np.argsort(first, kind="stable")].tolist():
        remap[code] = vocabulary.code(values[code])
    return remap[raw]  # -1 indexes the last slot: stays -1


def _strings(c: psycopg.Connection, query: str) -> list[str]:
    return [r[0] for r in c.execute(query)]  # type: ignore[arg-type]


def read_columns_copy(dsn: str) -> Columns:
    v = {
        name: Vocabulary()
        for name in ("sizes", "types", "kinds", "products", "schemes", "purposes", "policies")
    }
    prefixes = get_settings().service_area_prefixes
    area = (
        "coalesce(e.registered_area_code LIKE ANY (ARRAY["
        + ", ".join(f"'{p}%'" for p in prefixes)
        + "]), false)"
        if prefixes
        else "true"
    )
    with psycopg.connect(dsn) as c:
        sizes = _strings(
            c, "SELECT DISTINCT size_class FROM enterprise WHERE size_class IS NOT NULL"
        )
        types = _strings(c, "SELECT code FROM qualification_type")
        kinds = [k.value for k in ProjectKind]
        products = _strings(c, "SELECT code FROM product")
        schemes = _strings(
            c, "SELECT DISTINCT scheme FROM product_version WHERE scheme IS NOT NULL"
        )
        purposes = [k.value for k in LoanKind]
        policies = _strings(c, "SELECT code FROM policy")
        e = _copy(
            c,
            "SELECT e.id::int8, (CASE WHEN o.private THEN 1 WHEN o.code IS NOT NULL THEN 0 "
            f"ELSE -1 END)::int2, {area}, {_listed(sizes, 'e.size_class')} FROM enterprise e "
            "LEFT JOIN ownership_type o ON o.code = e.ownership ORDER BY e.id",
            [("id", ">i8"), ("private", ">i2"), ("in_area", "?"), ("size", ">i4")],
        )
        q = _copy(
            c,
            f"SELECT enterprise_id::int8, {_listed(types, 'type_code')}, "
            f"(issued_date - {_EPOCH})::int4 FROM qualification",
            [("e", ">i8"), ("type", ">i4"), ("day", ">i4")],
        )
        p = _copy(
            c,
            f"SELECT enterprise_id::int8, {_listed(kinds, 'kind')}, year::int4, "
            "coalesce(equipment_investment_fen, -1)::int8 FROM project",
            [("e", ">i8"), ("kind", ">i4"), ("year", ">i4"), ("base", ">i8")],
        )
        loans = _copy(
            c,
            f"SELECT l.enterprise_id::int8, {_listed(products, 'p.code')}, "
            f"{_listed(schemes, 'pv.scheme')}, {_listed(purposes, 'l.kind')}, "
            f"l.principal_fen::int8, l.rate_bp::int8, (l.disbursed_date - {_EPOCH})::int4, "
            f"(least(l.maturity_date, coalesce(l.closed_date, l.maturity_date)) - {_EPOCH})::int4 "
            "FROM loan l LEFT JOIN product p ON p.id = l.product_id "
            "LEFT JOIN product_version pv ON pv.product_id = p.id "
            "AND pv.version = p.current_version",
            [
                ("e", ">i8"),
                ("product", ">i4"),
                ("scheme", ">i4"),
                ("purpose", ">i4"),
                ("principal", ">i8"),
                ("rate", ">i8"),
                ("start", ">i4"),
                ("end", ">i4"),
            ],
        )
        g = _copy(
            c,
            f"SELECT enterprise_id::int8, {_listed(policies, 'policy_code')}, "
            "(CASE WHEN period = 'once' THEN 0 ELSE period::int END)::int4, amount::int8 FROM ("
            "SELECT *, CASE WHEN status = 'paid' THEN coalesce(paid_fen, approved_fen) "
            "ELSE approved_fen END AS amount FROM policy_grant "
            "WHERE status IN ('approved', 'paid')) g WHERE amount IS NOT NULL",
            [("e", ">i8"), ("policy", ">i4"), ("period", ">i4"), ("amount", ">i8")],
        )
    ids = e["id"].astype(np.int64)

    def row(of: np.ndarray) -> np.ndarray:
        return np.searchsorted(ids, of.astype(np.int64)).astype(np.int32)

    # Vocabularies in the order read_columns meets them: sizes, then each fact table's.
    size = _vocabulary(e["size"], sizes, v["sizes"])
    q_enterprise = row(q["e"])
    q_type = _vocabulary(q["type"], types, v["types"])
    q_day = q["day"].astype(np.int32)
    p_kind = _vocabulary(p["kind"], kinds, v["kinds"])
    # read_columns codes product, scheme and purpose row by row, each in its own vocabulary.
    l_product = _vocabulary(loans["product"], products, v["products"])
    l_scheme = _vocabulary(loans["scheme"], schemes, v["schemes"])
    l_purpose = _vocabulary(loans["purpose"], purposes, v["purposes"])
    g_policy = _vocabulary(g["policy"], policies, v["policies"])
    return Columns(
        enterprise_ids=ids,
        private=e["private"].astype(np.int8),
        in_area=e["in_area"].astype(bool),
        size=size,
        q_enterprise=q_enterprise,
        q_type=q_type,
        q_day=q_day,
        q_rank=ranks(
            q_enterprise.astype(np.int64), q_type.astype(np.int64), q_day.astype(np.int64)
        ),
        p_enterprise=row(p["e"]),
        p_kind=p_kind,
        p_year=p["year"].astype(np.int32),
        p_base=p["base"].astype(np.int64),
        l_enterprise=row(loans["e"]),
        l_product=l_product,
        l_scheme=l_scheme,
        l_purpose=l_purpose,
        l_principal=loans["principal"].astype(np.int64),
        l_rate=loans["rate"].astype(np.int64),
        l_start=loans["start"].astype(np.int32),
        l_end=loans["end"].astype(np.int32),
        g_enterprise=row(g["e"]),
        g_policy=g_policy,
        g_period=g["period"].astype(np.int32),
        g_amount=g["amount"].astype(np.int64),
        **v,
    )

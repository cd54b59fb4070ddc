"""The whole library's facts as the batch engine's columns, read on PostgreSQL by one binary
``COPY (SELECT …) TO STDOUT`` per kind of fact, straight into numpy arrays: no Python object
per row (``store.read_columns`` reads the same facts row by row elsewhere, and for a few
enterprises).

The server turns each text code into its place in a short reference list read first
(qualification types, project and loan kinds, products, schemes, policies, size classes), a
date into a day number, a missing value into -1, 民营 into the ownership type's flag and the
service area into a prefix test, with the same meaning as ``store.read_columns`` (the tests
hold the two equal). A code outside its list (a row written between the list and the COPY) or
a value of an unexpected shape sends the caller back to the row-by-row read: nothing here can
fail the statement, so the caller's transaction is never aborted."""

from typing import Any

import numpy as np
from psycopg import sql

from service.core import pgcopy
from service.core.settings import get_settings
from service.enterprises.models import ProjectKind
from service.loans.models import LoanKind
from service.policies.batch import Columns, Vocabulary, ranks

_EPOCH = sql.SQL("DATE '1970-01-01'")
_UNLISTED = -2  # a code not in its list


def read(driver: Any) -> Columns | None:
    """The library's columns, read on ``driver`` (the psycopg connection of the caller's
    transaction); None: read them row by row instead."""
    with driver.cursor() as cursor:
        return _read(cursor)


def _strings(cursor: Any, query: str) -> list[str]:
    cursor.execute(query)
    return [r[0] for r in cursor.fetchall()]


def _vocabulary(values: list[str]) -> Vocabulary:
    v = Vocabulary()
    v.index = {value: i for i, value in enumerate(values)}
    return v


def _listed(values: list[str], column: str) -> sql.Composable:
    """The value's place (0-based) in ``values``; -1 when null, ``_UNLISTED`` when not there."""
    field = sql.SQL(column)
    return sql.SQL(
        "(CASE WHEN {field} IS NULL THEN -1 "
        "ELSE coalesce(array_position({values}::text[], {field}::text) - 1, {unlisted}) END)::int4"
    ).format(field=field, values=sql.Literal(values), unlisted=sql.Literal(_UNLISTED))


def _read(cursor: Any) -> Columns | None:
    lists = {
        "sizes": _strings(
            cursor,
            "SELECT DISTINCT size_class FROM enterprise WHERE size_class IS NOT NULL "
            "ORDER BY size_class",
        ),
        "types": _strings(cursor, "SELECT code FROM qualification_type ORDER BY code"),
        "kinds": [k.value for k in ProjectKind],
        "products": _strings(cursor, "SELECT code FROM product ORDER BY code"),
        "schemes": _strings(
            cursor,
            "SELECT DISTINCT scheme FROM product_version WHERE scheme IS NOT NULL ORDER BY scheme",
        ),
        "purposes": [k.value for k in LoanKind],
        "policies": _strings(cursor, "SELECT code FROM policy ORDER BY code"),
    }
    prefixes = get_settings().service_area_prefixes
    area: sql.Composable = (
        sql.SQL("coalesce({}, false)").format(
            sql.SQL(" OR ").join(
                sql.SQL("left(e.registered_area_code, {}) = {}").format(
                    sql.Literal(len(p)), sql.Literal(p)
                )
                for p in prefixes
            )
        )
        if prefixes
        else sql.SQL("true")
    )
    try:
        e = pgcopy.read(
            cursor,
            sql.SQL(
                "SELECT e.id::int8, (CASE WHEN o.code IS NULL THEN -1 WHEN o.private THEN 1 "
                "ELSE 0 END)::int2, {area}, {size} FROM enterprise e "
                "LEFT JOIN ownership_type o ON o.code = e.ownership ORDER BY e.id"
            )
            .format(area=area, size=_listed(lists["sizes"], "e.size_class"))
            .as_string(cursor),
            [("id", ">i8"), ("private", ">i2"), ("in_area", "?"), ("size", ">i4")],
        )
        q = pgcopy.read(
            cursor,
            sql.SQL(
                "SELECT enterprise_id::int8, {type}, (issued_date - {epoch})::int4 "
                "FROM qualification"
            )
            .format(type=_listed(lists["types"], "type_code"), epoch=_EPOCH)
            .as_string(cursor),
            [("e", ">i8"), ("type", ">i4"), ("day", ">i4")],
        )
        p = pgcopy.read(
            cursor,
            sql.SQL(
                "SELECT enterprise_id::int8, {kind}, year::int4, "
                "coalesce(equipment_investment_fen, -1)::int8 FROM project"
            )
            .format(kind=_listed(lists["kinds"], "kind"))
            .as_string(cursor),
            [("e", ">i8"), ("kind", ">i4"), ("year", ">i4"), ("base", ">i8")],
        )
        loans = pgcopy.read(
            cursor,
            sql.SQL(
                "SELECT l.enterprise_id::int8, {product}, {scheme}, {purpose}, "
                "l.principal_fen::int8, l.rate_bp::int8, (l.disbursed_date - {epoch})::int4, "
                "(least(l.maturity_date, coalesce(l.closed_date, l.maturity_date)) - {epoch})"
                "::int4 FROM loan l LEFT JOIN product p ON p.id = l.product_id "
                "LEFT JOIN product_version pv ON pv.product_id = p.id "
                "AND pv.version = p.current_version"
            )
            .format(
                product=_listed(lists["products"], "p.code"),
                scheme=_listed(lists["schemes"], "pv.scheme"),
                purpose=_listed(lists["purposes"], "l.kind"),
                epoch=_EPOCH,
            )
            .as_string(cursor),
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
        # A grant counts approved (its approved amount) or paid (its paid amount, else the
        # approved one); a period is "once" (0) or a year.
        g = pgcopy.read(
            cursor,
            sql.SQL(
                "SELECT enterprise_id::int8, {policy}, (CASE WHEN period = 'once' THEN 0 "
                "WHEN period ~ '^[0-9]{{1,8}}$' THEN period::int4 ELSE {unlisted} END)::int4, "
                "amount::int8 FROM (SELECT enterprise_id, policy_code, period, "
                "CASE WHEN status = 'paid' THEN coalesce(paid_fen, approved_fen) "
                "ELSE approved_fen END AS amount FROM policy_grant "
                "WHERE status IN ('approved', 'paid')) g WHERE amount IS NOT NULL"
            )
            .format(policy=_listed(lists["policies"], "policy_code"), unlisted=_UNLISTED)
            .as_string(cursor),
            [("e", ">i8"), ("policy", ">i4"), ("period", ">i4"), ("amount", ">i8")],
        )
    except pgcopy.LayoutError:
        return None
    coded = [e["size"], q["type"], p["kind"], loans["product"], loans["scheme"]]
    coded += [loans["purpose"], g["policy"], g["period"]]
    if any(np.any(c == _UNLISTED) for c in coded):
        return None
    ids = e["id"].astype(np.int64)

    def rows(of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each fact's enterprise row, and which facts' enterprises were read (one added
        after the enterprises' COPY is left out, as the row-by-row read leaves it out)."""
        wanted = of.astype(np.int64)
        at = np.minimum(np.searchsorted(ids, wanted), max(len(ids) - 1, 0))
        known = (ids[at] == wanted) if len(ids) else np.zeros(len(wanted), dtype=bool)
        return at[known].astype(np.int32), known

    q_enterprise, q_known = rows(q["e"])
    p_enterprise, p_known = rows(p["e"])
    l_enterprise, l_known = rows(loans["e"])
    g_enterprise, g_known = rows(g["e"])
    q, p, loans, g = q[q_known], p[p_known], loans[l_known], g[g_known]
    q_type = q["type"].astype(np.int32)
    q_day = q["day"].astype(np.int32)
    return Columns(
        enterprise_ids=ids,
        private=e["private"].astype(np.int8),
        in_area=e["in_area"].astype(bool),
        size=e["size"].astype(np.int32),
        q_enterprise=q_enterprise,
        q_type=q_type,
        q_day=q_day,
        q_rank=ranks(
            q_enterprise.astype(np.int64), q_type.astype(np.int64), q_day.astype(np.int64)
        ),
        p_enterprise=p_enterprise,
        p_kind=p["kind"].astype(np.int32),
        p_year=p["year"].astype(np.int32),
        p_base=p["base"].astype(np.int64),
        l_enterprise=l_enterprise,
        l_product=loans["product"].astype(np.int32),
        l_scheme=loans["scheme"].astype(np.int32),
        l_purpose=loans["purpose"].astype(np.int32),
        l_principal=loans["principal"].astype(np.int64),
        l_rate=loans["rate"].astype(np.int64),
        l_start=loans["start"].astype(np.int32),
        l_end=loans["end"].astype(np.int32),
        g_enterprise=g_enterprise,
        g_policy=g["policy"].astype(np.int32),
        g_period=g["period"].astype(np.int32),
        g_amount=g["amount"].astype(np.int64),
        **{name: _vocabulary(values) for name, values in lists.items()},
    )

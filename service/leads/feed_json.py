"""A page of the lead feed built by PostgreSQL: one statement reads the page, writes the audit
entry of the read, and returns the items as the JSON text of ``LeadPublic``'s shape, so the
service passes the bytes on instead of decoding some 5,000 values a page into Python objects
and encoding them again.

It answers exactly what ``feed.shown`` builds in Python (the path on SQLite, and the
reference in the tests, which compare the two field by field on every kind of lead): the same
fields in the same order, the enterprise in the tiers of ``access.policy`` (its private fields
read from ``ENTERPRISE_TIERS``, blank without consent), timestamps in UTC with a Z and six
digits of microseconds when there are any (``datetime.isoformat``), and a score of 85 as
``85.0`` (as Python writes a float)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement

from service.access.policy import ENTERPRISE_TIERS, FactTier
from service.access.service import LAST_USED_RESOLUTION, key_hash
from service.core.database import Statement, compiled_sql
from service.core.pagination import encode_cursor
from service.leads import queries

_DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


def _timestamp(column: str) -> str:
    """A timestamptz as ``datetime.isoformat`` writes it in UTC, with a Z; NULL stays NULL."""
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
        f"'.000000', '') || 'Z'"
    )


def _pairs(fields: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"'{name}', {value}" for name, value in fields)


def _private(name: str, value: str) -> str:
    """A field of the lead's enterprise, blank (NULL) unless the caller may see its private
    facts, when the policy names it private."""
    if ENTERPRISE_TIERS.get(name) == FactTier.private:
        return f"CASE WHEN s.private_facts THEN {value} END"
    return value


def _enterprise() -> str:
    visible = "s.private_facts OR s.need_id IS NULL"  # policy.lead_enterprise_tiers
    fields = [
        ("cluster_code", "s.cluster_code"),
        ("district_code", "s.district_code"),
        ("size_class", "s.size_class"),
        ("qualification_codes", "coalesce(q.codes, '[]'::json)"),
        ("registered_in_wuxi", "s.registered_in_wuxi"),
        ("enterprise_id", f"CASE WHEN {visible} THEN s.enterprise_id END"),
        ("name", f"CASE WHEN {visible} THEN s.enterprise_name END"),
        ("credit_code", f"CASE WHEN {visible} THEN s.credit_code END"),
        ("industry_code", f"CASE WHEN {visible} THEN s.industry_code END"),
        ("contacts", _private("contacts", "coalesce(c.contacts, '[]'::json)")),
        ("employees", _private("employees", "s.employees")),
        ("revenue_fen", _private("revenue_fen", "s.revenue_fen")),
        ("total_assets_fen", _private("total_assets_fen", "s.total_assets_fen")),
        ("credit_grade", _private("credit_grade", "s.credit_grade")),
    ]
    return f"json_build_object({_pairs(fields)})"


def _item() -> str:
    contacted = "(s.first_contact_at IS NOT NULL OR s.status NOT IN ('new', 'viewed'))"
    need = [
        ("need_id", "s.need_id"),
        ("amount_fen", "s.need_amount_fen"),
        ("term_months", "s.need_term_months"),
        ("purpose", "s.need_purpose"),
        ("collateral", "coalesce(s.need_collateral, '[]'::jsonb)"),
        ("wanted_by_date", "s.need_wanted_by_date"),
    ]
    fields = [
        ("id", "s.id"),
        ("status", "s.status"),
        ("source", "s.source"),
        ("bank_code", "s.bank_code"),
        ("product_code", "s.product_code"),
        ("product_name", "s.product_name"),
        ("product_version", "s.product_version"),
        # Python writes a whole float as 85.0; PostgreSQL's float8 as 85
        (
            "score",
            "CASE WHEN s.score_centi %% 100 = 0 "
            "THEN ((s.score_centi / 100)::text || '.0')::json "
            "ELSE to_json(s.score_centi::float8 / 100) END",
        ),
        ("config_version", "s.config_version"),
        ("consented", "s.consented"),
        ("version", "s.version"),
        ("seq", "s.seq"),
        ("contact_due_date", "s.contact_due_date"),
        ("viewed_at", _timestamp("s.viewed_at")),
        ("first_contact_at", _timestamp("s.first_contact_at")),
        (
            "sla_breached",
            f"(s.sla_breached_at IS NOT NULL OR (NOT {contacted} "
            "AND %(today)s::date > s.contact_due_date))",
        ),
        ("reassigned_from_id", "s.reassigned_from_id"),
        ("declined_reason", "s.declined_reason"),
        ("note", "s.note"),
        ("approved_amount_fen", "s.approved_amount_fen"),
        ("approved_rate_bp", "s.approved_rate_bp"),
        ("approved_term_months", "s.approved_term_months"),
        ("approved_date", "s.approved_date"),
        ("disbursed_amount_fen", "s.disbursed_amount_fen"),
        ("disbursed_rate_bp", "s.disbursed_rate_bp"),
        ("disbursed_date", "s.disbursed_date"),
        ("created_at", _timestamp("s.created_at")),
        ("updated_at", _timestamp("s.updated_at")),
        (
            "need",
            f"CASE WHEN s.need_id IS NOT NULL THEN json_build_object({_pairs(need)}) END",
        ),
        ("enterprise", _enterprise()),
        (
            "assignee",
            "CASE WHEN s.assignee_user_id IS NOT NULL THEN json_build_object("
            "'id', s.assignee_user_id, 'name', s.assignee_name) END",
        ),
    ]
    # a row of named columns, turned into an object by json_agg (cheaper than one
    # json_build_object of 66 arguments)
    return ", ".join(f"{value} AS {name}" for name, value in fields)


@dataclass(frozen=True)
class _Caller:
    """How the statement knows its caller: from parameters (the caller already checked), or
    from ``k``, a CTE that checks a bank's key in the statement itself (``bank_page``)."""

    head: str = ""  # CTEs before the page's
    bank: str = "%(bank)s"
    key_id: str = "%(actor_key_id)s::integer"
    bank_code: str = "%(actor_bank_code)s::varchar"
    found: str = "true"


_CHECKED = _Caller()
# A bank's key checked as access.service.check_key does (its prefix, the SHA-256 of the whole
# key, not revoked), and its use recorded as often as check_key records it.
_BANK_KEY = _Caller(
    head="""k AS (
    SELECT id, bank_code FROM api_key
    WHERE prefix = %(prefix)s AND secret_hash = %(secret_hash)s AND revoked_at IS NULL
        AND role = 'bank'
),
touch AS (
    UPDATE api_key SET last_used_at = %(at)s::timestamptz
    WHERE id = (SELECT id FROM k)
        AND (last_used_at IS NULL OR last_used_at < %(used_before)s::timestamptz)
    RETURNING id
),
""",
    bank="true",
    key_id="(SELECT id FROM k)",
    bank_code="(SELECT bank_code FROM k)",
    found="EXISTS (SELECT FROM k)",
)


def _sql(inner: str, order: str, limit: int, caller: _Caller) -> str:
    """The page statement around ``inner`` (``queries.page``'s SQL, ``limit + 1`` rows)."""
    return f"""
WITH {caller.head}page AS ({inner}),
shown AS (
    SELECT p.*, (NOT {caller.bank} OR p.consented OR coalesce(p.share_with_banks, false))
        AS private_facts
    FROM page p ORDER BY p.{order} LIMIT {limit}
),
audit AS (
    INSERT INTO audit_entry (at, actor_key_id, actor_role, actor_bank_code, action,
        subject_type, subject_id, enterprise_ids)
    SELECT %(at)s::timestamptz, {caller.key_id}, 'bank', {caller.bank_code},
        'read', 'enterprise', '{queries.READ_SUBJECT}',
        array_agg(DISTINCT s.enterprise_id ORDER BY s.enterprise_id)
    FROM shown s WHERE s.private_facts AND {caller.bank}
    HAVING count(*) > 0
    RETURNING id
),
quals AS (
    SELECT q.enterprise_id, json_agg(DISTINCT q.type_code ORDER BY q.type_code) AS codes
    FROM qualification q
    WHERE q.enterprise_id = ANY(ARRAY(SELECT enterprise_id FROM shown))
        AND q.issued_date <= %(today)s::date
        AND (q.expires_date IS NULL OR q.expires_date >= %(today)s::date)
    GROUP BY q.enterprise_id
),
people AS (
    SELECT k.enterprise_id, json_agg(json_build_object('name', k.name, 'title', k.title,
        'phone', k.phone, 'email', k.email) ORDER BY k.id) AS contacts
    FROM contact k
    WHERE k.enterprise_id = ANY(ARRAY(SELECT enterprise_id FROM shown WHERE private_facts))
    GROUP BY k.enterprise_id
)
SELECT {caller.found} AS key_found, (SELECT count(*) FROM page) AS rows_read,
    (SELECT max({order}) FROM shown) AS last_key,
    (SELECT convert_to(coalesce(json_agg(t ORDER BY t.{order}), '[]'::json)::text, 'UTF8') FROM (
        SELECT {_item()}
        FROM shown s
        LEFT JOIN quals q ON q.enterprise_id = s.enterprise_id
        LEFT JOIN people c ON c.enterprise_id = s.enterprise_id) t) AS items
"""


def page(
    where: dict[str, Any],
    by_seq: bool,
    limit: int,
    bank: bool,
    key_id: int | None,
    bank_code: str | None,
    today: date,
    now: datetime,
) -> Statement:
    """Up to ``limit`` leads matching ``where`` (as ``queries.page``), as one row: true, how
    many rows the page read (``limit + 1`` means there are more), the last one's key (seq or
    id) and the items' JSON in UTF-8. A bank's read of private facts is audited in the
    statement."""
    inner = queries.page(where, by_seq, limit + 1)
    order = "seq" if by_seq else "id"

    def build() -> str:
        return _sql(_inner_sql(inner, limit), order, limit, _CHECKED)

    params = {
        **{name: value for name, value in inner.params.items() if name != "limit"},
        "bank": bank,
        "today": today,
        "at": now,
        "actor_key_id": key_id,
        "actor_bank_code": bank_code,
    }
    return Statement(("leads.page_json", inner.key, limit), build, params, writes=bank)


def bank_page(
    prefix: str, key: str, after_seq: int | None, limit: int, today: date, now: datetime
) -> Statement:
    """A bank's page of its feed after ``after_seq``, as ``page`` gives it, with the bank's key
    checked in the same statement: one round trip. ``key_found`` is false (and nothing is
    read or written) when the key is not a valid bank key; the caller then takes the usual
    path, which says why."""
    where: dict[str, Any] = {"bank_code": None}
    if after_seq is not None:
        where["after_seq"] = after_seq
    inner = queries.page(where, True, limit + 1)

    def build() -> str:
        sql = _inner_sql(inner, limit)
        assert sql.count(_BANK_CODE) == 1
        return _sql(sql.replace(_BANK_CODE, "(SELECT bank_code FROM k)"), "seq", limit, _BANK_KEY)

    params = {
        **{n: v for n, v in inner.params.items() if n not in ("limit", "bank_code")},
        "prefix": prefix,
        "secret_hash": key_hash(key),
        "today": today,
        "at": now,
        "used_before": now - LAST_USED_RESOLUTION,
    }
    return Statement(("leads.bank_page_json", inner.key, limit), build, params, writes=True)


def page_body(items: bytes, rows_read: int, last_key: Any, limit: int) -> bytes:
    """The JSON of ``Page[LeadPublic]`` around the items' JSON (UTF-8) that the database
    built."""
    next_cursor = f'"{encode_cursor([last_key])}"' if rows_read > limit else "null"
    tail = f',"next_cursor":{next_cursor},"limit":{limit}}}'
    return b'{"items":' + items + tail.encode()


def sql_of(statement: Statement) -> str:
    """The SQL of ``page`` or ``bank_page``, built once per shape."""
    return compiled_sql(_DIALECT, statement)


_raw: dict[Any, tuple[str, tuple[str, ...]]] = {}


def raw_sql_of(statement: Statement) -> tuple[str, tuple[str, ...]]:
    """The statement's SQL with PostgreSQL's own placeholders ($1, $2 …) and the names of its
    parameters in their order, for psycopg's raw cursor: the driver then sends the SQL as it
    is, where it would parse these 8 KB of SQL for its placeholders on every request (it keeps
    parsed statements of up to 4 KB only)."""
    found = _raw.get(statement.key)
    if found is None:
        names: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            if match.group(0) == "%%":
                return "%"
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        sql = re.sub(r"%%|%\((\w+)\)s", placeholder, sql_of(statement))
        found = _raw[statement.key] = (sql, tuple(names))
    return found


def _inner_sql(inner: Statement, limit: int) -> str:
    select = inner.build()
    assert isinstance(select, ClauseElement)
    sql = str(select.compile(dialect=_DIALECT))
    # The page size written in, not a parameter: with LIMIT unknown, the server's generic
    # plan of the prepared statement joins whole tables (one statement per page size).
    assert sql.count(_LIMIT) == 1
    return sql.replace(_LIMIT, str(limit + 1))


_LIMIT = "%(limit)s::INTEGER"
_BANK_CODE = "%(bank_code)s::VARCHAR"

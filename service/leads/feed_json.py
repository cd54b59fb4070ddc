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

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement

from service.access.policy import ENTERPRISE_TIERS, FactTier
from service.core.database import Statement
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
    return f"json_build_object({_pairs(fields)})"


def _sql(inner: str, order: str) -> str:
    """The page statement around ``inner`` (``queries.page``'s SQL, ``limit + 1`` rows)."""
    return f"""
WITH page AS ({inner}),
shown AS (
    SELECT p.*, (NOT %(bank)s OR p.consented OR coalesce(p.share_with_banks, false))
        AS private_facts
    FROM page p ORDER BY p.{order} LIMIT %(shown)s
),
audit AS (
    INSERT INTO audit_entry (at, actor_key_id, actor_role, actor_bank_code, action,
        subject_type, subject_id, enterprise_ids)
    SELECT %(at)s::timestamptz, %(actor_key_id)s::integer, 'bank', %(actor_bank_code)s::varchar,
        'read', 'enterprise', '{queries.READ_SUBJECT}',
        array_agg(DISTINCT s.enterprise_id ORDER BY s.enterprise_id)
    FROM shown s WHERE s.private_facts AND %(bank)s
    HAVING count(*) > 0
    RETURNING id
),
quals AS (
    SELECT q.enterprise_id, json_agg(DISTINCT q.type_code ORDER BY q.type_code) AS codes
    FROM qualification q
    WHERE q.enterprise_id IN (SELECT enterprise_id FROM shown)
        AND q.issued_date <= %(today)s::date
        AND (q.expires_date IS NULL OR q.expires_date >= %(today)s::date)
    GROUP BY q.enterprise_id
),
people AS (
    SELECT k.enterprise_id, json_agg(json_build_object('name', k.name, 'title', k.title,
        'phone', k.phone, 'email', k.email) ORDER BY k.id) AS contacts
    FROM contact k
    WHERE k.enterprise_id IN (SELECT enterprise_id FROM shown WHERE private_facts)
    GROUP BY k.enterprise_id
)
SELECT (SELECT count(*) FROM page) AS rows_read,
    (SELECT max({order}) FROM shown) AS last_key,
    (SELECT coalesce(json_agg({_item()} ORDER BY s.{order}), '[]'::json)::text
        FROM shown s
        LEFT JOIN quals q ON q.enterprise_id = s.enterprise_id
        LEFT JOIN people c ON c.enterprise_id = s.enterprise_id) AS items
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
    """Up to ``limit`` leads matching ``where`` (as ``queries.page``), as one row: how many
    rows the page read (``limit + 1`` means there are more), the last one's key (seq or id)
    and the items' JSON text. A bank's read of private facts is audited in the statement."""
    inner = queries.page(where, by_seq, limit + 1)
    order = "seq" if by_seq else "id"

    def build() -> str:
        select = inner.build()
        assert isinstance(select, ClauseElement)
        return _sql(str(select.compile(dialect=_DIALECT)), order)

    params = {
        **inner.params,
        "shown": limit,
        "bank": bank,
        "today": today,
        "at": now,
        "actor_key_id": key_id,
        "actor_bank_code": bank_code,
    }
    return Statement(("leads.page_json", inner.key), build, params, writes=bank)

"""The lead feed's page built whole by PostgreSQL: a bare ASGI app (no framework) whose one
SQL statement per request checks the bank's API key, reads the page (the leads joined with
their enterprise, product, current product version, need and assignee; the enterprises' valid
qualifications and the consented enterprises' contacts as nested aggregates), writes the audit
entry of the read of private facts and the key's last use (data-modifying CTEs, in the same
statement and so the same transaction), and returns the JSON of ``GET /api/v1/leads`` for a
bank as one value; Python passes its bytes on. One round trip per request, over asyncio
psycopg connections in autocommit.

Served by uvicorn from this directory (``leads_jsonagg:app``) for ``bench/leads_pull.py``,
configured by environment: LEADS_PULL_DSN, LEADS_PULL_POOL (connections per process). It
lives outside bench/*.py because it is a server, not a benchmark (scripts/bench-smoke runs
every bench/*.py)."""

import asyncio
import base64
import functools
import hashlib
import json
import os
from typing import Any
from urllib.parse import parse_qs

import psycopg
from psycopg.adapt import Loader

DSN_ENV, POOL_ENV = "LEADS_PULL_DSN", "LEADS_PULL_POOL"
TIMEZONE = "Asia/Shanghai"  # business dates (the service's default FINMATCH_TIMEZONE)


def _ts(expr: str) -> str:
    """A timestamptz as Python's ``isoformat()`` of it in UTC with Z (microseconds only when
    there are some), as the service writes them."""
    return (
        f"to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN date_trunc('second', {expr}) = {expr} THEN '' "
        f"ELSE to_char({expr}, '.US') END || 'Z'"
    )


def _cursor(seq: str) -> str:
    """The service's cursor of a seq: urlsafe base64 of ``[seq]`` without padding."""
    return (
        f"rtrim(translate(encode(convert_to('[' || {seq} || ']', 'UTF8'), 'base64'), "
        "'+/', '-_'), '=')"
    )


# The enterprise in the tiers of access.policy.lead_enterprise_tiers for a bank: who it is
# (``visible``) with its private facts or for a lead without a need; its private facts
# (``private``: contacts, employees, revenue, assets, credit grade) with the lead's consent or
# the enterprise's sharing with banks, else null (blank_private).
PAGE_SQL = f"""
WITH k AS (
    SELECT id, bank_code FROM api_key
    WHERE prefix = %(prefix)s AND secret_hash = %(hash)s AND revoked_at IS NULL
        AND role = 'bank'
), touch AS (
    UPDATE api_key SET last_used_at = now() FROM k
    WHERE api_key.id = k.id
        AND (api_key.last_used_at IS NULL OR api_key.last_used_at < now() - interval '5 minutes')
), d AS (
    SELECT (now() AT TIME ZONE '{TIMEZONE}')::date AS today
), more AS (
    SELECT lead.*, lead.consented OR coalesce(enterprise.share_with_banks, false) AS private,
        enterprise.name AS enterprise_name, enterprise.credit_code, enterprise.cluster_code,
        enterprise.district_code, enterprise.size_class, enterprise.registered_in_wuxi,
        enterprise.industry_code, enterprise.employees, enterprise.revenue_fen,
        enterprise.total_assets_fen, enterprise.credit_grade,
        product.code AS product_code, product_version.name AS product_name,
        financing_need.amount_fen AS need_amount_fen,
        financing_need.term_months AS need_term_months, financing_need.purpose AS need_purpose,
        financing_need.collateral AS need_collateral,
        financing_need.wanted_by_date AS need_wanted_by_date,
        user_account.display_name AS assignee_name
    FROM (
        SELECT * FROM lead
        WHERE lead.bank_code = (SELECT bank_code FROM k) AND lead.seq > %(after)s
        ORDER BY lead.seq
        LIMIT %(limit)s + 1
    ) AS lead
    JOIN enterprise ON enterprise.id = lead.enterprise_id
    JOIN product ON product.id = lead.product_id
    JOIN product_version ON product_version.product_id = product.id
        AND product_version.version = product.current_version
    LEFT JOIN financing_need ON financing_need.id = lead.need_id
    LEFT JOIN user_account ON user_account.id = lead.assignee_user_id
), page AS (
    SELECT * FROM more ORDER BY seq LIMIT %(limit)s
), quals AS (
    SELECT q.enterprise_id, json_agg(DISTINCT q.type_code ORDER BY q.type_code) AS codes
    FROM qualification AS q, d
    WHERE q.enterprise_id = ANY(ARRAY(SELECT enterprise_id FROM page))
        AND q.issued_date <= d.today AND (q.expires_date IS NULL OR q.expires_date >= d.today)
    GROUP BY q.enterprise_id
), people AS (
    SELECT c.enterprise_id,
        json_agg(json_build_object('name', c.name, 'title', c.title, 'phone', c.phone,
            'email', c.email) ORDER BY c.id) AS contacts
    FROM contact AS c
    WHERE c.enterprise_id = ANY(ARRAY(SELECT enterprise_id FROM page WHERE private))
    GROUP BY c.enterprise_id
), audit AS (
    INSERT INTO audit_entry (at, actor_key_id, actor_role, actor_bank_code, action,
        subject_type, subject_id, enterprise_ids)
    SELECT now(), k.id, 'bank', k.bank_code, 'read', 'enterprise', 'leads', r.ids
    FROM k, (SELECT array_agg(DISTINCT enterprise_id ORDER BY enterprise_id)::int[] AS ids
             FROM page WHERE private) AS r
    WHERE r.ids IS NOT NULL
), items AS (
    SELECT coalesce(json_agg(t ORDER BY t.seq), '[]'::json) AS items
    FROM (
        SELECT p.id, p.status, p.source, p.bank_code, p.product_code, p.product_name,
            p.product_version, p.score_centi::float8 / 100 AS score, p.config_version,
            p.consented, p.version, p.seq, p.contact_due_date,
            {_ts("p.viewed_at")} AS viewed_at,
            {_ts("p.first_contact_at")} AS first_contact_at,
            p.sla_breached_at IS NOT NULL OR (p.first_contact_at IS NULL
                AND p.status IN ('new', 'viewed') AND d.today > p.contact_due_date)
                AS sla_breached,
            p.reassigned_from_id, p.declined_reason, p.note, p.approved_amount_fen,
            p.approved_rate_bp, p.approved_term_months, p.approved_date,
            p.disbursed_amount_fen, p.disbursed_rate_bp, p.disbursed_date,
            {_ts("p.created_at")} AS created_at, {_ts("p.updated_at")} AS updated_at,
            CASE WHEN p.need_id IS NOT NULL THEN json_build_object(
                'need_id', p.need_id, 'amount_fen', p.need_amount_fen,
                'term_months', p.need_term_months, 'purpose', p.need_purpose,
                'collateral', coalesce(p.need_collateral::json, '[]'::json),
                'wanted_by_date', p.need_wanted_by_date) END AS need,
            json_build_object(
                'cluster_code', p.cluster_code, 'district_code', p.district_code,
                'size_class', p.size_class,
                'qualification_codes', coalesce(quals.codes, '[]'::json),
                'registered_in_wuxi', p.registered_in_wuxi,
                'enterprise_id', CASE WHEN v.visible THEN p.enterprise_id END,
                'name', CASE WHEN v.visible THEN p.enterprise_name END,
                'credit_code', CASE WHEN v.visible THEN p.credit_code END,
                'industry_code', CASE WHEN v.visible THEN p.industry_code END,
                'contacts', CASE WHEN p.private THEN coalesce(people.contacts, '[]'::json) END,
                'employees', CASE WHEN p.private THEN p.employees END,
                'revenue_fen', CASE WHEN p.private THEN p.revenue_fen END,
                'total_assets_fen', CASE WHEN p.private THEN p.total_assets_fen END,
                'credit_grade', CASE WHEN p.private THEN p.credit_grade END) AS enterprise,
            CASE WHEN p.assignee_user_id IS NOT NULL THEN json_build_object(
                'id', p.assignee_user_id, 'name', p.assignee_name) END AS assignee
        FROM page AS p
        CROSS JOIN d
        CROSS JOIN LATERAL (SELECT p.private OR p.need_id IS NULL AS visible) AS v
        LEFT JOIN quals ON quals.enterprise_id = p.enterprise_id
        LEFT JOIN people ON people.enterprise_id = p.enterprise_id
    ) AS t
)
SELECT json_build_object(
    'items', items.items,
    'next_cursor', (SELECT {_cursor("max(seq)")} FROM page
                    HAVING (SELECT count(*) FROM more) > %(limit)s),
    'limit', %(limit)s::int)
FROM k, items
"""


@functools.lru_cache
def _page_sql(limit: int) -> str:
    """PAGE_SQL with the page size written in: the server's generic plan of the prepared
    statement then knows that it reads 101 leads (with a parameter it plans for many, and
    hash-joins whole tables)."""
    return PAGE_SQL.replace("%(limit)s", str(int(limit)))


class _RawJson(Loader):
    """A json value as the bytes PostgreSQL sent (no parsing)."""

    def load(self, data: Any) -> bytes:
        return bytes(data)


class _Connections:
    """Up to ``size`` autocommit connections, opened when first needed; a request waits for a
    free one."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn, self.size, self.opened = dsn, size, 0
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def take(self) -> psycopg.AsyncConnection[Any]:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            conn.adapters.register_loader("json", _RawJson)
            return conn
        return await self.idle.get()

    async def close(self) -> None:
        while not self.idle.empty():
            await (self.idle.get_nowait()).close()


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    (seq,) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return int(seq)


async def page(
    conn: psycopg.AsyncConnection[Any], authorization: str, after: int, limit: int
) -> bytes | None:
    """The page's JSON, or None when the key is not a valid bank key."""
    key = authorization.partition(" ")[2].strip()
    parts = key.split("_")
    if len(parts) < 3:
        return None
    params = {
        "prefix": parts[1],
        "hash": hashlib.sha256(key.encode()).hexdigest(),
        "after": after,
    }
    cursor = await conn.execute(_page_sql(limit), params)
    row = await cursor.fetchone()
    return None if row is None else row[0]


_state: dict[str, Any] = {}


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _state["pool"] = _Connections(os.environ[DSN_ENV], int(os.environ[POOL_ENV]))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _state["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/ping":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    authorization = next((v.decode() for k, v in scope["headers"] if k == b"authorization"), "")
    pool: _Connections = _state["pool"]
    conn = await pool.take()
    try:
        body = await page(conn, authorization, _after(query.get("cursor")), int(query["limit"]))
    finally:
        pool.idle.put_nowait(conn)
    if body is None:
        await _respond(send, 401, b'{"detail":"invalid API key"}')
    else:
        await _respond(send, 200, body)

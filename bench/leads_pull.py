"""A bank pulling its lead feed in pages of 100 with 32 concurrent connections: the service's
GET /api/v1/leads against two bare references, a server whose one SQL statement builds the
whole page's JSON in PostgreSQL (json_agg, the primary reference) and a baseline that runs
the service's SQL with psycopg and builds the JSON in Python.

    .venv/bin/python bench/leads_pull.py --leads 100000 --duration 20 --connections 32 --workers 2 1
    .venv/bin/python bench/leads_pull.py --smoke   # tiny sizes, end to end, exits 1 on failure

Needs wrk (`apt-get install -y wrk`). Creates a fresh PostgreSQL database, migrates it, seeds the
reference data, loads a synthetic library with `finmatch synth`'s loader (--enterprises with
their qualifications and contacts, --products products), picks the bank with the most active
products and gives it --leads leads in one INSERT … SELECT (seq 1..N, consecutive leads spread
over the library; most from a financing need of their own, one in four of the first
--enterprises an application without a need; nine in ten consented, so the enterprise's private
facts show, as they do for the two in five synthetic enterprises that share with banks, and
each such read is audited), then creates a key for that bank.

Three servers, started one after the other, each as --workers uvicorn processes:

- the service (`service.main:create_app`): `GET /api/v1/leads?limit=100&cursor=…` with the bank's
  key. On PostgreSQL the feed runs on the event loop over the app's asyncio psycopg pool
  (`AsyncPool`, `service/leads/feed.py`): the key lookup, the page query (the leads `WHERE
  bank_code = ? AND seq > ? ORDER BY seq LIMIT 101` joined with their enterprise, product,
  current product version, need and assignee), the enterprises' valid qualifications, the
  consented enterprises' contacts, the key's last-used touch and one audit entry listing the
  enterprises whose private facts were shown; the JSON is built from the rows in Python.
  Earlier versions and their figures are in docs/BENCHMARKS.md;
- jsonagg, `app` in bench/apps/leads_jsonagg.py (raw ASGI, no framework; psycopg
  `AsyncConnection`s in autocommit, up to its share of the connections per process): per
  request ONE statement, one round trip. It finds the bank's key by prefix and SHA-256 (the
  hash taken in Python), reads the page's 101 leads by (bank_code, seq) and joins them with
  enterprise, product, current product version, need and assignee; the valid qualifications
  and the consented enterprises' contacts are nested aggregates; json_build_object/json_agg
  write every field of the service's answer (the enterprise's tiers of
  `access.policy.lead_enterprise_tiers`, private facts null without consent, sla_breached
  against today in Asia/Shanghai, timestamps in UTC with Z, next_cursor, limit); data-modifying
  CTEs write the service's audit entry of the read of private facts and the key's last use in
  the same statement (so the same transaction). Python passes the json value's bytes on
  unparsed. The strongest bare reference: what the database alone costs for the same answer;
- the baseline, `baseline_app` in this file (raw ASGI, no framework, no key): psycopg
  `AsyncConnection`s and, per request in one transaction, the service's three SELECTs (the same
  SQL, without SQLAlchemy's casts) turned into the same JSON fields with `json.dumps`.
  Variants on other paths: `/audited` also inserts audit rows (one per enterprise, as the
  service did before one entry per request) before its commit; `/seven` runs the seven
  statements of 8707944 (`= ANY(%s)` where SQLAlchemy expanded IN lists), `/seven-audited` with
  the audit rows; `/leads-only` runs the leads query alone and returns its rows (the literal
  "same query" reading: less than the service returns); `/static` returns one page held in
  memory (no database: the ceiling of uvicorn and the load generator on this machine).

Before timing, one process of each serves pages from the first page, four random cursors, the
last (partial) page, the page that ends exactly at the end and the empty page after it, and
they are compared field by field: jsonagg's exactly (as JSON, only 50 against 50.0 normalised),
the baseline's (both shapes) with timestamps as instants; the audit entries that the service
and jsonagg write for each page must be equal (but for id and time), and both must refuse a
wrong key. Any difference stops the run.

Each of the --workers processes listens on its own port and gets an equal share of the
connections from its own wrk, as behind a balancing proxy. (`uvicorn --workers N` shares one
listening socket, and with 32 keep-alive connections opened at once one worker took 31 of them
in a trial, which measures the imbalance rather than the endpoint.) wrk runs one thread per
connection; each connection walks the feed page by page from a random position, wrapping to the
start after the end, and computes the next cursor itself (the service's format: urlsafe base64
of `[seq]` without padding). Per target: --warmup seconds untimed, then --duration seconds
timed; --rounds rounds, the order of the targets reversed every other round.

Prints, per process count and target: requests/s of each round and their median; the median
round's p50, p90 and p99 latency (percentiles of the wrk instances merged); CPU milliseconds per
request of the server processes, of this database's PostgreSQL backends and of wrk; how busy the
machine was; new PostgreSQL sessions during the run; and per round the ratio of the service's
throughput to jsonagg's (the primary reference), to the baseline's and to the variants'. Then,
unless --profile-pages 0, the service's request path in process, the app called as ASGI in one
event loop on its AsyncPool: time per phase (taking the connection, waiting on PostgreSQL, the
key check, JSON encoding, the rest) and the SQL statements per request. With --py-spy PATH, a
py-spy sampling of one service process under load (GIL held) in the first round. Exits
non-zero when a comparison fails, wrk counts errors or the profile fails. The database is
dropped at the end unless --keep is given.

--smoke: 2,000 leads, 500 enterprises, 20 products, 4 connections, one process, one round of
2 s (1 s warm-up) of the service, jsonagg and the baseline, the comparison and a 20-page
profile."""

import argparse
import asyncio
import base64
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
API_PATH = "/api/v1/leads"
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")  # business dates (the service's default timezone)

# --- the baseline endpoint ------------------------------------------------------------------
# Served by uvicorn from this module (`leads_pull:baseline_app`); configured by environment.

DSN_ENV, BANK_ENV, POOL_ENV = "LEADS_PULL_DSN", "LEADS_PULL_BANK", "LEADS_PULL_POOL"

LEAD_COLUMNS = (
    "id, subject_key, need_id, enterprise_id, bank_code, product_id, product_version, "
    "config_version, score_centi, source, status, consented, version, seq, contact_due_date, "
    "viewed_at, first_contact_at, sla_breached_at, reassigned_from_id, declined_reason, note, "
    "approved_amount_fen, approved_rate_bp, approved_term_months, approved_date, "
    "disbursed_amount_fen, disbursed_rate_bp, disbursed_date, closed_at, created_at, updated_at, "
    "assignee_user_id"
)
PAGE_WHERE = "WHERE lead.bank_code = %(bank)s AND lead.seq > %(after)s ORDER BY lead.seq"
# "seven": the statements service.leads.service.list_leads/leads_public ran up to commit
# 8707944: the leads, then one SELECT each for their enterprises, valid qualifications,
# products, current version names, needs and contacts.
LEADS_SQL = f"SELECT {LEAD_COLUMNS} FROM lead {PAGE_WHERE} LIMIT %(limit)s"
ENTERPRISES_SQL = "SELECT * FROM enterprise WHERE id = ANY(%(ids)s)"
QUALIFICATIONS_SQL = (
    "SELECT enterprise_id, type_code FROM qualification WHERE enterprise_id = ANY(%(ids)s) "
    "AND issued_date <= %(on)s AND (expires_date IS NULL OR expires_date >= %(on)s) "
    "ORDER BY enterprise_id, type_code"
)
PRODUCTS_SQL = "SELECT * FROM product WHERE id = ANY(%(ids)s)"
NAMES_SQL = (
    "SELECT product_version.product_id, product_version.name FROM product_version "
    "WHERE product_version.product_id = ANY(%(ids)s) AND product_version.version = "
    "(SELECT product.current_version FROM product WHERE product.id = product_version.product_id)"
)
NEEDS_SQL = "SELECT * FROM financing_need WHERE id = ANY(%(ids)s)"
CONTACTS_SQL = "SELECT * FROM contact WHERE enterprise_id = ANY(%(ids)s)"
USERS_SQL = "SELECT id, display_name FROM user_account WHERE id = ANY(%(ids)s)"
# "joined": the statements of service.leads.queries since commit 2d5d14a: the page joined with
# its enterprises, products, current versions and needs, then qualifications and contacts.
JOINED_SQL = (
    "SELECT "
    + ", ".join(f"lead.{c}" for c in LEAD_COLUMNS.split(", "))
    + ", enterprise.name AS enterprise_name, enterprise.credit_code, enterprise.cluster_code, "
    "enterprise.district_code, enterprise.size_class, enterprise.registered_in_wuxi, "
    "enterprise.industry_code, enterprise.employees, enterprise.revenue_fen, "
    "enterprise.total_assets_fen, enterprise.credit_grade, enterprise.share_with_banks, "
    "product.code AS product_code, product_version.name AS product_name, "
    "financing_need.amount_fen AS need_amount_fen, "
    "financing_need.term_months AS need_term_months, financing_need.purpose AS need_purpose, "
    "financing_need.collateral AS need_collateral, "
    "financing_need.wanted_by_date AS need_wanted_by_date, "
    "user_account.display_name AS assignee_name "
    "FROM lead JOIN enterprise ON enterprise.id = lead.enterprise_id "
    "JOIN product ON product.id = lead.product_id "
    "JOIN product_version ON product_version.product_id = product.id "
    "AND product_version.version = product.current_version "
    "LEFT OUTER JOIN financing_need ON financing_need.id = lead.need_id "
    f"LEFT OUTER JOIN user_account ON user_account.id = lead.assignee_user_id {PAGE_WHERE} "
    "LIMIT %(limit)s"
)
CONTACT_ROWS_SQL = (
    "SELECT enterprise_id, name, title, phone, email FROM contact "
    "WHERE enterprise_id = ANY(%(ids)s) ORDER BY enterprise_id, id"
)
AUDIT_SQL = (
    "INSERT INTO audit_entry (at, actor_key_id, actor_role, actor_bank_code, action, "
    "subject_type, subject_id, enterprise_id) SELECT now(), NULL, 'bank', %(bank)s, 'read', "
    "'enterprise', e::text, e FROM unnest(%(ids)s::bigint[]) AS e"
)
# path -> (statements, audited)
SHAPES = {
    "/api/v1/leads": ("joined", False),
    "/audited": ("joined", True),
    "/seven": ("seven", False),
    "/seven-audited": ("seven", True),
    "/leads-only": ("leads-only", False),
    "/static": ("joined", False),
}


Conn = psycopg.AsyncConnection[dict[str, Any]]


class _Connections:
    """Up to ``size`` connections, opened when first needed; a request waits for a free one."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn, self.size, self.opened = dsn, size, 0
        self.idle: asyncio.Queue[Conn] = asyncio.Queue()

    async def take(self) -> Conn:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            return await psycopg.AsyncConnection.connect(
                self.dsn, options="-c TimeZone=UTC", row_factory=dict_row
            )
        return await self.idle.get()

    async def close(self) -> None:
        while not self.idle.empty():
            await (self.idle.get_nowait()).close()


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cursor(seq: int) -> str:
    raw = json.dumps([seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    (seq,) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return int(seq)


async def _rows(conn: Conn, sql: str, params: dict[str, Any]) -> list[Any]:
    cursor = await conn.execute(sql, params)
    return await cursor.fetchall()


def _qualifications(rows: list[dict[str, Any]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for q in rows:
        codes = out.setdefault(q["enterprise_id"], [])
        if q["type_code"] not in codes:
            codes.append(q["type_code"])
    return out


def _contacts(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for c in rows:
        out.setdefault(c["enterprise_id"], []).append(
            {"name": c["name"], "title": c["title"], "phone": c["phone"], "email": c["email"]}
        )
    return out


def _tiers(r: dict[str, Any], shares_with_banks: bool) -> tuple[bool, bool]:
    """(who it is, its private facts) of a lead's enterprise for the bank, as
    ``access.policy.lead_enterprise_tiers``: private facts with the lead's consent or the
    enterprise's sharing with banks; who it is too, and also without them for a lead without
    a need."""
    private = bool(r["consented"] or shares_with_banks)
    return private or r["need_id"] is None, private


def _item(
    r: dict[str, Any],
    e: dict[str, Any],
    product: tuple[str, str],
    need: dict[str, Any] | None,
    quals: dict[int, list[str]],
    contacts: dict[int, list[dict[str, Any]]],
    today: date,
) -> dict[str, Any]:
    """One lead as the service shows it to a bank (same fields, same order)."""
    visible, private = _tiers(r, e["share_with_banks"])
    contacted = r["first_contact_at"] is not None or r["status"] not in ("new", "viewed")
    return {
        "id": r["id"],
        "status": r["status"],
        "source": r["source"],
        "bank_code": r["bank_code"],
        "product_code": product[0],
        "product_name": product[1],
        "product_version": r["product_version"],
        "score": r["score_centi"] / 100,
        "config_version": r["config_version"],
        "consented": r["consented"],
        "version": r["version"],
        "seq": r["seq"],
        "contact_due_date": _iso(r["contact_due_date"]),
        "viewed_at": _iso(r["viewed_at"]),
        "first_contact_at": _iso(r["first_contact_at"]),
        "sla_breached": r["sla_breached_at"] is not None
        or (not contacted and today > r["contact_due_date"]),
        "reassigned_from_id": r["reassigned_from_id"],
        "declined_reason": r["declined_reason"],
        "note": r["note"],
        "approved_amount_fen": r["approved_amount_fen"],
        "approved_rate_bp": r["approved_rate_bp"],
        "approved_term_months": r["approved_term_months"],
        "approved_date": _iso(r["approved_date"]),
        "disbursed_amount_fen": r["disbursed_amount_fen"],
        "disbursed_rate_bp": r["disbursed_rate_bp"],
        "disbursed_date": _iso(r["disbursed_date"]),
        "created_at": _iso(r["created_at"]),
        "updated_at": _iso(r["updated_at"]),
        "need": {
            "need_id": need["id"],
            "amount_fen": need["amount_fen"],
            "term_months": need["term_months"],
            "purpose": need["purpose"],
            "collateral": list(need["collateral"]),
            "wanted_by_date": _iso(need["wanted_by_date"]),
        }
        if need
        else None,
        "enterprise": {
            "cluster_code": e["cluster_code"],
            "district_code": e["district_code"],
            "size_class": e["size_class"],
            "qualification_codes": quals.get(e["id"], []),
            "registered_in_wuxi": e["registered_in_wuxi"],
            "enterprise_id": e["id"] if visible else None,
            "name": e["name"] if visible else None,
            "credit_code": e["credit_code"] if visible else None,
            "industry_code": e["industry_code"] if visible else None,
            "contacts": contacts.get(e["id"], []) if private else None,
            "employees": e["employees"] if private else None,
            "revenue_fen": e["revenue_fen"] if private else None,
            "total_assets_fen": e["total_assets_fen"] if private else None,
            "credit_grade": e["credit_grade"] if private else None,
        },
        "assignee": {"id": r["assignee_user_id"], "name": r.get("assignee_name")}
        if r["assignee_user_id"] is not None
        else None,
    }


async def _seven(
    conn: Conn, leads: list[dict[str, Any]], today: date
) -> tuple[list[dict[str, Any]], list[int]]:
    """The page's items, and the enterprises whose private facts they show."""
    enterprise_ids = sorted({r["enterprise_id"] for r in leads})
    enterprises = {e["id"]: e for e in await _rows(conn, ENTERPRISES_SQL, {"ids": enterprise_ids})}
    quals = _qualifications(
        await _rows(conn, QUALIFICATIONS_SQL, {"ids": enterprise_ids, "on": today})
    )
    product_ids = sorted({r["product_id"] for r in leads})
    products = {p["id"]: p for p in await _rows(conn, PRODUCTS_SQL, {"ids": product_ids})}
    names = {
        n["product_id"]: n["name"] for n in await _rows(conn, NAMES_SQL, {"ids": list(products)})
    }
    need_ids = sorted({r["need_id"] for r in leads if r["need_id"]})
    needs = {n["id"]: n for n in await _rows(conn, NEEDS_SQL, {"ids": need_ids})}
    shown = sorted(
        {
            r["enterprise_id"]
            for r in leads
            if _tiers(r, enterprises[r["enterprise_id"]]["share_with_banks"])[1]
        }
    )
    contacts = _contacts(await _rows(conn, CONTACTS_SQL, {"ids": shown}))
    if assignees := sorted({r["assignee_user_id"] for r in leads if r["assignee_user_id"]}):
        users = await _rows(conn, USERS_SQL, {"ids": assignees})
        who = {u["id"]: u["display_name"] for u in users}
        leads = [r | {"assignee_name": who.get(r["assignee_user_id"])} for r in leads]
    items = []
    for r in leads:
        product = products[r["product_id"]]
        code_name = (product["code"], names.get(product["id"], product["code"]))
        need = needs.get(r["need_id"])
        items.append(
            _item(r, enterprises[r["enterprise_id"]], code_name, need, quals, contacts, today)
        )
    return items, shown


async def _joined(
    conn: Conn, rows: list[dict[str, Any]], today: date
) -> tuple[list[dict[str, Any]], list[int]]:
    """The page's items, and the enterprises whose private facts they show."""
    enterprise_ids = sorted({r["enterprise_id"] for r in rows})
    quals = _qualifications(
        await _rows(conn, QUALIFICATIONS_SQL, {"ids": enterprise_ids, "on": today})
    )
    shown = sorted({r["enterprise_id"] for r in rows if _tiers(r, r["share_with_banks"])[1]})
    contacts = _contacts(await _rows(conn, CONTACT_ROWS_SQL, {"ids": shown}))
    items = []
    for r in rows:
        e = {
            "id": r["enterprise_id"],
            "name": r["enterprise_name"],
            "credit_code": r["credit_code"],
            "cluster_code": r["cluster_code"],
            "district_code": r["district_code"],
            "size_class": r["size_class"],
            "registered_in_wuxi": r["registered_in_wuxi"],
            "industry_code": r["industry_code"],
            "employees": r["employees"],
            "revenue_fen": r["revenue_fen"],
            "total_assets_fen": r["total_assets_fen"],
            "credit_grade": r["credit_grade"],
            "share_with_banks": r["share_with_banks"],
        }
        need = None
        if r["need_id"] is not None:
            need = {
                "id": r["need_id"],
                "amount_fen": r["need_amount_fen"],
                "term_months": r["need_term_months"],
                "purpose": r["need_purpose"],
                "collateral": r["need_collateral"],
                "wanted_by_date": r["need_wanted_by_date"],
            }
        product = (r["product_code"], r["product_name"])
        items.append(_item(r, e, product, need, quals, contacts, today))
    return items, shown


async def _page(conn: Conn, bank: str, after: int, limit: int, path: str) -> dict[str, Any]:
    shape, audited = SHAPES.get(path, SHAPES[API_PATH])
    params = {"bank": bank, "after": after, "limit": limit + 1}
    async with conn.transaction():
        rows = await _rows(conn, JOINED_SQL if shape == "joined" else LEADS_SQL, params)
        more, rows = len(rows) > limit, rows[:limit]
        next_cursor = _cursor(rows[-1]["seq"]) if more and rows else None
        today = datetime.now(LOCAL_ZONE).date()
        read: list[int] = []
        if shape == "leads-only":
            items = [{k: _iso(v) if isinstance(v, date) else v for k, v in r.items()} for r in rows]
        elif shape == "joined":
            items, read = await _joined(conn, rows, today)
        else:
            items, read = await _seven(conn, rows, today)
        if audited and read:
            await conn.execute(AUDIT_SQL, {"bank": bank, "ids": read})
    return {"items": items, "next_cursor": next_cursor, "limit": limit}


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


async def baseline_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
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
    path = scope["path"]
    if path == "/ping":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    if path == "/static" and "static" in _state:
        await _respond(send, 200, _state["static"])
        return
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    pool: _Connections = _state["pool"]
    conn = await pool.take()
    try:
        page = await _page(
            conn, os.environ[BANK_ENV], _after(query.get("cursor")), int(query["limit"]), path
        )
    finally:
        pool.idle.put_nowait(conn)
    body = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()
    if path == "/static":
        _state["static"] = body
    await _respond(send, 200, body)


# --- the load generator ---------------------------------------------------------------------

WALKER_LUA = r"""
-- One thread per connection: each walks the feed from a random position, page by page.
local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function encode(s)
  local out, pad = {}, (3 - #s % 3) % 3
  s = s .. string.rep("\0", pad)
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + b * 256 + c
    for shift = 18, 0, -6 do
      local k = math.floor(n / 2 ^ shift) % 64
      out[#out + 1] = b64:sub(k + 1, k + 1)
    end
  end
  return table.concat(out):sub(1, #out - pad)
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local base, limit, total, pos
function init(args)
  base, limit, total = args[1], tonumber(args[2]), tonumber(args[3])
  math.randomseed(tid * 7919 + tonumber(args[4]))
  pos = math.random(0, total - 1)
end

function request()
  local path = base .. "?limit=" .. limit
  if pos > 0 then path = path .. "&cursor=" .. encode("[" .. pos .. "]") end
  pos = pos + limit
  if pos >= total then pos = 0 end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e, q = summary.errors, {}
  for k = 0, 1000 do q[#q + 1] = string.format("%d", math.floor(latency:percentile(k / 10))) end
  io.write(string.format(
    'RESULT {"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"quantiles_us":[%s]}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, table.concat(q, ",")))
end
"""
ERRORS = ("connect", "read", "write", "status", "timeout")


def _one(conn: psycopg.Connection, sql: str, params: Any = None) -> tuple[Any, ...]:
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {sql}")
    return tuple(row)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


def _wrk(
    lua: Path, ports: list[int], path: str, seconds: int, args: argparse.Namespace, key: str
) -> dict[str, Any]:
    """One wrk per server process, each with its share of the connections, all at once; their
    counts added and their latency distributions merged."""
    runs = [
        subprocess.Popen(
            [
                "wrk",
                f"-t{n}",
                f"-c{n}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(lua),
                "-H",
                f"Authorization: Bearer {key}",
                f"http://127.0.0.1:{port}",
                "--",
                path,
                str(args.limit),
                str(args.leads),
                str(random.randrange(1_000_000)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for port, n in zip(ports, _shares(args.connections, len(ports)), strict=True)
    ]
    parts = []
    for run in runs:
        out, _ = run.communicate()
        line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
        if run.returncode or line is None:
            raise RuntimeError(f"wrk failed ({run.returncode}): {out[-2000:]}")
        parts.append(json.loads(line.removeprefix("RESULT ")))
    merged: dict[str, Any] = {k: sum(p[k] for p in parts) for k in ("requests", "bytes", *ERRORS)}
    merged["rate"] = sum(p["requests"] / (p["duration_us"] / 1e6) for p in parts)
    # Each instance's 1,001 quantiles stand for its requests in equal weights.
    weighted = sorted(
        (q, p["requests"] / len(p["quantiles_us"])) for p in parts for q in p["quantiles_us"]
    )
    total = sum(w for _, w in weighted)
    for pct in (50, 90, 99):
        seen = 0.0
        for value, weight in weighted:
            seen += weight
            if seen >= total * pct / 100:
                merged[f"p{pct}_ms"] = value / 1000
                break
    return merged


# --- the servers ----------------------------------------------------------------------------


def _start(
    kind: str, processes: int, url: str, dsn: str, bank: str, connections: int
) -> list[tuple[subprocess.Popen, int]]:
    """``processes`` single-process uvicorn servers of the service, jsonagg or the baseline."""
    return _start_all([kind], processes, url, dsn, bank, connections)[0]


def _start_all(
    kinds: list[str], processes: int, url: str, dsn: str, bank: str, connections: int
) -> list[list[tuple[subprocess.Popen, int]]]:
    """``_start`` of each kind, all started at once (the service takes seconds to import)."""
    started = _spawn(kinds, processes, url, dsn, bank, connections)
    _ready(kinds, started)
    return started


def _spawn(
    kinds: list[str], processes: int, url: str, dsn: str, bank: str, connections: int
) -> list[list[tuple[subprocess.Popen, int]]]:
    """The uvicorn processes of ``_start_all``, not waited for."""
    started: list[list[tuple[subprocess.Popen, int]]] = []
    for kind in kinds:
        if kind == "service":
            app = ["service.main:create_app", "--factory"]
        elif kind == "jsonagg":
            app = ["leads_jsonagg:app", "--app-dir", str(ROOT / "bench" / "apps")]
        else:
            app = ["leads_pull:baseline_app", "--app-dir", str(ROOT / "bench")]
        servers = []
        for share in _shares(connections, processes):
            if kind == "service":
                env = {**os.environ, "DATABASE_URL": url}
            elif kind == "jsonagg":  # the bank comes from the key
                env = {**os.environ, DSN_ENV: dsn, POOL_ENV: str(share)}
            else:  # as many connections as this process gets from wrk
                env = {**os.environ, DSN_ENV: dsn, BANK_ENV: bank, POOL_ENV: str(share)}
            port = _free_port()
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                *app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ]
            servers.append((subprocess.Popen(command, cwd=ROOT, env=env), port))
        started.append(servers)
    return started


def _ready(kinds: list[str], started: list[list[tuple[subprocess.Popen, int]]]) -> None:
    """Wait until every server of ``_spawn`` answers; stop them all when one does not."""
    import httpx

    for kind, servers in zip(kinds, started, strict=True):
        ready = "/healthz" if kind == "service" else "/ping"
        for server, port in servers:
            deadline = time.monotonic() + 60
            while True:
                try:
                    url_ = f"http://127.0.0.1:{port}{ready}"
                    if httpx.get(url_, timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        for each in started:
                            _stop(each)
                        raise RuntimeError(f"the {kind} server did not start") from None
                    time.sleep(0.2)


def _stop(servers: list[tuple[subprocess.Popen, int]]) -> None:
    for server, _ in servers:
        server.terminate()
    for server, _ in servers:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- what the run cost ----------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each process that is still there."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def _machine_busy() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [float(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Probe:
    """CPU used during a timed run by the server processes, by this database's PostgreSQL
    backends (those there at the end; a backend that came and went in between is missed) and
    by wrk (children waited for), how busy the machine was, and how many sessions PostgreSQL
    opened for this database."""

    def __init__(self, server_pids: list[int], admin_dsn: str, database: str) -> None:
        self.server_pids, self.admin_dsn, self.database = server_pids, admin_dsn, database

    def _backends(self) -> tuple[list[int], int]:
        with psycopg.connect(self.admin_dsn, autocommit=True) as c:
            pids = [
                r[0]
                for r in c.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
                )
            ]
            (sessions,) = _one(
                c, "SELECT sessions FROM pg_stat_database WHERE datname = %s", (self.database,)
            )
        return pids, sessions

    def start(self) -> None:
        pids, self.sessions = self._backends()
        self.pg = _proc_cpu(pids)
        self.server = _proc_cpu(self.server_pids)
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.machine = _machine_busy()

    def stop(self) -> dict[str, Any]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = _machine_busy()
        server = _proc_cpu(self.server_pids)
        pids, sessions = self._backends()
        pg = _proc_cpu(pids)
        return {
            "server_s": sum(server[p] - self.server[p] for p in server),
            "split": [server[p] - self.server[p] for p in server],
            "pg_s": sum(v - self.pg.get(p, 0.0) for p, v in pg.items()),
            "wrk_s": children.ru_utime
            + children.ru_stime
            - self.children.ru_utime
            - self.children.ru_stime,
            "busy": (busy - self.machine[0]) / max(1.0, total - self.machine[1]),
            "sessions": sessions - self.sessions,
        }


# --- py-spy under load (optional) -----------------------------------------------------------

SPY_FRAMES = [  # (label, function, file fragment): share of the samples that pass through it
    ("auth: authenticate (key lookup, SHA-256)", "authenticate", "access/service.py"),
    ("feed: run_async (all of the endpoint's work)", "run_async", "leads/feed.py"),
    ("  SQLAlchemy: execute (compile cache, parameters, result rows)", "execute", "engine/base.py"),
    (
        "  psycopg: convert %(name)s to $n (regex; > 50 parameters uncached)",
        "_query2pg_nocache",
        "psycopg/_queries.py",
    ),
    ("  psycopg: fetch and decode rows", "fetchall", "psycopg/cursor.py"),
    ("  ORM objects from rows", "_instance", "orm/loading.py"),
    ("  pydantic models built (BaseModel.__init__)", "__init__", "pydantic/main.py"),
    ("  pydantic models built (model_construct)", "model_construct", "pydantic/main.py"),
    ("  audit rows as ORM objects (record)", "record", "access/service.py"),
    ("  audit rows in one statement (audit_reads)", "audit_reads", "leads/queries.py"),
    ("  Session.commit (flush, COMMIT)", "commit", "orm/session.py"),
    ("  new database connections", "__connect", "pool/base.py"),
    ("FastAPI serialize_response (validate + JSON)", "serialize_response", "fastapi/routing.py"),
    ("uvicorn HTTP protocol (h11)", "", "uvicorn/protocols/http/"),
    ("asyncio event loop (own frames)", "_run_once", "asyncio/base_events.py"),
]


def _spy(py_spy: str, pid: int, seconds: int) -> tuple[subprocess.Popen, Path]:
    out = Path(tempfile.mkstemp(suffix=".txt")[1])
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--gil",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return spy, out


def _is(frame: str, func: str) -> bool:
    """Whether a py-spy frame ("Class.method (file:line)") is the function ``func`` (any
    function when empty)."""
    name = frame.split(" (", 1)[0]
    return not func or name == func or name.endswith("." + func)


def _spy_report(spy: subprocess.Popen, out: Path) -> None:
    spy.wait()
    total, through, leaves = 0, Counter[str](), Counter[str]()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        total += n
        leaves[re.sub(r":\d+\)", ")", frames[-1])] += n
        for label, func, fragment in SPY_FRAMES:
            if any(_is(f, func) for f in frames if fragment in f):
                through[label] += n
    out.unlink(missing_ok=True)
    if not total:
        print("  py-spy: no samples")
        return
    print(f"  py-spy, one service process, {total} samples while holding the GIL:")
    for label, _, _ in SPY_FRAMES:
        print(f"    {label:<60} {through[label] / total * 100:5.1f} %")
    print("    leaf functions, the 12 largest:")
    for frame, n in leaves.most_common(12):
        print(f"      {n / total * 100:5.1f} %  {frame[:110]}")


# --- checking that both answer the same -----------------------------------------------------


def _normal(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _normal(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        return sorted(items, key=json.dumps) if key == "contacts" else items
    if isinstance(value, str) and key.endswith("_at"):
        return datetime.fromisoformat(value)
    return value


CHECKED = ("service", "jsonagg", "baseline")  # the servers whose pages are compared


def _positions(args: argparse.Namespace) -> list[int]:
    """The cursors' seqs of the compared pages: the first page, random ones, the last page
    (part of a page), the page that ends exactly at the end and the empty page after it."""
    randoms = [random.randrange(args.leads) for _ in range(4)]
    return [0, *randoms, args.leads - args.limit // 2, args.leads - args.limit, args.leads]


def _exact(value: Any) -> Any:
    """A JSON value in which a float with an integer value is that integer (PostgreSQL writes
    50 where Python writes 50.0); everything else as it is (true stays true, not 1)."""
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _differ(name: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    """Stop the run, naming the first lead and the fields where two pages differ."""

    def same(x: Any, y: Any) -> bool:  # as JSON: true is not 1
        return json.dumps(_exact(x), sort_keys=True, default=str) == json.dumps(
            _exact(y), sort_keys=True, default=str
        )

    for x, y in zip(a["items"], b["items"], strict=False):
        if not same(x, y):
            diff = {k: (x.get(k), y.get(k)) for k in {*x, *y} if not same(x.get(k), y.get(k))}
            raise SystemExit(f"the service and {name} differ at seq {x['seq']}: {diff}")
    diff = {k: (a.get(k), b.get(k)) for k in {*a, *b} if k != "items" and a.get(k) != b.get(k)}
    raise SystemExit(f"the service and {name} differ: {diff or 'in the number of items'}")


AUDIT_FIELDS = (
    "actor_key_id, actor_user_id, actor_role, actor_bank_code, actor_enterprise_id, action, "
    "subject_type, subject_id, enterprise_id, enterprise_ids, changes"
)


def _compare(ports: dict[str, int], key: str, dsn: str, args: argparse.Namespace) -> int:
    """Pages of the service, of jsonagg and of both shapes of the baseline are equal, field by
    field: jsonagg's exactly (as JSON, but for 50 against 50.0), the baseline's with
    timestamps as instants and contacts in any order. The audit entries the service and
    jsonagg write for a page are equal too (but for their id and time), and both refuse a
    wrong key."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    checked = 0
    with psycopg.connect(dsn, autocommit=True) as db:

        def get(name: str, path: str, query: dict[str, Any]) -> tuple[Any, list[Any]]:
            (last,) = _one(db, "SELECT coalesce(max(id), 0) FROM audit_entry")
            answer = httpx.get(
                f"http://127.0.0.1:{ports[name]}{path}", params=query, headers=headers, timeout=30
            )
            answer.raise_for_status()
            audit = db.execute(
                f"SELECT {AUDIT_FIELDS} FROM audit_entry WHERE id > %s ORDER BY id", (last,)
            ).fetchall()
            return answer.json(), audit

        for after in _positions(args):
            query = {"limit": args.limit} | ({"cursor": _cursor(after)} if after else {})
            ours, audited = get("service", API_PATH, query)
            theirs, theirs_audited = get("jsonagg", API_PATH, query)
            exact = json.dumps(_exact(ours), sort_keys=True)
            if exact != json.dumps(_exact(theirs), sort_keys=True):
                _differ("jsonagg", ours, theirs)
            if audited != theirs_audited:
                raise SystemExit(f"audit entries differ: {audited} / {theirs_audited}")
            revealed = [i for i in ours["items"] if i["enterprise"]["contacts"] is not None]
            if revealed and not audited:
                raise SystemExit("the service wrote no audit entry for a read of contacts")
            for path in (PATHS["baseline"], PATHS["seven"]):
                bare, _ = get("baseline", path, query)
                if _normal(ours) != _normal(bare):
                    _differ(path, _normal(ours), _normal(bare))
            checked += len(ours["items"])
        for name in ("service", "jsonagg"):
            wrong = httpx.get(
                f"http://127.0.0.1:{ports[name]}{API_PATH}",
                params={"limit": args.limit},
                headers={"Authorization": f"Bearer {key[:-2]}xx"},
                timeout=30,
            )
            if wrong.status_code != 401:
                raise SystemExit(f"{name} answered {wrong.status_code} to a wrong key")
    return checked


# --- data -----------------------------------------------------------------------------------


def _load_leads(dsn: str, n: int) -> tuple[str, int, int]:
    """Give the bank with the most active products ``n`` leads (seq 1..n) and their needs.
    Returns the bank, its product count and the enterprise count."""
    with psycopg.connect(dsn, autocommit=False) as c:
        bank, products = _one(
            c,
            "SELECT bank_code, count(*) FROM product WHERE status = 'active' "
            "GROUP BY bank_code ORDER BY count(*) DESC, bank_code LIMIT 1",
        )
        (enterprises,) = _one(c, "SELECT count(*) FROM enterprise")
        # Spread consecutive leads over the library, as a feed mixes enterprises.
        step = next(p for p in range(7919, 10**6) if math.gcd(p, enterprises) == 1)
        params = {"n": n, "step": step, "bank": bank}
        c.execute(
            """
            INSERT INTO financing_need (id, enterprise_id, amount_fen, term_months, purpose,
                collateral, wanted_by_date, consent_share_details, max_banks, status, version,
                created_at, updated_at)
            SELECT g, e.ids[1 + (g * %(step)s::bigint %% e.n)::int], (50 + g %% 950) * 1000000::bigint,
                (ARRAY[6, 12, 24, 36])[1 + g %% 4],
                (ARRAY['working_capital', 'equipment', 'rnd', 'project', 'renewal',
                       'trade'])[1 + g %% 6],
                (ARRAY['["none"]', '["guarantee"]', '["property", "receivables"]',
                       '["ip"]'])[1 + g %% 4]::jsonb,
                CASE WHEN g %% 3 = 0 THEN current_date + 30 + g %% 60 END,
                g %% 10 <> 0, 3, 'matched', 1, now(), now()
            FROM generate_series(1, %(n)s) AS g,
                (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n
                 FROM enterprise) AS e
            WHERE NOT (g <= e.n AND g %% 4 = 0)
            """,
            params,
        )
        c.execute(
            "SELECT setval(pg_get_serial_sequence('financing_need', 'id'), "
            "(SELECT max(id) FROM financing_need))"
        )
        c.execute(
            """
            INSERT INTO lead (subject_key, need_id, enterprise_id, bank_code, product_id,
                product_version, config_version, score_centi, source, status, consented,
                version, seq, contact_due_date, viewed_at, created_at, updated_at)
            SELECT CASE WHEN s.has_need THEN 'need:' || s.g ELSE 'enterprise:' || s.eid END,
                CASE WHEN s.has_need THEN s.g END, s.eid, %(bank)s, s.pid, s.pversion, 1,
                5000 + (s.g * 37) %% 5000,
                CASE WHEN s.has_need THEN 'need' ELSE 'application' END,
                CASE WHEN s.g %% 7 = 0 THEN 'viewed' ELSE 'new' END,
                NOT s.has_need OR s.g %% 10 <> 0, 1, s.g, current_date + s.g %% 9 - 3,
                CASE WHEN s.g %% 7 = 0 THEN now() END, now(), now()
            FROM (
                SELECT g, e.ids[1 + (g * %(step)s::bigint %% e.n)::int] AS eid,
                    p.ids[1 + g %% p.n] AS pid, p.versions[1 + g %% p.n] AS pversion,
                    NOT (g <= e.n AND g %% 4 = 0) AS has_need
                FROM generate_series(1, %(n)s) AS g,
                    (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n
                     FROM enterprise) AS e,
                    (SELECT array_agg(id ORDER BY id) AS ids,
                        array_agg(current_version ORDER BY id) AS versions,
                        count(*)::int AS n
                     FROM product WHERE bank_code = %(bank)s AND status = 'active') AS p
            ) AS s
            """,
            params,
        )
        c.execute(
            "INSERT INTO bank_feed (bank_code, last_seq) VALUES (%(bank)s, %(n)s) "
            "ON CONFLICT (bank_code) DO UPDATE SET last_seq = excluded.last_seq",
            params,
        )
        c.commit()
        c.autocommit = True
        c.execute("ANALYZE")
    return bank, products, enterprises


# --- the service's request path in process --------------------------------------------------


def _statement_label(sql: str) -> str:
    sql = " ".join(sql.split())
    if sql.startswith("INSERT"):
        return "INSERT " + sql.split()[2]
    match = re.search(r"\bFROM (\w+)", sql)
    return f"{sql.split()[0]} {match.group(1) if match else ''}".strip()


class Phases:
    """Inclusive wall time of wrapped functions, per label (perf_counter around each call), and
    which of them are running."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.active: Counter[str] = Counter()
        self.undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, label: str) -> bool:
        """Time ``owner.name`` under ``label``; False when there is no such function."""
        original = getattr(owner, name, None)
        if not callable(original) or isinstance(original, type):
            return False
        if asyncio.iscoroutinefunction(original):

            async def timed_async(*a: Any, **k: Any) -> Any:
                started = time.perf_counter()
                self.active[label] += 1
                try:
                    return await original(*a, **k)
                finally:
                    self.active[label] -= 1
                    self.seconds[label] += time.perf_counter() - started
                    self.calls[label] += 1

            setattr(owner, name, timed_async)
        else:

            def timed(*a: Any, **k: Any) -> Any:
                started = time.perf_counter()
                self.active[label] += 1
                try:
                    return original(*a, **k)
                finally:
                    self.active[label] -= 1
                    self.seconds[label] += time.perf_counter() - started
                    self.calls[label] += 1

            setattr(owner, name, timed)
        self.undo.append(lambda: setattr(owner, name, original))
        return True

    def restore(self) -> None:
        for undo in reversed(self.undo):
            undo()
        self.undo.clear()


def _profile(url: str, key: str, args: argparse.Namespace) -> bool:
    """The service's request path in process: the app called as ASGI in one event loop (the
    app's AsyncPool belongs to the loop that opened it, so every walk runs in the same one).
    Returns whether every call answered 200."""
    os.environ["DATABASE_URL"] = url
    from psycopg_pool import AsyncConnectionPool

    from service.leads import feed
    from service.main import create_app

    app = create_app()

    async def call(after_seq: int) -> None:
        query = f"limit={args.limit}" + (f"&cursor={_cursor(after_seq)}" if after_seq else "")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": API_PATH,
            "raw_path": API_PATH.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
            "app": app,
            "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())],
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"the service answered {sent}")

    positions = [random.randrange(args.leads) for _ in range(args.profile_pages)]

    async def walk() -> list[float]:
        times = []
        for p in positions:
            started = time.perf_counter()
            await call(p)
            times.append(time.perf_counter() - started)
        return times

    phases = Phases()
    statements: Counter[str] = Counter()
    bound: Counter[str] = Counter()
    original_execute = psycopg.AsyncCursor.execute

    async def counted(cursor: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        label = _statement_label(str(query))
        statements[label] += 1
        bound[label] += len(params or ())
        return await original_execute(cursor, query, params, **kw)

    async def run() -> tuple[list[float], list[float]]:
        try:
            await walk()  # warm: connections, compiled SQL, prepared statements
            plain = await walk()
            phases.wrap(AsyncConnectionPool, "getconn", "getconn")
            phases.wrap(AsyncConnectionPool, "putconn", "putconn")
            phases.wrap(feed, "run_async", "feed")
            phases.wrap(psycopg.AsyncConnection, "wait", "wait")
            phases.wrap(feed, "check_key", "check_key")
            phases.wrap(feed, "compiled_sql", "compiled_sql")
            phases.wrap(feed.json, "dumps", "dumps")
            psycopg.AsyncCursor.execute = counted  # type: ignore[method-assign]
            try:
                timed = await walk()
            finally:
                psycopg.AsyncCursor.execute = original_execute  # type: ignore[method-assign]
                phases.restore()
            return plain, timed
        finally:
            if app.state.async_pool is not None:
                await app.state.async_pool.close()

    try:
        plain, timed = asyncio.run(run())
    except RuntimeError as error:
        print(f"  ! profile: {error}")
        return False
    n, s = len(positions), phases.seconds
    rest = s["feed"] - s["wait"] - s["check_key"] - s["compiled_sql"] - s["dumps"]
    rows: list[tuple[str, float]] = [
        ("pool: take a connection (AsyncConnectionPool.getconn)", s["getconn"]),
        (
            f"feed: waiting on PostgreSQL ({phases.calls['wait'] / n:.1f} waits: round trips, "
            "server time, commit)",
            s["wait"],
        ),
        ("feed: key check (SHA-256, principal)", s["check_key"]),
        ("feed: compiled SQL looked up", s["compiled_sql"]),
        ("feed: JSON encoding of the page (json.dumps)", s["dumps"]),
        ("feed: the rest (driver's rows, dicts, steps, cursors)", rest),
        ("pool: give the connection back (putconn)", s["putconn"]),
        ("routing, middleware, dependencies, Response", sum(timed) - s["feed"]),
    ]
    rows[-1] = (rows[-1][0], rows[-1][1] - s["getconn"] - s["putconn"])
    print(
        f"\nthe service's request path in process, one event loop, {n} pages of {args.limit} "
        "(GET /api/v1/leads on the app's AsyncPool)"
    )
    print(
        f"  per request: median {statistics.median(plain) * 1000:.2f} ms, "
        f"p90 {_pct(plain, 90) * 1000:.2f} ms, mean {statistics.mean(plain) * 1000:.2f} ms; "
        f"with the timers below median {statistics.median(timed) * 1000:.2f} ms, "
        f"mean {statistics.mean(timed) * 1000:.2f} ms"
    )
    for label, seconds in rows:
        print(f"    {label:<72} {seconds / n * 1000:6.2f} ms {seconds / sum(timed) * 100:4.0f} %")
    print(f"  SQL statements per request: {sum(statements.values()) / n:.1f}")
    for label, count in statements.most_common():
        print(
            f"    {label:<26} {count / n:4.1f} per request, {bound[label] / count:5.0f} parameters"
        )
    return True


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- main -----------------------------------------------------------------------------------

PATHS = {  # target -> path (the service's on the service, jsonagg's on its own server, the
    # others on the baseline)
    "service": API_PATH,
    "jsonagg": API_PATH,
    "baseline": API_PATH,
    "audited": "/audited",
    "seven": "/seven",
    "seven-audited": "/seven-audited",
    "leads-only": "/leads-only",
    "static": "/static",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--limit", type=int, default=100, help="page size")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[2, 1],
        help="server processes per target; each count is measured in turn",
    )
    parser.add_argument("--duration", type=int, default=20, help="timed seconds per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed seconds per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--targets",
        default="service,jsonagg,baseline,audited,seven,leads-only",
        help="comma list of: " + ", ".join(t for t in PATHS if t != "static"),
    )
    parser.add_argument("--profile-pages", type=int, default=300)
    parser.add_argument("--py-spy", help="path of py-spy, to sample a service process under load")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one short round: checks that everything works end to end",
    )
    args = parser.parse_args()
    if args.smoke:
        args.leads, args.enterprises, args.products, args.connections = 2_000, 500, 20, 4
        args.workers, args.duration, args.warmup, args.rounds = [1], 2, 1, 1
        args.targets, args.profile_pages = "service,jsonagg,baseline", 20
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install -y wrk)")
    targets = [t for t in args.targets.split(",") if t]
    if unknown := set(targets) - set(PATHS):
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")

    from sqlalchemy.engine import make_url

    name = f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    database = make_url(args.server).set(database=name)
    url = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    dsn = database.set(drivername="postgresql").render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    lua = Path(tempfile.mkstemp(suffix=".lua")[1])
    lua.write_text(WALKER_LUA)
    failures: list[str] = []
    kept: dict[str, list[tuple[subprocess.Popen, int]]] = {}
    try:
        from sqlmodel import Session

        from service.access.models import Role
        from service.access.service import create_key
        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.seeding import seed_reference
        from service.synth import run_synth

        started = time.perf_counter()
        # The compared servers that need no bank start while the data loads (the service
        # takes seconds to import); they touch the database only when asked.
        checking = _spawn(["service", "jsonagg"], 1, url, dsn, "", args.connections)
        kept.update(zip(["service", "jsonagg"], checking, strict=True))
        run_migrations("head", url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_reference(session)
        run_synth(url, args.enterprises, args.products, 0, 1, None)
        bank, products, enterprises = _load_leads(dsn, args.leads)
        with Session(engine, expire_on_commit=False) as session:
            key = create_key(session, Role.bank, "leads_pull bench", bank).key
        engine.dispose()
        with psycopg.connect(dsn) as c:
            consented, needs = _one(
                c, "SELECT count(*) FILTER (WHERE consented), count(need_id) FROM lead"
            )
        print(
            f"data: {enterprises:,} enterprises; bank {bank} with {products} active products "
            f"and {args.leads:,} leads ({needs:,} with a need, {consented:,} consented); "
            f"set up in {time.perf_counter() - started:.1f} s"
        )
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
        print(
            f"load: wrk {version[1] if len(version) > 1 else ''}, {args.connections} "
            f"connections (one thread each), pages of {args.limit}, warm-up {args.warmup} s, "
            f"timed {args.duration} s, {args.rounds} rounds"
        )

        # One process of each for the comparison; --smoke then times these same processes
        # (its one process per server) rather than start them again.
        checking += _spawn(["baseline"], 1, url, dsn, bank, args.connections)
        kept["baseline"] = checking[-1]
        _ready(list(CHECKED), checking)
        try:
            ports = {kind: servers[0][1] for kind, servers in zip(CHECKED, checking, strict=True)}
            checked = _compare(ports, key, dsn, args)
        finally:
            if not args.smoke:
                for servers in checking:
                    _stop(servers)
                kept.clear()
        print(
            f"the service, jsonagg and the baseline ({PATHS['baseline']} and {PATHS['seven']}) "
            f"agree field by field on {checked:,} leads in {len(_positions(args))} pages, and "
            "jsonagg writes the service's audit entries"
        )
        for workers in args.workers:
            results: dict[str, list[dict[str, Any]]] = defaultdict(list)
            spies: list[tuple[subprocess.Popen, Path]] = []

            def measure(
                target: str,
                workers: int = workers,
                results: dict[str, list[dict[str, Any]]] = results,
                spies: list[tuple[subprocess.Popen, Path]] = spies,
            ) -> None:
                kind = target if target in ("service", "jsonagg") else "baseline"
                servers = kept.get(kind) or _start(kind, workers, url, dsn, bank, args.connections)
                try:
                    ports = [port for _, port in servers]
                    _wrk(lua, ports, PATHS[target], args.warmup, args, key)
                    probe = Probe([s.pid for s, _ in servers], args.server, name)
                    if args.py_spy and target == "service" and not spies:
                        spies.append(
                            _spy(args.py_spy, servers[0][0].pid, max(1, args.duration - 2))
                        )
                    probe.start()
                    result = _wrk(lua, ports, PATHS[target], args.duration, args, key)
                    result |= probe.stop()
                finally:
                    if kind not in kept:
                        _stop(servers)
                if errors := {k: result[k] for k in ERRORS if result[k]}:
                    print(f"  ! {target}: errors {errors}")
                    failures.append(f"{target}: {errors}")
                if not result["requests"]:
                    print(f"  ! {target}: no request completed in {args.duration} s")
                    failures.append(f"{target}: no requests")
                results[target].append(result)

            print(f"\n{workers} process{'es' if workers > 1 else ''} per server")
            measure("static")
            for round_ in range(args.rounds):
                for target in targets if round_ % 2 == 0 else targets[::-1]:
                    measure(target)
            _report(workers, ["static", *targets], results)
            for spy, out in spies:
                _spy_report(spy, out)
        for servers in kept.values():
            _stop(servers)
        if args.profile_pages and not _profile(url, key, args):
            failures.append("profile")
        print(
            f"\ndate {date.today()}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
            f"PostgreSQL {_pg_version(args.server)}"
        )
    finally:
        for servers in kept.values():
            _stop(servers)
        lua.unlink(missing_ok=True)
        if args.keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(args.server, autocommit=True) as c:
                c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                c.execute(f'DROP DATABASE IF EXISTS "{name}"')
    if failures:
        raise SystemExit(f"failed: {'; '.join(failures)}")


def _pg_version(server: str) -> str:
    with psycopg.connect(server) as c:
        return str(_one(c, "SHOW server_version")[0])


def _report(workers: int, targets: list[str], results: dict[str, list[dict[str, Any]]]) -> None:
    print(
        f"{'target':<11} {'req/s per round':<17} {'median':>7} {'p50':>7} {'p90':>7} "
        f"{'p99 ms':>7} | CPU ms/req: server     pg    wrk | busy  KiB/resp  new PG sessions"
    )
    for target in targets:
        runs = results[target]
        if not runs:
            continue
        rates = [r["rate"] for r in runs]
        middle = sorted(runs, key=lambda r: r["rate"])[(len(runs) - 1) // 2]
        per = 1000 / max(1, middle["requests"])
        print(
            f"{target:<11} {' '.join(f'{x:7.1f}' for x in rates):<17} "
            f"{statistics.median(rates):7.1f} {middle['p50_ms']:7.1f} {middle['p90_ms']:7.1f} "
            f"{middle['p99_ms']:7.1f} | {middle['server_s'] * per:18.2f} "
            f"{middle['pg_s'] * per:6.2f} {middle['wrk_s'] * per:6.2f} | "
            f"{middle['busy'] * 100:3.0f}% {middle['bytes'] / max(1, middle['requests']) / 1024:9.1f}"
            f"  {middle['sessions']:15d}"
        )
    for bare in ("jsonagg", "baseline", "audited", "seven"):
        if results["service"] and results[bare]:
            ratios = [
                s["rate"] / b["rate"]
                for s, b in zip(results["service"], results[bare], strict=False)
            ]
            print(
                f"service / {bare} throughput, {workers} process{'es' if workers > 1 else ''}: "
                f"{' '.join(f'{r:.2f}' for r in ratios)} per round, median "
                f"{statistics.median(ratios):.2f}"
                + (" (the primary reference)" if bare == "jsonagg" else "")
                + (" (the requirement: at least 0.80)" if bare == "baseline" else "")
            )


if __name__ == "__main__":
    main()

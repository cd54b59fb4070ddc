"""A bank pulling its lead feed, the API's hottest read, written once as steps that name
their statements and get their rows back (``pull``, ``shown``), and run by one of two
drivers: ``run`` on a session (SQLite, and every test) and ``run_async`` on an asyncio
PostgreSQL connection (the served app on PostgreSQL: no worker thread per request).

A step yields the statements it needs (PostgreSQL gets each step's statements in one
pipeline: one round trip), and the driver sends back their rows. On PostgreSQL a page takes
two round trips: the API key, then one statement that reads the page and audits the read and
whose answer is the items' JSON (``feed_json``); a bank's plain request for the next page
takes one (``feed_lane``). Elsewhere three: the key; the leads joined with their enterprise,
product, need and assignee; then the enterprises' valid qualifications, their contacts and the
audit entry of the read, built here into plain dicts (a bank pulls pages of 100, and building
and then validating 100 nested models would cost more than reading them)."""

import json
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from sqlalchemy import Select, bindparam, select
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, between_scope, blank_private, lead_enterprise_tiers
from service.access.service import check_key, key_lookup, parse_key
from service.core.database import Statement, compiled_sql, fetch_all
from service.core.errors import Unprocessable
from service.core.pagination import PageParams, cursor_key, encode_cursor
from service.enterprises.queries import codes_by_enterprise, valid_qualifications
from service.leads import feed_json, queries
from service.leads.states import LeadStatus
from service.products.models import Product
from service.products.service import ProductNotFound

# A step: yields the statements it needs, is sent their rows, returns its result.
Steps = Generator[list[Statement], list[list[Any]], Any]


@dataclass
class LeadFilters:
    status: LeadStatus | None = None
    product_code: str | None = None
    updated_since: datetime | None = None
    bank_code: str | None = None  # the office's choice; a bank always gets its own
    need_id: int | None = None  # the leads of one financing need (of those the caller sees)
    assignee: str | None = None  # "me", "none" or a person's id (``assignee_filter``)


def assignee_filter(principal: Principal, value: str | None) -> dict[str, Any]:
    """The feed's ``where`` of an assignee filter: ``none`` the leads nobody works yet, an id
    that person's, ``me`` the caller's own (a person only: a key is no one's assignee)."""
    if value is None:
        return {}
    if value == "none":
        return {"assignee_none": True}
    if value == "me":
        if principal.user_id is None:
            raise Unprocessable(
                "assignee=me 仅适用于登录的人员；API 密钥请给出人员编号或 none。",
                code="invalid_assignee_filter",
                field="assignee",
            )
        return {"assignee_id": principal.user_id}
    if value.isascii() and value.isdigit() and 0 < int(value) <= 2_147_483_647:
        return {"assignee_id": int(value)}
    raise Unprocessable(
        "assignee 须为 me、none 或人员编号。", code="invalid_assignee_filter", field="assignee"
    )


def _product_id() -> Select[Any]:
    return select(col(Product.id)).where(col(Product.code) == bindparam("code"))


def pull(
    dialect: str,
    authorization: str | None,
    filters: LeadFilters,
    page: PageParams,
    today: date,
    now: datetime,
    in_database: bool = True,
) -> Steps:
    """A page of the caller's leads as the JSON body of ``Page[LeadPublic]``. On PostgreSQL
    (unless ``in_database`` is false: the tests' reference) the database builds the items'
    JSON (``feed_json``); elsewhere ``shown`` builds them here.

    A bank gets its own leads in feed order (each change moves a lead to the end), so paging
    on with the cursor loses and repeats nothing while leads arrive and change. An
    enterprise gets its own leads, the office everyone's (one bank's in feed order). The
    filters narrow what the caller sees, never widen it: another holder's need has no leads
    here, as one that does not exist."""
    prefix, key = parse_key(authorization)
    principal, touch = check_key((yield [key_lookup(prefix)])[0], key, now)
    if touch is not None:
        yield [touch]
    where: dict[str, Any] = {}
    bank_code, enterprise_id = between_scope(principal, filters.bank_code, None)
    if enterprise_id is not None:
        where["enterprise_id"] = enterprise_id
    if bank_code is not None:
        where["bank_code"] = bank_code
    if filters.status is not None:
        where["status"] = str(filters.status)
    if filters.product_code is not None:
        found = (
            yield [Statement("leads.product_id", _product_id, {"code": filters.product_code})]
        )[0]
        if not found:
            raise ProductNotFound(f"产品 {filters.product_code} 不存在。")
        where["product_id"] = found[0].id
    if filters.updated_since is not None:
        where["updated_since"] = filters.updated_since
    if filters.need_id is not None:
        where["need_id"] = filters.need_id
    where.update(assignee_filter(principal, filters.assignee))
    by_seq = bank_code is not None
    after = cursor_key(page, 1, (int,))
    if after:
        where["after_seq" if by_seq else "after_id"] = after[0]
    if in_database and dialect == "postgresql":
        return (yield from _pull_json(principal, where, by_seq, page.limit, today, now))
    rows = (yield [queries.page(where, by_seq, page.limit + 1)])[0]
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor([rows[-1].seq if by_seq else rows[-1].id])
    items = yield from shown(dialect, principal, rows, today)
    body = {"items": items, "next_cursor": next_cursor, "limit": page.limit}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _pull_json(
    principal: Principal,
    where: dict[str, Any],
    by_seq: bool,
    limit: int,
    today: date,
    now: datetime,
) -> Steps:
    bank = principal.role == Role.bank
    statement = feed_json.page(
        where, by_seq, limit, bank, principal.key_id, principal.bank_code, today, now
    )
    _, rows_read, last_key, items = (yield [statement])[0][0]
    return feed_json.page_body(items, rows_read, last_key, limit)


def shown(dialect: str, principal: Principal, rows: list[Any], today: date) -> Steps:
    """Rows of ``queries.page_statement`` as JSON-ready dicts of ``LeadPublic``'s shape, the
    enterprise in the tiers of ``access.policy.lead_enterprise_tiers``; a bank's read of
    private facts is written to the audit log."""
    if not rows:
        return []
    bank = principal.role == Role.bank
    tiers = {
        row.id: lead_enterprise_tiers(
            principal, row.consented, bool(row.share_with_banks), row.need_id is not None
        )
        for row in rows
    }
    enterprise_ids = sorted({row.enterprise_id for row in rows})
    revealed = sorted({row.enterprise_id for row in rows if tiers[row.id][1]})
    read = revealed if bank else []
    statements = [valid_qualifications(dialect, enterprise_ids, today)]
    if revealed:
        statements.append(queries.contacts(dialect, revealed))
    if read:
        statements.append(queries.audit_read(principal.key_id, principal.bank_code, read))
    results = yield statements
    quals = codes_by_enterprise(results[0])
    people = queries.contacts_by_enterprise(results[1]) if revealed else {}
    out = []
    for row in rows:
        visible, private = tiers[row.id]
        contacted = row.first_contact_at is not None or row.status not in ("new", "viewed")
        out.append(
            {
                "id": row.id,
                "status": row.status,
                "source": row.source,
                "bank_code": row.bank_code,
                "product_code": row.product_code,
                "product_name": row.product_name,
                "product_version": row.product_version,
                "score": row.score_centi / 100,
                "config_version": row.config_version,
                "consented": row.consented,
                "version": row.version,
                "seq": row.seq,
                "contact_due_date": row.contact_due_date.isoformat(),
                "viewed_at": _timestamp(row.viewed_at),
                "first_contact_at": _timestamp(row.first_contact_at),
                "sla_breached": row.sla_breached_at is not None
                or (not contacted and today > row.contact_due_date),
                "reassigned_from_id": row.reassigned_from_id,
                "declined_reason": row.declined_reason,
                "note": row.note,
                "approved_amount_fen": row.approved_amount_fen,
                "approved_rate_bp": row.approved_rate_bp,
                "approved_term_months": row.approved_term_months,
                "approved_date": _iso(row.approved_date),
                "disbursed_amount_fen": row.disbursed_amount_fen,
                "disbursed_rate_bp": row.disbursed_rate_bp,
                "disbursed_date": _iso(row.disbursed_date),
                "created_at": _timestamp(row.created_at),
                "updated_at": _timestamp(row.updated_at),
                "need": {
                    "need_id": row.need_id,
                    "amount_fen": row.need_amount_fen,
                    "term_months": row.need_term_months,
                    "purpose": row.need_purpose,
                    "collateral": list(row.need_collateral or []),
                    "wanted_by_date": _iso(row.need_wanted_by_date),
                }
                if row.need_id is not None
                else None,
                "enterprise": _enterprise(row, visible, private, quals, people),
                "assignee": {"id": row.assignee_user_id, "name": row.assignee_name}
                if row.assignee_user_id is not None
                else None,
            }
        )
    return out


def _enterprise(
    row: Any, visible: bool, private: bool, quals: dict[int, list[str]], people: dict
) -> dict[str, Any]:
    """A lead's enterprise: who it is only when ``visible``; the private facts (as the access
    policy's tiers name them) only when ``private``."""
    shown = {
        "cluster_code": row.cluster_code,
        "district_code": row.district_code,
        "size_class": row.size_class,
        "qualification_codes": quals.get(row.enterprise_id, []),
        "registered_in_wuxi": row.registered_in_wuxi,
        "enterprise_id": row.enterprise_id if visible else None,
        "name": row.enterprise_name if visible else None,
        "credit_code": row.credit_code if visible else None,
        "industry_code": row.industry_code if visible else None,
        "contacts": people.get(row.enterprise_id, []),
        "employees": row.employees,
        "revenue_fen": row.revenue_fen,
        "total_assets_fen": row.total_assets_fen,
        "credit_grade": row.credit_grade,
    }
    return shown if private else blank_private("enterprise", shown)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _timestamp(value: datetime | None) -> str | None:
    """A timestamp in UTC with a Z, whatever zone the row carries it in."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


# --- the drivers ----------------------------------------------------------------------------


def run(session: Session, steps: Steps) -> Any:
    """Run ``steps`` on the session; commit when they wrote."""
    wrote = False
    try:
        statements = next(steps)
        while True:
            wrote = wrote or any(s.writes for s in statements)
            statements = steps.send(fetch_all(session, statements))
    except StopIteration as done:
        if wrote:
            session.commit()
        return done.value


async def run_async(connection: AsyncConnection[Any], dialect: Any, steps: Steps) -> Any:
    """Run ``steps`` on an asyncio psycopg connection in autocommit (PostgreSQL, ``dialect``
    being SQLAlchemy's for it): a step's several statements in one pipeline, each statement
    its own transaction. No step needs more: the page, its audit entry and the key's use are
    each one statement (``feed_json``), and a read alone needs no transaction."""
    assert connection.autocommit, "the feed's pool hands out autocommit connections"
    try:
        statements = next(steps)
        while True:
            cursors = [connection.cursor(row_factory=namedtuple_row) for _ in statements]
            if len(statements) == 1:  # psycopg takes a large result more slowly in a pipeline
                await cursors[0].execute(compiled_sql(dialect, statements[0]), statements[0].params)
            else:
                async with connection.pipeline():
                    for cursor, statement in zip(cursors, statements, strict=True):
                        await cursor.execute(compiled_sql(dialect, statement), statement.params)
            results = [await c.fetchall() if c.description else [] for c in cursors]
            for cursor in cursors:
                await cursor.close()
            statements = steps.send(results)
    except StopIteration as done:
        return done.value

"""The bank's feed in one round trip: ``GET /api/v1/leads`` from a bank's key with nothing but
``limit`` and ``cursor``, the request a bank's integration makes page after page, answered on
PostgreSQL by one statement that checks the key, records its use, reads the page, audits the
read and builds the JSON (``feed_json.bank_page``), without the framework's routing and
dependencies around it.

Everything else goes the usual way, unchanged: another caller, any other parameter, a value
the lane does not take exactly as the route would (it never guesses), a key that is not a
valid bank key (the route then says why: nothing was read or written), SQLite. The lane sits
inside the edge's checks (``core.edge``), so what they refuse never reaches it. Its answer is
the route's, byte for byte in meaning: the tests compare the two."""

import logging

from psycopg import AsyncRawCursor
from psycopg import Error as DatabaseError
from starlette.types import ASGIApp, Receive, Scope, Send

from service.access.exceptions import Unauthenticated
from service.access.service import parse_key
from service.core.errors import AppError
from service.core.models import today_local, utcnow
from service.core.pagination import PageParams, cursor_key
from service.core.settings import get_settings
from service.leads import feed_json

PATH = "/api/v1/leads"
_BIGINT = 2**63 - 1
_log = logging.getLogger(__name__)


def plain_request(scope: Scope) -> tuple[str, str, int | None, int] | None:
    """(key prefix, key, seq after which the page starts, limit) of a request the lane takes;
    None for any other."""
    authorization = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
            break
    try:
        prefix, key = parse_key(authorization)
    except Unauthenticated:
        return None
    settings = get_settings()
    limit, after, seen = settings.page_limit_default, None, set()
    query = scope.get("query_string") or b""
    if not query.isascii():
        return None
    for part in query.decode().split("&") if query else ():
        name, equals, value = part.partition("=")
        if not equals or not value or name in seen:
            return None
        seen.add(name)
        if name == "limit":
            if not value.isdigit() or value[0] == "0" or len(value) > 6:
                return None
            limit = int(value)
            if limit > settings.page_limit_max:
                return None
        elif name == "cursor":
            if not value.replace("-", "").replace("_", "").isalnum():
                return None
            try:
                found = cursor_key(PageParams(limit=1, cursor=value), 1, (int,))
            except AppError:
                return None
            if found is None or not -_BIGINT <= found[0] <= _BIGINT:
                return None
            after = found[0]
        else:
            return None
    return prefix, key, after, limit


class FeedLane:
    """ASGI middleware: the bank's plain feed request in one statement; all else to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        pool = scope["app"].state.async_pool
        request = plain_request(scope) if pool is not None else None
        if request is None:
            return await self.app(scope, receive, send)
        prefix, key, after, limit = request
        statement = feed_json.bank_page(prefix, key, after, limit, today_local(), utcnow())
        try:
            sql, names = feed_json.raw_sql_of(statement)
            async with (await pool.get()).connection() as connection:
                cursor = AsyncRawCursor(connection)
                await cursor.execute(sql, [statement.params[name] for name in names], binary=True)
                row = await cursor.fetchone()
        except DatabaseError:
            # One statement in autocommit: it wrote nothing. The route answers as it would.
            _log.warning("the feed lane's statement failed; the route answers", exc_info=True)
            return await self.app(scope, receive, send)
        assert row is not None  # the statement always answers one row
        key_found, rows_read, last_key, items = row
        if not key_found:
            return await self.app(scope, receive, send)
        await self.answer(send, feed_json.page_body(items, rows_read, last_key, limit))

    @staticmethod
    async def answer(send: Send, body: bytes) -> None:
        """The lane's 200, as the route sends it."""
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

"""The edge: what every request passes before any route sees it.

- A NUL character (U+0000) in the path, the query string, a header, a JSON body or a form
  field is refused with a 422 naming where it was (PostgreSQL cannot store one, and no real
  name, code or note holds one).
- A body over its route's limit is refused with a 413 before it is read (by its
  Content-Length, or as soon as a streamed body passes the limit): JSON and forms are small,
  file uploads larger; both are settings.
- A route that needs a key checks the key before its body is read, so that nobody without one
  can make the service read, hold or parse a large body.
- A JSON body that is not UTF-8 is a 400 (documented on every operation that takes a body).
- Under the pages' prefix a refusal is a page (a person's browser), elsewhere problem+json.

A plain ASGI middleware (no BaseHTTPMiddleware), so that a request without a body costs two
byte searches."""

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.errors import AppError, problem_body

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NUL = "\x00"

# Checks a request's key before its body is read; raises AppError (401) for a bad one. It
# returns what the route's own authentication may reuse (kept in scope["state"]).
EarlyAuth = Callable[[Scope], Awaitable[Any]]
# Answers a refusal as a page, for the requests of a person's browser (see EdgeGuard.pages).
PageAnswer = Callable[[Scope, AppError], Response]


@dataclass(frozen=True)
class RouteKind:
    secured: bool  # needs a key
    upload: bool  # takes files (multipart): the larger limit


class EdgeError(AppError):
    title = "Invalid request"


class TooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Content Too Large"


class MalformedBody(AppError):
    status = 400
    code = "malformed_body"
    title = "Bad request"


def _nul_error(where: str, location: str) -> EdgeError:
    return EdgeError(
        f"{where}含有空字符（U+0000），这不是合法的文字；请删去后重试。",
        code="nul_character",
        status=422,
        field=location,
        errors=[{"loc": location, "message": "contains a NUL character", "type": "nul"}],
    )


def _too_large(limit: int, upload: bool) -> TooLarge:
    what = "上传的文件" if upload else "请求体"
    return TooLarge(f"{what}超过上限 {_size(limit)}；请拆分后再提交。", limit_bytes=limit)


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} 字节"


def _where(what: str, location: str) -> str:
    """「查询参数 q 中」: the part of the request, and its name where it has one."""
    _, _, name = location.partition(".")
    return f"{what} {name} 中" if name else f"{what}中"


def _visible(name: str) -> str:
    return name.replace(NUL, "\\u0000")


def nul_path(value: Any, at: str) -> str | None:
    """Where in a decoded JSON value a NUL is (``body.contacts.0.name``), or None."""
    if isinstance(value, str):
        return at if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return f"{at}.{_visible(key)}"
            found = nul_path(item, f"{at}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{at}.{index}")
            if found:
                return found
    return None


class EdgeGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        authenticate: EarlyAuth | None = None,
        pages: tuple[str, PageAnswer] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.authenticate = authenticate
        # (path prefix, answer): a refusal under that prefix is a page, not problem+json.
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await self._check(scope, receive)
        except AppError as exc:
            page = self._page(scope, exc)
            if page is None:
                await _answer(scope, send, exc)
                return
            if exc.status == 413:
                page.headers["connection"] = "close"  # the rest of the body is not read
            await page(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, receive: Receive) -> Receive:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if b"%00" in raw_path or NUL in scope["path"]:
            location = self._path_location(scope)
            raise _nul_error(_where("地址", location), location)
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            location = _query_location(query)
            raise _nul_error(_where("查询参数", location), location)
        for name, value in scope["headers"]:
            if b"\x00" in value:
                location = "header." + name.decode("latin-1")
                raise _nul_error(_where("请求头", location), location)
        if scope["method"] not in BODY_METHODS:
            return receive
        kind = self._kind(scope)
        limit = self.max_upload_bytes if kind.upload else self.max_body_bytes
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit, kind.upload)
        if kind.secured and self.authenticate is not None:
            scope.setdefault("state", {})["early_principal"] = await self.authenticate(scope)
        body = await _read(receive, limit, kind.upload)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if body:
            await _check_body(scope, content_type, body)
        return _replay(body)

    def _page(self, scope: Scope, exc: AppError) -> Response | None:
        if self.pages is None:
            return None
        prefix, answer = self.pages
        path: str = scope["path"]
        return answer(scope, exc) if path == prefix or path.startswith(prefix + "/") else None

    def _kind(self, scope: Scope) -> RouteKind:
        found = route_table(scope["app"]).find(scope["method"], scope["path"])
        return found[0].kind if found else RouteKind(secured=False, upload=False)

    def _path_location(self, scope: Scope) -> str:
        found = route_table(scope["app"]).find(scope["method"], scope["path"])
        if found:
            for name, value in found[1].items():
                if NUL in str(value):
                    return f"path.{name}"
        return "path"


@dataclass(frozen=True)
class Endpoint:
    path_regex: re.Pattern[str]
    methods: frozenset[str]
    kind: RouteKind


class RouteTable:
    """Every endpoint of the app, flat: which one a method and path reach, what it needs, and
    which methods a path allows. Built once per app, on its first request."""

    def __init__(self, app: Any) -> None:
        self.endpoints = [
            Endpoint(route.path_regex, frozenset(route.methods or ()), _route_kind(route))
            for route in _flatten(getattr(app, "router", app).routes)
        ]

    def find(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        for endpoint in self.endpoints:
            match = endpoint.path_regex.match(path)
            if match and method in endpoint.methods:
                return endpoint, match.groupdict()
        for endpoint in self.endpoints:  # the path exists, another method: name its params
            match = endpoint.path_regex.match(path)
            if match:
                return endpoint, match.groupdict()
        return None

    def allowed(self, path: str) -> list[str]:
        methods: set[str] = set()
        for endpoint in self.endpoints:
            if endpoint.path_regex.match(path):
                methods |= endpoint.methods
        return sorted(methods)


def route_table(app: Any) -> RouteTable:
    table = getattr(app.state, "route_table", None)
    if table is None:
        table = app.state.route_table = RouteTable(app)
    return table


def _flatten(routes: Any) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
            yield from route.effective_route_contexts()
        elif getattr(route, "methods", None) and hasattr(route, "path_regex"):
            yield route


def _route_kind(route: Any) -> RouteKind:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return RouteKind(secured=False, upload=False)
    from fastapi.security.base import SecurityBase

    secured, upload = False, False
    stack = [dependant]
    while stack:
        node = stack.pop()
        secured = secured or isinstance(node.call, SecurityBase)
        upload = upload or any(_is_file(p.field_info.annotation) for p in node.body_params)
        stack.extend(node.dependencies)
    return RouteKind(secured=secured, upload=upload)


def _is_file(annotation: Any) -> bool:
    from starlette.datastructures import UploadFile

    if isinstance(annotation, type) and issubclass(annotation, UploadFile):
        return True
    return any(_is_file(arg) for arg in getattr(annotation, "__args__", ()))


def _query_location(query: bytes) -> str:
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in key or NUL in value:
            return "query." + _visible(key)
    return "query"  # a NUL parse_qsl does not separate out (e.g. in a ";" separator)


async def _read(receive: Receive, limit: int, upload: bool) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, upload)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _check_body(scope: Scope, content_type: bytes, body: bytes) -> None:
    if content_type == b"application/json" or content_type.endswith(b"+json"):
        if b"\x00" in body:
            raise _nul_error("请求体中", "body")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBody("请求体不是 UTF-8 编码的 JSON（RFC 8259 要求 UTF-8）。") from exc
        if b"u0000" not in body:  # the only spelling of a NUL inside JSON text
            return
        try:
            value = json.loads(body)
        except ValueError:
            return  # not JSON: the route's own parsing says so
        location = nul_path(value, "body")
        if location:
            raise _nul_error(_where("请求体字段", location), location)
        return
    if content_type in (b"application/x-www-form-urlencoded", b"multipart/form-data"):
        request = Request(scope, _replay(body))
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - a malformed form: the route's own parsing says so
            return
        try:
            for name, value in form.multi_items():
                text = value if isinstance(value, str) else (value.filename or "")
                if NUL in name or NUL in text:
                    location = "body." + _visible(name)
                    raise _nul_error(_where("表单字段", location), location)
        finally:
            await form.close()


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _answer(scope: Scope, send: Send, exc: AppError) -> None:
    body = json.dumps(
        problem_body(scope["path"], exc.status, exc.code, exc.title, exc.detail, **exc.extra),
        ensure_ascii=False,
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if exc.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if exc.status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is not read
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""The edge: NUL characters refused with the field named, bodies bounded and never read for a
caller without a key, every method of a path in a 405's Allow, undecodable bodies a 400."""

import json
from typing import Any
from urllib.parse import quote

import anyio
from fastapi.testclient import TestClient

from service.core.edge import nul_path
from tests.factories import create_enterprise, enterprise_payload

NUL = "\x00"


def _nul(response, field: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "nul_character", problem
    assert problem["field"] == field, problem
    assert "U+0000" in problem["detail"]


# --- NUL characters --------------------------------------------------------------------------


def test_a_nul_in_a_path_parameter_is_refused_even_without_a_key(anonymous) -> None:
    _nul(anonymous.get("/api/v1/banks/a%00b"), "path.bank_code")
    _nul(anonymous.get("/api/v1/products/a%00b"), "path.product_code")
    _nul(anonymous.get("/api/v1/nothing/a%00b"), "path")  # no route: the path as a whole


def test_a_nul_in_a_query_string_names_the_parameter(client, anonymous) -> None:
    _nul(client.get("/api/v1/enterprises", params={"q": "无锡" + NUL}), "query.q")
    _nul(anonymous.get("/api/v1/reference/clusters/match?text=a%00"), "query.text")
    _nul(anonymous.get("/healthz?unknown=%00"), "query.unknown")  # even one nobody reads
    _nul(anonymous.get("/healthz?%00"), "query.\\u0000")


def test_a_nul_in_a_json_body_names_the_field_and_nothing_is_written(client) -> None:
    before = client.get("/api/v1/enterprises", params={"limit": 200}).json()["items"]
    payload = enterprise_payload(name="无锡" + NUL + "科技有限公司")
    _nul(client.post("/api/v1/enterprises", json=payload), "body.name")
    nested = enterprise_payload(contacts=[{"name": "张三", "phone": "1380000" + NUL}])
    _nul(client.post("/api/v1/enterprises", json=nested), "body.contacts.0.phone")
    keyed = {**enterprise_payload(), "x" + NUL: 1}
    _nul(client.post("/api/v1/enterprises", json=keyed), "body.x\\u0000")
    raw = client.post(
        "/api/v1/enterprises",
        content=b'{"name": "a\x00b"}',
        headers={"content-type": "application/json"},
    )
    _nul(raw, "body")
    after = client.get("/api/v1/enterprises", params={"limit": 200}).json()["items"]
    assert len(after) == len(before)


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client) -> None:
    created = create_enterprise(client, name="无锡反斜杠u0000科技有限公司")
    assert created["name"] == "无锡反斜杠u0000科技有限公司"
    note = client.patch(
        f"/api/v1/enterprises/{created['id']}",
        content=json.dumps({"name": "无锡\\u0000科技有限公司"}).encode(),
        headers={"content-type": "application/json", "If-Match": f'"{created["version"]}"'},
    )
    assert note.status_code != 422 or note.json()["code"] != "nul_character", note.text


def test_a_nul_in_a_form_field_or_a_file_name_is_refused(client) -> None:
    files = {"file": ("loans.csv", "借款人,本金\n", "text/csv")}
    _nul(
        client.post("/api/v1/loans/import", data={"bank": "jsbank" + NUL}, files=files),
        "body.bank",
    )
    # A client that sends the file name raw (httpx would percent-encode the NUL).
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="bank"\r\n\r\njsbank-wx\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="lo\x00ans.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\na,b\n\r\n--b--\r\n"
    )
    response = client.post(
        "/api/v1/loans/import",
        content=raw,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    _nul(response, "body.file")


def test_a_nul_inside_an_uploaded_csv_is_a_clear_422(client) -> None:
    content = "借款人统一社会信用代码,本金\n91320214MA1X0000\x00,100\n".encode()
    response = client.post(
        "/api/v1/loans/import",
        data={"bank": "jsbank-wx"},
        files={"file": ("loans.csv", content, "text/csv")},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "nul_character" and response.json()["line"] == 2
    listed = client.post(
        "/api/v1/lists/imports",
        files={"file": ("list.csv", "企业名称\n无锡\x00科技有限公司\n".encode(), "text/csv")},
        data={"qualification_type": "little_giant"},
    )
    assert listed.status_code == 422 and listed.json()["code"] == "nul_character", listed.text


def test_a_nul_in_a_header_is_refused(client) -> None:
    response = client.post(
        "/api/v1/enterprises", json=enterprise_payload(), headers={"Idempotency-Key": "a\x00b"}
    )
    _nul(response, "header.idempotency-key")


def test_a_nul_in_a_page_form_is_refused_with_a_page(app, office_key) -> None:
    with TestClient(app) as browser:
        page = browser.get("/web/sign-in")
        token = page.cookies.get("finmatch_signin_csrf") or ""
        response = browser.post(
            "/web/sign-in",
            data={"key": office_key + NUL, "sign_in": token},
            headers={"Origin": "http://testserver"},
        )
    # A person's browser gets the same refusal as a page, not problem+json.
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "表单字段 key 中含有空字符（U+0000）" in response.text
    assert "nosniff" in response.headers["x-content-type-options"]


def test_nul_path_finds_the_first_nul_anywhere_in_a_json_value() -> None:
    assert nul_path({"a": [{"b": "x"}, {"c": "y\x00"}]}, "body") == "body.a.1.c"
    assert nul_path({"a": 1, "b": None, "c": True}, "body") is None
    assert nul_path(["\x00"], "body") == "body.0"


# --- every route, every text parameter -------------------------------------------------------


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    return schema


def _is_text(schema: dict, components: dict) -> bool:
    schema = _resolve(schema, components)
    if schema.get("type") == "string" and schema.get("format") != "binary":
        return True
    return any(_is_text(s, components) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _body_text_paths(schema: dict, components: dict, at: tuple, depth: int = 0):
    """Every place in a request body that holds text, as a path of keys and indexes."""
    schema = _resolve(schema, components)
    if depth > 6:
        return
    if _is_text(schema, components):
        yield at
        return
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _body_text_paths(option, components, at, depth + 1)
    for name, prop in (schema.get("properties") or {}).items():
        yield from _body_text_paths(prop, components, (*at, name), depth + 1)
    if schema.get("type") == "array" and "items" in schema:
        yield from _body_text_paths(schema["items"], components, (*at, 0), depth + 1)


def _nest(at: tuple, value: Any) -> Any:
    for step in reversed(at):
        value = [value] if isinstance(step, int) else {step: value}
    return value


def _cases() -> list[tuple[str, str, str, Any, str]]:
    """(method, path, where, what, expected field) for every text input of every operation."""
    from service.main import create_app

    document = create_app().openapi()
    components = document["components"]["schemas"]
    cases = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            params = op.get("parameters", [])
            for param in params:
                if not _is_text(param.get("schema", {}), components):
                    continue
                where, name = param["in"], param["name"]
                expected = {"path": "path.", "query": "query.", "header": "header."}[where]
                field = expected + (name.lower() if where == "header" else name)
                cases.append((method, path, where, name, field))
            body = op.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                for at in _body_text_paths(content.get("schema", {}), components, ()):
                    field = "body." + ".".join(str(step) for step in at)
                    if media == "multipart/form-data":
                        field = f"body.{at[0]}"
                    cases.append((method, path, media, at, field))
    return cases


def test_the_walk_covers_paths_queries_headers_and_bodies() -> None:
    cases = _cases()  # built in the test: an app made at collection would wire events early
    kinds = {case[2] for case in cases}
    assert {"path", "query", "header", "application/json", "multipart/form-data"} <= kinds
    assert len(cases) > 200


def test_every_text_input_of_every_route_refuses_a_nul(client) -> None:
    # One client for the whole walk (a test per case would build the app hundreds of times).
    wrong = []
    for method, path, where, what, field in _cases():
        url, kwargs = _request(path, where, what)
        response = client.request(method.upper(), url, **kwargs)
        problem = response.json() if response.status_code == 422 else {}
        if problem.get("code") != "nul_character" or problem.get("field") != field:
            wrong.append(f"{method.upper()} {path} {field}: {response.status_code} {problem}")
    assert not wrong, "\n".join(wrong)


def _request(path: str, where: str, what: Any) -> tuple[str, dict[str, Any]]:
    url = path
    for segment in [s for s in path.split("/") if s.startswith("{")]:
        name = segment.strip("{}")
        filler = quote("a" + NUL + "b") if where == "path" and name == what else "1"
        url = url.replace(segment, filler)
    kwargs: dict[str, Any] = {}
    if where == "query":
        kwargs["params"] = {what: "a" + NUL + "b"}
    elif where == "header":
        kwargs["headers"] = {what: "a" + NUL + "b"}
    elif where == "application/json":
        kwargs["json"] = _nest(what, "a" + NUL + "b")
    elif where == "multipart/form-data":
        kwargs["data"] = {what[0]: "a" + NUL + "b"}
        kwargs["files"] = {"_": ("x.csv", b"a,b\n", "text/csv")}
    return url, kwargs


# --- bodies: bounded, and not read for a caller without a key ---------------------------------


def _asgi(app, method: str, path: str, headers: dict[str, str], chunks: list[bytes]):
    """Call the app directly; returns (status, body, how many body messages it read)."""
    reads = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal reads
        reads += 1
        if reads <= len(chunks):
            return {
                "type": "http.request",
                "body": chunks[reads - 1],
                "more_body": reads < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.1", 50000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body) if body else None, reads


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, office_key) -> None:
    headers = {
        "content-type": "application/json",
        "content-length": str(96 * 1024 * 1024),
        "authorization": f"Bearer {office_key}",
    }
    status, problem, reads = _asgi(app, "POST", "/api/v1/enterprises", headers, [b"{}"])
    assert (status, problem["code"], reads) == (413, "payload_too_large", 0)
    assert problem["limit_bytes"] == 1024 * 1024
    anonymous = {k: v for k, v in headers.items() if k != "authorization"}
    status, problem, reads = _asgi(app, "POST", "/api/v1/enterprises", anonymous, [b"{}"])
    assert (status, reads) == (413, 0)


def test_a_streamed_body_is_cut_off_at_the_limit(app, office_key) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {office_key}"}
    chunk = b" " * (600 * 1024)
    status, problem, reads = _asgi(app, "POST", "/api/v1/enterprises", headers, [chunk] * 5)
    assert (status, problem["code"]) == (413, "payload_too_large")
    assert reads == 2  # stopped as soon as it passed 1 MB, not after 3 MB


def test_a_caller_without_a_valid_key_is_refused_before_the_body_is_read(app) -> None:
    body = json.dumps({**enterprise_payload(), "padding": "x" * 500_000}).encode()
    for auth in ({}, {"authorization": "Bearer fmk_nothing_wrong-key"}):
        headers = {"content-type": "application/json", "content-length": str(len(body)), **auth}
        status, problem, reads = _asgi(app, "POST", "/api/v1/enterprises", headers, [body])
        assert status == 401 and reads == 0, problem
        assert problem["code"] in {"missing_api_key", "invalid_api_key", "unauthenticated"}


def test_uploads_have_their_own_larger_limit(client) -> None:
    big = b"\xef\xbb\xbf" + "借款人,本金\n".encode() + b"a,1\n" * 400_000  # ~1.6 MB
    response = client.post(
        "/api/v1/loans/import",
        data={"bank": "jsbank-wx"},
        files={"file": ("loans.csv", big, "text/csv")},
    )
    assert response.status_code != 413, response.text
    json_body = client.post(
        "/api/v1/enterprises",
        content=b" " * (1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert json_body.status_code == 413


def test_the_limits_are_settings(monkeypatch, session) -> None:
    from contextlib import nullcontext

    from service.core.database import get_session
    from service.core.settings import get_settings
    from service.main import create_app

    monkeypatch.setenv("FINMATCH_MAX_BODY_BYTES", "2048")
    get_settings.cache_clear()
    try:
        app = create_app()
    finally:
        monkeypatch.delenv("FINMATCH_MAX_BODY_BYTES")
        get_settings.cache_clear()
    app.dependency_overrides[get_session] = lambda: session
    app.state.open_session = lambda: nullcontext(session)
    with TestClient(app) as anonymous:
        response = anonymous.post("/api/v1/needs", content=b" " * 4096)
    assert response.status_code == 413
    assert "2 KB" in response.json()["detail"]


# --- methods, undecodable bodies, the contract -----------------------------------------------


def test_a_405_names_every_method_of_the_path(client) -> None:
    response = client.delete("/api/v1/enterprises")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
    assert response.json()["code"] == "method_not_allowed"
    imports = client.get("/api/v1/loans/import")
    assert imports.status_code == 405 and imports.headers["allow"] == "POST"


def test_an_id_that_is_not_a_number_is_no_such_address(client) -> None:
    response = client.get("/api/v1/loans/abc")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_body_that_is_not_utf8_is_a_documented_400(client) -> None:
    response = client.post(
        "/api/v1/enterprises",
        content='{"name": "无锡"}'.encode("gb18030"),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["code"] == "malformed_body"
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, op in item.items():
            if "requestBody" in op:
                assert {"400", "413", "422"} <= set(op["responses"]), f"{method} {path}"


def test_a_nul_that_reaches_postgresql_is_a_422_not_a_500() -> None:
    from sqlalchemy.exc import DataError

    from service.core.errors import _nul_character

    class Orig(Exception):
        pass

    error = DataError(
        "INSERT …", {}, Orig("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    )
    assert _nul_character(error)
    assert not _nul_character(DataError("x", {}, Orig("value out of range")))


def test_an_error_raised_with_another_status_is_titled_by_that_status() -> None:
    from fastapi import FastAPI

    from service.core.errors import Unprocessable, install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/big")
    def big() -> None:
        raise Unprocessable("文件超过 20 MB", code="file_too_large", status=413)

    response = TestClient(app).get("/big")
    assert response.status_code == 413
    assert response.json()["title"] == "Content Too Large"
    assert response.json()["code"] == "file_too_large"

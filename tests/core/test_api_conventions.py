"""What every route shares: problem+json errors, a complete OpenAPI document."""

import pytest
from fastapi.testclient import TestClient


def test_index_and_health(client) -> None:
    assert client.get("/").json()["api"] == "/api/v1"
    assert client.get("/healthz").json() == {"status": "ok"}


def test_unknown_route_and_method_are_problems(client) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    wrong = client.delete("/api/v1/enterprises")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"


def test_malformed_json_is_a_clear_422(client) -> None:
    response = client.post(
        "/api/v1/enterprises", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["errors"]
    assert body["type"].endswith("/validation_error") and body["status"] == 422


def test_unexpected_failure_is_a_500_problem_without_internals(session) -> None:
    from service.core.database import get_session
    from service.main import create_app

    app = create_app()

    def broken():
        raise RuntimeError("secret internals")
        yield session  # pragma: no cover

    app.dependency_overrides[get_session] = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/reference/clusters")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text


@pytest.fixture(scope="module")
def openapi() -> dict:
    from service.main import create_app

    return create_app().openapi()


def _operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_operation_is_documented(openapi: dict) -> None:
    ids = set()
    for path, method, op in _operations(openapi):
        where = f"{method.upper()} {path}"
        assert op.get("operationId"), where
        assert op["operationId"] not in ids, where
        ids.add(op["operationId"])
        assert op.get("summary") and op.get("description"), where
        assert op.get("tags"), where
        if path.startswith("/api/v1") and "requestBody" in op:
            content = op["requestBody"]["content"]
            if "application/json" in content:
                body = content["application/json"]
                assert body.get("examples") or body.get("example"), f"{where}: no request example"
            else:  # a file upload: its parts are described instead
                assert "multipart/form-data" in content, f"{where}: {list(content)}"
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), f"{where}: 401/403 not documented"
        if path.startswith("/api/v1"):
            errors = [s for s in op["responses"] if s.startswith("4")]
            for status in errors:
                content = op["responses"][status]["content"]
                assert "application/problem+json" in content, f"{where} {status}"


def test_list_operations_are_paged_and_capped(openapi: dict) -> None:
    small = {
        "/api/v1/reference/clusters",
        "/api/v1/reference/districts",
        "/api/v1/reference/qualification-types",
        "/api/v1/reference/size-standards",
        "/api/v1/reference/lpr",
        "/api/v1/reference/clusters/match",
        "/api/v1/products/{product_code}/versions",
        "/api/v1/departments",
        "/api/v1/request-categories",
    }
    files = {"/api/v1/requests/{request_id}/attachments/{attachment_id}"}  # a PDF or image
    for path, method, op in _operations(openapi):
        if method != "get" or path in small | files or not path.startswith("/api/v1"):
            continue
        content = op["responses"]["200"]["content"]
        if "application/json" not in content:  # a download: a spreadsheet, not a list
            assert {"text/csv"} <= set(content), path
            continue
        ref = content["application/json"]["schema"].get("$ref", "")
        if ref.split("/")[-1].startswith("Page_"):
            names = {p["name"] for p in op["parameters"]}
            assert {"limit", "cursor"} <= names, path


def test_problem_schema_is_published(openapi: dict) -> None:
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["properties"])


def test_the_key_scheme_is_published_and_public_reads_need_none(openapi: dict) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    paths = openapi["paths"]
    assert "security" not in paths["/api/v1/products"]["get"]
    assert "security" not in paths["/api/v1/reference/clusters"]["get"]
    assert paths["/api/v1/needs"]["post"]["security"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/enterprises",
        "/api/v1/enterprises?name=华光",
        "/api/v1/projects",
        "/api/v1/banks",
        "/api/v1/products",
        "/api/v1/products?updated-since=2020-01-01T00:00:00Z",
        "/api/v1/needs",
        "/api/v1/jobs",
        "/api/v1/audit",
        "/api/v1/leads",
        "/api/v1/events",
        "/api/v1/scoring-config/versions",
    ],
)
@pytest.mark.parametrize("key", [["abc"], ["x", "y"], [None], [1.5], [True], ["x", 1], [[1]]])
def test_a_forged_cursor_is_a_422_not_a_500(client, path: str, key: list) -> None:
    from service.core.pagination import encode_cursor

    if path.endswith("/banks") and key == ["abc"]:
        pytest.skip("bank codes are strings: that is a well-formed bank cursor")
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}cursor={encode_cursor(key)}")
    assert response.status_code == 422, (path, key, response.text)
    assert response.json()["code"] == "invalid_cursor"

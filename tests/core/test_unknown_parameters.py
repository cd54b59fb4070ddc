"""A query parameter an operation does not take is a 422 ``unknown_parameter`` naming it and
listing those the operation takes, on every operation under /api/v1, instead of being ignored
(a misspelt filter would otherwise answer as if applied). The pages are not concerned."""

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import AliasChoices, BaseModel, Field

from service.core.errors import install_error_handlers
from service.core.parameters import query_names, refuse_unknown_query

UNKNOWN = "zz_not_a_parameter"


def _operations() -> list[tuple[str, str, set[str]]]:
    """(method, path, the query parameters it documents) of every /api/v1 operation."""
    from service.main import create_app

    document = create_app().openapi()
    out = []
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, op in item.items():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            out.append((method, path, names))
    return out


def _url(path: str) -> str:
    for segment in [s for s in path.split("/") if s.startswith("{")]:
        path = path.replace(segment, "1")
    return path


def test_every_operation_refuses_an_unknown_query_parameter(client) -> None:
    # Built in the test, one client for the walk (an app made at collection would wire the
    # hooks early, and one per case would be built hundreds of times).
    operations = _operations()
    assert len(operations) > 80
    wrong = []
    for method, path, documented in operations:
        response = client.request(method.upper(), _url(path), params={UNKNOWN: "1"})
        problem = response.json() if response.status_code == 422 else {}
        expected = {
            "code": "unknown_parameter",
            "field": UNKNOWN,
            "unknown": [UNKNOWN],
            "parameters": sorted(documented),  # what the operation takes is what it documents
        }
        got = {key: problem.get(key) for key in expected}
        listed = all(name in problem.get("detail", "") for name in documented)
        if got != expected or not listed or UNKNOWN not in problem.get("detail", ""):
            wrong.append(f"{method.upper()} {path}: {response.status_code} {problem}")
    assert not wrong, "\n".join(wrong)


def test_the_known_parameters_are_still_taken(client, as_role) -> None:
    enterprises = client.get("/api/v1/enterprises", params={"limit": 2, "name": "无锡"})
    assert enterprises.status_code == 200, enterprises.text
    feed = client.get(
        "/api/v1/leads",
        params={"limit": 2, "status": "new", "updated-since": "2026-01-01T00:00:00Z"},
    )
    assert feed.status_code == 200, feed.text
    listed = client.get("/api/v1/reminders", params=[("limit", "5"), ("limit", "5")])
    assert listed.status_code == 200, listed.text  # a repeated known parameter is no unknown


def test_a_misspelt_filter_is_named_with_the_ones_the_operation_takes(client, anonymous) -> None:
    response = client.get("/api/v1/leads", params={"need": "7", "limit": "5", "sort": "id"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "unknown_parameter" and problem["field"] == "need"
    assert problem["unknown"] == ["need", "sort"]
    assert "need_id" in problem["parameters"] and "updated-since" in problem["parameters"]
    assert "need、sort" in problem["detail"] and "updated-since" in problem["detail"]
    # an operation without query parameters says so; a caller needs no key to hear it
    none = anonymous.get("/api/v1/reference/clusters", params={"lang": "en"})
    assert none.status_code == 422 and none.json()["parameters"] == []
    assert "不接受查询参数" in none.json()["detail"]


def test_the_pages_and_the_service_routes_are_not_concerned(anonymous) -> None:
    assert anonymous.get("/healthz", params={UNKNOWN: "1"}).status_code == 200
    page = anonymous.get("/web/sign-in", params={UNKNOWN: "1"})
    assert page.status_code == 200 and "unknown_parameter" not in page.text


# --- which names an operation takes ---------------------------------------------------------


class Filters(BaseModel):
    kind: str | None = None
    since_date: str | None = Field(default=None, alias="since")


def _paging(limit: int = 50, cursor: Annotated[str | None, Query(alias="after")] = None) -> int:
    return limit


def _paged_and_sorted(
    page: Annotated[int, Depends(_paging)],
    order: Annotated[str | None, Query(validation_alias=AliasChoices("order", "sort"))] = None,
) -> int:
    return page


def _app() -> tuple[FastAPI, APIRouter]:
    app = FastAPI()
    install_error_handlers(app)
    inner = APIRouter()

    @inner.get("/plain")
    def plain(status_filter: Annotated[str | None, Query(alias="status")] = None) -> dict:
        return {"status": status_filter}

    @inner.get("/nested")
    def nested(page: Annotated[int, Depends(_paged_and_sorted)], q: str = "") -> dict:
        return {"page": page}

    @inner.get("/model")
    def model(filters: Annotated[Filters, Query()]) -> dict:
        return filters.model_dump()

    @inner.get("/none/{item_id}")
    def none(item_id: int) -> dict:
        return {"id": item_id}

    outer = APIRouter(prefix="/api", dependencies=[Depends(refuse_unknown_query)])
    outer.include_router(inner)
    app.include_router(outer)
    return app, inner


@pytest.mark.parametrize(
    ("path", "taken"),
    [
        ("/plain", {"status"}),  # by alias, not by the Python name
        ("/nested", {"q", "limit", "after", "order", "sort"}),  # nested dependencies too
        ("/model", {"kind", "since"}),  # a parameter model's fields
        ("/none/{item_id}", set()),  # a path parameter is not a query parameter
    ],
)
def test_the_names_come_from_the_route_and_its_dependencies(path: str, taken: set) -> None:
    app, inner = _app()
    (route,) = [r for r in inner.routes if getattr(r, "path", None) == path]
    assert query_names(route.dependant) == taken  # type: ignore[attr-defined]
    with TestClient(app) as client:
        url = "/api" + path.replace("{item_id}", "1")
        for name in taken:
            assert client.get(url, params={name: "1"}).status_code == 200, (path, name)
        refused = client.get(url, params={"status_filter": "1"})
        assert refused.status_code == 422 and refused.json()["field"] == "status_filter"
        assert refused.json()["parameters"] == sorted(taken)

"""Money, dates and counts are taken only as what they say: JSON integers (not true, 1.0 or
"5"), YYYY-MM-DD dates (not numbers), RFC 3339 instants with their offset (not numbers, not
naive), and in query strings and paths ints in decimal digits. Each refusal is a 422 naming
the field; valid values still pass; the OpenAPI document keeps its types."""

import types
import typing
from datetime import UTC, date, datetime
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi import params
from fastapi.routing import APIRoute
from pydantic import BaseModel, Strict, TypeAdapter, ValidationError

from service.core.types import (
    BodyInt,
    Digits,
    IsoDate,
    Timestamp,
    decimal_digits,
    iso_date,
    rfc3339,
)
from tests.factories import bank_payload, create_enterprise, enterprise_payload, need_payload

API = "/api/v1"


# --- the types themselves -------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["false", "true", "1.0", "5.5", '"5"', "1e3", "null"])
def test_a_body_int_is_a_json_integer_only(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(BodyInt).validate_json(raw)
    assert caught.value.errors()[0]["type"] == "int_type"


def test_a_body_int_takes_integers() -> None:
    assert TypeAdapter(BodyInt).validate_json("-5") == -5
    assert TypeAdapter(BodyInt).validate_json("500000000") == 500_000_000
    assert TypeAdapter(BodyInt).validate_python(7) == 7  # from Python code (pages, seed)


QUERY_INT = TypeAdapter(Annotated[int, Digits])


@pytest.mark.parametrize("raw", ["1.0", "0.5", "+5", " 5", "5 ", "5_000", "1e3", "0x10", "", "五"])
def test_a_query_int_is_decimal_digits_only(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        QUERY_INT.validate_python(raw)
    assert caught.value.errors()[0]["type"] == "decimal_integer"


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("42", 42), ("-3", -3), ("007", 7)])
def test_a_query_int_takes_digits(raw: str, value: int) -> None:
    assert QUERY_INT.validate_python(raw) == value


@pytest.mark.parametrize(
    "raw",
    [0, 1700000000, 0.5, True, "0", "1700000000", "20260131", "2026-1-31", "2026-01-31T00:00:00"],
)
def test_a_date_is_yyyy_mm_dd_only(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(IsoDate).validate_python(raw)
    assert caught.value.errors()[0]["type"] == "iso_date"
    with pytest.raises(ValidationError):  # the same from JSON
        TypeAdapter(IsoDate).validate_json(f'"{raw}"' if isinstance(raw, str) else str(raw).lower())
    assert iso_date(date(2026, 1, 31)) == date(2026, 1, 31)


def test_a_date_takes_iso_dates_and_still_checks_the_calendar() -> None:
    assert TypeAdapter(IsoDate).validate_json('"2026-01-31"') == date(2026, 1, 31)
    assert TypeAdapter(IsoDate).validate_python(date(2026, 1, 31)) == date(2026, 1, 31)
    with pytest.raises(ValidationError):
        TypeAdapter(IsoDate).validate_python("2026-02-30")
    with pytest.raises(ValidationError):  # a datetime is not a date
        TypeAdapter(IsoDate).validate_python(datetime(2026, 1, 31, tzinfo=UTC))


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("0", "rfc3339_timestamp"),
        ("0.5", "rfc3339_timestamp"),
        ("1700000000", "rfc3339_timestamp"),
        ("2026-01-31", "rfc3339_timestamp"),
        ("2026-01-31T08:00Z", "rfc3339_timestamp"),  # RFC 3339 has seconds
        ("2026-01-31T08:00:00 08:00", "rfc3339_timestamp"),  # a + not written as %2B
        ("2026-01-31T08:00:00", "naive_timestamp"),
        ("2026-01-31 08:00", "naive_timestamp"),
    ],
)
def test_a_timestamp_is_rfc3339_with_its_offset(raw: str, kind: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Timestamp).validate_python(raw)
    assert caught.value.errors()[0]["type"] == kind


def test_a_timestamp_takes_instants_with_an_offset() -> None:
    adapter = TypeAdapter(Timestamp)
    utc = datetime(2026, 1, 31, 0, 0, tzinfo=UTC)
    assert adapter.validate_python("2026-01-31T00:00:00Z") == utc
    assert adapter.validate_python("2026-01-31T08:00:00+08:00") == utc
    assert adapter.validate_python("2026-01-31 08:00:00.5+08:00").microsecond == 500_000
    assert adapter.validate_json('"2026-01-31T00:00:00z"') == utc
    assert rfc3339(utc) is utc
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(datetime(2026, 1, 31))  # naive, from Python code
    assert caught.value.errors()[0]["type"] == "naive_timestamp"
    for raw in (0.5, 0, 1700000000):
        with pytest.raises(ValidationError):
            adapter.validate_json(str(raw))


def test_the_validators_pass_what_is_not_theirs_to_judge() -> None:
    assert decimal_digits(5) == 5  # an int from Python code is left to the int validator


# --- through the API ------------------------------------------------------------------------


@pytest.fixture
def ids(client) -> dict[str, Any]:
    bank = client.post(f"{API}/banks", json=bank_payload()).json()["code"]
    firm = create_enterprise(client)
    need = client.post(f"{API}/needs", json=need_payload(firm["id"]))
    assert need.status_code == 201, need.text
    return {"bank": bank, "firm": firm["id"], "need": need.json()["id"]}


def _loan(ids: dict, **overrides: Any) -> dict:
    return {
        "contract_no": "HT-STRICT-1",
        "bank_code": ids["bank"],
        "enterprise_id": ids["firm"],
        "principal_fen": 500_000_000,
        "rate_bp": 345,
        "disbursed_date": "2026-01-15",
        "maturity_date": "2027-01-14",
        **overrides,
    }


def _product(ids: dict, **overrides: Any) -> dict:
    from tests.factories import product_payload

    return product_payload(ids["bank"], **overrides)


# (request, the field the 422 names). A request is (method, path, json or params).
BAD_BODIES = [
    ("post", "/needs", lambda i: need_payload(i["firm"], amount_fen=False), "body.amount_fen"),
    ("post", "/needs", lambda i: need_payload(i["firm"], amount_fen=1.0), "body.amount_fen"),
    ("post", "/needs", lambda i: need_payload(i["firm"], amount_fen="5"), "body.amount_fen"),
    ("post", "/needs", lambda i: need_payload(i["firm"], term_months=12.0), "body.term_months"),
    ("post", "/needs", lambda i: need_payload(i["firm"], max_banks=True), "body.max_banks"),
    (
        "post",
        "/needs",
        lambda i: {**need_payload(i["firm"]), "enterprise_id": str(i["firm"])},
        "body.enterprise_id",
    ),
    ("post", "/needs", lambda i: need_payload(i["firm"], wanted_by_date=0), "body.wanted_by_date"),
    (
        "post",
        "/needs",
        lambda i: need_payload(i["firm"], wanted_by_date="2027-01-31T00:00:00"),
        "body.wanted_by_date",
    ),
    ("patch", "/needs/{need}", lambda i: {"amount_fen": "300000000"}, "body.amount_fen"),
    ("post", "/loans", lambda i: _loan(i, principal_fen=False), "body.principal_fen"),
    ("post", "/loans", lambda i: _loan(i, rate_bp=3.45), "body.rate_bp"),
    ("post", "/loans", lambda i: _loan(i, disbursed_date=0), "body.disbursed_date"),
    ("post", "/loans", lambda i: _loan(i, maturity_date=1700000000), "body.maturity_date"),
    ("post", "/enterprises", lambda i: enterprise_payload(employees="260"), "body.employees"),
    ("post", "/enterprises", lambda i: enterprise_payload(revenue_fen=1.0), "body.revenue_fen"),
    (
        "post",
        "/enterprises",
        lambda i: enterprise_payload(established_date=20090618),
        "body.established_date",
    ),
    ("post", "/products", lambda i: _product(i, amount_max_fen=True), "body.amount_max_fen"),
    (
        "post",
        "/products",
        lambda i: _product(i, rate={"base": "LPR1Y", "spread_bp": 45.0}),
        "body.rate.spread_bp",
    ),
    ("post", "/products", lambda i: _product(i, effective_from=0), "body.effective_from"),
    (
        "post",
        "/keys",
        lambda i: {"role": "enterprise", "name": "企业", "enterprise_id": True},
        "body.enterprise_id",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    BAD_BODIES,
    ids=[f"{m} {p} {f}-{n}" for n, (m, p, _, f) in enumerate(BAD_BODIES)],
)
def test_a_loose_value_in_a_body_is_a_422_naming_the_field(
    client, ids, method: str, path: str, body: Any, field: str
) -> None:
    response = client.request(method.upper(), API + path.format(**ids), json=body(ids))
    _assert_names(response, field)


BAD_QUERIES = [
    ("get", "/products", {"updated-since": "0.5"}, "query.updated-since"),
    ("get", "/products", {"updated-since": "0"}, "query.updated-since"),
    ("get", "/products", {"updated-since": "1700000000"}, "query.updated-since"),
    ("get", "/products", {"updated-since": "2026-01-01T00:00:00"}, "query.updated-since"),
    ("get", "/leads", {"updated-since": "0.5"}, "query.updated-since"),
    ("get", "/leads", {"updated-since": "1700000000"}, "query.updated-since"),
    ("get", "/audit", {"since": "0"}, "query.since"),
    ("post", "/reminders/run", {"as_of": "0"}, "query.as_of"),
    ("post", "/reminders/run", {"as_of": "1700000000"}, "query.as_of"),
    ("get", "/loans", {"maturing_from": "0"}, "query.maturing_from"),
    ("get", "/reminders", {"since": "20261201"}, "query.since"),
    ("get", "/enterprises", {"valid_on": "0"}, "query.valid_on"),
    ("get", "/metrics/funnel", {"group_by": "bank", "from": "0"}, "query.from"),
    ("get", "/projects", {"year": "2026.0"}, "query.year"),
    ("get", "/projects", {"min_financing_need_fen": "1e3"}, "query.min_financing_need_fen"),
    ("get", "/needs", {"limit": "1.0"}, "query.limit"),
    ("get", "/needs", {"enterprise_id": "+1"}, "query.enterprise_id"),
    ("get", "/events", {"after": "0.5"}, "query.after"),
    ("get", "/loans/1/bridge-quote", {"amount_fen": "1.0", "days": "5"}, "query.amount_fen"),
    (
        "get",
        "/reference/size-classification",
        {"industry_code": "C3973", "employees": "1.5"},
        "query.employees",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "params", "field"),
    BAD_QUERIES,
    ids=[f"{m} {p} {f}-{n}" for n, (m, p, _, f) in enumerate(BAD_QUERIES)],
)
def test_a_loose_value_in_a_query_is_a_422_naming_the_field(
    client, method: str, path: str, params: dict, field: str
) -> None:
    _assert_names(client.request(method.upper(), API + path, params=params), field)


def _assert_names(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert field in [e["loc"] for e in problem["errors"]], problem
    assert field in problem["detail"]


GOOD_QUERIES = [
    ("get", "/products", {"updated-since": "2026-01-01T00:00:00Z"}),
    ("get", "/products", {"updated-since": "2026-01-01T08:00:00+08:00"}),
    ("get", "/leads", {"updated-since": "2026-01-01T00:00:00.123456+00:00"}),
    ("get", "/audit", {"since": "2026-01-01 08:00:00+08:00"}),
    ("post", "/reminders/run", {"as_of": "2026-12-01"}),
    ("get", "/loans", {"maturing_from": "2026-12-01", "limit": "10"}),
    ("get", "/enterprises", {"valid_on": "2026-12-01"}),
    ("get", "/metrics/funnel", {"group_by": "bank", "from": "2026-11-01", "to": "2026-11-30"}),
    ("get", "/projects", {"year": "2026", "min_financing_need_fen": "0"}),
    ("get", "/events", {"after": "0"}),
    ("get", "/reference/size-classification", {"industry_code": "C3973", "employees": "120"}),
]


@pytest.mark.parametrize(("method", "path", "params"), GOOD_QUERIES)
def test_valid_queries_still_pass(client, method: str, path: str, params: dict) -> None:
    response = client.request(method.upper(), API + path, params=params)
    assert response.status_code == 200, response.text


def test_valid_bodies_still_pass(client, ids) -> None:
    loan = client.post(f"{API}/loans", json=_loan(ids))
    assert loan.status_code == 201, loan.text
    assert loan.json()["principal_fen"] == 500_000_000
    assert loan.json()["disbursed_date"] == "2026-01-15"
    changed = client.patch(f"{API}/needs/{ids['need']}", json={"wanted_by_date": "2027-03-31"})
    assert changed.status_code == 200 and changed.json()["wanted_by_date"] == "2027-03-31"
    product = client.post(f"{API}/products", json=_product(ids, effective_from="2026-02-01"))
    assert product.status_code == 201, product.text
    assert product.json()["rate"]["spread_bp"] == 45


# --- every input uses the types ----------------------------------------------------------------


def _routes(routes: list) -> typing.Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router
            yield from _routes(route.original_router.routes)


def _leaves(annotation: Any, metadata: tuple = ()) -> typing.Iterator[tuple[Any, tuple]]:
    """Each type an annotation admits, with the metadata that applies to it."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *more = get_args(annotation)
        yield from _leaves(base, metadata + tuple(more))
    elif origin in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                yield from _leaves(arg, metadata)
    elif origin in (list, dict, set, tuple):
        if get_args(annotation):
            yield from _leaves(get_args(annotation)[-1])
    else:
        yield annotation, metadata


def _validators(metadata: tuple) -> set[Any]:
    return {getattr(m, "func", None) for m in metadata}


def _loose(kind: Any, metadata: tuple, where: str) -> bool:
    if kind is datetime:
        return rfc3339 not in _validators(metadata)
    if kind is date:
        return iso_date not in _validators(metadata)
    if kind is int and where == "body":
        return not any(isinstance(m, Strict) and m.strict for m in metadata)
    if kind is int:
        return decimal_digits not in _validators(metadata)
    return False


def _body_fields(model: type[BaseModel], seen: set) -> typing.Iterator[tuple[str, Any, tuple]]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        for kind, metadata in _leaves(info.annotation, tuple(info.metadata)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _body_fields(kind, seen)
            else:
                yield f"{model.__name__}.{name}", kind, metadata


def _dependants(dependant: Any) -> typing.Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def test_every_money_date_and_count_input_is_strict() -> None:
    from service.main import create_app

    loose, seen = [], set()
    for route in _routes(create_app().routes):
        if not route.path.startswith(API):
            continue
        for dependant in _dependants(route.dependant):
            for param in dependant.query_params + dependant.path_params:
                for kind, metadata in _leaves(
                    param.field_info.annotation, tuple(param.field_info.metadata)
                ):
                    if _loose(kind, metadata, "query"):
                        loose.append(f"{route.path} {param.name}")
            for param in dependant.body_params:
                info = param.field_info
                # a multipart form's fields arrive as text, like a query's
                where = "form" if isinstance(info, params.Form) else "body"
                for kind, metadata in _leaves(info.annotation, tuple(info.metadata)):
                    if isinstance(kind, type) and issubclass(kind, BaseModel):
                        for name, leaf, more in _body_fields(kind, seen):
                            if _loose(leaf, more, "body"):
                                loose.append(f"{route.path} {name}")
                    elif _loose(kind, metadata, where):
                        loose.append(f"{route.path} {param.name}")
    assert not loose, loose


def test_the_openapi_document_keeps_json_schema_bounds() -> None:
    """A bound placed after a validator is published as `ge` instead of `minimum`: every
    bound of the document is a JSON Schema keyword."""
    from service.main import create_app

    wrong: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("ge", "le", "gt", "lt") and not isinstance(value, dict):
                    wrong.append(f"{where}.{key}")
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}[{n}]")

    openapi = create_app().openapi()
    walk(openapi, "")
    assert not wrong, wrong
    limit = next(
        p for p in openapi["paths"]["/api/v1/needs"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"]["anyOf"][0] == {"type": "integer", "minimum": 1}
    since = next(
        p
        for p in openapi["paths"]["/api/v1/products"]["get"]["parameters"]
        if p["name"] == "updated-since"
    )
    assert since["schema"]["anyOf"][0] == {"type": "string", "format": "date-time"}

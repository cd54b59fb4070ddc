"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlmodel import Session

from service import __version__
from service.access.dependencies import authenticate_early
from service.access.router import router as access_router
from service.access.user_router import router as user_router
from service.access.wiring import connect as connect_access
from service.appeals.router import router as appeals_router
from service.appeals.wiring import connect as connect_appeals
from service.core.database import AsyncPool, get_engine, get_session, is_sqlite
from service.core.edge import EdgeGuard
from service.core.errors import PROBLEM_MEDIA_TYPE, Problem, install_error_handlers
from service.core.parameters import refuse_unknown_query
from service.core.settings import get_settings
from service.enterprises.router import router as enterprises_router
from service.enterprises.wiring import connect as connect_enterprises
from service.jobs.router import router as jobs_router
from service.jobs.runner import RunQueuedJobs
from service.leads.feed_lane import FeedLane
from service.leads.router import router as leads_router
from service.leads.wiring import connect as connect_leads
from service.lists.router import router as lists_router
from service.lists.wiring import connect as connect_lists
from service.loans.router import router as loans_router
from service.loans.wiring import connect as connect_loans
from service.matching.router import router as matching_router
from service.matching.wiring import connect as connect_matching
from service.metrics.router import router as metrics_router
from service.policies.router import router as policies_router
from service.policies.wiring import connect as connect_policies
from service.products.router import router as products_router
from service.products.wiring import connect as connect_products
from service.taxonomy.router import router as taxonomy_router
from service.taxonomy.wiring import connect as connect_taxonomy
from service.web.pages import HERE as WEB_HERE
from service.web.pages import PREFIX as WEB_PREFIX
from service.web.pages import edge_page
from service.web.router import router as web_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
FinMatch 银企融资对接服务 keeps Wuxi's key-sector enterprise and project libraries (企业库、项目库)
and the banks' product catalogue (锡科贷、锡信贷、专精特新贷、苏科贷、转贷应急资金 and banks' own
products).

* Money is in integer fen (分); rates are in basis points; dates are business dates in
  Asia/Shanghai; timestamps are UTC.
* Lists are cursor-paginated: pass `next_cursor` back as `cursor`; `limit` is capped.
* Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""

TAGS = [
    {
        "name": "enterprises",
        "description": "Enterprise library (企业库) and project library (项目库)",
    },
    {"name": "catalogue", "description": "Banks and their versioned products; public to read"},
    {
        "name": "reference",
        "description": "Clusters, districts, qualification types, size table, LPR",
    },
    {"name": "leads", "description": "Leads for banks: feed, events, outcomes, applications"},
    {
        "name": "loans",
        "description": "Loans and renewals: maturities, reminders a month ahead, renewal "
        "cases, the 转贷应急资金 bridge fund",
    },
    {
        "name": "lists",
        "description": "Government lists (import, name linking, review) and library releases",
    },
    {
        "name": "requests",
        "description": "Requests (诉求) enterprises raise about their financing, handled in a "
        "closed loop (triage, dispatch with a due date, answer, close, confirm and rate), and "
        "satisfaction ratings of banks' service",
    },
    {"name": "jobs", "description": "Background work queued by changes"},
    {
        "name": "metrics",
        "description": "Office metrics: funnel, response times, amounts, decline reasons "
        "(JSON or CSV)",
    },
    {"name": "access", "description": "API keys and the audit log (the office's)"},
    {"name": "service", "description": "Service status"},
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The thread pool that runs the synchronous part of requests (anyio's, 40 by default).
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().request_threads
    yield
    if app.state.async_pool is not None:
        await app.state.async_pool.close()


def create_app() -> FastAPI:
    app = FastAPI(
        lifespan=lifespan,
        title="FinMatch 银企融资对接服务",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
    )
    install_error_handlers(app)
    wire()
    # How the app opens a session outside FastAPI's dependencies (queued jobs after a response,
    # the lead feed's single worker-thread call); tests replace it with their own session.
    app.state.open_session = lambda: Session(get_engine(), expire_on_commit=False)
    # The lead feed's connections on PostgreSQL (None: it runs on open_session instead).
    url = get_settings().database_url
    app.state.async_pool = None if is_sqlite(url) else AsyncPool(url)
    # A bank's plain feed request in one statement, inside the edge's checks (added first: the
    # innermost of the middleware).
    app.add_middleware(FeedLane)
    app.add_middleware(RunQueuedJobs, session_scope=lambda scope: scope["app"].state.open_session)
    settings = get_settings()
    app.add_middleware(
        EdgeGuard,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        authenticate=authenticate_early,
        pages=(WEB_PREFIX, edge_page),
    )
    # Every operation refuses a query parameter it does not take (the pages take their own).
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(refuse_unknown_query)])
    api.include_router(taxonomy_router)
    api.include_router(enterprises_router)
    api.include_router(products_router)
    api.include_router(matching_router)
    api.include_router(leads_router)
    api.include_router(loans_router)
    api.include_router(appeals_router)
    api.include_router(policies_router)
    api.include_router(lists_router)
    api.include_router(jobs_router)
    api.include_router(metrics_router)
    api.include_router(access_router)
    api.include_router(user_router)
    app.include_router(api)
    # The stylesheet before the pages, whose last route answers any other /web address.
    app.mount("/web/static", StaticFiles(directory=WEB_HERE / "static"), name="web-static")
    app.include_router(web_router)

    @app.get(
        "/",
        operation_id="serviceIndex",
        tags=["service"],
        summary="Service index",
        description="Name, version and where to start; a browser (Accept: text/html) is sent "
        "to the pages at /web/.",
    )
    def index(request: Request) -> Any:
        if "text/html" in request.headers.get("accept", ""):  # a person's browser: the pages
            return RedirectResponse("/web/", status_code=303)
        return {
            "name": "FinMatch 银企融资对接服务",
            "version": __version__,
            "api": API_PREFIX,
            "docs": "/docs",
            "openapi": "/openapi.json",
        }

    @app.get(
        "/healthz",
        operation_id="health",
        tags=["service"],
        summary="Health check",
        description="200 when the database answers.",
    )
    def health(session: Annotated[Session, Depends(get_session)]) -> dict[str, str]:
        session.execute(text("SELECT 1"))
        return {"status": "ok"}

    _register_problem_schema(app)
    return app


def wire() -> None:
    """Connect the domains' event handlers and job handlers (the API and the worker alike)."""
    connect_taxonomy()
    connect_enterprises()
    connect_products()
    connect_matching()
    connect_lists()
    connect_leads()
    connect_loans()
    connect_appeals()
    connect_policies()
    connect_access()


def _register_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema()
        problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        # FastAPI documents its own validation error body; ours is problem+json.
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if operation.get("security"):  # a key is needed: say what a bad one gets
                    responses.setdefault("401", {"description": "Missing, invalid or revoked key"})
                    responses.setdefault("403", {"description": "The key's role may not do this"})
                if "requestBody" in operation:  # what the edge answers about bodies
                    responses.setdefault("400", {"description": "The body cannot be decoded"})
                    responses.setdefault("413", {"description": "The body is over the limit"})
                # A NUL character anywhere in a request (even an unknown query parameter).
                responses.setdefault("422", {"description": "Invalid request"})
                for status, response in operation.get("responses", {}).items():
                    if status.startswith(("4", "5")):
                        response["content"] = problem
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

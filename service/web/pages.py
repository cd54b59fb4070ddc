"""What every page shares: the templates and their filters (万元, percent, local time), the
route class that turns a missing session into the sign-in page and an expected failure into
an error page with the security headers, ``render``, the error and edge pages, and small
helpers (place and qualification names, an enterprise's needs, redirects, a listing's first
page, a form typed back)."""

from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.types import Scope

from service.access.policy import Principal
from service.core.database import get_session
from service.core.errors import AppError
from service.core.models import today_local
from service.core.pagination import PageParams
from service.core.settings import get_settings
from service.core.types import Digits
from service.matching import service as matching
from service.products import service as products
from service.taxonomy import service as taxonomy
from service.web.labels import label
from service.web.security import PREFIX, CsrfRejected, SignInRequired, Visitor
from service.web.tables import display

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    # Everything the pages use is served here; nothing runs but the browser's own forms.
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # holders' data: never kept by a shared cache
}

templates = Jinja2Templates(directory=HERE / "templates")


def _wan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 1_000_000:,.2f} 万元"


def _rate(bp: float | int | None) -> str:
    return "—" if bp is None else f"{bp / 100:.2f}%"


def _local(at: datetime | None) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


templates.env.filters.update(wan=_wan, rate=_rate, local=_local)
templates.env.globals.update(label=label, display=display, PREFIX=PREFIX)


class PageRoute(APIRoute):
    """A page answers a person: a missing session sends them to sign in, an expected failure
    is a page that says what happened (not problem+json), and every answer carries the
    security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"{PREFIX}/sign-in?next={quote(target)}", 303)
            except CsrfRejected:
                response = error_page(
                    request, 403, "表单已失效或来自其他网站，请返回页面刷新后重新提交。"
                )
            except AppError as exc:
                response = error_page(request, exc.status, exc.detail)
            except RequestValidationError:
                response = error_page(request, 422, "地址中的参数无效，请从页面上的链接进入。")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route


SessionDep = Annotated[Session, Depends(get_session)]
# Ids in addresses, within the database's integer range (a larger one is a 422 page).
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647), Digits]


def render(
    request: Request, template: str, who: Visitor | None, status: int = 200, /, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {"who": who, "csrf": who.csrf_token if who else None, "today": today_local(), **context},
        status_code=status,
    )


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {401: "请先登录", 403: "无权访问", 404: "未找到", 409: "操作冲突", 412: "内容已变化"}
    who = getattr(request.state, "visitor", None)  # signed in: keep the menu
    if who is not None:  # without its counts: the failure may have left the session unusable
        who = replace(who, escalated=None)
    return render(
        request, "error.html", who, status, title=titles.get(status, "无法完成"), message=message
    )


def edge_page(scope: Scope, exc: AppError) -> Response:
    """A request the edge refused before any route (a body over its limit, a NUL character),
    answered as a page like any other failure, before the session is read: without the menu."""
    response = error_page(Request(scope), exc.status, exc.detail)
    response.headers.update(SECURITY_HEADERS)
    return response


def place_names(session: Session) -> dict[str, dict[str, str]]:
    """Cluster, district and ownership names by code, for pages that show a profile."""
    return {
        "cluster": {c.code: c.name for c in taxonomy.list_clusters(session)},
        "district": {d.code: d.name for d in taxonomy.list_districts(session)},
        "ownership": {o.code: o.name for o in taxonomy.list_ownership_types(session)},
    }


def bank_names(session: Session) -> dict[str, str]:
    """Banks' names by code: pages name banks, never by their codes."""
    return {b.code: b.name for b in first_page(lambda p: products.list_banks(session, p))}


def qualification_names(session: Session) -> dict[str, str]:
    """Qualification type names by code, for the library and list pages."""
    return {q.code: q.name for q in taxonomy.list_qualification_types(session)}


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_router() -> APIRouter:
    """A router of pages: under PREFIX, answered by PageRoute (sign-in redirects, error pages,
    security headers), left out of the API's schema."""
    return APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def first_page(fetch: Callable[[PageParams], Any], limit: int = 200) -> list[Any]:
    """The first page of a listing (its first ``limit`` items): what a page shows."""
    return list(fetch(PageParams(limit=limit, cursor=None)).items)


def needs_of(session: Session, enterprise_id: int, principal: Principal) -> list[Any]:
    """An enterprise's financing needs, as its pages and the office's show them."""
    return first_page(
        lambda p: matching.list_needs(session, p, enterprise_id=enterprise_id, principal=principal)
    )


def echo_form(fields: dict[str, Any]) -> dict[str, Any]:
    """What was typed, to show again beside the messages."""
    echo = dict(fields)
    for many in ("collateral", "bank_codes"):
        value = echo.get(many, [])
        echo[many] = [value] if isinstance(value, str) else list(value)
    echo["consent_share_details"] = fields.get("consent_share_details") == "on"
    return echo

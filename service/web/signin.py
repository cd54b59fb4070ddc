"""Signing in and out: a person with their login and password (the page's first form), or
with an API key (the demo's way in, the second form); and the home address that sends each
holder to their role's pages. A wrong login or password is a 401 page with one message for
both, a locked account a 429 that says until when, a disabled one a 403. Where a sign-in may lead afterwards (``_safe_next``: only a page of ours) is
decided here."""

from datetime import datetime
from math import ceil
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse

from service.access import service as access
from service.access import users
from service.access.models import Role
from service.core.errors import AppError
from service.core.models import utcnow
from service.web.forms import FormReader
from service.web.pages import PREFIX, SessionDep, page_router, render, see_other
from service.web.security import (
    SESSION_COOKIE,
    Form,
    MaybeSigned,
    new_sign_in_token,
    posted_sign_in_form,
    set_sign_in_token,
    start_session,
)

router = page_router()


HOME = {Role.enterprise: "/enterprise", Role.bank: "/bank", Role.office: "/office"}


def _safe_next(target: str | None, role: Role) -> str:
    """Only a page of ours, and never the sign-in page itself."""
    home = PREFIX + HOME[role]
    if not target:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX + "/"):
        return home
    if parts.path.startswith(PREFIX + "/sign-"):
        return home
    return target


@router.get("")
@router.get("/")
def home(who: MaybeSigned) -> Response:
    if who is None:
        return see_other(f"{PREFIX}/sign-in")
    return see_other(PREFIX + HOME[who.role])


def _sign_in_page(
    request: Request,
    next_url: str | None,
    errors: dict[str, str],
    status: int = 200,
    login: str | None = None,
) -> HTMLResponse:
    token = new_sign_in_token()
    response = render(
        request,
        "sign_in.html",
        None,
        status,
        errors=errors,
        next_url=next_url,
        sign_in=token,
        login=login,
    )
    set_sign_in_token(request, response, token)
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request, who: MaybeSigned, next_url: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    if who is not None:
        return see_other(_safe_next(next_url, who.role))
    return _sign_in_page(request, next_url, {})


@router.post("/sign-in")
async def sign_in(request: Request, session: SessionDep) -> Response:
    fields = await posted_sign_in_form(request)
    form = FormReader(fields)
    next_url = form.text("next", 500)
    if "key" not in fields:
        login = form.text("login", 200, required=True)
        password = fields.get("password")
        if not isinstance(password, str) or not password or len(password) > 200:
            form.fail("password", "请填写密码。")
        if login is None or form.errors or not isinstance(password, str):
            return _sign_in_page(request, next_url, form.errors, 422, login=login)
        try:
            signed = users.sign_in(session, login, password)
        except AppError as exc:
            page = _sign_in_page(request, next_url, {"login": exc.detail}, exc.status, login=login)
            if "locked_until" in exc.extra:  # a locked account: when to try again
                until = datetime.fromisoformat(exc.extra["locked_until"])
                page.headers["Retry-After"] = str(max(1, ceil((until - utcnow()).total_seconds())))
            return page
        return _signed_in(request, signed, next_url)
    key = form.text("key", 200, required=True)
    if key is None:
        return _sign_in_page(request, next_url, form.errors, 422)
    try:
        key_signed = access.open_web_session(session, key)
    except AppError as exc:
        return _sign_in_page(request, next_url, {"key": exc.detail}, 401)
    return _signed_in(request, key_signed, next_url)


def _signed_in(request: Request, signed: access.WebSignIn, next_url: str | None) -> Response:
    """The session's cookie, and on to the page asked for (or the role's home)."""
    response = see_other(_safe_next(next_url, signed.principal.role))
    start_session(request, response, signed.token)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, _: Form) -> Response:
    access.close_web_session(session, request.cookies.get(SESSION_COOKIE))
    response = see_other(f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response

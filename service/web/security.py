"""Who is at the browser, and that a form came from our page.

Signing in (a person with a login and a password, or the demo's API key) opens a server-side
session (``access.service``): the cookie holds a random token (HttpOnly, SameSite=Lax, Secure
over HTTPS) and every page acts as that person or the key's holder, through the same use cases
and rules as the API. The header shows the person's name, role and bank by name, and the
office's menu how many escalated requests are still overdue. Forms carry the session's CSRF
secret; the sign-in form, before there is a session, a double-submit token from a cookie of
its own. A cross-site Origin is refused outright."""

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from sqlmodel import Session

from service.access import service as access
from service.access.audit import act_as
from service.access.models import BankRole, Role
from service.access.policy import ROLE_LABEL, Principal, require
from service.appeals.escalation import escalated_open
from service.core.database import get_session
from service.core.errors import AppError
from service.products.service import get_bank

PREFIX = "/web"  # where the pages live, and the path of their cookies
SESSION_COOKIE = "finmatch_session"
SIGN_IN_CSRF_COOKIE = "finmatch_signin_csrf"
MAX_FORM_FIELDS = 200


class SignInRequired(Exception):
    """No valid session: the page sends the browser to sign in."""


class CsrfRejected(Exception):
    """The form's token does not match its session, or it came from another site."""


BANK_ROLE_WORDS = {BankRole.admin: "银行管理员", BankRole.manager: "客户经理"}


@dataclass(frozen=True)
class Visitor:
    principal: Principal
    csrf_token: str
    display_name: str = ""  # the person's name, or the key's
    bank_name: str | None = None  # a bank's visitor: the bank by name, for the header
    # The office's menu: how many escalated requests are still overdue. Counted when a page
    # draws the menu, once (a form's redirect or a download never asks).
    escalated: Callable[[], int] | None = field(default=None, compare=False, repr=False)

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def is_person(self) -> bool:
        return self.principal.user_id is not None

    @property
    def is_bank_admin(self) -> bool:
        return self.is_person and self.principal.bank_role == BankRole.admin

    @property
    def role_words(self) -> str:
        """The visitor's role in words: 金融办, 银行管理员, 客户经理, 企业 …"""
        if self.principal.bank_role is not None:
            return BANK_ROLE_WORDS[self.principal.bank_role]
        return ROLE_LABEL[self.role]


def _bank_name(session: Session, code: str | None) -> str | None:
    """The bank's name for the header (its primary key: one small read)."""
    if not code:
        return None
    try:
        return get_bank(session, code).name
    except AppError:
        return None


def visitor(request: Request, session: Annotated[Session, Depends(get_session)]) -> Visitor:
    found = access.web_session_caller(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise SignInRequired
    principal = found.principal
    request.state.principal = principal
    request.state.session_token = request.cookies.get(SESSION_COOKIE)
    escalated = cache(partial(escalated_open, session, principal)) if principal.is_office else None
    request.state.visitor = Visitor(  # also for an error page's menu
        principal,
        found.csrf_token,
        found.display_name,
        _bank_name(session, principal.bank_code),
        escalated,
    )
    act_as(session, principal)  # the audit log names who changed what, as through the API
    return request.state.visitor


def optional_visitor(
    request: Request, session: Annotated[Session, Depends(get_session)]
) -> Visitor | None:
    try:
        return visitor(request, session)
    except SignInRequired:
        return None


def same_origin(request: Request) -> bool:
    """A browser names the page a form was sent from; it must be this site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def read_form(request: Request) -> dict[str, Any]:
    """The posted fields: a name given once is a string, given more often a list."""
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    fields: dict[str, Any] = {}
    for name in form:
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        fields[name] = values[0] if len(values) == 1 else values
    return fields


def check_token(sent: Any, expected: str) -> None:
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected


async def posted_form(
    request: Request, who: Annotated[Visitor, Depends(visitor)]
) -> dict[str, Any]:
    """A form of a signed-in page, its CSRF token checked."""
    if not same_origin(request):
        raise CsrfRejected
    fields = await read_form(request)
    check_token(fields.pop("csrf_token", None), who.csrf_token)
    return fields


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def set_sign_in_token(request: Request, response: Response, token: str) -> None:
    """The double-submit token of a form sent before there is a session (signing in, accepting
    an invitation)."""
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )


async def posted_sign_in_form(request: Request) -> dict[str, Any]:
    """A form sent before there is a session, its double-submit token checked."""
    if not same_origin(request):
        raise CsrfRejected
    fields = await read_form(request)
    check_token(fields.get("sign_in"), request.cookies.get(SIGN_IN_CSRF_COOKIE) or "\x00")
    return fields


def start_session(request: Request, response: Response, token: str) -> None:
    """The signed-in browser's session cookie; the sign-in form's token is spent."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(access.WEB_SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=PREFIX)


def role_guard(*roles: Role) -> Any:
    def guard(who: Annotated[Visitor, Depends(visitor)]) -> Visitor:
        require(who.principal, *roles)
        return who

    return guard


Signed = Annotated[Visitor, Depends(visitor)]
MaybeSigned = Annotated[Visitor | None, Depends(optional_visitor)]
EnterpriseUser = Annotated[Visitor, Depends(role_guard(Role.enterprise))]
BankUser = Annotated[Visitor, Depends(role_guard(Role.bank))]
OfficeUser = Annotated[Visitor, Depends(role_guard(Role.office))]
Form = Annotated[dict[str, Any], Depends(posted_form)]

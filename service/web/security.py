"""Who is at the browser, and that a form came from our page.

Signing in with an API key opens a server-side session (``access.service``): the cookie holds
a random token (HttpOnly, SameSite=Lax, Secure over HTTPS) and every page acts as the key's
holder, through the same use cases and rules as the API. Forms carry the session's CSRF
secret; the sign-in form, before there is a session, a double-submit token from a cookie of
its own. A cross-site Origin is refused outright."""

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlmodel import Session

from service.access import service as access
from service.access.audit import act_as
from service.access.models import Role
from service.access.policy import Principal, require
from service.core.database import get_session

SESSION_COOKIE = "finmatch_session"
SIGN_IN_CSRF_COOKIE = "finmatch_signin_csrf"
MAX_FORM_FIELDS = 200


class SignInRequired(Exception):
    """No valid session: the page sends the browser to sign in."""


class CsrfRejected(Exception):
    """The form's token does not match its session, or it came from another site."""


@dataclass(frozen=True)
class Visitor:
    principal: Principal
    csrf_token: str

    @property
    def role(self) -> Role:
        return self.principal.role


def visitor(request: Request, session: Annotated[Session, Depends(get_session)]) -> Visitor:
    found = access.web_session_principal(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise SignInRequired
    principal, csrf_token = found
    request.state.principal = principal
    request.state.visitor = Visitor(principal, csrf_token)  # for an error page's menu
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

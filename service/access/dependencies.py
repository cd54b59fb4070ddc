"""FastAPI dependencies: the caller of a request, from its ``Authorization: Bearer`` key."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlmodel import Session

from service.access import service
from service.access.audit import act_as
from service.access.models import Role
from service.access.policy import Principal, require
from service.core.database import get_session

# Declares the scheme in OpenAPI (the docs' Authorize button); the key is checked below, so
# that a missing or malformed header gets our problem+json answer, not the library's.
bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer fmk_…`")


def authenticate(request: Request, session: Session) -> Principal:
    """The request's caller, remembered on the request and named in the session's audit."""
    principal = service.authenticate(session, request.headers.get("authorization"))
    request.state.principal = principal
    act_as(session, principal)  # the audit log names the caller of every change
    return principal


def current_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    _scheme: Annotated[object, Depends(bearer)] = None,
) -> Principal:
    return authenticate(request, session)


def office_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    require(principal, Role.office)
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
# For an endpoint that authenticates itself (``authenticate``): declares the scheme only.
BearerScheme = Annotated[object, Depends(bearer)]
Office = Annotated[Principal, Depends(office_principal)]


def idempotency_owner(request: Request) -> str:
    """Whose Idempotency-Keys a request's key is among: the caller's API key."""
    return request.state.principal.ref

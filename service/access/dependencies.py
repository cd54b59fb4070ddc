"""FastAPI dependencies: the caller of a request, from its ``Authorization: Bearer`` key, and
safe retries. They authenticate only: what the caller may do is decided by the use cases, by
the rules of ``access.policy``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from fastapi.security import HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Scope

from service.access import service
from service.access.audit import act_as
from service.access.policy import Principal
from service.core.database import get_session
from service.core.idempotency import run_once

# Declares the scheme in OpenAPI (the docs' Authorize button); the key is checked below, so
# that a missing or malformed header gets our problem+json answer, not the library's.
bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer fmk_…`")


async def authenticate_early(scope: Scope) -> Principal:
    """The caller of a request whose body is not read yet (the edge asks before reading it)."""
    header = Headers(scope=scope).get("authorization")

    def check() -> Principal:
        with scope["app"].state.open_session() as session:
            return service.authenticate(session, header)

    return await run_in_threadpool(check)


def authenticate(request: Request, session: Session) -> Principal:
    """The request's caller, remembered on the request and named in the session's audit."""
    principal = getattr(request.state, "early_principal", None)
    if principal is None:
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


Caller = Annotated[Principal, Depends(current_principal)]
# For an endpoint that authenticates itself (``authenticate``): declares the scheme only.
BearerScheme = Annotated[object, Depends(bearer)]


def idempotency_owner(request: Request) -> str:
    """Whose Idempotency-Keys a request's key is among: the caller's API key."""
    return request.state.principal.ref


@dataclass(frozen=True)
class Retry:
    """A POST the caller may retry with an ``Idempotency-Key``: ``answer(body, call)`` answers
    by ``call()`` (status, JSON-able body, headers), or by the stored answer to the same key
    and body of the same caller."""

    session: Session
    owner: str
    key: str | None
    path: str

    def answer(
        self,
        body: Any,
        call: Callable[[], tuple[int, Any, dict[str, str]]],
        withhold: tuple[str, ...] = (),
    ) -> Response:
        """``body`` is what identifies the request (for an upload, the file's digest and the
        form's fields); ``withhold`` names secret fields the stored answer keeps as null."""
        return run_once(self.session, self.owner, self.key, "POST", self.path, body, call, withhold)


def retry(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    _: Annotated[Principal, Depends(current_principal)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Retry safely: the same key and body get the first answer again",
            examples=["7b0f1c52-6d3e-4bd4-9d0c-2f1b8a3c5e10"],
        ),
    ] = None,
) -> Retry:
    return Retry(session, idempotency_owner(request), idempotency_key, request.url.path)


Retryable = Annotated[Retry, Depends(retry)]

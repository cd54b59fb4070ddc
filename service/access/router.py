"""HTTP for API keys and the audit log (the office's; the use cases check who asks)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, status
from sqlmodel import Session

from service.access import service
from service.access.dependencies import Caller, Retryable
from service.access.models import Role
from service.access.schemas import ApiKeyCreated, ApiKeyPublic, AuditEntryPublic, KeyRequest
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits, Timestamp

router = APIRouter(tags=["access"])
SessionDep = Annotated[Session, Depends(get_session)]


@router.post(
    "/keys",
    operation_id="createApiKey",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key",
    description="A random key for the office, a bank (bound to it) or an enterprise (bound to "
    "it). The key is in this response only; FinMatch keeps its hash. A holder may have several "
    "keys, so that a new one can replace an old one before it is revoked. A retry with the "
    "same Idempotency-Key answers the same key (id, prefix) with `key: null`: the key itself "
    "is stored nowhere, so if the first answer was lost, revoke that key and issue another.",
    response_model=ApiKeyCreated,
    responses=problem_responses(401, 403, 422),
)
def create_key(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        KeyRequest,
        Body(
            openapi_examples={
                "bank": {
                    "summary": "A bank's integration key",
                    "value": {"role": "bank", "name": "对接系统", "bank_code": "jsbank-wx"},
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        created = service.create_key(
            session, data.role, data.name, data.bank_code, data.enterprise_id, principal
        )
        return 201, created, {}

    return retry.answer(data.model_dump(mode="json"), call, withhold=("key",))


@router.get(
    "/keys",
    operation_id="listApiKeys",
    summary="List API keys",
    description="Prefixes, holders and last use; never the keys themselves.",
    response_model=list[ApiKeyPublic],
    responses=problem_responses(401, 403, 422),
)
def list_keys(
    principal: Caller,
    session: SessionDep,
    role: Annotated[Role | None, Query()] = None,
    bank_code: Annotated[str | None, Query(max_length=32)] = None,
    enterprise_id: Annotated[int | None, Query(ge=1), Digits] = None,
    include_revoked: Annotated[bool, Query()] = False,
) -> list[ApiKeyPublic]:
    return service.list_keys(session, role, bank_code, enterprise_id, include_revoked, principal)


@router.post(
    "/keys/{key_id:int}/revoke",
    operation_id="revokeApiKey",
    summary="Revoke an API key",
    description="The key stops working at once; revoking twice is the same as once.",
    response_model=ApiKeyPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def revoke_key(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    key_id: Annotated[int, Path(ge=1, le=2_147_483_647, examples=[3]), Digits],
) -> Any:
    return retry.answer({}, lambda: (200, service.revoke_key(session, str(key_id), principal), {}))


@router.get(
    "/audit",
    operation_id="listAuditEntries",
    summary="The audit log",
    description="Every change (who, when, which fields from what to what) and every read of an "
    "enterprise's details by a bank; newest first.",
    response_model=Page[AuditEntryPublic],
    responses=problem_responses(401, 403, 422),
)
def list_audit(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    enterprise_id: Annotated[int | None, Query(ge=1), Digits] = None,
    bank_code: Annotated[str | None, Query(max_length=32, description="Actor's bank")] = None,
    action: Annotated[str | None, Query(max_length=32, examples=["read"])] = None,
    subject_type: Annotated[str | None, Query(max_length=32, examples=["enterprise"])] = None,
    since: Annotated[Timestamp | None, Query()] = None,
) -> Page[AuditEntryPublic]:
    return service.list_audit(
        session, principal, page, enterprise_id, bank_code, action, subject_type, since
    )

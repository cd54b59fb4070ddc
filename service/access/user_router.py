"""HTTP for people's accounts and the invitations that create them (the use cases in
``access.users`` and ``access.invitations`` check who asks). Accepting an invitation is the
one call without a key: the link's token is the proof."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from sqlmodel import Session

from service.access import invitations, users
from service.access.dependencies import Caller, Retryable
from service.access.models import Role
from service.access.schemas import (
    AcceptRequest,
    InvitationCreated,
    InvitationPublic,
    InvitationRequest,
    UserPublic,
)
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits

router = APIRouter(tags=["people"])
SessionDep = Annotated[Session, Depends(get_session)]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Person id", examples=[3]), Digits]
InvitationId = Annotated[
    int, Path(ge=1, le=2_147_483_647, description="Invitation id", examples=[5]), Digits
]
IfMatch = Annotated[
    str | None, Header(description="ETag of the account's version", examples=['"2"'])
]


@router.post(
    "/invitations",
    operation_id="createInvitation",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a person",
    description="A one-time link (valid 7 days) with which the person chooses a password and so "
    "creates their account. The office invites office staff, a bank's administrators and "
    "account managers, and an enterprise's user; a bank's administrator (signed in to the "
    "pages) invites its own bank's people; a bank's or an enterprise's API key invites nobody "
    "(403). The token and the link's path are in this answer only: a retry with the same "
    "Idempotency-Key answers them as null (revoke the invitation and invite again if the "
    "first answer was lost). A new invitation to a login replaces the one still pending; a "
    "login that already has an account is a 409 `login_taken`.",
    response_model=InvitationCreated,
    responses=problem_responses(401, 403, 409, 422),
)
def create_invitation(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        InvitationRequest,
        Body(
            openapi_examples={
                "bank_admin": {
                    "summary": "A bank's administrator",
                    "value": {
                        "login": "admin@jsbank.example",
                        "display_name": "王行长",
                        "role": "bank",
                        "bank_role": "admin",
                        "bank_code": "jsbank-wx",
                    },
                },
                "office": {
                    "summary": "Office staff",
                    "value": {
                        "login": "li.si@wuxi.example",
                        "display_name": "李四",
                        "role": "office",
                    },
                },
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        return 201, invitations.invite(session, principal, data), {}

    return retry.answer(data.model_dump(mode="json"), call, withhold=("token", "path"))


@router.get(
    "/invitations",
    operation_id="listInvitations",
    summary="List invitations",
    description="The invitations and reset links the caller manages, newest first (the office "
    "every one, a bank's administrator its own bank's); pending ones only unless "
    "`include_closed`. Never the tokens.",
    response_model=Page[InvitationPublic],
    responses=problem_responses(401, 403, 422),
)
def list_invitations(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    include_closed: Annotated[bool, Query()] = False,
) -> Page[InvitationPublic]:
    return invitations.list_invitations(session, principal, page, include_closed)


@router.delete(
    "/invitations/{invitation_id:int}",
    operation_id="revokeInvitation",
    summary="Revoke an invitation",
    description="The link stops working at once; revoking twice is the same as once. An "
    "accepted invitation is a 409 `invitation_used`.",
    response_model=InvitationPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def revoke_invitation(
    principal: Caller, session: SessionDep, invitation_id: InvitationId
) -> InvitationPublic:
    return invitations.revoke_invitation(session, principal, invitation_id)


@router.post(
    "/invitations/accept",
    operation_id="acceptInvitation",
    status_code=status.HTTP_201_CREATED,
    summary="Accept an invitation or a reset link",
    description="No key: the token is the proof. An invitation creates the account with this "
    "password; a reset link sets the account's new password. The password: 10–128 "
    "characters, not the login, not one character repeated, not a common one (422 "
    "`weak_password`). A link works once: an unknown token is a 404 `invitation_not_found`, "
    "a used one a 410 `invitation_used`, a revoked one 410 `invitation_revoked`, an expired "
    "one 410 `invitation_expired`; a login taken meanwhile a 409 `login_taken`.",
    response_model=UserPublic,
    responses=problem_responses(404, 409, 410, 422),
)
def accept_invitation(
    session: SessionDep,
    data: Annotated[
        AcceptRequest,
        Body(
            openapi_examples={
                "accept": {
                    "summary": "Choose a password",
                    "value": {
                        "token": "Zx3q0Hn1nqE3Jc4m2y7yQm6sX2m5oNwz2QqB3r9Lx1c",
                        "password": "长江后浪推前浪-2026",
                    },
                }
            }
        ),
    ],
) -> UserPublic:
    user, _ = invitations.accept(session, data.token, data.password)
    return users.get_public(user)


@router.get(
    "/users",
    operation_id="listUsers",
    summary="List people",
    description="The people the caller manages, by id: the office everyone (filters `role`, "
    "`bank_code`), a bank's administrator its own bank's. Never a password or its hash.",
    response_model=Page[UserPublic],
    responses=problem_responses(401, 403, 422),
)
def list_users(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    role: Annotated[Role | None, Query()] = None,
    bank_code: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[UserPublic]:
    return users.list_people(session, principal, page, role, bank_code)


@router.get(
    "/users/{user_id:int}",
    operation_id="getUser",
    summary="Read a person's account",
    description="One account; the ETag carries its version for If-Match. Another bank's "
    "person is a 404.",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def get_user(
    principal: Caller, session: SessionDep, response: Response, user_id: UserId
) -> UserPublic:
    user = users.get_person(session, principal, user_id)
    response.headers["ETag"] = etag(user.version)
    return user


@router.post(
    "/users/{user_id:int}/reset",
    operation_id="resetUserPassword",
    status_code=status.HTTP_201_CREATED,
    summary="Reset a person's password",
    description="The old password stops working and the person is signed out everywhere; the "
    "answer holds a one-time link (valid 72 hours) with which they choose a new one: give it "
    "to them. The token is in this answer only (null in a replay). With If-Match, a stale "
    "version is a 412.",
    response_model=InvitationCreated,
    responses=problem_responses(401, 403, 404, 412, 422),
)
def reset_user(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    user_id: UserId,
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        link = users.reset_password(session, principal, user_id, parse_if_match(if_match))
        return 201, link, {}

    return retry.answer({"if_match": if_match}, call, withhold=("token", "path"))


def _set_disabled(
    principal: Any, session: Session, retry: Any, user_id: int, if_match: str | None, off: bool
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        user = users.set_disabled(session, principal, user_id, off, parse_if_match(if_match))
        return 200, user, {"ETag": etag(user.version)}

    return retry.answer({"if_match": if_match}, call)


@router.post(
    "/users/{user_id:int}/disable",
    operation_id="disableUser",
    summary="Disable a person's account",
    description="The account can no longer sign in and its sessions end at once; disabling "
    "twice is the same as once. Nobody disables their own account (409).",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def disable_user(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    user_id: UserId,
    if_match: IfMatch = None,
) -> Any:
    return _set_disabled(principal, session, retry, user_id, if_match, True)


@router.post(
    "/users/{user_id:int}/enable",
    operation_id="enableUser",
    summary="Enable a person's account again",
    description="The account may sign in again; its failed attempts and a lock are forgotten "
    "(enabling an account that is not disabled lifts its lock).",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 412, 422),
)
def enable_user(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    user_id: UserId,
    if_match: IfMatch = None,
) -> Any:
    return _set_disabled(principal, session, retry, user_id, if_match, False)

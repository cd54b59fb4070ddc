"""What the access API reads and answers: a request for a key, an API key (and, once, the key
itself), an audit entry; people's accounts and the invitations that create them."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import SQLModel

from service.access.models import BankRole, InvitationPurpose, Role
from service.core.types import BodyInt


class KeyRequest(BaseModel):
    role: Role
    name: str = Field(min_length=1, max_length=100, examples=["江苏银行无锡分行 对接系统"])
    bank_code: str | None = Field(default=None, max_length=32, examples=["jsbank-wx"])
    enterprise_id: BodyInt | None = Field(default=None, ge=1)


class ApiKeyPublic(SQLModel):
    id: int
    prefix: str
    role: Role
    bank_code: str | None
    enterprise_id: int | None
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str | None = Field(
        description="The key itself; shown only this once (null in a replay of the answer to "
        "the same Idempotency-Key, which never stores it)"
    )


class AuditEntryPublic(SQLModel):
    id: int
    at: datetime
    actor_key_id: int | None
    actor_user_id: int | None = Field(default=None, description="The person who acted, if any")
    actor_role: str
    actor_bank_code: str | None
    actor_enterprise_id: int | None
    action: str
    subject_type: str
    subject_id: str
    enterprise_id: int | None
    enterprise_ids: list[int] | None = Field(
        default=None, description="A read: every enterprise whose details the bank received"
    )
    changes: dict[str, Any] | None


class InvitationRequest(BaseModel):
    login: str = Field(
        min_length=3,
        max_length=100,
        description="E-mail or mobile number the person signs in with",
        examples=["zhang.san@jsbank.example"],
    )
    display_name: str = Field(min_length=1, max_length=50, examples=["张三"])
    role: Role
    bank_role: BankRole | None = Field(
        default=None, description="For a bank's person: admin or manager (default manager)"
    )
    bank_code: str | None = Field(default=None, max_length=32, examples=["jsbank-wx"])
    enterprise_id: BodyInt | None = Field(default=None, ge=1)


class InvitationPublic(SQLModel):
    id: int
    purpose: InvitationPurpose
    login: str
    display_name: str
    role: Role
    bank_role: BankRole | None
    bank_code: str | None
    enterprise_id: int | None
    user_id: int | None = Field(description="The account a reset link is for")
    created_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationPublic):
    token: str | None = Field(
        description="The link's secret; shown only this once (null in a replay of the answer "
        "to the same Idempotency-Key, which never stores it)"
    )
    path: str | None = Field(
        description="The page that accepts it, under this service's address: send it to the "
        "person (null in a replay)",
        examples=["/web/invitations/Zx3…"],
    )


class AcceptRequest(BaseModel):
    token: str = Field(min_length=20, max_length=100)
    password: str = Field(min_length=1, max_length=128)


class UserPublic(SQLModel):
    id: int
    login: str
    display_name: str
    role: Role
    bank_role: BankRole | None
    bank_code: str | None
    enterprise_id: int | None
    password_changed_at: datetime | None
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    disabled_at: datetime | None
    created_by: str
    created_at: datetime
    version: int

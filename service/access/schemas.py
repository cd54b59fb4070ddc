"""What the access API reads and answers: a request for a key, an API key (and, once, the key
itself) and an audit entry."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import SQLModel

from service.access.models import Role
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

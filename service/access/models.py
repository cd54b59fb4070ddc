"""API keys (who is calling) and the audit log (what they read and changed)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from service.core.models import BigId, IdList, JSONType, UTCDateTime, utcnow


class Role(StrEnum):
    office = "office"  # the financial office: sees and manages everything
    bank = "bank"  # bound to one bank
    enterprise = "enterprise"  # bound to one enterprise


class ApiKey(SQLModel, table=True):
    """A key is shown once; only its SHA-256 is kept. ``prefix`` finds the row."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, unique=True)
    secret_hash: str = Field(max_length=64)
    role: Role = Field(sa_type=String(16))
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32, index=True)
    enterprise_id: int | None = Field(
        default=None, foreign_key="enterprise.id", ondelete="CASCADE", index=True
    )
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """A bank's read of enterprises' details, or any change: who, when, what.

    A change names its enterprise in ``enterprise_id``. A read is one entry per request (a
    page of 100 leads is one read of up to 100 enterprises): ``enterprise_ids`` lists every
    enterprise whose name, credit code or contacts the bank received, and the office finds
    the reads of one enterprise through that list (a GIN index on PostgreSQL)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_subject", "subject_type", "subject_id", "id"),
        Index("ix_audit_entry_actor", "actor_role", "actor_bank_code", "id"),
        Index(
            "ix_audit_entry_enterprise_ids",
            "enterprise_ids",
            postgresql_using="gin",
            info={"postgresql_only": True},  # created by migration 0007 on PostgreSQL only
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_key_id: int | None = None
    actor_role: str = Field(max_length=16)
    actor_bank_code: str | None = Field(default=None, max_length=32)
    actor_enterprise_id: int | None = None
    action: str = Field(max_length=32)  # read | create | update | delete | transition …
    subject_type: str = Field(max_length=32)  # enterprise | lead | need | product …
    subject_id: str = Field(max_length=64)
    enterprise_id: int | None = Field(default=None, index=True)
    enterprise_ids: list[int] | None = Field(default=None, sa_column=Column(IdList))
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))


class WebSession(SQLModel, table=True):
    """A signed-in browser: the pages' session cookie holds a random token of which only the
    SHA-256 is kept. It acts with the key it was opened with, so revoking the key ends it;
    signing out deletes it. ``csrf_token`` is the secret every form of the session carries."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    api_key_id: int = Field(foreign_key="api_key.id", ondelete="CASCADE", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)

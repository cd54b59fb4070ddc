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


class BankRole(StrEnum):
    """A person's place inside a bank."""

    admin = "admin"  # the bank's administrator: every lead of the bank, assigns them, the team
    manager = "manager"  # an account manager (客户经理): the leads assigned to them first


class InvitationPurpose(StrEnum):
    invite = "invite"  # a new account: the invitee chooses a password
    reset = "reset"  # an administrator's reset: the holder chooses a new password


class UserAccount(SQLModel, table=True):
    """A person who signs in to the pages: office staff, a bank's administrator or account
    manager, an enterprise's user. Only the password's Argon2id hash is kept. Repeated
    failures lock the account for a time that doubles (``locked_until``)."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=100, unique=True)  # e-mail or mobile, as typed, lower-cased
    display_name: str = Field(max_length=50)
    role: Role = Field(sa_type=String(16))
    bank_role: BankRole | None = Field(default=None, sa_type=String(16))
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32, index=True)
    enterprise_id: int | None = Field(
        default=None, foreign_key="enterprise.id", ondelete="CASCADE", index=True
    )
    password_hash: str | None = Field(default=None, max_length=200)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class Invitation(SQLModel, table=True):
    """A one-time link: to create an account (``invite``) or to choose a new password after
    an administrator's reset (``reset``, for ``user_id``). Only the token's SHA-256 is kept;
    it works once, before ``expires_at``, unless revoked."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    purpose: InvitationPurpose = Field(sa_type=String(16))
    login: str = Field(max_length=100, index=True)
    display_name: str = Field(max_length=50)
    role: Role = Field(sa_type=String(16))
    bank_role: BankRole | None = Field(default=None, sa_type=String(16))
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32, index=True)
    enterprise_id: int | None = Field(
        default=None, foreign_key="enterprise.id", ondelete="CASCADE", index=True
    )
    user_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="CASCADE", index=True
    )
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
    actor_user_id: int | None = None
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
    SHA-256 is kept. It acts as the person who signed in (``user_id``), or with the key it was
    opened with (``api_key_id``, the demo's way in): disabling the account or revoking the key
    ends it; signing out deletes it. ``csrf_token`` is the secret every form carries."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    api_key_id: int | None = Field(
        default=None, foreign_key="api_key.id", ondelete="CASCADE", index=True
    )
    user_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="CASCADE", index=True
    )
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)

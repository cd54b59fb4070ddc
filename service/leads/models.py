"""Leads (one need or enterprise offered to one bank for one product), the per-bank feed
counter, the bank's events, and the contact requests banks make to prospects."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.core.models import BigId, JSONType, UTCDateTime, utcnow
from service.leads.states import OPEN, DeclineReason, LeadStatus

_OPEN_SQL = "status IN (" + ", ".join(f"'{s}'" for s in sorted(OPEN)) + ")"


class LeadSource(StrEnum):
    need = "need"  # an enterprise posted a need and consented to share it
    application = "application"  # it applied for a product it was recommended
    prospect = "prospect"  # the bank asked to contact it, and it accepted
    reassigned = "reassigned"  # offered on after another bank let the contact deadline pass


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        # Never two open leads for the same need (or need-less enterprise) and bank.
        Index(
            "uq_lead_open_subject_bank",
            "subject_key",
            "bank_code",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
        Index("ix_lead_bank_code_seq", "bank_code", "seq"),
        Index("ix_lead_status_contact_due_date", "status", "contact_due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_key: str = Field(max_length=32)  # "need:12", or "enterprise:7" without a need
    need_id: int | None = Field(default=None, foreign_key="financing_need.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    bank_code: str = Field(foreign_key="bank.code", max_length=32)
    product_id: int = Field(foreign_key="product.id", index=True)
    product_version: int
    config_version: int
    score_centi: int
    source: LeadSource = Field(sa_type=String(16))
    status: LeadStatus = Field(default=LeadStatus.new, sa_type=String(16))
    consented: bool = False  # the bank may see who the enterprise is
    version: int = 1
    seq: int = Field(sa_type=BigInteger)  # position in the bank's feed, renewed on each change
    contact_due_date: date
    viewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The bank's account manager working the lead (its administrator assigns it).
    assignee_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sla_breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reassigned_from_id: int | None = Field(default=None, foreign_key="lead.id")
    declined_reason: DeclineReason | None = Field(default=None, sa_type=String(32))
    note: str | None = Field(default=None, max_length=500)
    approved_amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    approved_rate_bp: int | None = None
    approved_term_months: int | None = None
    approved_date: date | None = None
    disbursed_amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    disbursed_rate_bp: int | None = None
    disbursed_date: date | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BankFeed(SQLModel, table=True):
    """The last position handed out in a bank's feed. Taking the next one locks this row until
    the transaction ends, so a bank's positions become visible in order: a reader paging by
    position never skips one that commits later."""

    __tablename__ = "bank_feed"

    bank_code: str = Field(primary_key=True, foreign_key="bank.code", max_length=32)
    last_seq: int = Field(default=0, sa_type=BigInteger)


class BankEvent(SQLModel, table=True):
    """What happened to a bank's leads, in the bank's feed order; replayable from any point.
    An event for a district office (an enterprise of its district became entitled to a support
    policy) names the district instead of a bank, and has no feed position (``seq`` 0)."""

    __tablename__ = "bank_event"
    __table_args__ = (
        UniqueConstraint("bank_code", "seq"),
        CheckConstraint("(bank_code IS NULL) <> (district_code IS NULL)", name="one_audience"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32)
    district_code: str | None = Field(default=None, foreign_key="district.code", max_length=32)
    seq: int = Field(sa_type=BigInteger)
    type: str = Field(max_length=40)  # lead.created | lead.updated | lead.withdrawn | …
    lead_id: int | None = Field(default=None, foreign_key="lead.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContactRequestStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class ContactRequest(SQLModel, table=True):
    """A bank asks to contact one of its product's prospects; the enterprise decides."""

    __tablename__ = "contact_request"
    __table_args__ = (
        Index(
            "uq_contact_request_pending",
            "bank_code",
            "enterprise_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_code: str = Field(foreign_key="bank.code", max_length=32)
    product_id: int = Field(foreign_key="product.id")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    need_id: int | None = Field(default=None, foreign_key="financing_need.id")
    message: str | None = Field(default=None, max_length=500)
    status: ContactRequestStatus = Field(default=ContactRequestStatus.pending, sa_type=String(16))
    lead_id: int | None = Field(default=None, foreign_key="lead.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    """Where a bank wants its events pushed (thin payloads, signed per Standard Webhooks), or
    a district office its district's (the office registers those)."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        CheckConstraint("(bank_code IS NULL) <> (district_code IS NULL)", name="one_audience"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32, index=True)
    district_code: str | None = Field(default=None, foreign_key="district.code", max_length=32)
    url: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, sa_column=Column(JSONType))  # None: all
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # the endpoint answered 410 Gone, or was disabled or removed
    dead = "dead"  # every retry failed


class WebhookDelivery(SQLModel, table=True):
    """The outbox: one event to one endpoint, written in the event's transaction and sent
    after its commit, retried until delivered or dead."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_delivery_due", "endpoint_id", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    event_id: int = Field(foreign_key="bank_event.id", sa_type=BigInteger)
    msg_id: str = Field(max_length=64)  # webhook-id: the same on every retry
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """Each try of a delivery: the log a bank reads when its receiver misbehaved."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    delivery_id: int = Field(
        foreign_key="webhook_delivery.id", ondelete="CASCADE", sa_type=BigInteger, index=True
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int

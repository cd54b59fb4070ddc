"""Requests (诉求) an enterprise raises about its financing, every step taken on them, their
attachments, the departments and categories the office keeps for them, and the enterprises'
ratings of a bank's (or department's) service. Nothing here is ever deleted: a request ends in
a final status, its steps are kept as events.

In code a request is an ``Appeal``, so as not to be confused with an HTTP request; the API
and the pages call it a request (诉求)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, text
from sqlmodel import Field, SQLModel

from service.appeals.kinds import AppealKind, ChargeItem, ChargeRule, HandlerKind
from service.appeals.states import AppealStatus
from service.core.models import BigId, JSONType, UTCDateTime, utcnow


class Department(SQLModel, table=True):
    """A named unit requests are dispatched to (人民银行无锡市分行, 市地方金融监管局, …): reference
    data the office keeps. A department is never deleted, only made inactive."""

    __tablename__ = "department"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=60)
    active: bool = True
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppealCategory(SQLModel, table=True):
    """The office's category of an accepted request, and the working days its handler has."""

    __tablename__ = "appeal_category"
    __table_args__ = (CheckConstraint("due_working_days BETWEEN 1 AND 60", name="due_days"),)

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=30)
    due_working_days: int
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_OPEN_SQL = "status IN ('raised', 'accepted', 'dispatched', 'answered', 'reopened')"


class Appeal(SQLModel, table=True):
    __tablename__ = "appeal"
    __table_args__ = (
        Index("ix_appeal_status_due_date", "status", "due_date"),
        Index("ix_appeal_handler_bank_code_id", "handler_bank_code", "id"),
        Index(
            "ix_appeal_open_created_at",
            "created_at",
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    kind: AppealKind = Field(sa_type=String(24))
    charge_rule: ChargeRule | None = Field(default=None, sa_type=String(24))
    charge_item: ChargeItem | None = Field(default=None, sa_type=String(16))
    charge_amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    offered_rate_bp: int | None = None
    charged_rate_bp: int | None = None
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32)
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True)
    loan_id: int | None = Field(default=None, foreign_key="loan.id", index=True)
    title: str = Field(max_length=80)
    description: str = Field(max_length=2000)
    # Whether the handling bank may see who raised it (name, lead, loan, attachments).
    show_to_bank: bool = False
    status: AppealStatus = Field(default=AppealStatus.raised, sa_type=String(16))
    category_code: str | None = Field(
        default=None, foreign_key="appeal_category.code", max_length=32
    )
    merged_into_id: int | None = Field(default=None, foreign_key="appeal.id")
    handler_kind: HandlerKind | None = Field(default=None, sa_type=String(16))
    handler_bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32)
    handler_department_code: str | None = Field(
        default=None, foreign_key="department.code", max_length=32
    )
    dispatched_date: date | None = None
    due_date: date | None = None
    # The due date was counted in working days over days whose holiday notice was not out
    # yet (the calendar's estimate), as it stood at dispatch: kept, not recomputed on read,
    # so that a later calendar never makes an estimated date look final.
    due_date_provisional: bool = False
    # When the current deadline's escalation happened (reset by a new dispatch).
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False  # some deadline of it was missed (escalated, or answered after it)
    answer: str | None = Field(default=None, max_length=2000)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result: str | None = Field(default=None, max_length=2000)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopens: int = 0
    reopen_reason: str | None = Field(default=None, max_length=2000)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    raised_by: str = Field(max_length=64)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppealEvent(SQLModel, table=True):
    """One step of a request: who, when, from which status to which, and what came with it."""

    __tablename__ = "appeal_event"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    appeal_id: int = Field(foreign_key="appeal.id", index=True)
    kind: str = Field(max_length=24)  # raised | an action | escalated | attached
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    actor_role: str = Field(max_length=16)  # office | bank | enterprise | system
    actor: str = Field(max_length=64)  # user:12, key:3, bank:…, system
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppealAttachment(SQLModel, table=True):
    """A file kept with a request: its bytes live in the attachment store under
    ``storage_key``; the row says what it is."""

    __tablename__ = "appeal_attachment"

    id: int | None = Field(default=None, primary_key=True)
    appeal_id: int = Field(foreign_key="appeal.id", index=True)
    filename: str = Field(max_length=120)
    media_type: str = Field(max_length=40)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=80, unique=True)
    uploaded_by_role: str = Field(max_length=16)
    uploaded_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ServiceRating(SQLModel, table=True):
    """An enterprise's 1–5 rating of a bank's service on one lead once it ended, or of a
    request's handling once it closed (confirming it). One per lead, one per request."""

    __tablename__ = "service_rating"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        CheckConstraint("(lead_id IS NULL) <> (appeal_id IS NULL)", name="one_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    bank_code: str | None = Field(default=None, foreign_key="bank.code", max_length=32, index=True)
    department_code: str | None = Field(default=None, foreign_key="department.code", max_length=32)
    lead_id: int | None = Field(default=None, foreign_key="lead.id", unique=True)
    appeal_id: int | None = Field(default=None, foreign_key="appeal.id", unique=True)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    appeal_kind: str | None = Field(default=None, max_length=24)
    score: int
    comment: str | None = Field(default=None, max_length=500)
    show_name: bool = False  # the bank may see which enterprise rated it
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Support policies (政策直达): each policy and its versions (parameters with effective dates,
never edited once written), what each enterprise is entitled to under them, the notices that
told it so, and what the office recorded as applied for, approved and paid.

"Once" is a unique constraint: one entitlement and one grant per (enterprise, policy, period),
the period being ``once`` for a one-off award or the year for a yearly one; one notice per
entitlement."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import BigId, JSONType, UTCDateTime, utcnow


class Policy(SQLModel, table=True):
    """A support policy as the office publishes it: its name, the department that runs it
    and the text it comes from. Its rules are in its versions."""

    __tablename__ = "policy"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=60)
    department_code: str | None = Field(default=None, foreign_key="department.code", max_length=32)
    source: str | None = Field(default=None, max_length=200)
    active: bool = True  # an inactive policy is no longer evaluated; its records stay
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PolicyVersion(SQLModel, table=True):
    """One version of a policy's rule: in force from ``effective_from`` until the day before
    the next version's, or until ``effective_to``. Written once, never changed."""

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("policy_code", "version"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="effective_dates"
        ),
        CheckConstraint("budget_fen IS NULL OR budget_fen > 0", name="budget_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    policy_code: str = Field(foreign_key="policy.code", max_length=40)
    version: int
    effective_from: date
    effective_to: date | None = None
    budget_fen: int | None = Field(default=None, sa_type=BigInteger)  # for a year, or in all
    parameters: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EntitlementStatus(StrEnum):
    current = "current"  # the latest evaluation finds it
    lapsed = "lapsed"  # a later evaluation no longer does (a qualification withdrawn …)


class Entitlement(SQLModel, table=True):
    """What an enterprise is entitled to under a policy for a period, as last evaluated: the
    most the rule allows (the office approves the amount)."""

    __tablename__ = "policy_entitlement"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "policy_code", "period"),
        Index("ix_policy_entitlement_policy_code_status", "policy_code", "status"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    policy_code: str = Field(foreign_key="policy.code", max_length=40)
    period: str = Field(max_length=8)  # "once" or the year
    policy_version: int
    amount_fen: int = Field(sa_type=BigInteger)
    status: EntitlementStatus = Field(default=EntitlementStatus.current, sa_type=String(16))
    found_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lapsed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PolicyNotice(SQLModel, table=True):
    """The enterprise was told of an entitlement: once, whatever re-evaluates it later."""

    __tablename__ = "policy_notice"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    entitlement_id: int = Field(
        foreign_key="policy_entitlement.id", sa_type=BigInteger, unique=True
    )
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    policy_code: str = Field(foreign_key="policy.code", max_length=40)
    period: str = Field(max_length=8)
    amount_fen: int = Field(sa_type=BigInteger)
    trigger: str = Field(max_length=24)  # what led to it: qualification, project, loan, policy …
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GrantStatus(StrEnum):
    applied = "applied"  # 已申报
    approved = "approved"  # 已核定 (with the amount)
    paid = "paid"  # 已拨付
    rejected = "rejected"  # 未获批


class PolicyGrant(SQLModel, table=True):
    """What the office recorded of an award: applied for, approved with an amount, paid. The
    approved (or paid) amount counts against the rule's caps and "once", and the budget."""

    __tablename__ = "policy_grant"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "policy_code", "period"),
        Index("ix_policy_grant_policy_code_status", "policy_code", "status"),
        CheckConstraint("approved_fen IS NULL OR approved_fen >= 0", name="approved_fen"),
        CheckConstraint("paid_fen IS NULL OR paid_fen >= 0", name="paid_fen"),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    policy_code: str = Field(foreign_key="policy.code", max_length=40)
    period: str = Field(max_length=8)
    status: GrantStatus = Field(default=GrantStatus.applied, sa_type=String(16))
    applied_date: date
    approved_fen: int | None = Field(default=None, sa_type=BigInteger)
    approved_date: date | None = None
    paid_fen: int | None = Field(default=None, sa_type=BigInteger)
    paid_date: date | None = None
    note: str | None = Field(default=None, max_length=500)
    recorded_by: str = Field(max_length=64)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

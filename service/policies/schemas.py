"""What the support-policy API takes and returns: policies and their versions, an
enterprise's entitlements with their reasons, notices, and the awards the office records."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from service.core.types import BodyInt, IsoDate
from service.policies.models import EntitlementStatus, GrantStatus
from service.policies.parameters import AMOUNT_MAX_FEN, Parameters

_CODE = r"^[a-z0-9][a-z0-9-]{1,39}$"


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_from: IsoDate = Field(examples=["2027-01-01"])
    effective_to: IsoDate | None = None
    budget_fen: BodyInt | None = Field(
        default=None, ge=1, le=AMOUNT_MAX_FEN, description="The policy's budget, in fen"
    )
    parameters: Parameters
    note: str | None = Field(default=None, max_length=500)


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE, examples=["loan-subsidy-2027"])
    name: str = Field(min_length=2, max_length=60, examples=["科技贷款贴息"])
    department_code: str | None = Field(default=None, max_length=32, examples=["wx-czj"])
    source: str | None = Field(default=None, max_length=200)
    first_version: VersionCreate


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=60)
    department_code: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=200)
    active: StrictBool | None = None


class VersionPublic(BaseModel):
    version: int
    effective_from: date
    effective_to: date | None
    budget_fen: int | None
    parameters: dict[str, Any]
    note: str | None
    created_at: datetime


class PolicyPublic(BaseModel):
    code: str
    name: str
    scheme: str | None = Field(description="The scheme of the version in force")
    scheme_label: str | None
    department_code: str | None
    department_name: str | None
    source: str | None
    active: bool
    version: int = Field(description="The policy record's version, for If-Match")
    in_force: VersionPublic | None = Field(description="The version in force today")
    summary: str = Field(description="Who may receive how much, in words")
    versions: list[VersionPublic] | None = None


class LinePublic(BaseModel):
    label: str
    base_fen: int | None
    rate_bp: int | None
    amount_fen: int
    ref: str | None


class GrantPublic(BaseModel):
    id: int
    enterprise_id: int
    enterprise_name: str
    policy_code: str
    policy_name: str
    period: str
    status: GrantStatus
    status_label: str
    applied_date: date
    approved_fen: int | None
    approved_date: date | None
    paid_fen: int | None
    paid_date: date | None
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class EvaluationPublic(BaseModel):
    policy_code: str
    policy_name: str
    policy_version: int
    enterprise_id: int
    as_of: date
    eligible: bool
    period: str | None = Field(description='"once" for a one-off award, or the year')
    amount_fen: int = Field(description="The most the rule allows, rounded down to the fen")
    lines: list[LinePublic]
    reasons: list[str]
    missing: list[str]
    notes: list[str]
    documents: list[str]
    discretionary: bool = Field(description="Awarded on assessment (择优): the amount is a maximum")
    department_name: str | None


class EntitlementPublic(EvaluationPublic):
    status: EntitlementStatus | None = Field(
        description="As the last re-evaluation recorded it (None: not yet recorded)"
    )
    found_at: datetime | None
    notified_at: datetime | None
    grant: GrantPublic | None


class NoticePublic(BaseModel):
    id: int
    enterprise_id: int
    enterprise_name: str
    policy_code: str
    policy_name: str
    period: str
    amount_fen: int
    trigger: str
    trigger_label: str
    created_at: datetime
    seen_at: datetime | None


class NoticesSeen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to_id: BodyInt = Field(ge=1, le=2**62, description="Every notice up to this id is seen")


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprise_id: BodyInt = Field(ge=1, le=2_147_483_647)
    policy_code: str = Field(max_length=40)
    period: str = Field(
        pattern=r"^(once|20[0-9]{2})$",
        description='"once" or the year it is for',
        examples=["once"],
    )
    applied_date: IsoDate
    note: str | None = Field(default=None, max_length=500)


class GrantStep(BaseModel):
    """``approve`` with ``amount_fen`` (at most the entitlement); ``pay`` with the amount paid
    (at most the approved one; the approved one when left out); ``reject``."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^(approve|pay|reject)$", examples=["approve"])
    amount_fen: BodyInt | None = Field(default=None, ge=0, le=AMOUNT_MAX_FEN)
    on: IsoDate | None = Field(default=None, description="The day it happened (today if left out)")
    note: str | None = Field(default=None, max_length=500)


class PolicyTotals(BaseModel):
    policy_code: str
    policy_name: str
    budget_fen: int | None
    entitled: int = Field(description="Enterprises with a current entitlement")
    estimated_fen: int = Field(description="The current entitlements' amounts, not yet awarded")
    applied: int
    approved_fen: int
    paid_fen: int
    left_fen: int | None = Field(description="The budget less what was approved (or paid)")

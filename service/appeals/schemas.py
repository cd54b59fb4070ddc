"""What the requests (诉求), departments, categories and ratings API takes and returns."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from service.appeals.kinds import AppealKind, ChargeItem, ChargeRule, HandlerKind
from service.appeals.states import Action, AppealStatus
from service.core.types import BodyInt, IsoDate

_CODE = r"^[a-z0-9][a-z0-9-]{1,31}$"


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enterprise_id: BodyInt | None = Field(
        default=None, ge=1, le=2_147_483_647, description="The office only: for which enterprise"
    )
    kind: AppealKind
    bank_code: str | None = Field(
        default=None,
        max_length=32,
        description="The bank it concerns; taken from the lead or loan when one is given",
    )
    lead_id: BodyInt | None = Field(default=None, ge=1, le=2_147_483_647)
    loan_id: BodyInt | None = Field(default=None, ge=1, le=2_147_483_647)
    title: str = Field(min_length=1, max_length=80, examples=["贷款时被要求购买保险"])
    description: str = Field(min_length=1, max_length=2000)
    charge_rule: ChargeRule | None = Field(
        default=None, description="With `unreasonable_charge`: the 七不准 / 四公开 rule broken"
    )
    charge_item: ChargeItem | None = Field(default=None, description="What the charge was for")
    charge_amount_fen: BodyInt | None = Field(default=None, ge=0, le=10**13)
    offered_rate_bp: BodyInt | None = Field(
        default=None,
        ge=1,
        le=3000,
        description="With `rate_above_offer`: the rate offered (the lead's approved rate when "
        "a lead is given)",
    )
    charged_rate_bp: BodyInt | None = Field(default=None, ge=1, le=3000)
    show_to_bank: StrictBool = Field(
        default=False, description="The handling bank may see who raised it (and its files)"
    )


class AppealStep(BaseModel):
    """One step: ``text`` is the reason, answer, result or comment the action takes."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    text: str | None = Field(default=None, max_length=2000)
    category_code: str | None = Field(default=None, max_length=32, description="With accept")
    merge_into_id: BodyInt | None = Field(default=None, ge=1, le=2_147_483_647)
    bank_code: str | None = Field(default=None, max_length=32, description="Dispatch to a bank")
    department_code: str | None = Field(
        default=None, max_length=32, description="Dispatch to a department"
    )
    due_date: IsoDate | None = Field(
        default=None,
        description="With dispatch: instead of the category's working days from today",
    )
    rating: BodyInt | None = Field(default=None, description="With confirm: 1–5")

    @model_validator(mode="after")
    def _one_handler(self) -> "AppealStep":
        if self.bank_code is not None and self.department_code is not None:
            raise ValueError("交办给一家银行或一个部门，不能同时指定两者")
        return self


class AttachmentPublic(BaseModel):
    id: int
    filename: str
    media_type: str
    size_bytes: int
    uploaded_by_role: str
    created_at: datetime
    url: str


class AppealEventPublic(BaseModel):
    kind: str
    label: str
    from_status: str | None
    to_status: str
    actor_role: str
    actor_name: str
    data: dict[str, Any]
    at: datetime


class AppealPublic(BaseModel):
    id: int
    kind: AppealKind
    kind_label: str
    title: str
    description: str
    status: AppealStatus
    status_label: str
    enterprise_id: int | None = Field(description="Null for a bank the enterprise did not allow")
    enterprise_name: str | None
    district_code: str | None = None
    bank_code: str | None
    bank_name: str | None
    lead_id: int | None
    loan_id: int | None
    charge_rule: ChargeRule | None
    charge_rule_label: str | None
    charge_item: ChargeItem | None
    charge_amount_fen: int | None
    offered_rate_bp: int | None
    charged_rate_bp: int | None
    show_to_bank: bool
    category_code: str | None
    category_name: str | None
    merged_into_id: int | None
    handler_kind: HandlerKind | None
    handler_code: str | None
    handler_name: str | None
    dispatched_date: date | None
    due_date: date | None
    due_date_provisional: bool = Field(
        default=False,
        description="The due date was counted, at dispatch, over days of a year whose holiday "
        "notice was not out yet (the calendar's estimate: weekends and the expected festivals, "
        "no make-up working days). It stays so after the notice is published, since the date "
        "is not recomputed; the office may dispatch again to count it on the published "
        "calendar. A due date the office set itself is never provisional",
    )
    overdue: bool = Field(description="Past its due date and not answered")
    escalated_at: datetime | None
    late: bool
    answer: str | None
    answered_at: datetime | None
    result: str | None
    closed_at: datetime | None
    reopens: int
    reopen_reason: str | None
    rating: int | None
    rating_comment: str | None
    confirmed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    next_actions: list[Action] = Field(description="What the caller may do now")
    attachments: list[AttachmentPublic] = []
    events: list[AppealEventPublic] | None = Field(
        default=None, description="Every step, oldest first (in a single request's answer)"
    )


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE, examples=["wx-jrj"])
    name: str = Field(min_length=2, max_length=60, examples=["市地方金融监管局"])


class DepartmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=60)
    active: StrictBool | None = None


class DepartmentPublic(BaseModel):
    code: str
    name: str
    active: bool
    version: int


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=30)
    due_working_days: BodyInt | None = Field(default=None, ge=1, le=60)


class CategoryPublic(BaseModel):
    code: str
    name: str
    due_working_days: int
    version: int


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: BodyInt = Field(ge=1, le=2_147_483_647)
    score: BodyInt = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)
    show_name: StrictBool = Field(default=False, description="The bank may see who rated it")


class RatingPublic(BaseModel):
    id: int
    score: int
    comment: str | None
    subject: str = Field(description="lead or request")
    lead_id: int | None
    request_id: int | None
    request_kind: str | None
    bank_code: str | None
    bank_name: str | None
    department_code: str | None
    department_name: str | None
    product_id: int | None
    product_name: str | None
    enterprise_id: int | None = Field(description="Null for a bank unless the enterprise agreed")
    enterprise_name: str | None
    created_at: datetime

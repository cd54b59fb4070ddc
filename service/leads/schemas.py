"""What the leads API takes and returns."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from service.core.types import BodyInt, IsoDate
from service.leads.models import ContactRequestStatus, LeadSource
from service.leads.states import DeclineReason, LeadStatus


class LeadNeed(BaseModel):
    need_id: int
    amount_fen: int
    term_months: int
    purpose: str
    collateral: list[str]
    wanted_by_date: date | None


class LeadContact(BaseModel):
    name: str
    title: str | None = None
    phone: str | None = None
    email: str | None = None


class LeadEnterprise(BaseModel):
    """The enterprise in the tiers of the access policy: its public facts, and its private
    facts (figures, credit grade, contacts) only with its consent (the lead's, or its sharing
    with banks). A lead for a need that carries no consent names no enterprise: who it is and
    what it wants to borrow together would reveal the need."""

    cluster_code: str | None
    district_code: str | None
    size_class: str | None
    qualification_codes: list[str]
    registered_in_wuxi: bool
    enterprise_id: int | None = None
    name: str | None = None
    credit_code: str | None = None
    industry_code: str | None = None
    contacts: list[LeadContact] | None = None
    employees: int | None = Field(default=None, description="Only with consent")
    revenue_fen: int | None = Field(default=None, description="Only with consent")
    total_assets_fen: int | None = Field(default=None, description="Only with consent")
    credit_grade: str | None = Field(default=None, description="Only with consent")


class LeadAssignee(BaseModel):
    """The bank's person working the lead."""

    id: int = Field(examples=[12])
    name: str = Field(examples=["王经理"])


class AssigneeChange(BaseModel):
    assignee_user_id: BodyInt | None = Field(
        ge=1,
        le=2_147_483_647,
        description="A person of the lead's bank (active), or null: nobody",
        examples=[12],
    )


class LeadPublic(BaseModel):
    id: int
    status: LeadStatus
    source: LeadSource
    bank_code: str
    product_code: str
    product_name: str
    product_version: int
    score: float = Field(description="Match score (0–100) when the lead was made")
    config_version: int
    consented: bool
    version: int = Field(description="Send as If-Match (ETag) with a status change")
    seq: int = Field(description="Position in the bank's feed; grows with every change")
    contact_due_date: date = Field(description="First contact due by the end of this day")
    viewed_at: datetime | None
    first_contact_at: datetime | None
    sla_breached: bool
    reassigned_from_id: int | None
    declined_reason: DeclineReason | None
    note: str | None
    approved_amount_fen: int | None
    approved_rate_bp: int | None
    approved_term_months: int | None
    approved_date: date | None
    disbursed_amount_fen: int | None
    disbursed_rate_bp: int | None
    disbursed_date: date | None
    created_at: datetime
    updated_at: datetime
    need: LeadNeed | None
    enterprise: LeadEnterprise
    assignee: LeadAssignee | None = Field(
        default=None, description="The bank's person working the lead; null: nobody yet"
    )


class StatusChange(BaseModel):
    status: LeadStatus = Field(examples=["contacted"])
    reason: DeclineReason | None = Field(default=None, description="Required when declined")
    note: str | None = Field(default=None, max_length=500)
    amount_fen: BodyInt | None = Field(default=None, description="Approved or disbursed amount")
    rate_bp: BodyInt | None = Field(default=None, description="Approved or disbursed annual rate")
    term_months: BodyInt | None = None
    on_date: IsoDate | None = Field(
        default=None, description="Date of the decision or disbursement"
    )
    maturity_date: IsoDate | None = Field(
        default=None,
        description="Disbursed: when the loan matures (default: the disbursement date plus the "
        "term given here, at approval or in the need)",
    )
    contract_no: str | None = Field(
        default=None,
        max_length=64,
        description="Disbursed: the bank's loan contract number (default FM-L<lead id>)",
    )


class ApplicationRequest(BaseModel):
    product_code: str = Field(max_length=64, examples=["jsbank-wx-xikedai"])
    need_id: BodyInt | None = Field(default=None, ge=1, le=2_147_483_647)
    enterprise_id: BodyInt | None = Field(default=None, ge=1, le=2_147_483_647)


class ContactRequestCreate(BaseModel):
    prospect_id: str = Field(
        max_length=40, description="From the product's prospect list", examples=["need-12"]
    )
    message: str | None = Field(default=None, max_length=500)


class ContactRequestPublic(BaseModel):
    id: int
    bank_code: str
    bank_name: str | None
    product_code: str
    product_name: str
    enterprise_id: int | None = Field(description="Shown to the enterprise and the office")
    need_id: int | None
    message: str | None
    status: ContactRequestStatus
    lead_id: int | None
    created_at: datetime
    decided_at: datetime | None


class BankEventPublic(BaseModel):
    id: int
    seq: int
    bank_code: str | None
    district_code: str | None = Field(
        default=None, description="A district office's event (support policies): no bank"
    )
    type: str
    lead_id: int | None
    data: dict
    occurred_at: datetime


# A district office's events: an enterprise of the district became entitled to a support
# policy (service.policies publishes them).
DISTRICT_EVENT_TYPES = ("policy.entitled",)
EVENT_TYPES = (
    "lead.created",
    "lead.updated",
    "lead.withdrawn",
    "lead.sla_breached",
    "lead.assigned",
    # A bank's loans (service.loans publishes them into the same feed).
    "loan.reminder",
    "renewal.updated",
    "renewal.requested",
    "bridge.updated",
    # Requests (诉求) dispatched to the bank (service.appeals publishes them).
    "request.assigned",
    "request.updated",
    "request.overdue",
)


WEBHOOK_URL_RULES = (
    "https:// to a host that resolves to public addresses only (no loopback, private, "
    "link-local, multicast or reserved ones, in any spelling); no user:password@; no port "
    "below 1024 but 80 and 443. Checked again at every send."
)


class WebhookCreate(BaseModel):
    url: str = Field(
        max_length=500,
        description=WEBHOOK_URL_RULES,
        examples=["https://api.bank.example/finmatch/events"],
    )
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(
        default=None, description=f"Only these events (default all): {', '.join(EVENT_TYPES)}"
    )
    bank_code: str | None = Field(
        default=None,
        max_length=32,
        description="The office registers for a bank; a bank's key "
        "always registers for its own bank",
    )
    district_code: str | None = Field(
        default=None,
        max_length=32,
        description="The office registers a district office's endpoint: it receives "
        f"{', '.join(DISTRICT_EVENT_TYPES)} for the enterprises registered in the district",
    )


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=500, description=WEBHOOK_URL_RULES)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = None
    enabled: bool | None = None


class WebhookPublic(BaseModel):
    id: int
    bank_code: str | None
    district_code: str | None
    url: str
    description: str | None
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str | None = Field(
        description="whsec_… signing secret; shown only in this response (null in a replay of "
        "the answer to the same Idempotency-Key, which never stores it)"
    )


class AttemptPublic(BaseModel):
    at: datetime
    status_code: int | None = Field(
        description="The receiver's HTTP status; null when none arrived or nothing was sent"
    )
    error: str | None = Field(
        description="Null when delivered; else `HTTP 503`, the connection's failure "
        "(`ConnectTimeout: …`), or `<code>: <why>` when the URL was refused and nothing "
        "was sent (`webhook_url_not_public: …`). Never what the receiver answered.",
        examples=["HTTP 503"],
    )
    duration_ms: int = Field(description="From resolving the host to the answer's status")


class DeliveryPublic(BaseModel):
    id: int
    event_id: int
    event_type: str
    msg_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    log: list[AttemptPublic]


class LateLead(BaseModel):
    """A lead that a deadline check flags (in a simulation: would flag)."""

    lead_id: int
    bank_code: str
    enterprise_id: int
    need_id: int | None
    contact_due_date: date
    offered_to: list[str] = Field(
        description="Banks the need would be offered to instead (FINMATCH_SLA_REASSIGN)"
    )


class DeadlineSimulation(BaseModel):
    """What a deadline check as of ``as_of`` would do; nothing of it was written."""

    as_of: date
    breached: int = Field(description="Leads it would flag as not contacted in time")
    reassigned: int = Field(description="New leads it would offer to other banks")
    sample: list[LateLead] = Field(description="The first of the flagged leads (at most 20)")

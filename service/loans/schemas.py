"""What the loans API reads and answers, and how a stored row becomes an answer when that
needs nothing but the row (``columns``, ``case_public``)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.core.types import BodyInt, IsoDate
from service.loans.models import BridgeStatus, LoanKind, LoanSource, LoanStatus, RenewalCase
from service.loans.renewal import ALLOWED, CASE_LABEL, CaseStatus

FEN_MAX = 10**15


class LoanCreate(BaseModel):
    contract_no: str = Field(min_length=1, max_length=64, examples=["JS2026-0001"])
    enterprise_id: BodyInt | None = Field(default=None, ge=1, le=2_147_483_647)
    credit_code: str | None = Field(
        default=None, max_length=40, description="Instead of enterprise_id"
    )
    bank_code: str | None = Field(
        default=None, max_length=32, description="The office records for a bank; a bank's own"
    )
    product_code: str | None = Field(default=None, max_length=64)
    kind: LoanKind = LoanKind.working_capital
    principal_fen: BodyInt = Field(gt=0, le=FEN_MAX, examples=[500_000_000])
    rate_bp: BodyInt = Field(ge=0, le=3000, examples=[345])
    disbursed_date: IsoDate = Field(examples=["2026-01-15"])
    maturity_date: IsoDate = Field(examples=["2027-01-14"])


class ReasonPublic(BaseModel):
    code: str
    message: str


class EligibilityPublic(BaseModel):
    eligible: bool
    reasons: list[ReasonPublic] = Field(description="Why not: every reason")
    basis: str = Field(description="Why yes")


PROVISIONAL = (
    "The date was found on a year whose official holiday schedule (the State Council's "
    "notice) the calendar does not have yet: it may still move, and the reminder run "
    "recomputes it once the calendar learns the year"
)


class StagePublic(BaseModel):
    stage_days: int
    remind_date: date = Field(description="As sent, once sent; else as computed today")
    provisional: bool = Field(description=PROVISIONAL)
    sent: bool
    late: bool | None = None


class RenewalCasePublic(BaseModel):
    id: int
    loan_id: int
    status: CaseStatus
    status_label: str
    allowed_next: list[CaseStatus]
    version: int
    contacted_date: date | None
    committed_date: date | None
    committed_amount_fen: int | None
    no_principal: bool | None
    bridge_needed_date: date | None
    bridged_date: date | None
    renewed_date: date | None
    renewal_loan_id: int | None
    repaid_date: date | None
    failed_date: date | None
    failed_reason: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


BORROWER_SHOWN = (
    "Who the borrower is, for a bank only with the borrower's consent (it shares its details "
    "with banks, or consented to a lead of the bank); otherwise null"
)


class LoanPublic(BaseModel):
    id: int
    contract_no: str
    bank_code: str
    bank_name: str | None
    enterprise_id: int
    enterprise_name: str | None = Field(description=BORROWER_SHOWN)
    credit_code: str | None = Field(
        description=BORROWER_SHOWN + "; also in the answer to a request that named the borrower "
        "by its credit code"
    )
    product_code: str | None
    lead_id: int | None
    kind: LoanKind
    principal_fen: int
    rate_bp: int
    disbursed_date: date
    maturity_date: date
    status: LoanStatus
    source: LoanSource
    renewed_from_id: int | None
    closed_date: date | None
    version: int
    no_principal_renewal: EligibilityPublic = Field(
        description="May it be renewed without repaying principal first (无还本续贷)"
    )
    reminders: list[StagePublic] = Field(description="The reminder schedule and what was sent")
    renewal: RenewalCasePublic | None
    created_at: datetime
    updated_at: datetime


def columns(row: Any, exclude: set[str]) -> dict[str, Any]:
    """A table row's values as they are (model_dump would re-serialise plain strings that
    stand for enums, with a warning each)."""
    return {k: getattr(row, k) for k in type(row).model_fields if k not in exclude}


def case_public(case_row: RenewalCase) -> RenewalCasePublic:
    """A renewal case with its label and the steps that may follow."""
    status = CaseStatus(case_row.status)
    return RenewalCasePublic(
        **columns(case_row, exclude={"status"}),
        status=status,
        status_label=CASE_LABEL[status],
        allowed_next=[s for s in CaseStatus if s in ALLOWED[status]],
    )


class ReminderPublic(BaseModel):
    id: int
    loan_id: int
    contract_no: str
    bank_code: str
    enterprise_id: int
    enterprise_name: str | None = Field(description=BORROWER_SHOWN)
    principal_fen: int
    maturity_date: date
    stage_days: int
    remind_date: date
    provisional: bool = Field(description=PROVISIONAL)
    late: bool = Field(description="Sent after its date (the job had been down)")
    final: bool = Field(description="The last stage: the office is told too")
    created_at: datetime


RECOMPUTED = (
    "Provisional reminder dates this run made final (the calendar had learned their year's "
    "official holidays)"
)


class ReminderRunPublic(BaseModel):
    simulated: Literal[False] = Field(default=False, description="A real run: it was recorded")
    id: int
    as_of: date
    stages: list[int]
    reminders: int
    late: int
    recomputed: int = Field(description=RECOMPUTED)
    started_at: datetime
    finished_at: datetime | None
    trigger: str


class ReminderPreview(BaseModel):
    """A reminder a simulated run would send."""

    loan_id: int
    contract_no: str
    bank_code: str
    enterprise_id: int
    maturity_date: date
    stage_days: int
    remind_date: date
    provisional: bool
    late: bool
    final: bool


class ReminderRunSimulation(BaseModel):
    """What a run as of ``as_of`` would do; nothing of it was written."""

    simulated: Literal[True] = Field(
        default=True, description="A simulation: the run was rolled back, nothing was written"
    )
    as_of: date
    stages: list[int]
    reminders: int = Field(description="Reminders the run would send (one bank event each)")
    late: int
    recomputed: int = Field(description=RECOMPUTED)
    by_bank: dict[str, int] = Field(description="Reminders the run would send, per bank")
    sample: list[ReminderPreview] = Field(
        description="The first of them by reminder date (at most 20)"
    )


class RenewalChange(BaseModel):
    status: CaseStatus = Field(examples=["committed"])
    on_date: IsoDate | None = Field(default=None, description="When it happened (default today)")
    committed_amount_fen: BodyInt | None = Field(
        default=None, gt=0, le=FEN_MAX, description="committed: the renewal the bank commits"
    )
    no_principal: bool | None = Field(
        default=None, description="committed: renewed without repaying principal (无还本续贷)"
    )
    new_maturity_date: IsoDate | None = Field(default=None, description="renewed: required")
    new_principal_fen: BodyInt | None = Field(
        default=None, gt=0, le=FEN_MAX, description="renewed (default: the committed amount)"
    )
    new_rate_bp: BodyInt | None = Field(default=None, ge=0, le=3000, description="renewed")
    new_contract_no: str | None = Field(default=None, max_length=64, description="renewed")
    reason: str | None = Field(default=None, max_length=500, description="failed: required")
    note: str | None = Field(default=None, max_length=500)


class BridgeRequest(BaseModel):
    amount_fen: BodyInt = Field(gt=0, le=FEN_MAX, examples=[450_000_000])
    days: BodyInt = Field(ge=1, le=366, examples=[5])
    start_date: IsoDate | None = Field(default=None, description="Default: the loan's maturity")
    note: str | None = Field(default=None, max_length=500)


class BridgeQuote(BaseModel):
    loan_id: int
    eligible: bool
    reasons: list[ReasonPublic]
    amount_fen: int
    days: int
    max_amount_fen: int | None = Field(
        description="The most the bridge may be: the lower of 90% of the committed renewal and "
        "the maturing loan's principal (null until the bank commits the renewal)"
    )
    max_amount_basis: Literal["committed_share", "maturing_principal"] | None = Field(
        description="Which of the two caps applies"
    )
    max_amount_explanation: str | None = Field(description="Both figures, in Chinese")
    committed_share_fen: int | None = Field(description="90% of the committed renewal")
    principal_fen: int = Field(description="The maturing loan's principal")
    fee_fen: int | None = Field(description="Rounded half up to the fen, once on the total")
    fee_exact_fen: str | None = Field(description="Before rounding, as a decimal")
    fee_explanation: str | None
    start_date: date
    end_date: date


class BridgeApplicationPublic(BaseModel):
    id: int
    loan_id: int
    enterprise_id: int
    bank_code: str
    amount_fen: int
    days: int
    start_date: date
    end_date: date
    fee_fen: int
    committed_amount_fen: int
    status: BridgeStatus
    version: int
    note: str | None
    approved_date: date | None
    disbursed_date: date | None
    repaid_date: date | None
    repay_by_date: date | None = Field(
        description="Disbursement plus the days applied for: when it is due back"
    )
    days_used: int | None = Field(
        description="Days from disbursement to repayment (to today while still out), at least 1"
    )
    overdue_days: int | None = Field(
        description="Days used beyond the days applied for (0 when in time); a late repayment "
        "is recorded and flagged here, not refused"
    )
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class BridgeDecision(BaseModel):
    status: BridgeStatus = Field(examples=["approved"])
    on_date: IsoDate | None = Field(
        default=None,
        description="approved, disbursed, repaid: when it happened (default today; never "
        "ahead of today)",
    )
    note: str | None = Field(default=None, max_length=500)


class ImportRowError(BaseModel):
    field: str
    code: str
    message: str


class ImportRejected(BaseModel):
    row: int = Field(description="Spreadsheet row number (the header is row 1)")
    contract_no: str | None
    errors: list[ImportRowError]


class ImportReport(BaseModel):
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejected_rows: list[ImportRejected]

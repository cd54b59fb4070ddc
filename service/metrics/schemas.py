"""What the metrics API takes and returns. Counts are integers, money is fen, rates are basis
points; ratios and averages are rounded half up (rates to 4 decimals, hours, days and bp to
1) and are null when there is nothing to divide by."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FunnelGroup(StrEnum):
    bank = "bank"
    product = "product"
    scheme = "scheme"
    cluster = "cluster"
    district = "district"
    size_class = "size_class"
    ownership = "ownership"
    month = "month"


class AmountGroup(StrEnum):
    bank = "bank"
    product = "product"
    scheme = "scheme"
    ownership = "ownership"
    month = "month"


class DeclineGroup(StrEnum):
    bank = "bank"
    product = "product"
    ownership = "ownership"
    none = "none"


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"


class ReportQuery(BaseModel):
    """Which leads a report covers: created (Asia/Shanghai date) in [from, to], both optional
    and inclusive; of one bank (code) and one product (code) when given; of enterprises of one
    ownership type (``unknown``: not recorded), and whose type counts as 民营 (private) or,
    known, does not, when given."""

    from_date: date | None = None
    to_date: date | None = None
    bank: str | None = None
    product: str | None = None
    ownership: str | None = None
    private: bool | None = None


class ReportScope(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_date: date | None = Field(
        alias="from", description="First creation date covered (Asia/Shanghai); null: the first"
    )
    to: date | None = Field(description="Last creation date covered; null: up to today")
    bank: str | None = Field(description="Only this bank's leads")
    product: str | None = Field(description="Only this product's leads")
    ownership: str | None = Field(
        default=None, description="Only enterprises of this ownership type (unknown: not recorded)"
    )
    private: bool | None = Field(
        default=None,
        description="Only enterprises counted as 民营 (true) or, ownership known, not (false)",
    )
    as_of: date = Field(description="Today's business date, against which deadlines are judged")


class FunnelRow(BaseModel):
    """A lead counts at every stage up to the deepest it reached (a lead contacted without
    being marked viewed has passed viewing all the same), whatever ended it later."""

    key: str | None = Field(
        description="Bank code, product code, scheme, cluster or district code, size class, "
        "ownership code or month (YYYY-MM); null for leads without one (ownership: 未知), and "
        "on the total row"
    )
    label: str = Field(examples=["江苏银行"])
    leads: int = Field(description="Leads created")
    viewed: int
    contacted: int
    approved: int
    disbursed: int
    declined: int = Field(description="Leads declined by the bank, at whatever stage")
    withdrawn: int = Field(description="Leads withdrawn by the enterprise, at whatever stage")
    viewed_rate: float | None = Field(description="viewed / leads", examples=[0.75])
    contacted_rate: float | None = Field(description="contacted / leads")
    approved_rate: float | None = Field(description="approved / leads")
    disbursed_rate: float | None = Field(description="disbursed / leads")
    declined_rate: float | None = Field(description="declined / leads")
    withdrawn_rate: float | None = Field(description="withdrawn / leads")


class FunnelReport(BaseModel):
    scope: ReportScope
    group_by: FunnelGroup
    groups: list[FunnelRow]
    total: FunnelRow


class ResponseTimeRow(BaseModel):
    key: str | None = Field(description="Bank code; null on the total row")
    label: str = Field(examples=["江苏银行"])
    leads: int
    contacted: int = Field(description="Leads with a first contact")
    median_hours: float | None = Field(
        description="Median hours from the lead's creation to its first contact", examples=[20.5]
    )
    p90_hours: float | None = Field(
        description="90th percentile of those hours (nearest rank: the ⌈0.9·n⌉-th smallest)"
    )
    median_working_days: float | None = Field(
        description="Median working days from the creation date to the first contact date "
        "(the creation day not counted; mainland China's calendar with 调休)"
    )
    due_passed: int = Field(description="Leads whose first-contact due date is before as_of")
    measured: int = Field(description="Leads contacted or whose due date has passed")
    breaches: int = Field(
        description="First contact after the due date, or none by the due date (a lead the "
        "bank declined or the enterprise withdrew before it counts by its closing date)"
    )
    breach_rate: float | None = Field(description="breaches / measured")


class ResponseTimeReport(BaseModel):
    scope: ReportScope
    groups: list[ResponseTimeRow]
    total: ResponseTimeRow


class AmountRow(BaseModel):
    """Approved: every lead that reached approval, even if it ended otherwise later;
    disbursed: every disbursed lead. Averages are weighted by amount; the spread is over the
    1-year LPR in force on the approval or disbursement date (leads dated before any LPR
    fixing known are left out of the spread)."""

    key: str | None = Field(
        description="Bank code, product code, scheme, ownership code (null: 未知) or month "
        "(YYYY-MM)"
    )
    label: str = Field(examples=["江苏银行"])
    approved: int
    approved_amount_fen: int
    approved_avg_rate_bp: float | None = Field(examples=[325.0])
    approved_avg_spread_bp: float | None = Field(examples=[25.0])
    disbursed: int
    disbursed_amount_fen: int
    disbursed_avg_rate_bp: float | None = Field(examples=[320.5])
    disbursed_avg_spread_bp: float | None = Field(examples=[20.5])


class AmountReport(BaseModel):
    scope: ReportScope
    group_by: AmountGroup
    groups: list[AmountRow]
    total: AmountRow


class DeclineReasonCount(BaseModel):
    reason: str = Field(examples=["insufficient_collateral"])
    label: str = Field(examples=["担保或抵押不足"])
    count: int
    share: float = Field(description="count / declined of the group", examples=[0.25])


class DeclineGroupRow(BaseModel):
    key: str | None = Field(
        description="Bank, product or ownership code; null on the total (and for 未知)"
    )
    label: str
    declined: int
    reasons: list[DeclineReasonCount] = Field(description="Most frequent first")


class DeclineReport(BaseModel):
    scope: ReportScope
    group_by: DeclineGroup
    groups: list[DeclineGroupRow] = Field(description="Empty when group_by is none")
    total: DeclineGroupRow


# --- renewals -------------------------------------------------------------------------------


class MaturityScope(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_date: date | None = Field(alias="from", description="First maturity date covered")
    to: date | None = Field(description="Last maturity date covered")
    bank: str | None = Field(description="Only this bank's loans")
    product: str | None = Field(default=None, description="Only this product's loans")
    ownership: str | None = Field(
        default=None, description="Only borrowers of this ownership type (unknown: not recorded)"
    )
    private: bool | None = Field(
        default=None,
        description="Only borrowers counted as 民营 (true) or, ownership known, not (false)",
    )
    as_of: date = Field(description="Today's business date")


class RenewalRow(BaseModel):
    """Loans maturing in the period and what became of them. Compliance counts and rates are
    over the loans ``due``: maturity passed or inside the reminder window."""

    key: str | None = Field(description="Bank code; null on the total row")
    label: str = Field(examples=["江苏银行"])
    maturing: int = Field(description="Loans maturing in the period")
    due: int = Field(
        description="Of them, maturity passed or within the reminder window (the earliest "
        "reminder stage before maturity has come): the denominator of every rate"
    )
    principal_fen: int
    matured: int = Field(description="Of them, maturity date already passed")
    contacted_30: int = Field(
        description="Contacted about renewal at least 30 days before maturity"
    )
    contacted_30_rate: float | None
    renewed_before_maturity: int = Field(description="Renewed on or before the maturity date")
    renewed_before_maturity_rate: float | None
    renewed: int = Field(description="Renewed at any date")
    bridged: int = Field(description="Used the 转贷应急资金 bridge fund")
    bridged_rate: float | None
    failed: int = Field(description="Renewal failed")
    failed_rate: float | None
    repaid: int
    open: int = Field(description="No outcome yet")


class RenewalReport(BaseModel):
    scope: MaturityScope
    groups: list[RenewalRow]
    total: RenewalRow


class MaturityRow(BaseModel):
    key: str | None = Field(description="Month (YYYY-MM); null on the total row")
    label: str
    loans: int = Field(description="Active loans maturing in the month")
    principal_fen: int
    no_principal_eligible: int = Field(
        description="Of them, renewable without repaying principal (无还本续贷)"
    )
    contacted: int = Field(description="Of them, the bank has contacted the borrower")
    committed: int = Field(description="Of them, the bank has committed the renewal")


class MaturityReport(BaseModel):
    scope: MaturityScope
    groups: list[MaturityRow]
    total: MaturityRow

"""What the office's support-policy (政策直达) figures return: per policy, per district and per
industrial cluster, every amount (fen) beside the count it is made of."""

from datetime import date

from pydantic import BaseModel, Field


class PolicyScope(BaseModel):
    year: int = Field(description="The year covered", examples=[2026])
    as_of: date = Field(description="Today (Asia/Shanghai) when the figures were made")
    budget_on: date = Field(
        description="The day whose version in force gives the budget: today in the current "
        "year, 31 December of a past year, 1 January of a later one"
    )


class Figures(BaseModel):
    """One row's figures: the current entitlements of the year and the awards recorded."""

    entitled: int = Field(description="Current entitlements (one per enterprise and policy)")
    entitled_fen: int = Field(
        description="Their amounts as last evaluated: the most the rules allow (a yearly rule "
        "counts what was approved before, so an approved entitlement shows what is left)"
    )
    enterprises: int = Field(description="Distinct enterprises among them")
    estimated: int = Field(description="Of the entitlements, those not yet approved or paid")
    estimated_fen: int = Field(description="Their amounts: what may still be awarded")
    applied: int = Field(description="Awards recorded (every status: 已申报 onward)")
    awaiting: int = Field(description="Of them, applied for and not yet decided (已申报)")
    awaiting_fen: int = Field(description="The entitlements' amounts of those awaiting")
    approved: int = Field(description="Awards approved (paid ones included)")
    approved_fen: int = Field(description="The amounts approved")
    paid: int = Field(description="Awards paid")
    paid_fen: int = Field(description="The amounts paid")
    rejected: int = Field(description="Awards refused (未获批)")


class PolicyRow(Figures):
    policy_code: str
    policy_name: str
    yearly: bool = Field(description="False: a one-off award (period once)")
    department_name: str | None
    budget_fen: int | None = Field(description="The budget of the version in force")
    budget_approved_fen: int = Field(
        description="What the budget is drawn on: the year's approvals for a yearly policy, "
        "every year's for a one-off award (its budget is in all)"
    )
    left_fen: int | None = Field(description="budget_fen − budget_approved_fen")
    used_share: float | None = Field(description="budget_approved_fen / budget_fen (4 places)")


class GroupRow(Figures):
    key: str | None = Field(description="District or cluster code; null: none recorded, total")
    label: str
    tier: str | None = Field(default=None, description="The cluster's tier, in words")


class GroupTable(BaseModel):
    rows: list[GroupRow] = Field(
        description="Every district (or cluster) in the reference order, zeros included; an "
        "unknown code under itself; then the enterprises with none recorded"
    )
    total: GroupRow


class PolicyReport(BaseModel):
    """The support policies of one year: yearly policies count that year's periods; a one-off
    award counts in the year its entitlement was found (an award recorded with no
    entitlement, in the year it was applied for)."""

    scope: PolicyScope
    policies: list[PolicyRow]
    total: Figures = Field(description="Every policy's figures added up")
    by_district: GroupTable = Field(description="By the enterprise's district")
    by_cluster: GroupTable = Field(description="By the enterprise's industrial cluster")


class EntitlementLine(BaseModel):
    """One entitlement of the year (current, or lapsed) with the award recorded for it."""

    entitlement_id: int
    enterprise_id: int
    enterprise_name: str
    credit_code: str
    district_name: str | None
    cluster_name: str | None
    policy_code: str
    policy_name: str
    period: str
    amount_fen: int
    found_date: date = Field(description="The day (Asia/Shanghai) it was found")
    lapsed_date: date | None = Field(
        default=None, description="The day (Asia/Shanghai) a later evaluation no longer found it"
    )
    grant_id: int | None
    grant_status: str | None
    grant_status_label: str = Field(description="未申报 when no award is recorded")
    grant_version: int | None
    applied_date: date | None
    approved_fen: int | None
    paid_fen: int | None

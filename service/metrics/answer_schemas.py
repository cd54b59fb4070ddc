"""What the office's three questions answer: which banks convert (``ConversionReport``), where
leads stall (``StallReport``), which clusters and districts are underserved (``AreaReport``).
Ratios are rounded half up to 4 decimals, days to 1, and are null when there is nothing to
divide by or no lead to measure."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AnswerFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class AreaGroup(StrEnum):
    district = "district"
    cluster = "cluster"


class AnswerScope(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_date: date | None = Field(alias="from", description="First date covered; null: the first")
    to: date | None = Field(description="Last date covered; null: today")
    private: bool | None = Field(
        description="Only 民营 (true) or only non-民营 (false) enterprises"
    )
    as_of: date = Field(description="Today (Asia/Shanghai) when the report was made")


class ConversionRow(BaseModel):
    """One bank's leads made in the period and how far they went. Every rate is over
    ``leads``; a lead counts as contacted when it reached 已联系 or further (approved,
    disbursed, or declined/withdrawn after a first contact), likewise approved and disbursed."""

    key: str | None = Field(description="Bank code; null on the city row")
    label: str = Field(examples=["江苏银行"], description="The bank's name; 全市 on the city row")
    leads: int = Field(description="Leads made in the period")
    contacted: int
    contact_rate: float | None
    approved: int
    approval_rate: float | None
    disbursed: int
    disbursement_rate: float | None
    median_days_to_contact: float | None = Field(
        description="Median days from a lead's creation to its first contact, over the leads "
        "contacted"
    )
    small_sample: bool = Field(
        description="Fewer leads than ``min_sample``: listed after the ranked banks"
    )
    rank: int | None = Field(description="1 = best contact rate; null for a small sample")


class ConversionReport(BaseModel):
    scope: AnswerScope
    min_sample: int = Field(description="Leads a bank needs to be ranked")
    groups: list[ConversionRow] = Field(
        description="Ranked banks by contact rate (then approval, disbursement), then the "
        "banks with a small sample in the same order"
    )
    city: ConversionRow = Field(description="Every lead of the period: the city's average")


class WaitFigures(BaseModel):
    count: int
    median_days: float | None = Field(description="Median days waiting")
    oldest_days: int | None = Field(description="Days the longest-waiting one has waited")


class StallBank(WaitFigures):
    key: str
    label: str = Field(description="The bank's name")


class StallStage(WaitFigures):
    stage: str = Field(description="new | viewed | contacted | approved")
    label: str = Field(examples=["已查看未联系"])
    since: str = Field(description="Which timestamp the days are counted from")
    banks: list[StallBank] = Field(description="Per bank, the most waiting first")


class UnreachedReason(WaitFigures):
    reason: str = Field(description="no_consent | out_of_service_area | no_product | pending")
    label: str


class StallReport(BaseModel):
    """Now, not in a period: open leads per stage and how long since they entered it; open
    needs that reached no bank, per reason (in the order the service decides)."""

    as_of: date
    stages: list[StallStage]
    unreached: WaitFigures = Field(description="Open needs with no lead at all")
    unreached_reasons: list[UnreachedReason]


class AreaRow(BaseModel):
    key: str | None = Field(description="Cluster or district code; null: not recorded")
    label: str
    enterprises: int = Field(description="Enterprises in the library")
    needs: int = Field(description="Needs posted in the period")
    needs_no_bank: int = Field(description="Of them, needs that reached no bank (no lead)")
    no_bank_share: float | None
    disbursed_fen: int = Field(description="Disbursed on leads made in the period (fen)")


class AreaReport(BaseModel):
    scope: AnswerScope
    group_by: str = Field(description="cluster | district")
    groups: list[AreaRow]
    total: AreaRow

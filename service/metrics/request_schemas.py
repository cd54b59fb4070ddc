"""What the office's request (诉求) and satisfaction figures return. Every rate comes with the
counts it is made of; rates are rounded half up to 4 decimals, averages to 2 and days to 1,
and are null when there is nothing to divide by. Rows name banks, products, departments,
districts and kinds; the code is beside the name as ``key``."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class RequestScope(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_date: date = Field(alias="from", description="First date covered (Asia/Shanghai)")
    to: date = Field(description="Last date covered, inclusive")
    quarter: str | None = Field(
        description="The quarter covered (e.g. 2026Q4) when the period is one", examples=["2026Q4"]
    )
    as_of: date = Field(description="Today (Asia/Shanghai) when the report was made")


class CountRow(BaseModel):
    key: str | None = Field(description="Code of the group; null: none recorded, or the total")
    label: str = Field(examples=["不合理收费"])
    raised: int = Field(description="Requests raised in the period")


class OnTime(BaseModel):
    answered: int = Field(description="Requests whose (latest) answer was given in the period")
    on_time: int = Field(description="Of them, those with no deadline missed (late is false)")
    rate: float | None = Field(description="on_time / answered")


class Closing(BaseModel):
    closed: int = Field(description="Requests whose (latest) closing was in the period")
    median_days: float | None = Field(
        description="Median calendar days (Asia/Shanghai dates) from raised to closed"
    )
    reopened: int = Field(description="Of the requests closed, those reopened at least once")
    reopen_rate: float | None = Field(description="reopened / closed")


class RatingRow(BaseModel):
    key: str | None = Field(description="Bank code, product id or request kind")
    label: str
    ratings: int = Field(description="Ratings given in the period")
    average: float | None = Field(description="Average score (1–5)")
    lead_ratings: int = Field(description="Of them, ratings of a bank's service on a lead")
    request_ratings: int = Field(description="Of them, ratings of a request's handling")


class RatingTable(BaseModel):
    rows: list[RatingRow] = Field(description="Best average first, then most ratings")
    total: RatingRow = Field(description="Every rating the rows count (合计)")


class OverdueItem(BaseModel):
    id: int
    enterprise_name: str
    kind_label: str
    handler_name: str
    due_date: date
    days_overdue: int = Field(description="Calendar days from the due date to today")
    escalated_at: datetime | None


class RequestReport(BaseModel):
    """Requests raised in the period (by kind, by the bank concerned, by handler, by the
    enterprise's district); how they were handled (answered on time, closed, reopened);
    satisfaction; and, now, the open requests past their due date."""

    scope: RequestScope
    raised: int = Field(description="Requests raised in the period (every status)")
    by_kind: list[CountRow]
    by_bank: list[CountRow] = Field(description="By the bank the request concerns")
    by_handler: list[CountRow] = Field(
        description="By the department it is dispatched to; requests with a bank handler are "
        "one row 银行承办, those not dispatched one row 未交办"
    )
    by_district: list[CountRow] = Field(description="By the enterprise's district")
    on_time: OnTime
    closing: Closing
    satisfaction: RatingRow = Field(description="Every rating given in the period")
    satisfaction_by_bank: RatingTable = Field(
        description="Ratings of a bank's service: of its leads, and of requests it handled"
    )
    satisfaction_by_product: RatingTable = Field(description="Ratings of leads, by product")
    satisfaction_by_kind: RatingTable = Field(
        description="Ratings of requests, by kind (every kind, in order; departments' too)"
    )
    open_overdue: int = Field(
        description="Requests with their handler (dispatched) past their due date, today"
    )

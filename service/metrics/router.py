"""HTTP for the office's metrics: read-only reports over leads and loans, as JSON or CSV (the
use cases check who asks)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlmodel import Session

from service.access.dependencies import Caller
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.tables import EXPORT_MEDIA_TYPES
from service.core.types import IsoDate
from service.metrics import (
    answer_exports,
    answers,
    exports,
    policies,
    policy_report,
    request_report,
    requests,
    service,
)
from service.metrics.answer_schemas import (
    AnswerFormat,
    AreaGroup,
    AreaReport,
    ConversionReport,
    StallReport,
)
from service.metrics.policy_schemas import PolicyReport
from service.metrics.request_schemas import RequestReport
from service.metrics.schemas import (
    AmountGroup,
    AmountReport,
    DeclineGroup,
    DeclineReport,
    FunnelGroup,
    FunnelReport,
    MaturityReport,
    RenewalReport,
    ReportFormat,
    ReportQuery,
    ResponseTimeReport,
)

router = APIRouter(tags=["metrics"])
SessionDep = Annotated[Session, Depends(get_session)]


def report_query(
    from_date: Annotated[
        IsoDate | None,
        Query(
            alias="from",
            description="First creation date (Asia/Shanghai) of the leads covered, inclusive",
            examples=["2026-11-01"],
        ),
    ] = None,
    to_date: Annotated[
        IsoDate | None,
        Query(
            alias="to", description="Last creation date covered, inclusive", examples=["2026-11-30"]
        ),
    ] = None,
    bank: Annotated[
        str | None, Query(max_length=32, description="Only this bank's leads (bank code)")
    ] = None,
    product: Annotated[
        str | None, Query(max_length=64, description="Only this product's leads (product code)")
    ] = None,
    ownership: Annotated[
        str | None,
        Query(
            max_length=16,
            description="Only enterprises of this ownership type (/reference/ownership-types), "
            "or `unknown` for those whose ownership is not recorded",
            examples=["private"],
        ),
    ] = None,
    private: Annotated[
        bool | None,
        Query(
            description="true: only enterprises whose ownership counts as 民营企业 (the office's "
            "mapping); false: only those whose known ownership does not"
        ),
    ] = None,
) -> ReportQuery:
    return ReportQuery(
        from_date=from_date,
        to_date=to_date,
        bank=bank,
        product=product,
        ownership=ownership,
        private=private,
    )


QueryDep = Annotated[ReportQuery, Depends(report_query)]
FormatParam = Annotated[
    ReportFormat,
    Query(
        alias="format",
        description="json, or csv (UTF-8 with a byte-order mark, for Excel; a header line, "
        "then one line per group and the total)",
    ),
]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
RESPONSES = {**CSV_RESPONSE, **problem_responses(404, 422)}
OWNERSHIP_NOTE = (
    " `private=true` keeps the enterprises counted as 民营企业, `private=false` those whose "
    "known ownership is not (unknown ownership is in neither), `ownership=` one type or "
    "`unknown`: an unknown type is a 422 `unknown_ownership` with suggestions."
)
PERIOD_NOTE = (
    " Leads created (Asia/Shanghai date) from `from` to `to`, both inclusive and optional, "
    "of one `bank` and one `product` when given; `from` after `to` is a 422 `invalid_period`, "
    "an unknown bank or product a 404." + OWNERSHIP_NOTE + " `format=csv` answers the same "
    "figures as a CSV attachment."
)


def _csv(content: bytes, filename: str) -> Response:
    return Response(
        content=content,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/metrics/funnel",
    operation_id="metricsFunnel",
    summary="Conversion funnel",
    description="Per group and in total: leads created, viewed, contacted, approved and "
    "disbursed, and those declined or withdrawn, each also as a share of the leads created "
    "(4 decimals; null when there are no leads). A lead counts at every stage up to the "
    "deepest it reached, even if declined or withdrawn later. `group_by` is one of bank, "
    "product, scheme, cluster, district, size_class, ownership (the enterprise's 控股情况; "
    "未知 when not recorded), month (the month the lead was created)." + PERIOD_NOTE,
    response_model=FunnelReport,
    responses=RESPONSES,
)
def funnel(
    principal: Caller,
    session: SessionDep,
    query: QueryDep,
    group_by: Annotated[FunnelGroup, Query(description="What to group the leads by")],
    output: FormatParam = ReportFormat.json,
) -> FunnelReport | Response:
    report = service.funnel_report(session, principal, query, group_by)
    if output == ReportFormat.csv:
        return _csv(exports.funnel_csv(report), exports.csv_filename("funnel", query, group_by))
    return report


@router.get(
    "/metrics/response-times",
    operation_id="metricsResponseTimes",
    summary="First-contact times and deadline breaches per bank",
    description="Per bank and in total: leads, leads contacted, the median and 90th "
    "percentile (nearest rank) of hours from a lead's creation to its first contact, the "
    "median working days, how many leads' first-contact due dates have passed, breaches (first "
    "contact after the due date, or none by it) and the breach rate over the leads contacted "
    "or past their due date." + PERIOD_NOTE,
    response_model=ResponseTimeReport,
    responses=RESPONSES,
)
def response_times(
    principal: Caller, session: SessionDep, query: QueryDep, output: FormatParam = ReportFormat.json
) -> ResponseTimeReport | Response:
    report = service.response_time_report(session, principal, query)
    if output == ReportFormat.csv:
        return _csv(
            exports.response_times_csv(report), exports.csv_filename("response-times", query)
        )
    return report


@router.get(
    "/metrics/amounts",
    operation_id="metricsAmounts",
    summary="Amounts approved and disbursed, rates and spreads",
    description="Per group and in total: leads approved and disbursed with their amounts "
    "(fen), the amount-weighted average rate (bp) and spread over the 1-year LPR in force on "
    "the approval or disbursement date (bp). `group_by` is one of bank, product, scheme, "
    "ownership (控股情况; 未知 when not recorded), month (the month the lead was created); "
    "with `private=true`, the loans to 民营企业 and their cost." + PERIOD_NOTE,
    response_model=AmountReport,
    responses=RESPONSES,
)
def amounts(
    principal: Caller,
    session: SessionDep,
    query: QueryDep,
    group_by: Annotated[AmountGroup, Query(description="What to group the leads by")],
    output: FormatParam = ReportFormat.json,
) -> AmountReport | Response:
    report = service.amount_report(session, principal, query, group_by)
    if output == ReportFormat.csv:
        return _csv(exports.amounts_csv(report), exports.csv_filename("amounts", query, group_by))
    return report


@router.get(
    "/metrics/decline-reasons",
    operation_id="metricsDeclineReasons",
    summary="Why banks declined leads",
    description="Declined leads per reason, with the reason's Chinese label and its share of "
    "the declined leads, most frequent first; per bank, product or ownership, or only in "
    "total (`group_by=none`)." + PERIOD_NOTE,
    response_model=DeclineReport,
    responses=RESPONSES,
)
def decline_reasons(
    principal: Caller,
    session: SessionDep,
    query: QueryDep,
    group_by: Annotated[
        DeclineGroup, Query(description="bank, product, ownership, or none for the total only")
    ] = DeclineGroup.none,
    output: FormatParam = ReportFormat.json,
) -> DeclineReport | Response:
    report = service.decline_report(session, principal, query, group_by)
    if output == ReportFormat.csv:
        return _csv(
            exports.decline_reasons_csv(report),
            exports.csv_filename("decline-reasons", query, group_by),
        )
    return report


MATURITY_NOTE = (
    " Loans maturing from `from` to `to` (both inclusive and optional), of one `bank` when "
    "given; `from` after `to` is a 422 `invalid_period`, an unknown bank a 404."
    + OWNERSHIP_NOTE
    + " `format=csv` answers the same figures as a CSV attachment."
)


@router.get(
    "/metrics/renewals",
    operation_id="metricsRenewals",
    summary="Renewal compliance per bank",
    description="Per bank and in total, over the loans maturing in the period: how many the "
    "bank contacted about renewal at least 30 days before maturity, renewed on or before the "
    "maturity date, bridged with the 转贷应急资金, whose renewal failed, repaid, and still "
    "open. These are counted over the loans `due` (maturity passed or within the reminder "
    "window, the earliest of FINMATCH_REMINDER_STAGES days ahead) and each is a share of them "
    "(4 decimals); `maturing` counts every loan of the period." + MATURITY_NOTE,
    response_model=RenewalReport,
    responses=RESPONSES,
)
def renewals(
    principal: Caller, session: SessionDep, query: QueryDep, output: FormatParam = ReportFormat.json
) -> RenewalReport | Response:
    report = service.renewal_report(session, principal, query)
    if output == ReportFormat.csv:
        return _csv(exports.renewals_csv(report), exports.csv_filename("renewals", query))
    return report


@router.get(
    "/metrics/maturities",
    operation_id="metricsMaturities",
    summary="Upcoming maturities by month",
    description="Active loans by month of maturity (from today unless `from` is given): how "
    "many and how much, how many may renew without repaying principal, and how many the bank "
    "has contacted or committed to renew." + MATURITY_NOTE,
    response_model=MaturityReport,
    responses=RESPONSES,
)
def maturities(
    principal: Caller, session: SessionDep, query: QueryDep, output: FormatParam = ReportFormat.json
) -> MaturityReport | Response:
    report = service.maturity_report(session, principal, query)
    if output == ReportFormat.csv:
        return _csv(exports.maturities_csv(report), exports.csv_filename("maturities", query))
    return report


# --- the office's three questions -------------------------------------------------------------


def answer_query(
    from_date: Annotated[
        IsoDate | None,
        Query(
            alias="from",
            description="First creation date (Asia/Shanghai) of the leads and needs covered",
            examples=["2026-11-01"],
        ),
    ] = None,
    to_date: Annotated[
        IsoDate | None,
        Query(alias="to", description="Last creation date covered, inclusive"),
    ] = None,
    private: Annotated[
        bool | None,
        Query(
            description="true: only enterprises whose ownership counts as 民营企业; false: only "
            "those whose known ownership does not"
        ),
    ] = None,
) -> ReportQuery:
    return ReportQuery(from_date=from_date, to_date=to_date, private=private)


AnswerQueryDep = Annotated[ReportQuery, Depends(answer_query)]
ANSWER_PERIOD_NOTE = (
    " Leads (and needs) created (Asia/Shanghai date) from `from` to `to`, both inclusive and "
    "optional; `from` after `to` is a 422 `invalid_period`. `private=true` keeps the "
    "enterprises counted as 民营企业, `private=false` those whose known ownership is not. "
    "`format=csv` or `xlsx` answers the same figures as a file."
)
AnswerFormatParam = Annotated[
    AnswerFormat,
    Query(alias="format", description="json, csv (UTF-8 with a byte-order mark) or xlsx"),
]
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            EXPORT_MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        }
    },
    **problem_responses(422),
}


def _file(content: bytes, fmt: AnswerFormat, stem: str, query: ReportQuery | None) -> Response:
    name = exports.csv_filename(stem, query)[: -len(".csv")] if query else f"finmatch_{stem}"
    return Response(
        content=content,
        media_type=EXPORT_MEDIA_TYPES[fmt.value],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )


@router.get(
    "/metrics/conversion",
    operation_id="metricsConversion",
    summary="Which banks convert",
    description="Per bank (by name) over the leads made in the period: leads, contacted "
    "(reached 已联系 or further), approved (已批复 or further), disbursed, each also as a share "
    "of the leads made, and the median days from a lead to its first contact; ranked by "
    "contact rate (then approval, disbursement). A bank with fewer than `min_sample` leads is "
    "marked `small_sample`, not ranked, and listed after the others. `city` is every lead of "
    "the period: the city's average." + ANSWER_PERIOD_NOTE,
    response_model=ConversionReport,
    responses=FILE_RESPONSES,
)
def conversion(
    principal: Caller,
    session: SessionDep,
    query: AnswerQueryDep,
    output: AnswerFormatParam = AnswerFormat.json,
) -> ConversionReport | Response:
    report = answers.conversion_report(session, principal, query)
    if output != AnswerFormat.json:
        return _file(answer_exports.conversion_file(report, output), output, "conversion", query)
    return report


@router.get(
    "/metrics/stalls",
    operation_id="metricsStalls",
    summary="Where leads stall, now",
    description="Open leads at each stage (new 未查看, viewed 已查看未联系, contacted 已联系未批复, "
    "approved 已批复未放款), per bank, with the median and the longest days since they entered "
    "the stage (created_at, viewed_at, first_contact_at, approved_date); and the open needs "
    "that reached no bank, per reason in the order the service decides: no_consent (the "
    "enterprise did not agree to share), out_of_service_area (FINMATCH_SERVICE_AREA, by the "
    "credit code's area), no_product (no eligible product of a bank it allows), pending.",
    response_model=StallReport,
    responses=FILE_RESPONSES,
)
def stalls(
    principal: Caller, session: SessionDep, output: AnswerFormatParam = AnswerFormat.json
) -> StallReport | Response:
    report = answers.stalls_report(session, principal)
    if output != AnswerFormat.json:
        return _file(answer_exports.stalls_file(report, output), output, "stalls", None)
    return report


@router.get(
    "/metrics/areas",
    operation_id="metricsAreas",
    summary="Underserved clusters and districts",
    description="Per district or cluster (`group_by`): enterprises in the library, needs "
    "posted in the period, those that reached no bank (no lead was made), their share, and "
    "the amount disbursed (fen) on leads made in the period." + ANSWER_PERIOD_NOTE,
    response_model=AreaReport,
    responses=FILE_RESPONSES,
)
def areas(
    principal: Caller,
    session: SessionDep,
    query: AnswerQueryDep,
    group_by: Annotated[AreaGroup, Query(description="district or cluster")] = AreaGroup.district,
    output: AnswerFormatParam = AnswerFormat.json,
) -> AreaReport | Response:
    report = answers.areas_report(session, principal, query, group_by.value)
    if output != AnswerFormat.json:
        return _file(answer_exports.areas_file(report, output), output, f"areas-{group_by}", query)
    return report


# --- requests (诉求) and satisfaction ---------------------------------------------------------

QuarterParam = Annotated[
    str | None,
    Query(
        max_length=16,
        description="A quarter written YYYYQn, e.g. 2026Q4 (not with from/to); a malformed one "
        "is a 422 `invalid_quarter`",
        examples=["2026Q4"],
    ),
]
REQUEST_DEFINITIONS = (
    " Raised: requests created in the period (Asia/Shanghai dates), every status. On time: of "
    "the requests whose latest answer falls in the period, those of which no deadline was "
    "missed (`late` false: never escalated, every answer by its due date). Days to close: the "
    "median of calendar days from the date raised to the date closed, over the requests whose "
    "latest closing falls in the period; the reopen rate is the share of those reopened at "
    "least once. Satisfaction: ratings given in the period, by bank (leads and requests it "
    "handled), by product (leads), by request kind (requests). Open overdue: today, requests "
    "with their handler past their due date."
)


@router.get(
    "/metrics/requests",
    operation_id="metricsRequests",
    summary="Requests (诉求) and satisfaction",
    description="The office's figures on enterprises' requests and ratings for a period: "
    "`quarter`, or `from`/`to` (a missing end is the end of the other's quarter, a missing "
    "start its start), by default the current quarter; `from` after `to`, or a quarter with "
    "dates, is a 422 `invalid_period`. Rows name banks, products, departments, districts and "
    "kinds, every rate with its counts." + REQUEST_DEFINITIONS,
    response_model=RequestReport,
    responses=problem_responses(422),
)
def request_metrics(
    principal: Caller,
    session: SessionDep,
    quarter: QuarterParam = None,
    from_date: Annotated[
        IsoDate | None,
        Query(alias="from", description="First date covered (Asia/Shanghai), inclusive"),
    ] = None,
    to_date: Annotated[
        IsoDate | None, Query(alias="to", description="Last date covered, inclusive")
    ] = None,
) -> RequestReport:
    return requests.request_report(session, principal, quarter, from_date, to_date)


@router.get(
    "/metrics/requests/quarterly.xlsx",
    operation_id="metricsRequestsQuarterly",
    summary="The quarterly report on requests, as a workbook",
    description="For the 季度交办会: one XLSX workbook of the quarter (`quarter`, by default the "
    "current one) with a sheet per table of `/metrics/requests` (概况, 按诉求类型, 按涉及银行, "
    "按承办单位, 按区域, 满意度-按银行, 满意度-按产品, 满意度-按诉求类型) and a sheet of the open "
    "overdue requests today (逾期未办结). Text cells are text, never formulas."
    + REQUEST_DEFINITIONS,
    responses={
        200: {
            "content": {
                EXPORT_MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}
            }
        },
        **problem_responses(422),
    },
)
def request_quarterly(
    principal: Caller, session: SessionDep, quarter: QuarterParam = None
) -> Response:
    content, filename = request_report.quarterly_workbook(session, principal, quarter)
    return Response(
        content=content,
        media_type=EXPORT_MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- support policies (政策直达) ------------------------------------------------------------

YearParam = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="The year covered (this year by default)", examples=[2026]),
]
POLICY_DEFINITIONS = (
    " A yearly policy counts the year's periods; a one-off award counts in the year its "
    "entitlement was found (Asia/Shanghai), an award recorded without one in the year it was "
    "applied for. Entitled: current entitlements (lapsed ones left out) and their amounts, the "
    "most the rules allow; estimated: those not yet approved or paid; awaiting: those applied "
    "for and not yet decided. Applied: awards recorded, every status; approved: approved or "
    "paid, with the amount approved; paid: with the amount paid. Budget: the version in force "
    "today (31 December of a past year); left: the budget less the year's approvals (a one-off "
    "award's budget is in all: less every year's)."
)


@router.get(
    "/metrics/policies",
    operation_id="metricsPolicies",
    summary="Support policies (政策直达): entitlements, awards and budgets",
    description="Per policy, per district and per industrial cluster (with its tier): the "
    "current entitlements of the year (count, enterprises, amount), those not yet awarded, "
    "the awards applied for, approved, paid and rejected with their amounts (fen), and each "
    "policy's budget, what is drawn on it and what is left. Office only." + POLICY_DEFINITIONS,
    response_model=PolicyReport,
    responses=problem_responses(403, 422),
)
def policy_metrics(principal: Caller, session: SessionDep, year: YearParam = None) -> PolicyReport:
    return policies.policy_report(session, principal, year)


@router.get(
    "/metrics/policies.xlsx",
    operation_id="metricsPoliciesWorkbook",
    summary="The year's support-policy report, as a workbook",
    description="One XLSX workbook of `/metrics/policies`: 概况 (each figure and what it "
    "means), 按政策, 按区县, 按产业集群, and 企业明细 (every current entitlement of the year: "
    "enterprise, credit code, district, cluster, policy, period, amount in 元, the day it was "
    "found, the award's status and amounts). Text cells are text, never formulas. Office only."
    + POLICY_DEFINITIONS,
    responses={
        200: {
            "content": {
                EXPORT_MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}
            }
        },
        **problem_responses(403, 422),
    },
)
def policy_workbook(principal: Caller, session: SessionDep, year: YearParam = None) -> Response:
    content, filename = policy_report.yearly_workbook(session, principal, year)
    return Response(
        content=content,
        media_type=EXPORT_MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""HTTP for loans: recording and importing loans, reminders, renewal cases, the bridge fund.
Each operation parses the request, calls one use case with the caller and shapes the answer;
who may do what is decided by the use cases."""

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Response,
    UploadFile,
    status,
)
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core import tables
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.idempotency import file_digest
from service.core.pagination import Page, PageDep
from service.core.types import Digits, IsoDate
from service.loans import bridge_applications, import_service, reminders, renewal_cases, service
from service.loans.bridge_applications import bridge_public
from service.loans.models import BridgeStatus, LoanStatus
from service.loans.renewal import CaseStatus
from service.loans.schemas import (
    BridgeApplicationPublic,
    BridgeDecision,
    BridgeQuote,
    BridgeRequest,
    ImportReport,
    LoanCreate,
    LoanPublic,
    ReminderPublic,
    ReminderRunPublic,
    ReminderRunSimulation,
    RenewalCasePublic,
    RenewalChange,
    case_public,
)

router = APIRouter(tags=["loans"])
SessionDep = Annotated[Session, Depends(get_session)]
LoanId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Loan id", examples=[1]), Digits]
BridgeId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Application id"), Digits]
IfMatch = Annotated[str | None, Header(description="ETag of the version the change is based on")]


@router.post(
    "/loans",
    operation_id="createLoan",
    status_code=status.HTTP_201_CREATED,
    summary="Record a loan",
    description="A bank records one of its loans (the office, for a bank): the enterprise by "
    "credit code, or by id when the bank may know who it is (it shares its details with banks, "
    "or consented to one of the bank's leads; any other id is answered as an unknown one, a "
    "422 `unknown_enterprise`), principal in fen, rate in basis points, disbursement and "
    "maturity dates. The answer names the borrower only as far as the bank may know it. A "
    "contract number the bank already has is a 409. Loans are also recorded when a lead is "
    "reported disbursed, and imported in bulk (`POST /loans/import`).",
    response_model=LoanPublic,
    responses=problem_responses(403, 409, 422),
)
def create_loan(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        LoanCreate,
        Body(
            openapi_examples={
                "loan": {
                    "summary": "A working-capital loan",
                    "value": {
                        "contract_no": "JS2026-0001",
                        "credit_code": "91320200134757148J",
                        "principal_fen": 500_000_000,
                        "rate_bp": 345,
                        "disbursed_date": "2026-01-15",
                        "maturity_date": "2027-01-14",
                    },
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        loan = service.create_loan(session, principal, data)
        return 201, loan, {"ETag": etag(loan.version)}

    return retry.answer(data.model_dump(mode="json"), call)


@router.post(
    "/loans/import",
    operation_id="importLoans",
    summary="Import loans from a CSV or XLSX file",
    description="Multipart upload (`file`). Columns by Chinese or English header, any order: "
    "合同编号, 统一社会信用代码, 本金 (元 / 万元 / 分, the header's unit is used), 利率 (% or "
    "基点), 放款日, 到期日, and optionally 贷款类型 (流动资金 / 项目贷款), 产品代码, 状态 "
    "(正常 / 已结清), 银行代码 (office imports). CSV in UTF-8 or GB18030. Every row is "
    "checked; good rows are recorded in one transaction (a contract number the bank already "
    "has updates that loan, so a re-import never duplicates), and the report lists every "
    "rejected row with every reason. `dry_run=true` checks without writing.",
    response_model=ImportReport,
    responses=problem_responses(403, 422),
)
def import_loans(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    file: Annotated[UploadFile, File(description="CSV or XLSX; the header in the first row")],
    bank: Annotated[str | None, Form(max_length=32, description="Office: whose loans")] = None,
    dry_run: Annotated[bool, Query()] = False,
) -> Any:
    # One byte over the limit is enough for read_table to refuse the file (413).
    content = file.file.read(tables.LIMITS.file_bytes + 1)

    def call() -> tuple[int, Any, dict[str, str]]:
        report = import_service.import_loans(
            session, principal, content, file.filename, bank, dry_run
        )
        return 200, report, {}

    upload = {
        "file_sha256": file_digest(content),
        "filename": file.filename,
        "bank": bank,
        "dry_run": dry_run,
    }
    return retry.answer(upload, call)


@router.get(
    "/loans",
    operation_id="listLoans",
    summary="List loans by maturity",
    description="Soonest maturity first. A bank sees its own loans, an enterprise its own, "
    "the office all. Each loan carries its reminder schedule (what was sent, whether late, "
    "and whether a date is provisional), its renewal case and whether it may be renewed "
    "without repaying principal. A bank sees the borrower's name and credit code only with the "
    "borrower's consent.",
    response_model=Page[LoanPublic],
    responses=problem_responses(422),
)
def list_loans(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    loan_status: Annotated[LoanStatus | None, Query(alias="status")] = None,
    renewal_status: Annotated[CaseStatus | None, Query(description="The renewal case's")] = None,
    maturing_from: IsoDate | None = None,
    maturing_to: IsoDate | None = None,
    bank: Annotated[str | None, Query(max_length=32, description="Office only")] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
) -> Page[LoanPublic]:
    return service.list_loans(
        session,
        principal,
        page,
        bank_code=bank,
        enterprise_id=enterprise_id,
        status=loan_status,
        case_status=renewal_status,
        maturing_from=maturing_from,
        maturing_to=maturing_to,
    )


@router.get(
    "/loans/{loan_id:int}",
    operation_id="getLoan",
    summary="Read a loan",
    description="One loan with its reminder schedule, renewal case and 无还本续贷 "
    "eligibility; the ETag carries its version. Another holder's loan is a 404.",
    response_model=LoanPublic,
    responses=problem_responses(404),
)
def get_loan(
    principal: Caller, session: SessionDep, response: Response, loan_id: LoanId
) -> LoanPublic:
    loan = service.read_loan(session, principal, loan_id)
    response.headers["ETag"] = etag(loan.version)
    return loan


@router.get(
    "/reminders",
    operation_id="listReminders",
    summary="Renewal reminders",
    description="Newest first. Reminders go out at each stage before maturity (default 30, "
    "15 and 7 days; a non-working day moves to the working day before). A bank sees its own "
    "(they also arrive as `loan.reminder` events and webhooks), an enterprise its own, the "
    "office all; `final=true` lists the last-stage reminders the office is told of. "
    "`provisional=true`: the date was found on a year whose official holiday schedule the "
    "calendar does not have yet; the run recomputes it (date and `late`) once it does.",
    response_model=Page[ReminderPublic],
    responses=problem_responses(422),
)
def list_reminders(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    final: bool | None = None,
    late: bool | None = None,
    since: Annotated[IsoDate | None, Query(description="Reminder date on or after")] = None,
    bank: Annotated[str | None, Query(max_length=32, description="Office only")] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
) -> Page[ReminderPublic]:
    return reminders.list_reminders(
        session,
        principal,
        page,
        bank_code=bank,
        enterprise_id=enterprise_id,
        final=final,
        late=late,
        since=since,
    )


@router.post(
    "/reminders/run",
    operation_id="runReminders",
    summary="Run the reminders now (office)",
    description="Sends every reminder due by `as_of` (default today) not sent yet; missed "
    "ones are sent marked late. First it recomputes provisional reminder dates whose year's "
    "official holidays the calendar now knows (`recomputed`). Safe to repeat: each loan's "
    "stage is reminded once. The worker runs this every hour. An `as_of` after today is a 422 "
    "`future_as_of` (its reminders would reach the banks early), unless `simulate=true`: "
    "then the same run is rolled back and the answer (`simulated: true`) tells what it would "
    "have sent, per bank and the first 20; nothing is written (with an Idempotency-Key, the "
    "answer is kept for a retry, as any answer is).",
    response_model=ReminderRunPublic | ReminderRunSimulation,
    responses=problem_responses(403, 422),
)
def run_reminders(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    as_of: Annotated[IsoDate | None, Query(description="Business date (Asia/Shanghai)")] = None,
    simulate: Annotated[
        bool, Query(description="Only tell what the run would do; write nothing (any date)")
    ] = False,
) -> Any:

    def call() -> tuple[int, Any, dict[str, str]]:
        return 200, reminders.request_run(session, principal, as_of, simulate), {}

    # A simulation is another request than the run: a key used for one is not the other's.
    return retry.answer({"as_of": as_of, **({"simulate": True} if simulate else {})}, call)


@router.get(
    "/loans/{loan_id:int}/renewal",
    operation_id="getRenewalCase",
    summary="The loan's renewal case",
    description="Opened by the first reminder (or here, on first read); the ETag carries its "
    "version for If-Match.",
    response_model=RenewalCasePublic,
    responses=problem_responses(404),
)
def get_case(
    principal: Caller, session: SessionDep, response: Response, loan_id: LoanId
) -> RenewalCasePublic:
    case_row = renewal_cases.get_case(session, principal, loan_id)
    response.headers["ETag"] = etag(case_row.version)
    return case_public(case_row)


@router.post(
    "/loans/{loan_id:int}/renewal/status",
    operation_id="changeRenewalStatus",
    summary="Record what happened about a maturing loan",
    description="open → contacted → committed → renewed, or repaid, or committed → "
    "bridge_needed → bridged → renewed, or failed (with a reason). `committed` takes the "
    "committed amount and whether the renewal is without repaying principal; `renewed` the "
    "new loan's maturity (and principal, rate, contract number), and records it as a new "
    "loan. bridge_needed and bridged follow the bridge-fund application. A wrong step is a "
    "409; with If-Match, a stale version a 412.",
    response_model=RenewalCasePublic,
    responses=problem_responses(403, 404, 409, 412, 422),
)
def change_case(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    loan_id: LoanId,
    change: Annotated[
        RenewalChange,
        Body(
            openapi_examples={
                "committed": {
                    "summary": "Renewal committed",
                    "value": {
                        "status": "committed",
                        "committed_amount_fen": 500_000_000,
                        "no_principal": True,
                    },
                },
                "renewed": {
                    "summary": "Renewed",
                    "value": {"status": "renewed", "new_maturity_date": "2028-01-14"},
                },
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        case_row = renewal_cases.change_case(
            session, principal, loan_id, change, parse_if_match(if_match)
        )
        return 200, case_public(case_row), {"ETag": etag(case_row.version)}

    return retry.answer({"change": change.model_dump(mode="json"), "if_match": if_match}, call)


@router.get(
    "/loans/{loan_id:int}/bridge-quote",
    operation_id="quoteBridge",
    summary="May this loan use the bridge fund, and at what fee",
    description="Eligibility for the 转贷应急资金 (every reason when not) and the fee: 0.2‰ "
    "of the amount a day for the first 2 days, 0.4‰ after; at most 90% of the committed "
    "renewal and at most the maturing loan's principal (`max_amount_fen` is the lower of the "
    "two, `max_amount_basis` says which, `max_amount_explanation` gives both figures), at "
    "most 10 days, starting on or before the loan's maturity (default: the maturity) and not "
    "in the past. Writes nothing.",
    response_model=BridgeQuote,
    responses=problem_responses(404, 422),
)
def quote_bridge(
    principal: Caller,
    session: SessionDep,
    loan_id: LoanId,
    amount_fen: Annotated[int, Query(gt=0, le=10**15), Digits],
    days: Annotated[int, Query(ge=1, le=366), Digits],
    start_date: IsoDate | None = None,
) -> BridgeQuote:
    request = BridgeRequest(amount_fen=amount_fen, days=days, start_date=start_date)
    return bridge_applications.quote_bridge(session, principal, loan_id, request)


@router.post(
    "/loans/{loan_id:int}/bridge-applications",
    operation_id="applyBridge",
    status_code=status.HTTP_201_CREATED,
    summary="Apply for the bridge fund",
    description="Only once the bank has committed the renewal and the fund's rules hold; an "
    "ineligible request is a 422 with every reason (`reasons`). The renewal case moves to "
    "bridge_needed.",
    response_model=BridgeApplicationPublic,
    responses=problem_responses(404, 409, 422),
)
def apply_bridge(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    loan_id: LoanId,
    data: Annotated[
        BridgeRequest,
        Body(
            openapi_examples={
                "five_days": {
                    "summary": "90% of a 500万 renewal for 5 days",
                    "value": {"amount_fen": 450_000_000, "days": 5},
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        application = bridge_applications.apply_bridge(session, principal, loan_id, data)
        return 201, bridge_public(application), {"ETag": etag(application.version)}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/bridge-applications",
    operation_id="listBridgeApplications",
    summary="Bridge-fund applications",
    description="Newest first: a bank's own, an enterprise's own, the office all.",
    response_model=Page[BridgeApplicationPublic],
    responses=problem_responses(422),
)
def list_bridges(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    application_status: Annotated[BridgeStatus | None, Query(alias="status")] = None,
    loan_id: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
) -> Page[BridgeApplicationPublic]:
    return bridge_applications.list_bridges(session, principal, page, application_status, loan_id)


@router.get(
    "/bridge-applications/{application_id:int}",
    operation_id="getBridgeApplication",
    summary="Read a bridge-fund application",
    description="The ETag carries its version for If-Match.",
    response_model=BridgeApplicationPublic,
    responses=problem_responses(404),
)
def get_bridge(
    principal: Caller, session: SessionDep, response: Response, application_id: BridgeId
) -> BridgeApplicationPublic:
    application = bridge_applications.get_bridge(session, principal, application_id)
    response.headers["ETag"] = etag(application.version)
    return bridge_public(application)


@router.post(
    "/bridge-applications/{application_id:int}/status",
    operation_id="decideBridgeApplication",
    summary="Decide a bridge-fund application",
    description="The fund (office) approves, rejects, records disbursement (the renewal case "
    "becomes bridged) and repayment, each with the day it happened (`on_date`, default "
    "today); the bank or the enterprise may cancel before disbursement. A wrong step is a "
    "409. A date that cannot be right is a 422 naming the rule (`date_in_future`, "
    "`approved_before_application`, `disbursed_before_application`, "
    "`disbursed_before_approval`, `disbursed_after_maturity`, `repaid_before_disbursement`; "
    "every one broken in `reasons`) and nothing is recorded. A repayment after the term "
    "applied for is recorded as it happened and flagged (`days_used`, `overdue_days`).",
    response_model=BridgeApplicationPublic,
    responses=problem_responses(403, 404, 409, 412, 422),
)
def decide_bridge(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    application_id: BridgeId,
    decision: Annotated[
        BridgeDecision,
        Body(
            openapi_examples={
                "approve": {"summary": "Approve", "value": {"status": "approved"}},
                "disbursed": {
                    "summary": "Disbursed on the loan's maturity",
                    "value": {"status": "disbursed", "on_date": "2026-12-18"},
                },
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        application = bridge_applications.decide_bridge(
            session, principal, application_id, decision, parse_if_match(if_match)
        )
        return 200, bridge_public(application), {"ETag": etag(application.version)}

    body = {"decision": decision.model_dump(mode="json"), "if_match": if_match}
    return retry.answer(body, call)

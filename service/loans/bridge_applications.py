"""Use cases of the 转贷应急资金 bridge fund: the quote (may this loan use it, how much, at what
fee), applying, the fund's decisions (approve, reject, disburse, repayment) and cancelling,
reading and listing applications.

The fund's rules (eligibility, the cap, the fee, which dates can be right, which step may
follow which) are ``bridge`` (pure). Rules applied here: an application is seen by whoever
sees its loan (``policy.sees_between``); a bank lists its own, an enterprise its own, the
office all (``policy.between_scope``); only the office decides, anyone who sees it may cancel;
a loan has one open application at a time, and only an active loan may have one; applying
moves the renewal case to bridge_needed, disbursement to bridged, a rejection or cancellation
back to committed."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, between_scope, require, sees_between
from service.core.concurrency import check_version
from service.core.database import ROW_LOCK
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.settings import get_settings
from service.enterprises.models import Enterprise
from service.leads import bank_events
from service.loans import bridge, queries, renewal
from service.loans.exceptions import (
    BridgeApplicationNotFound,
    BridgeNotEligible,
    BridgeTransitionNotAllowed,
    InvalidBridgeDate,
)
from service.loans.models import BridgeApplication, BridgeStatus, Loan, LoanStatus
from service.loans.renewal import CaseStatus
from service.loans.renewal_cases import open_case
from service.loans.schemas import (
    BridgeApplicationPublic,
    BridgeDecision,
    BridgeQuote,
    BridgeRequest,
    ReasonPublic,
    columns,
)
from service.loans.service import get_loan
from service.products.models import Bank

# The application's column that holds the day of each dated step.
_DATED = {
    BridgeStatus.approved: "approved_date",
    BridgeStatus.disbursed: "disbursed_date",
    BridgeStatus.repaid: "repaid_date",
}


def _local_date(at: datetime) -> date:
    """The business date (Asia/Shanghai) of a stored UTC timestamp."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def _applicant(session: Session, loan: Loan) -> bridge.Applicant:
    enterprise = session.get(Enterprise, loan.enterprise_id)
    bank = session.get(Bank, loan.bank_code)
    assert enterprise is not None and bank is not None and loan.id is not None
    case_row = queries.case_of(session, loan.id)
    return bridge.Applicant(
        size_class=enterprise.size_class,
        registered_in_wuxi=enterprise.registered_in_wuxi,
        credit_grade=enterprise.credit_grade,
        bank_partner=bank.bridge_fund_partner,
        bank_name=bank.name,
        case_status=CaseStatus(case_row.status) if case_row else None,
        committed_fen=case_row.committed_amount_fen if case_row else None,
        principal_fen=loan.principal_fen,
    )


def quote_bridge(
    session: Session, principal: Principal, loan_id: int, request: BridgeRequest
) -> BridgeQuote:
    """Whether the loan may use the bridge fund for this amount, term and start (every reason
    if not), the cap that applies, and the fee."""
    loan = get_loan(session, principal, loan_id)
    applicant = _applicant(session, loan)
    verdict = bridge.check(applicant, request.amount_fen, request.days)
    start = request.start_date or loan.maturity_date
    more = bridge.check_start(start, loan.maturity_date, today_local())
    if loan.status != LoanStatus.active:
        more.append(renewal.Reason("loan_not_active", "贷款已结清或已续贷"))
    if more:
        verdict = renewal.Eligibility(False, [*verdict.reasons, *more])
    limit = (
        bridge.cap(applicant.committed_fen, loan.principal_fen) if applicant.committed_fen else None
    )
    fee = (
        bridge.fee(request.amount_fen, request.days)
        if 1 <= request.days <= bridge.MAX_DAYS
        else None
    )
    return BridgeQuote(
        loan_id=loan_id,
        eligible=verdict.eligible,
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in verdict.reasons],
        amount_fen=request.amount_fen,
        days=request.days,
        max_amount_fen=limit.amount_fen if limit else None,
        max_amount_basis=limit.basis if limit else None,
        max_amount_explanation=limit.explanation if limit else None,
        committed_share_fen=limit.share_fen if limit else None,
        principal_fen=loan.principal_fen,
        fee_fen=fee.fee_fen if fee else None,
        fee_exact_fen=str(fee.exact_fen.normalize()) if fee else None,
        fee_explanation=fee.explanation if fee else None,
        start_date=start,
        end_date=bridge.end_date(start, request.days),
    )


def apply_bridge(
    session: Session, principal: Principal, loan_id: int, request: BridgeRequest
) -> BridgeApplication:
    """Apply for the bridge fund; an ineligible request is refused with every reason. The
    renewal case moves to bridge_needed."""
    loan = get_loan(session, principal, loan_id, lock=True)
    assert loan.id is not None
    quote = quote_bridge(session, principal, loan_id, request)
    if not quote.eligible:
        raise BridgeNotEligible(
            "不符合转贷应急资金使用条件：" + "；".join(r.message for r in quote.reasons),
            reasons=[r.model_dump() for r in quote.reasons],
        )
    open_one = queries.bridge_application_id(session, loan.id, bridge.OPEN)
    if open_one is not None:
        raise BridgeTransitionNotAllowed(
            f"该贷款已有进行中的转贷应急资金申请 {open_one}。", code="bridge_application_exists"
        )
    case_row = open_case(session, loan, lock=True)
    assert quote.fee_fen is not None and case_row.committed_amount_fen is not None
    application = BridgeApplication(
        loan_id=loan.id,
        enterprise_id=loan.enterprise_id,
        bank_code=loan.bank_code,
        amount_fen=request.amount_fen,
        days=request.days,
        start_date=quote.start_date,
        end_date=quote.end_date,
        fee_fen=quote.fee_fen,
        committed_amount_fen=case_row.committed_amount_fen,
        note=request.note,
    )
    session.add(application)
    if case_row.status == CaseStatus.committed:
        case_row.status = CaseStatus.bridge_needed
        case_row.bridge_needed_date = today_local()
        case_row.version += 1
        case_row.updated_at = utcnow()
    session.flush()
    bank_events.publish(
        session,
        loan.bank_code,
        "bridge.updated",
        {"loan_id": loan.id, "bridge_application_id": application.id, "status": "submitted"},
    )
    session.commit()
    return application


def get_bridge(session: Session, principal: Principal, application_id: int) -> BridgeApplication:
    """The application, if the caller sees its loan (else a 404)."""
    application = session.get(BridgeApplication, application_id)
    if application is None:
        raise BridgeApplicationNotFound(f"转贷应急资金申请 {application_id} 不存在。")
    loan = session.get(Loan, application.loan_id)
    if loan is None or not sees_between(principal, loan.bank_code, loan.enterprise_id):
        raise BridgeApplicationNotFound(f"转贷应急资金申请 {application_id} 不存在。")
    return application


def decide_bridge(
    session: Session,
    principal: Principal,
    application_id: int,
    decision: BridgeDecision,
    expected_version: int | None = None,
) -> BridgeApplication:
    """The fund (the office) approves, rejects, disburses and records repayment, each on the
    day it happened (``on_date``, default today); the bank or the enterprise may cancel before
    disbursement. Disbursement marks the case bridged on its date.

    The dates are checked as the fund's credit officer would (``bridge`` lists the rules): an
    impossible date (ahead of today, approval or disbursement before the application,
    disbursement before approval or after the loan's maturity, repayment before disbursement)
    is a 422 whose ``code`` names the first rule broken, with every one in ``reasons``, and
    nothing is written. A repayment after the term applied for, even beyond the fund's 10 days,
    is what happened: it is recorded, and the application shows ``days_used`` and
    ``overdue_days`` for the office to follow up."""
    application = get_bridge(session, principal, application_id)
    session.refresh(application, with_for_update=ROW_LOCK)
    check_version(expected_version, application.version, "转贷应急资金申请")
    current, to = BridgeStatus(application.status), BridgeStatus(decision.status)
    if to not in bridge.NEXT[current]:
        raise BridgeTransitionNotAllowed(
            f"申请当前为 {current}，不能改为 {to}",
            current=str(current),
            allowed=[str(s) for s in bridge.NEXT[current]],
        )
    if to != BridgeStatus.cancelled:
        require(principal, Role.office)
    loan = session.get(Loan, application.loan_id)
    assert loan is not None
    today = today_local()
    on = decision.on_date or today
    _check_bridge_date(application, loan, to, decision.on_date, on, today)
    application.status = to
    application.version += 1
    application.decided_at = utcnow()
    application.updated_at = utcnow()
    if to in _DATED:
        setattr(application, _DATED[to], on)
    if decision.note is not None:
        application.note = decision.note
    case_row = open_case(session, loan, lock=True)
    if to == BridgeStatus.disbursed and case_row.status == CaseStatus.bridge_needed:
        case_row.status, case_row.bridged_date = CaseStatus.bridged, on
        case_row.version += 1
    elif to in (BridgeStatus.rejected, BridgeStatus.cancelled) and (
        case_row.status == CaseStatus.bridge_needed
    ):
        case_row.status = CaseStatus.committed  # the renewal commitment stands
        case_row.version += 1
    session.flush()
    data: dict[str, Any] = {
        "loan_id": loan.id,
        "bridge_application_id": application.id,
        "status": str(to),
    }
    if to in _DATED:
        data[_DATED[to]] = on.isoformat()
    if to == BridgeStatus.repaid and application.disbursed_date is not None:
        used = bridge.use(application.disbursed_date, on, application.days, today)
        data |= {"days_used": used.days_used, "overdue_days": used.overdue_days}
    bank_events.publish(session, loan.bank_code, "bridge.updated", data)
    session.commit()
    return application


def _check_bridge_date(
    application: BridgeApplication,
    loan: Loan,
    to: BridgeStatus,
    given: date | None,
    on: date,
    today: date,
) -> None:
    """Refuse a step whose date cannot be right, before anything is written."""
    if to not in _DATED:
        if given is not None:
            raise InvalidBridgeDate(
                "只有批准、放款和还款时才填写日期", code="date_not_applicable", field="on_date"
            )
        return
    applied_on = _local_date(application.created_at)
    if to == BridgeStatus.approved:
        reasons = bridge.check_approval(on, applied_on, today)
    elif to == BridgeStatus.disbursed:
        reasons = bridge.check_disbursement(
            on, applied_on, application.approved_date, loan.maturity_date, today
        )
    else:
        reasons = bridge.check_repayment(on, application.disbursed_date, today)
    if reasons:
        raise InvalidBridgeDate(
            "；".join(r.message for r in reasons),
            code=reasons[0].code,
            field="on_date",
            reasons=[ReasonPublic(code=r.code, message=r.message).model_dump() for r in reasons],
        )


def list_bridges(
    session: Session,
    principal: Principal,
    page: PageParams,
    status: BridgeStatus | None = None,
    loan_id: int | None = None,
) -> Page[BridgeApplicationPublic]:
    """Applications, newest first: a bank's own, an enterprise's own, the office's all."""
    bank_code, enterprise_id = between_scope(principal, None, None)
    key = cursor_key(page, 1, (int,))
    rows = queries.bridge_page(
        session,
        page.limit + 1,
        key[0] if key else None,
        bank_code=bank_code,
        enterprise_id=enterprise_id,
        status=status,
        loan_id=loan_id,
    )
    result = make_page(rows, page.limit, lambda a: [a.id])
    result.items = [bridge_public(a) for a in result.items]
    return result


def bridge_public(application: BridgeApplication) -> BridgeApplicationPublic:
    disbursed_on = application.disbursed_date  # unknown for one repaid before dates were kept
    used = (
        bridge.use(disbursed_on, application.repaid_date, application.days, today_local())
        if disbursed_on is not None
        and application.status in (BridgeStatus.disbursed, BridgeStatus.repaid)
        else None
    )
    return BridgeApplicationPublic(
        **columns(application, exclude=set()),
        repay_by_date=bridge.end_date(disbursed_on, application.days) if disbursed_on else None,
        days_used=used.days_used if used else None,
        overdue_days=used.overdue_days if used else None,
    )

"""Use cases of the renewal case of a maturing loan: opening it on first use, reading it, and
the bank recording what happened (contacted, committed, bridge needed, bridged, renewed,
repaid, failed).

Rules here: which step may follow which is ``renewal`` (pure); a case is seen by whoever sees
its loan, and changed by its bank or the office; a stale version (If-Match) is refused; a
step's date is never after today and each step takes only its own details (the committed
amount with ``committed``, the new loan's with ``renewed``, a reason with ``failed``);
bridge_needed follows a bridge-fund application and bridged its disbursement; a renewal is a
new loan (its own contract number and schedule) and closes the old one."""

from datetime import date

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.concurrency import check_version
from service.core.events import emit
from service.core.models import today_local, utcnow
from service.leads import bank_events
from service.loans import bridge, queries, renewal
from service.loans.exceptions import InvalidRenewalChange
from service.loans.models import BridgeStatus, Loan, LoanSource, LoanStatus, RenewalCase
from service.loans.renewal import CaseStatus
from service.loans.schemas import RenewalChange
from service.loans.service import check_new_contract, get_loan


def open_case(session: Session, loan: Loan, lock: bool) -> RenewalCase:
    """The loan's renewal case, opened on first use (the reminder run opens most)."""
    assert loan.id is not None
    case_row = queries.case_of(session, loan.id, lock, fresh=True)
    if case_row is None:
        queries.ensure_case(session, loan.id, utcnow())
        case_row = queries.case_of(session, loan.id, lock, fresh=True)
    assert case_row is not None
    return case_row


def get_case(session: Session, principal: Principal, loan_id: int) -> RenewalCase:
    loan = get_loan(session, principal, loan_id)
    case_row = open_case(session, loan, lock=False)
    session.commit()
    return case_row


def change_case(
    session: Session,
    principal: Principal,
    loan_id: int,
    change: RenewalChange,
    expected_version: int | None = None,
) -> RenewalCase:
    """The bank records what happened about a maturing loan. A wrong step is a 409; a change
    based on a stale version (If-Match) a 412."""
    require(principal, Role.bank, Role.office)
    loan = get_loan(session, principal, loan_id, lock=True)
    case_row = open_case(session, loan, lock=True)
    check_version(expected_version, case_row.version, "续贷事项")
    current, to = CaseStatus(case_row.status), CaseStatus(change.status)
    renewal.check_transition(current, to)
    on = change.on_date or today_local()
    _check_change_data(to, change, on)
    if to in (CaseStatus.bridge_needed, CaseStatus.bridged):
        _check_bridge_step(session, loan, to)
    if to not in (CaseStatus.repaid, CaseStatus.failed):
        case_row.contacted_date = case_row.contacted_date or on  # implied by any later step
    if to == CaseStatus.committed:
        case_row.committed_date = on
        case_row.committed_amount_fen = change.committed_amount_fen or loan.principal_fen
        case_row.no_principal = change.no_principal
    elif to == CaseStatus.bridge_needed:
        case_row.bridge_needed_date = on
    elif to == CaseStatus.bridged:
        case_row.bridged_date = on
    elif to == CaseStatus.renewed:
        case_row.renewed_date = on
        case_row.renewal_loan_id = _renew(session, loan, case_row, change, on)
    elif to == CaseStatus.repaid:
        case_row.repaid_date = on
        loan.status = LoanStatus.repaid
        loan.closed_date = on
        loan.version += 1
    elif to == CaseStatus.failed:
        case_row.failed_date = on
        case_row.failed_reason = change.reason
    if change.note is not None:
        case_row.note = change.note
    case_row.status = to
    case_row.version += 1
    case_row.updated_at = utcnow()
    session.flush()
    bank_events.publish(
        session,
        loan.bank_code,
        "renewal.updated",
        {"loan_id": loan.id, "case_id": case_row.id, "status": str(to), "previous": str(current)},
    )
    # Whether the bank has committed the renewal decides the bridge fund's fit.
    emit(session, "renewal.changed", enterprise_id=loan.enterprise_id)
    session.commit()
    return case_row


def _check_change_data(to: CaseStatus, change: RenewalChange, on: date) -> None:
    def refuse(field: str, message: str) -> None:
        raise InvalidRenewalChange(message, field=field)

    if on > today_local():
        refuse("on_date", "日期不能晚于今天")
    if to != CaseStatus.committed and (
        change.committed_amount_fen is not None or change.no_principal is not None
    ):
        refuse("committed_amount_fen", "只有承诺续贷时才填写承诺金额和续贷方式")
    if to != CaseStatus.renewed:
        for name in ("new_maturity_date", "new_principal_fen", "new_rate_bp", "new_contract_no"):
            if getattr(change, name) is not None:
                refuse(name, "只有续贷完成时才填写新贷款的到期日、金额、利率和合同编号")
    if to == CaseStatus.failed:
        if not (change.reason and change.reason.strip()):
            refuse("reason", "续贷未成须说明原因")
    elif change.reason is not None:
        refuse("reason", "只有续贷未成时才填写原因")
    if to == CaseStatus.renewed:
        if change.new_maturity_date is None:
            refuse("new_maturity_date", "续贷完成须填写新贷款的到期日")
        elif change.new_maturity_date <= on:
            refuse("new_maturity_date", "新贷款的到期日须晚于续贷日期")


def _check_bridge_step(session: Session, loan: Loan, to: CaseStatus) -> None:
    """bridge_needed follows a bridge application; bridged, its disbursement."""
    assert loan.id is not None
    wanted = (
        bridge.OPEN
        if to == CaseStatus.bridge_needed
        else (BridgeStatus.disbursed, BridgeStatus.repaid)
    )
    if queries.bridge_application_id(session, loan.id, wanted) is None:
        message = (
            "须先提交转贷应急资金申请（POST /loans/{id}/bridge-applications）"
            if to == CaseStatus.bridge_needed
            else "转贷应急资金尚未放款，不能记为已转贷"
        )
        raise InvalidRenewalChange(message, code="bridge_application_required")


def _renew(
    session: Session, loan: Loan, case_row: RenewalCase, change: RenewalChange, on: date
) -> int:
    """The renewal is a new loan that starts its own schedule; the old one is closed."""
    assert change.new_maturity_date is not None
    number = change.new_contract_no or f"{loan.contract_no}-R{on.strftime('%Y%m%d')}"
    check_new_contract(session, loan.bank_code, number)
    new = Loan(
        bank_code=loan.bank_code,
        contract_no=number,
        enterprise_id=loan.enterprise_id,
        product_id=loan.product_id,
        kind=loan.kind,
        principal_fen=change.new_principal_fen
        or case_row.committed_amount_fen
        or loan.principal_fen,
        rate_bp=change.new_rate_bp if change.new_rate_bp is not None else loan.rate_bp,
        disbursed_date=on,
        maturity_date=change.new_maturity_date,
        source=LoanSource.renewal,
        renewed_from_id=loan.id,
    )
    session.add(new)
    emit(session, "loans.changed", enterprise_ids=[loan.enterprise_id])
    loan.status = LoanStatus.renewed
    loan.closed_date = on
    loan.version += 1
    loan.updated_at = utcnow()
    session.flush()
    assert new.id is not None
    return new.id

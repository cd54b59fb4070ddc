"""Use cases of what a borrower does next about its loans: ask its bank about renewing one,
and see who at the bank looks after each loan.

Rules that live here:
- Asking about renewal is for the loan's enterprise (or the office for it), on an active loan
  whose renewal case is not settled; it opens the case and puts ``renewal.requested`` in the
  bank's events (its feed and webhooks), once per loan and maturity: asking again is the same
  as asking once (``request_renewal``).
- A loan's account manager is the bank's person assigned to the lead the loan came from; a
  loan made without a lead, or a lead nobody was assigned, has none (``account_managers``)."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from service.access.models import Role, UserAccount
from service.access.policy import Principal, require
from service.core.errors import Conflict
from service.leads import bank_events
from service.leads.models import BankEvent, Lead
from service.loans.models import Loan, LoanStatus
from service.loans.renewal import FINAL
from service.loans.renewal_cases import open_case
from service.loans.service import get_loan

RENEWAL_REQUESTED = "renewal.requested"


def account_managers(
    session: Session, principal: Principal, loan_ids: Iterable[int]
) -> dict[int, str | None]:
    """Each loan's account manager by name (None: nobody assigned yet), for the loans the
    caller sees."""
    loans = [get_loan(session, principal, loan_id) for loan_id in loan_ids]
    lead_ids = {loan.lead_id for loan in loans if loan.lead_id is not None}
    names: dict[int, str] = {}
    if lead_ids:
        rows = session.exec(
            select(Lead.id, UserAccount.display_name)
            .join(UserAccount, col(UserAccount.id) == col(Lead.assignee_user_id))
            .where(col(Lead.id).in_(lead_ids))
        ).all()
        names = {lead_id: name for lead_id, name in rows if lead_id is not None}
    return {loan.id: names.get(loan.lead_id) if loan.lead_id else None for loan in loans if loan.id}


def _asked(session: Session, loans: list[Loan]) -> set[tuple[int | None, str | None]]:
    """(loan id, maturity) of the renewal requests in these loans' banks' events, in one
    query."""
    if not loans:
        return set()
    events = session.exec(
        select(BankEvent.data).where(
            col(BankEvent.bank_code).in_({loan.bank_code for loan in loans}),
            col(BankEvent.type) == RENEWAL_REQUESTED,
            col(BankEvent.occurred_at) >= min(loan.created_at for loan in loans),
        )
    ).all()
    return {(data.get("loan_id"), data.get("maturity_date")) for data in events}


def _requested(session: Session, loan: Loan) -> bool:
    return (loan.id, loan.maturity_date.isoformat()) in _asked(session, [loan])


def renewal_requested(session: Session, principal: Principal, loan_ids: Iterable[int]) -> set[int]:
    """Of these loans (the caller's), those whose renewal the borrower has asked about for
    their current maturity."""
    loans = [get_loan(session, principal, loan_id) for loan_id in loan_ids]
    asked = _asked(session, loans)
    return {
        loan.id
        for loan in loans
        if loan.id is not None and (loan.id, loan.maturity_date.isoformat()) in asked
    }


def request_renewal(session: Session, principal: Principal, loan_id: int) -> bool:
    """The borrower asks its bank about renewing the loan: the bank finds it in its events.
    True when asked now, False when it had been asked already (nothing more is sent)."""
    require(principal, Role.enterprise, Role.office)
    loan = get_loan(session, principal, loan_id, lock=True)
    if loan.status != LoanStatus.active:
        raise Conflict("贷款已结清或已续贷，无需再申请续贷。", code="loan_not_active")
    case_row = open_case(session, loan, lock=True)
    if case_row.status in FINAL:
        raise Conflict("这笔贷款的续贷已有结果，无需再申请。", code="renewal_case_closed")
    if _requested(session, loan):
        return False
    bank_events.publish(
        session,
        loan.bank_code,
        RENEWAL_REQUESTED,
        {
            "loan_id": loan.id,
            "renewal_case_id": case_row.id,
            "maturity_date": loan.maturity_date.isoformat(),
            "requested_by": str(principal.role),
        },
    )
    session.commit()
    return True

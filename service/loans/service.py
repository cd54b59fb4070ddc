"""Use cases of the loans themselves: recording a loan (one by one, or when a lead is reported
disbursed), reading one and listing them, and each loan as the caller may see it (who the
borrower is, the reminder schedule, the renewal case, 无还本续贷 eligibility).

Rules here: who sees a loan (``policy.sees_between``: the office, its bank, its borrower; any
other caller is told it does not exist); a bank records only its own loans and the office
names the bank; a borrower named by id must be one the caller may know
(``policy.identified_enterprises``), by credit code any library enterprise; a contract number
is a bank's once; maturity after disbursement. Importing a list of loans is
``import_service``; reminders, renewal cases and the bridge fund have their own modules."""

from datetime import date

from sqlmodel import Session, col, select

from service.access.exceptions import Forbidden
from service.access.models import Role
from service.access.policy import (
    Principal,
    between_scope,
    identified_enterprises,
    require,
    sees_bank,
    sees_between,
)
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Enterprise
from service.leads.models import Lead
from service.loans import queries, renewal, schedule
from service.loans.exceptions import InvalidLoan, LoanExists, LoanNotFound
from service.loans.models import Loan, LoanKind, LoanSource, LoanStatus
from service.loans.reminders import stages
from service.loans.renewal import CaseStatus
from service.loans.schemas import (
    EligibilityPublic,
    LoanCreate,
    LoanPublic,
    ReasonPublic,
    StagePublic,
    case_public,
    columns,
)
from service.products.models import Bank
from service.taxonomy.credit_code import CreditCodeError, parse_credit_code


def get_loan(session: Session, principal: Principal, loan_id: int, lock: bool = False) -> Loan:
    """The loan, if the caller sees it (else a 404, as for one that does not exist)."""
    loan = session.get(
        Loan, loan_id, with_for_update=ROW_LOCK if lock else None, populate_existing=lock
    )
    if loan is None or not sees_between(principal, loan.bank_code, loan.enterprise_id):
        raise LoanNotFound(f"贷款 {loan_id} 不存在。")
    return loan


def loan_of_lead(session: Session, principal: Principal, lead_id: int) -> int | None:
    """The id of the loan a disbursed lead made, if the caller sees it."""
    loan = session.exec(select(Loan).where(col(Loan.lead_id) == lead_id)).first()
    if loan is None or not sees_between(principal, loan.bank_code, loan.enterprise_id):
        return None
    return loan.id


def read_loan(session: Session, principal: Principal, loan_id: int) -> LoanPublic:
    """The loan as the caller may see it."""
    return loans_public(session, principal, [get_loan(session, principal, loan_id)])[0]


def _bank_of(principal: Principal, requested: str | None) -> str:
    """The bank a write is for: a bank's own; the office names one."""
    require(principal, Role.bank, Role.office)
    if requested is not None and not sees_bank(principal, requested):
        raise Forbidden(
            f"银行密钥只能登记本行（{principal.bank_code}）的贷款。", code="forbidden_bank"
        )
    bank_code, _ = between_scope(principal, requested, None)
    if bank_code is None:
        raise InvalidLoan("金融办登记贷款须指明银行（bank_code）。", code="bank_required")
    return bank_code


# --- recording loans ------------------------------------------------------------------------

_PURPOSE_KIND = {"equipment": LoanKind.project, "project": LoanKind.project}


def on_lead_disbursed(
    session: Session,
    lead: Lead,
    maturity_date: date,
    contract_no: str | None,
    purpose: str | None,
) -> None:
    """Listener: a bank reported a lead disbursed; the loan starts its renewal schedule."""
    assert lead.disbursed_amount_fen is not None and lead.disbursed_date is not None
    number = contract_no or f"FM-L{lead.id}"
    if queries.loan_id_by_contract(session, lead.bank_code, number):
        raise LoanExists(f"本行已有合同编号为 {number} 的贷款。", field="contract_no")
    session.add(
        Loan(
            bank_code=lead.bank_code,
            contract_no=number,
            enterprise_id=lead.enterprise_id,
            product_id=lead.product_id,
            lead_id=lead.id,
            kind=_PURPOSE_KIND.get(purpose or "", LoanKind.working_capital),
            principal_fen=lead.disbursed_amount_fen,
            rate_bp=lead.disbursed_rate_bp or 0,
            disbursed_date=lead.disbursed_date,
            maturity_date=maturity_date,
            source=LoanSource.lead,
        )
    )
    session.flush()
    emit(session, "loans.changed", enterprise_ids=[lead.enterprise_id])


def _enterprise_id(
    session: Session, principal: Principal, enterprise_id: int | None, credit_code: str | None
) -> int:
    """The borrower. By id only one the caller may know (for a bank: one that consented to
    it); one it may not answers as one that does not exist. By credit code any library
    enterprise: the bank names a borrower it already knows."""
    if enterprise_id is not None:
        if session.get(Enterprise, enterprise_id) is None or not identified_enterprises(
            principal, [enterprise_id]
        ):
            raise InvalidLoan(f"企业 {enterprise_id} 不在企业库中。", code="unknown_enterprise")
        return enterprise_id
    if credit_code is None:
        raise InvalidLoan(
            "须给出企业（enterprise_id 或 credit_code）。", code="enterprise_required"
        )
    try:
        code = parse_credit_code(credit_code).value
    except CreditCodeError as exc:
        raise InvalidLoan(exc.message, code=exc.code, field="credit_code") from exc
    found = queries.enterprise_id_by_credit_code(session, code)
    if found is None:
        raise InvalidLoan(
            f"统一社会信用代码 {code} 的企业不在企业库中，请先登记企业。", code="unknown_enterprise"
        )
    return found


def _product_id(session: Session, bank_code: str, product_code: str | None) -> int | None:
    if product_code is None:
        return None
    product = queries.product_by_code(session, product_code)
    if product is None or product.bank_code != bank_code:
        raise InvalidLoan(f"本行没有代码为 {product_code} 的产品。", code="unknown_product")
    return product.id


def create_loan(session: Session, principal: Principal, data: LoanCreate) -> LoanPublic:
    """Record a loan; the answer names the borrower as far as the caller may know it, and
    also when the request named it by its credit code."""
    bank_code = _bank_of(principal, data.bank_code)
    if session.get(Bank, bank_code) is None:
        raise InvalidLoan(f"银行 {bank_code} 不存在。", code="unknown_bank")
    if data.maturity_date <= data.disbursed_date:
        raise InvalidLoan("到期日须晚于放款日。", code="maturity_not_after_disbursement")
    loan = Loan(
        bank_code=bank_code,
        contract_no=data.contract_no.strip(),
        enterprise_id=_enterprise_id(session, principal, data.enterprise_id, data.credit_code),
        product_id=_product_id(session, bank_code, data.product_code),
        kind=data.kind,
        principal_fen=data.principal_fen,
        rate_bp=data.rate_bp,
        disbursed_date=data.disbursed_date,
        maturity_date=data.maturity_date,
        source=LoanSource.api,
    )
    check_new_contract(session, bank_code, loan.contract_no)
    session.add(loan)
    session.flush()
    emit(session, "loans.changed", enterprise_ids=[loan.enterprise_id])
    session.commit()
    named = data.enterprise_id is None
    return loans_public(session, principal, [loan], named_by_code=named)[0]


def check_new_contract(session: Session, bank_code: str, contract_no: str) -> None:
    """A contract number is the bank's once."""
    existing = queries.loan_id_by_contract(session, bank_code, contract_no)
    if existing is not None:
        raise LoanExists(
            f"本行已有合同编号为 {contract_no} 的贷款（{existing}）。", loan_id=existing
        )


# --- reading loans --------------------------------------------------------------------------


def list_loans(
    session: Session,
    principal: Principal,
    page: PageParams,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    status: LoanStatus | None = None,
    case_status: CaseStatus | None = None,
    maturing_from: date | None = None,
    maturing_to: date | None = None,
) -> Page[LoanPublic]:
    """Loans by maturity, soonest first: a bank's own, an enterprise's own, the office's all."""
    bank_code, enterprise_id = between_scope(principal, bank_code, enterprise_id)
    key = cursor_key(page, 2, (str, int))
    after = None
    if key:
        try:
            after = (date.fromisoformat(key[0]), key[1])
        except ValueError:
            raise Unprocessable(
                "分页游标无效，请使用上一页返回的 next_cursor。", code="invalid_cursor"
            ) from None
    rows = queries.loan_page(
        session,
        page.limit + 1,
        after,
        bank_code=bank_code,
        enterprise_id=enterprise_id,
        status=status,
        case_status=case_status,
        maturing_from=maturing_from,
        maturing_to=maturing_to,
    )
    result = make_page(rows, page.limit, lambda loan: [loan.maturity_date.isoformat(), loan.id])
    result.items = loans_public(session, principal, result.items)
    return result


def loans_public(
    session: Session, principal: Principal, loans: list[Loan], named_by_code: bool = False
) -> list[LoanPublic]:
    """Loans as the caller may see them: who the borrower is (name, credit code) only when
    the access policy lets the caller know it, or (``named_by_code``) in the answer to the
    request that named the borrower by its credit code."""
    if not loans:
        return []
    ids = [loan.id for loan in loans if loan.id is not None]
    enterprise_ids = {loan.enterprise_id for loan in loans}
    enterprises = queries.enterprises_by_id(session, enterprise_ids)
    known = identified_enterprises(principal, enterprise_ids)
    banks = queries.bank_names(session)
    products = queries.product_codes(
        session, {loan.product_id for loan in loans if loan.product_id}
    )
    cases = queries.cases_by_loan(session, ids)
    sent = queries.reminders_sent(session, ids)
    plan = stages()
    out = []
    for loan in loans:
        assert loan.id is not None
        enterprise = enterprises.get(loan.enterprise_id)
        eligibility = renewal.no_principal_renewal(
            enterprise.size_class if enterprise else None, loan.kind, loan.maturity_date
        )
        reminders = []
        for planned in schedule.reminder_stages(loan.maturity_date, plan):
            done = sent.get((loan.id, loan.maturity_date, planned.days))
            reminders.append(
                StagePublic(
                    stage_days=planned.days,
                    remind_date=done.remind_date if done else planned.remind_date,
                    provisional=done.provisional if done else planned.provisional,
                    sent=done is not None,
                    late=done.late if done else None,
                )
            )
        case_row = cases.get(loan.id)
        named = loan.enterprise_id in known
        out.append(
            LoanPublic(
                **columns(loan, exclude={"product_id"}),
                bank_name=banks.get(loan.bank_code),
                enterprise_name=enterprise.name if enterprise and named else None,
                credit_code=enterprise.credit_code
                if enterprise and (named or named_by_code)
                else None,
                product_code=products.get(loan.product_id) if loan.product_id else None,
                no_principal_renewal=_eligibility(eligibility),
                reminders=reminders,
                renewal=case_public(case_row) if case_row else None,
            )
        )
    return out


def _eligibility(e: renewal.Eligibility) -> EligibilityPublic:
    return EligibilityPublic(
        eligible=e.eligible,
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in e.reasons],
        basis=e.basis,
    )

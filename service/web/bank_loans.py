"""A loan's page in the bank's workbench: the loan, its reminder schedule and 无还本续贷
eligibility, the lead it came from, and the form for its renewal case's next step."""

from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.loans import renewal_cases
from service.loans import service as loans
from service.loans.renewal import CaseStatus
from service.loans.schemas import RenewalChange, case_public
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, page_router, render, see_other
from service.web.security import BankUser, Form, Visitor

router = page_router()


def _loan_page(
    request: Request,
    session: Session,
    who: Visitor,
    loan_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    case = case_public(renewal_cases.get_case(session, who.principal, loan_id))
    loan = loans.read_loan(session, who.principal, loan_id)
    return render(
        request,
        "bank/loan.html",
        who,
        status,
        loan=loan,
        case=case,
        values=values or {},
        errors=errors or {},
        done=request.query_params.get("done") == "renewal",
    )


@router.get("/bank/loans/{loan_id:int}")
def bank_loan(request: Request, session: SessionDep, who: BankUser, loan_id: Id) -> Response:
    return _loan_page(request, session, who, loan_id)


@router.post("/bank/loans/{loan_id:int}/renewal")
def bank_renewal(
    request: Request, session: SessionDep, who: BankUser, loan_id: Id, fields: Form
) -> Response:
    form = FormReader(
        fields,
        renamed={
            "committed_amount_fen": "committed_amount",
            "new_principal_fen": "new_principal",
            "new_rate_bp": "new_rate",
        },
    )
    change: dict[str, Any] = {
        "status": form.choice("status", [s.value for s in CaseStatus], required=True),
        "on_date": form.day("on_date"),
        "committed_amount_fen": form.wan_to_fen("committed_amount"),
        "no_principal": True if form.checked("no_principal") else None,
        "new_maturity_date": form.day("new_maturity_date"),
        "new_principal_fen": form.wan_to_fen("new_principal"),
        "new_rate_bp": form.percent_to_bp("new_rate"),
        "new_contract_no": form.text("new_contract_no", 64),
        "reason": form.text("reason", 500),
        "note": form.text("note", 500),
    }
    version = form.integer("version", 1, 2_147_483_647, required=True)
    done = form.run(
        lambda: renewal_cases.change_case(
            session, who.principal, loan_id, RenewalChange(**change), version
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/bank/loans/{loan_id}?done=renewal#renewal")
    return _loan_page(request, session, who, loan_id, fields, form.errors, form.status)

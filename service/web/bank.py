"""The bank view: its leads and reminders, the library as the bank sees it, a lead's page
with its outcome form, a loan's page with its renewal case."""

from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.types import Digits
from service.leads import lifecycle as leads
from service.leads.schemas import StatusChange
from service.leads.states import DeclineReason, LeadStatus
from service.loans import reminders, renewal_cases
from service.loans import service as loans
from service.loans.models import LoanStatus
from service.loans.renewal import CaseStatus
from service.loans.schemas import RenewalChange, case_public
from service.products import service as products
from service.web import library
from service.web.forms import FormReader
from service.web.labels import BANK_OUTCOMES
from service.web.pages import (
    PREFIX,
    Id,
    SessionDep,
    first_page,
    page_router,
    place_names,
    render,
    see_other,
)
from service.web.security import BankUser, Form, Visitor

router = page_router()


@router.get("/bank")
def bank_home(
    request: Request,
    session: SessionDep,
    who: BankUser,
    status: Annotated[LeadStatus | None, Query()] = None,
) -> Response:
    bank = products.get_bank(session, who.principal.bank_code or "")
    return render(
        request,
        "bank/home.html",
        who,
        bank=bank,
        status=status,
        statuses=list(LeadStatus),
        leads=leads.recent_leads(session, who.principal, lead_status=status, limit=100),
        reminders=first_page(lambda p: reminders.list_reminders(session, who.principal, p), 50),
        loans=first_page(
            lambda p: loans.list_loans(session, who.principal, p, status=LoanStatus.active),
            50,
        ),
    )


@router.get("/bank/library")
def bank_library(
    request: Request,
    session: SessionDep,
    who: BankUser,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000), Digits] = 1,
) -> Response:
    """The latest release as the bank sees it, a page of enterprises at a time."""
    found = library.bank_library(session, who.principal, q, cursor, page)
    return render(
        request,
        "bank/library.html",
        who,
        library=found,
        tiers=library.tiers_in_words(),
        page_size=library.PAGE_SIZE,
    )


def _lead_page(
    request: Request,
    session: Session,
    who: Visitor,
    lead_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    lead = leads.leads_public(
        session, who.principal, [leads.get_lead(session, who.principal, lead_id)]
    )[0]
    return render(
        request,
        "bank/lead.html",
        who,
        status,
        names=place_names(session),
        lead=lead,
        values=values or {"status": "contacted"},
        errors=errors or {},
        outcomes=BANK_OUTCOMES,
        reasons=[r.value for r in DeclineReason],
    )


@router.get("/bank/leads/{lead_id:int}")
def bank_lead(request: Request, session: SessionDep, who: BankUser, lead_id: Id) -> Response:
    return _lead_page(request, session, who, lead_id)


@router.post("/bank/leads/{lead_id:int}/status")
def bank_lead_status(
    request: Request, session: SessionDep, who: BankUser, lead_id: Id, fields: Form
) -> Response:
    form = FormReader(fields, renamed={"amount_fen": "amount", "rate_bp": "rate"})
    to = form.choice("status", BANK_OUTCOMES, required=True)
    change: dict[str, Any] = {
        "status": to,
        "reason": form.choice("reason", [r.value for r in DeclineReason]),
        "note": form.text("note", 500),
        "amount_fen": form.wan_to_fen("amount"),
        "rate_bp": form.percent_to_bp("rate"),
        "term_months": form.integer("term_months", 1, 360),
        "on_date": form.day("on_date"),
        "maturity_date": form.day("maturity_date"),
        "contract_no": form.text("contract_no", 64),
    }
    version = form.integer("version", 1, 2_147_483_647, required=True)
    done = form.run(
        lambda: leads.change_status(
            session, who.principal, lead_id, StatusChange(**change), version
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/bank/leads/{lead_id}?saved=1")
    return _lead_page(request, session, who, lead_id, fields, form.errors, form.status)


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
        return see_other(f"{PREFIX}/bank/loans/{loan_id}?saved=1")
    return _loan_page(request, session, who, loan_id, fields, form.errors, form.status)

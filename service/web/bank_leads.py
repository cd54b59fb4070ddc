"""A lead's page in the bank's workbench: everything the bank may know to decide (the need,
the enterprise's facts, why it matched, the history with who did what), who works it with
the form to assign or claim it, and the form for the next step (only the steps the bank may
take from here; declining asks to confirm)."""

from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.leads import assignment, workbench
from service.leads import lifecycle as leads
from service.leads.schemas import StatusChange
from service.leads.states import DeclineReason, LeadStatus
from service.loans import service as loans
from service.web.forms import FormReader
from service.web.pages import (
    PREFIX,
    Id,
    SessionDep,
    page_router,
    place_names,
    qualification_names,
    render,
    see_other,
)
from service.web.security import BankUser, Form, Visitor

router = page_router()
CONFIRM_DECLINE = "confirm_decline"
DONE = {
    "status": "已记录进展。",
    "assigned": "已更新负责人。",
    "claimed": "已认领，这条线索由您负责。",
    "released": "已退回，这条线索现在无人负责。",
}


def _lead_page(
    request: Request,
    session: Session,
    who: Visitor,
    lead_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    if status == 200:
        lead = workbench.open_lead(session, who.principal, lead_id)
    else:  # the form again: read it as it is, nothing more recorded
        lead = leads.leads_public(
            session, who.principal, [leads.get_lead(session, who.principal, lead_id)]
        )[0]
    steps = workbench.bank_next_steps(lead.status)
    choice = workbench.assign_choice(who.principal, lead)
    return render(
        request,
        "bank/lead.html",
        who,
        status,
        names=place_names(session),
        qualifications=qualification_names(session),
        industry=workbench.industry_name(lead.enterprise.industry_code),
        lead=lead,
        history=workbench.history(session, who.principal, lead_id),
        why=workbench.why_matched(session, who.principal, lead),
        need_note=workbench.need_note(session, who.principal, lead),
        private=workbench.sees_private(session, who.principal, lead),
        steps=steps,
        assign_choice=choice,
        people=assignment.bank_people(session, who.principal, lead.bank_code)
        if choice == "choose"
        else [],
        loan_id=loans.loan_of_lead(session, who.principal, lead_id)
        if lead.status == LeadStatus.disbursed
        else None,
        values=values or {"status": str(steps[0]) if steps else ""},
        errors=errors or {},
        reasons=[r.value for r in DeclineReason],
        done=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/bank/leads/{lead_id:int}")
def bank_lead(request: Request, session: SessionDep, who: BankUser, lead_id: Id) -> Response:
    """The lead; opening a new one records that the bank has seen it."""
    return _lead_page(request, session, who, lead_id)


@router.post("/bank/leads/{lead_id:int}/status")
def bank_lead_status(
    request: Request, session: SessionDep, who: BankUser, lead_id: Id, fields: Form
) -> Response:
    form = FormReader(fields, renamed={"amount_fen": "amount", "rate_bp": "rate"})
    to = form.choice("status", [str(s) for s in LeadStatus], required=True)
    if to == LeadStatus.declined and not form.checked(CONFIRM_DECLINE):
        form.fail(CONFIRM_DECLINE, "拒绝后线索即结束、不能恢复，请勾选“确认拒绝此线索”。")
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
        return see_other(f"{PREFIX}/bank/leads/{lead_id}?done=status")
    status = form.status if form.status != 200 else 422
    return _lead_page(request, session, who, lead_id, fields, form.errors, status)


@router.post("/bank/leads/{lead_id:int}/assignee")
def bank_lead_assignee(
    request: Request, session: SessionDep, who: BankUser, lead_id: Id, fields: Form
) -> Response:
    """Assign the lead (the administrator, the bank's key), claim it or hand it back (an
    account manager): ``assignee`` is a person's id, ``me`` or empty for nobody."""
    form = FormReader(fields)
    raw = form.raw("assignee")
    assignee: int | None = None
    if raw == "me":
        assignee = who.principal.user_id
        if assignee is None:
            form.fail("assignee", "请选择负责人。")
    elif raw:
        assignee = form.integer("assignee", 1, 2_147_483_647)
    version = form.integer("version", 1, 2_147_483_647, required=True)
    done = form.run(
        lambda: assignment.assign(session, who.principal, lead_id, assignee, version),
        session.rollback,
    )
    if done is not None:
        what = "assigned"
        if raw == "me":
            what = "claimed"
        elif assignee is None and form.raw("release"):
            what = "released"
        return see_other(f"{PREFIX}/bank/leads/{lead_id}?done={what}")
    status = form.status if form.status != 200 else 422
    return _lead_page(request, session, who, lead_id, {"assignee": raw}, form.errors, status)

"""The enterprise portal: its profile and sharing choice, recommendations, financing needs
(post, edit, withdraw), its leads and banks' contact requests, its loans. An enterprise
sees and changes only its own needs (the needs' use cases see to it; ``_own_need`` refuses
another's before its form is read)."""

from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.errors import AppError, Unprocessable
from service.core.types import Digits
from service.enterprises import service as enterprises
from service.enterprises.schemas import EnterpriseUpdate
from service.leads import contact_requests
from service.leads import lifecycle as leads
from service.leads.schemas import StatusChange
from service.leads.states import LeadStatus
from service.loans import reminders
from service.loans import service as loans
from service.matching import recommendations
from service.matching import service as matching
from service.matching.models import CollateralOffer, NeedPurpose
from service.matching.schemas import NeedCreate, NeedUpdate
from service.products import service as products
from service.web.forms import FormReader
from service.web.pages import (
    PREFIX,
    Id,
    SessionDep,
    echo_form,
    first_page,
    needs_of,
    page_router,
    place_names,
    render,
    see_other,
)
from service.web.security import EnterpriseUser, Form, Visitor

router = page_router()


def _enterprise_id(who: Visitor) -> int:
    assert who.principal.enterprise_id is not None
    return who.principal.enterprise_id


@router.get("/enterprise")
def enterprise_home(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    enterprise_id = _enterprise_id(who)
    profile = enterprises.enterprise_public(
        session, enterprises.read_enterprise(session, enterprise_id, who.principal)
    )
    needs = needs_of(session, enterprise_id, who.principal)
    recent = leads.recent_leads(session, who.principal, limit=5)
    return render(
        request,
        "enterprise/home.html",
        who,
        profile=profile,
        needs=needs,
        leads=recent,
        names=place_names(session),
    )


@router.post("/enterprise/sharing")
def enterprise_sharing(session: SessionDep, who: EnterpriseUser, fields: Form) -> Response:
    """Whether banks may see who the enterprise is in the library releases: its own choice."""
    form = FormReader(fields)
    version = form.integer("version", 1, 2_147_483_647)
    data = EnterpriseUpdate(share_with_banks=form.checked("share_with_banks"))
    enterprises.update_enterprise(session, _enterprise_id(who), data, version, who.principal)
    return see_other(f"{PREFIX}/enterprise?saved=1")


@router.get("/enterprise/recommendations")
def enterprise_recommendations(
    request: Request,
    session: SessionDep,
    who: EnterpriseUser,
    need: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
) -> Response:
    enterprise_id = _enterprise_id(who)
    open_needs = [
        n
        for n in needs_of(session, enterprise_id, who.principal)
        if n.status in ("open", "matched")
    ]
    if need is not None:
        result = recommendations.recommend_for_need(session, need, who.principal)
    else:
        result = recommendations.recommend_for_enterprise(session, enterprise_id, who.principal)
    return render(
        request,
        "enterprise/recommendations.html",
        who,
        result=result,
        needs=open_needs,
        chosen=need,
    )


NEED_FORM_NAMES = {"amount_fen": "amount"}  # the use case's names, as the form calls them


def _need_values(form: FormReader, bank_codes: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "amount_fen": form.wan_to_fen("amount", required=True),
        "term_months": form.integer("term_months", 1, 360, required=True),
        "purpose": form.choice("purpose", [p.value for p in NeedPurpose], required=True),
        "collateral": form.choices("collateral", [c.value for c in CollateralOffer]) or ["none"],
        "wanted_by_date": form.day("wanted_by_date"),
        "consent_share_details": form.checked("consent_share_details"),
        "max_banks": form.integer("max_banks", 1, 5, required=True),
        "note": form.text("note", 1000),
    }
    values["bank_codes"] = form.choices("bank_codes", bank_codes) or None  # none: any bank
    return values


def _bank_options(session: Session) -> list[Any]:
    return first_page(lambda p: products.list_banks(session, p))


def _need_form(
    request: Request,
    session: Session,
    who: Visitor,
    need: Any | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "enterprise/need_form.html",
        who,
        status,
        need=need,
        values=values,
        errors=errors,
        banks=_bank_options(session),
        purposes=[p.value for p in NeedPurpose],
        collaterals=[c.value for c in CollateralOffer],
    )


def _need_defaults(need: Any | None) -> dict[str, Any]:
    if need is None:
        return {"term_months": "12", "max_banks": "3", "collateral": ["none"], "bank_codes": []}
    return {
        "amount": f"{need.amount_fen / 1_000_000:g}",
        "term_months": str(need.term_months),
        "purpose": str(need.purpose),
        "collateral": [str(c) for c in need.collateral],
        "wanted_by_date": need.wanted_by_date.isoformat() if need.wanted_by_date else "",
        "consent_share_details": need.consent_share_details,
        "max_banks": str(need.max_banks),
        "bank_codes": list(need.bank_codes or []),
        "note": need.note or "",
    }


@router.get("/enterprise/needs")
def enterprise_needs(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    enterprise_id = _enterprise_id(who)
    needs = needs_of(session, enterprise_id, who.principal)
    return render(request, "enterprise/needs.html", who, needs=needs)


@router.get("/enterprise/needs/new")
def new_need_form(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return _need_form(request, session, who, None, _need_defaults(None), {})


@router.post("/enterprise/needs")
def post_need(request: Request, session: SessionDep, who: EnterpriseUser, fields: Form) -> Response:
    form = FormReader(fields, renamed=NEED_FORM_NAMES)
    values = _need_values(form, [b.code for b in _bank_options(session)])
    need = form.run(
        lambda: matching.create_need(
            session, NeedCreate(enterprise_id=_enterprise_id(who), **values), who.principal
        ),
        session.rollback,
    )
    if need is not None:
        return see_other(f"{PREFIX}/enterprise/needs?posted={need.id}")
    return _need_form(request, session, who, None, echo_form(fields), form.errors, form.status)


def _own_need(session: Session, who: Visitor, need_id: int) -> Any:
    return matching.read_need(session, need_id, who.principal)


@router.get("/enterprise/needs/{need_id:int}/edit")
def edit_need_form(
    request: Request, session: SessionDep, who: EnterpriseUser, need_id: Id
) -> Response:
    need = _own_need(session, who, need_id)
    return _need_form(request, session, who, need, _need_defaults(need), {})


@router.post("/enterprise/needs/{need_id:int}")
def edit_need(
    request: Request, session: SessionDep, who: EnterpriseUser, need_id: Id, fields: Form
) -> Response:
    _own_need(session, who, need_id)
    form = FormReader(fields, renamed=NEED_FORM_NAMES)
    values = _need_values(form, [b.code for b in _bank_options(session)])
    version = form.integer("version", 1, 2_147_483_647, required=True)
    done = form.run(
        lambda: matching.update_need(
            session, need_id, NeedUpdate(**values), version, who.principal
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/enterprise/needs?updated={need_id}")
    need = matching.get_need(session, need_id)
    return _need_form(request, session, who, need, echo_form(fields), form.errors, form.status)


@router.post("/enterprise/needs/{need_id:int}/withdraw")
def withdraw_need(
    request: Request, session: SessionDep, who: EnterpriseUser, need_id: Id, fields: Form
) -> Response:
    _own_need(session, who, need_id)
    version = FormReader(fields).integer("version", 1, 2_147_483_647)
    matching.withdraw_need(session, need_id, version, principal=who.principal)
    return see_other(f"{PREFIX}/enterprise/needs?withdrawn={need_id}")


@router.get("/enterprise/leads")
def enterprise_leads(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return render(
        request,
        "enterprise/leads.html",
        who,
        leads=leads.recent_leads(session, who.principal, limit=200),
        requests=contact_requests.list_contact_requests(session, who.principal),
    )


@router.post("/enterprise/apply")
def enterprise_apply(session: SessionDep, who: EnterpriseUser, fields: Form) -> Response:
    """Apply for a recommended product: the bank gets the lead, with who the enterprise is."""
    form = FormReader(fields)
    product_code = form.text("product_code", 64, required=True)
    need_id = form.integer("need_id", 1, 2_147_483_647)
    if product_code is None:
        raise Unprocessable("请选择要申请的产品。", code="missing_product")
    lead = leads.apply(
        session, who.principal, product_code, need_id=need_id, enterprise_id=_enterprise_id(who)
    )
    return see_other(f"{PREFIX}/enterprise/leads?applied={lead.id}")


@router.post("/enterprise/contact-requests/{request_id:int}/{decision}")
def enterprise_contact_request(
    session: SessionDep, who: EnterpriseUser, request_id: Id, decision: str, _: Form
) -> Response:
    """A bank asked to contact the enterprise: it accepts (the bank gets a lead) or declines."""
    if decision not in ("accept", "decline"):
        raise AppError("没有这个操作。", status=404, code="page_not_found")
    contact_requests.decide_contact_request(
        session, who.principal, request_id, accept=decision == "accept"
    )
    return see_other(f"{PREFIX}/enterprise/leads?{decision}ed={request_id}")


@router.post("/enterprise/leads/{lead_id:int}/withdraw")
def enterprise_withdraw_lead(
    session: SessionDep, who: EnterpriseUser, lead_id: Id, fields: Form
) -> Response:
    """The enterprise no longer wants this bank's offer: the lead closes, the bank is told."""
    version = FormReader(fields).integer("version", 1, 2_147_483_647)
    change = StatusChange(status=LeadStatus.withdrawn)
    leads.change_status(session, who.principal, lead_id, change, version)
    return see_other(f"{PREFIX}/enterprise/leads?withdrawn={lead_id}")


@router.get("/enterprise/loans")
def enterprise_loans(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return render(
        request,
        "enterprise/loans.html",
        who,
        loans=first_page(lambda p: loans.list_loans(session, who.principal, p)),
        reminders=first_page(lambda p: reminders.list_reminders(session, who.principal, p), 100),
    )

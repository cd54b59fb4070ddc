"""The enterprise's financing needs: post one (with its choice, explained, of whether banks
receive it), change it, give the consent it lacks, and withdraw it after a confirmation. The
list says of each open need which banks received it, or plainly that none did and why, with
the one action that fixes it. ``_own_need`` refuses another enterprise's need before its form
is read."""

from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.settings import get_settings
from service.enterprises import service as enterprises
from service.leads import lifecycle as leads
from service.leads.states import OPEN
from service.matching import service as matching
from service.matching.models import CollateralOffer, NeedPurpose
from service.matching.schemas import NeedCreate, NeedUpdate
from service.web.enterprise import bank_names, bank_options, enterprise_id_of, page
from service.web.forms import FormReader
from service.web.pages import (
    PREFIX,
    Id,
    SessionDep,
    echo_form,
    needs_of,
    page_router,
    see_other,
)
from service.web.security import EnterpriseUser, Form, Visitor

router = page_router()

NEED_FORM_NAMES = {"amount_fen": "amount"}  # the use case's names, as the form calls them
OPEN_NEED = ("open", "matched")


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


def _need_form(
    request: Request,
    session: Session,
    who: Visitor,
    need: Any | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    profile = enterprises.read_enterprise(session, enterprise_id_of(who), who.principal)
    return page(
        request,
        "enterprise/need_form.html",
        who,
        status,
        need=need,
        values=values,
        errors=errors,
        banks=bank_options(session),
        purposes=[p.value for p in NeedPurpose],
        collaterals=[c.value for c in CollateralOffer],
        shares_profile=profile.share_with_banks,
        contact_days=get_settings().sla_contact_working_days,
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
    needs = needs_of(session, enterprise_id_of(who), who.principal)
    names = bank_names(session)
    reached: dict[int, list[str]] = {}  # open need → the banks working on it now
    for lead in leads.recent_leads(session, who.principal, limit=200):
        if lead.need and lead.status in OPEN:
            reached.setdefault(lead.need.need_id, []).append(names.get(lead.bank_code, "银行"))
    return page(
        request,
        "enterprise/needs.html",
        who,
        needs=needs,
        reached=reached,
        banks=names,
    )


@router.get("/enterprise/needs/new")
def new_need_form(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return _need_form(request, session, who, None, _need_defaults(None), {})


@router.post("/enterprise/needs")
def post_need(request: Request, session: SessionDep, who: EnterpriseUser, fields: Form) -> Response:
    form = FormReader(fields, renamed=NEED_FORM_NAMES)
    values = _need_values(form, [b.code for b in bank_options(session)])
    need = form.run(
        lambda: matching.create_need(
            session, NeedCreate(enterprise_id=enterprise_id_of(who), **values), who.principal
        ),
        session.rollback,
    )
    if need is not None:
        done = "posted" if need.consent_share_details else "posted_private"
        return see_other(f"{PREFIX}/enterprise/needs?done={done}#need-{need.id}")
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
    values = _need_values(form, [b.code for b in bank_options(session)])
    version = form.integer("version", 1, 2_147_483_647, required=True)
    done = form.run(
        lambda: matching.update_need(
            session, need_id, NeedUpdate(**values), version, who.principal
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/enterprise/needs?done=updated#need-{need_id}")
    need = matching.get_need(session, need_id)
    return _need_form(request, session, who, need, echo_form(fields), form.errors, form.status)


@router.post("/enterprise/needs/{need_id:int}/consent")
def consent_need(session: SessionDep, who: EnterpriseUser, need_id: Id, fields: Form) -> Response:
    """The one action that sends a need no bank received: consent to share it, given on the
    list beside the explanation of what it shares."""
    _own_need(session, who, need_id)
    version = FormReader(fields).integer("version", 1, 2_147_483_647)
    matching.update_need(
        session, need_id, NeedUpdate(consent_share_details=True), version, who.principal
    )
    return see_other(f"{PREFIX}/enterprise/needs?done=consented#need-{need_id}")


def _withdraw_confirmation(
    request: Request, who: Visitor, need: Any, error: str | None = None, status: int = 200
) -> HTMLResponse:
    return page(
        request,
        "enterprise/confirm.html",
        who,
        status,
        heading=f"撤回融资需求 #{need.id}",
        points=[
            "这项需求将关闭，不再推荐产品，也不再推送给银行；撤回后不能恢复，需要时请重新发布。",
            "已收到这项需求、正在对接的银行会收到撤回通知，对接随之结束。",
        ],
        action=f"{PREFIX}/enterprise/needs/{need.id}/withdraw",
        hidden={"version": need.version},
        confirm_label="我确认撤回这项融资需求",
        button="撤回需求",
        cancel=f"{PREFIX}/enterprise/needs",
        error=error,
    )


@router.get("/enterprise/needs/{need_id:int}/withdraw/confirm")
def withdraw_need_confirm(
    request: Request, session: SessionDep, who: EnterpriseUser, need_id: Id
) -> Response:
    return _withdraw_confirmation(request, who, _own_need(session, who, need_id))


@router.post("/enterprise/needs/{need_id:int}/withdraw")
def withdraw_need(
    request: Request, session: SessionDep, who: EnterpriseUser, need_id: Id, fields: Form
) -> Response:
    need = _own_need(session, who, need_id)
    form = FormReader(fields)
    if not form.checked("confirmed"):
        message = "请勾选“我确认撤回这项融资需求”后再提交；需求没有撤回。"
        return _withdraw_confirmation(request, who, need, message, 422)
    version = form.integer("version", 1, 2_147_483_647)
    matching.withdraw_need(session, need_id, version, principal=who.principal)
    return see_other(f"{PREFIX}/enterprise/needs?done=withdrawn#need-{need_id}")

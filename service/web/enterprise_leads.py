"""The enterprise's leads and banks' contact requests: each bank by name with its progress,
accepting a request, and, after a confirmation, declining one or withdrawing a lead."""

from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.errors import AppError
from service.leads import contact_requests
from service.leads import lifecycle as leads
from service.leads.exceptions import ContactRequestNotFound
from service.leads.schemas import ContactRequestPublic, LeadPublic, StatusChange
from service.leads.states import LeadStatus
from service.web.enterprise import bank_names, page
from service.web.enterprise_requests import lead_ratings
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, page_router, see_other
from service.web.security import EnterpriseUser, Form, Visitor

router = page_router()


@router.get("/enterprise/leads")
def enterprise_leads(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return page(
        request,
        "enterprise/leads.html",
        who,
        leads=leads.recent_leads(session, who.principal, limit=200),
        requests=contact_requests.list_contact_requests(session, who.principal),
        banks=bank_names(session),
        rated=lead_ratings(session, who),
    )


def _request(session: Session, who: Visitor, request_id: int) -> ContactRequestPublic:
    for found in contact_requests.list_contact_requests(session, who.principal):
        if found.id == request_id:
            return found
    raise ContactRequestNotFound(f"联系请求 {request_id} 不存在。")


def _decline_confirmation(
    request: Request,
    session: Session,
    who: Visitor,
    asked: ContactRequestPublic,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    bank = asked.bank_name or bank_names(session).get(asked.bank_code, "该银行")
    return page(
        request,
        "enterprise/confirm.html",
        who,
        status,
        heading=f"谢绝{bank}的联系请求",
        points=[
            f"{bank}希望就“{asked.product_name}”与您联系；谢绝后它不会得到企业名称和联系方式。",
            "谢绝后不能改为同意；之后如需这家银行的产品，可以在“推荐产品”里直接申请。",
        ],
        action=f"{PREFIX}/enterprise/contact-requests/{asked.id}/decline",
        hidden={},
        confirm_label=f"我确认谢绝{bank}的联系请求",
        button="谢绝",
        cancel=f"{PREFIX}/enterprise/leads",
        error=error,
    )


@router.get("/enterprise/contact-requests/{request_id:int}/decline/confirm")
def decline_confirm(
    request: Request, session: SessionDep, who: EnterpriseUser, request_id: Id
) -> Response:
    return _decline_confirmation(request, session, who, _request(session, who, request_id))


@router.post("/enterprise/contact-requests/{request_id:int}/{decision}")
def enterprise_contact_request(
    request: Request,
    session: SessionDep,
    who: EnterpriseUser,
    request_id: Id,
    decision: str,
    fields: Form,
) -> Response:
    """A bank asked to contact the enterprise: it accepts (the bank gets a lead) or, once it
    confirms, declines."""
    if decision not in ("accept", "decline"):
        raise AppError("没有这个操作。", status=404, code="page_not_found")
    if decision == "decline" and not FormReader(fields).checked("confirmed"):
        asked = _request(session, who, request_id)
        message = "请勾选确认后再提交；联系请求没有谢绝。"
        return _decline_confirmation(request, session, who, asked, message, 422)
    contact_requests.decide_contact_request(
        session, who.principal, request_id, accept=decision == "accept"
    )
    done = "accepted" if decision == "accept" else "declined"
    return see_other(f"{PREFIX}/enterprise/leads?done={done}")


def _lead(session: Session, who: Visitor, lead_id: int) -> LeadPublic:
    lead = leads.get_lead(session, who.principal, lead_id)
    return leads.leads_public(session, who.principal, [lead])[0]


def _withdraw_confirmation(
    request: Request,
    session: Session,
    who: Visitor,
    lead: Any,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    bank = bank_names(session).get(lead.bank_code, "该银行")
    return page(
        request,
        "enterprise/confirm.html",
        who,
        status,
        heading=f"撤回与{bank}的对接",
        points=[
            f"与{bank}就“{lead.product_name}”的对接将结束，银行会收到撤回通知。",
            "撤回后不能恢复；之后仍需要时，可以重新申请这家银行的产品。",
        ],
        action=f"{PREFIX}/enterprise/leads/{lead.id}/withdraw",
        hidden={"version": lead.version},
        confirm_label=f"我确认撤回与{bank}的对接",
        button="撤回对接",
        cancel=f"{PREFIX}/enterprise/leads#lead-{lead.id}",
        error=error,
    )


@router.get("/enterprise/leads/{lead_id:int}/withdraw/confirm")
def withdraw_lead_confirm(
    request: Request, session: SessionDep, who: EnterpriseUser, lead_id: Id
) -> Response:
    return _withdraw_confirmation(request, session, who, _lead(session, who, lead_id))


@router.post("/enterprise/leads/{lead_id:int}/withdraw")
def enterprise_withdraw_lead(
    request: Request, session: SessionDep, who: EnterpriseUser, lead_id: Id, fields: Form
) -> Response:
    """The enterprise no longer wants this bank's offer: the lead closes, the bank is told."""
    form = FormReader(fields)
    if not form.checked("confirmed"):
        lead = _lead(session, who, lead_id)
        message = "请勾选确认后再提交；对接没有撤回。"
        return _withdraw_confirmation(request, session, who, lead, message, 422)
    version = form.integer("version", 1, 2_147_483_647)
    change = StatusChange(status=LeadStatus.withdrawn)
    leads.change_status(session, who.principal, lead_id, change, version)
    return see_other(f"{PREFIX}/enterprise/leads?done=lead_withdrawn#lead-{lead_id}")

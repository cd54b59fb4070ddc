"""The pages. Thin like the API's routers: read the request, call the use cases with the
signed-in holder (so the same rules decide what each may see and do), render."""

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.types import Scope

from service.access import service as access
from service.access.models import Role
from service.access.policy import check_enterprise_fields, ensure_sees_enterprise
from service.core.database import get_session
from service.core.errors import AppError, Unprocessable
from service.core.exports import send
from service.core.models import today_local
from service.core.pagination import PageParams
from service.core.settings import get_settings
from service.core.types import Digits
from service.enterprises import import_service
from service.enterprises import service as enterprises
from service.enterprises.models import EnterpriseUpdate, RowAction
from service.leads import service as leads
from service.leads.schemas import StatusChange
from service.leads.states import DeclineReason, LeadStatus
from service.lists import releases
from service.lists import service as lists
from service.lists.exports import release_export
from service.lists.models import Match
from service.loans import service as loans
from service.loans.models import LoanStatus
from service.loans.renewal import CaseStatus
from service.loans.schemas import RenewalChange
from service.matching import service as matching
from service.matching.models import CollateralOffer, NeedCreate, NeedPurpose, NeedUpdate
from service.metrics.schemas import ReportQuery
from service.products import service as products
from service.taxonomy import service as taxonomy
from service.web import dashboard, library, library_import, list_upload, uploads
from service.web.forms import FormReader
from service.web.labels import BANK_OUTCOMES, label
from service.web.security import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    BankUser,
    CsrfRejected,
    EnterpriseUser,
    Form,
    MaybeSigned,
    OfficeUser,
    Signed,
    SignInRequired,
    Visitor,
    check_token,
    new_sign_in_token,
    read_form,
    same_origin,
)
from service.web.tables import display

HERE = Path(__file__).parent
PREFIX = "/web"
SECURITY_HEADERS = {
    # Everything the pages use is served here; nothing runs but the browser's own forms.
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # holders' data: never kept by a shared cache
}

templates = Jinja2Templates(directory=HERE / "templates")


def _wan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 1_000_000:,.2f} 万元"


def _rate(bp: float | int | None) -> str:
    return "—" if bp is None else f"{bp / 100:.2f}%"


def _local(at: datetime | None) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


templates.env.filters.update(wan=_wan, rate=_rate, local=_local)
templates.env.globals.update(label=label, display=display, PREFIX=PREFIX)


class PageRoute(APIRoute):
    """A page answers a person: a missing session sends them to sign in, an expected failure
    is a page that says what happened (not problem+json), and every answer carries the
    security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"{PREFIX}/sign-in?next={quote(target)}", 303)
            except CsrfRejected:
                response = error_page(
                    request, 403, "表单已失效或来自其他网站，请返回页面刷新后重新提交。"
                )
            except AppError as exc:
                response = error_page(request, exc.status, exc.detail)
            except RequestValidationError:
                response = error_page(request, 422, "地址中的参数无效，请从页面上的链接进入。")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route


router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]
# Ids in addresses, within the database's integer range (a larger one is a 422 page).
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647), Digits]


def render(
    request: Request, template: str, who: Visitor | None, status: int = 200, /, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {"who": who, "csrf": who.csrf_token if who else None, "today": today_local(), **context},
        status_code=status,
    )


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {401: "请先登录", 403: "无权访问", 404: "未找到", 409: "操作冲突", 412: "内容已变化"}
    who = getattr(request.state, "visitor", None)  # signed in: keep the menu
    return render(
        request, "error.html", who, status, title=titles.get(status, "无法完成"), message=message
    )


def edge_page(scope: Scope, exc: AppError) -> Response:
    """A request the edge refused before any route (a body over its limit, a NUL character),
    answered as a page like any other failure, before the session is read: without the menu."""
    response = error_page(Request(scope), exc.status, exc.detail)
    response.headers.update(SECURITY_HEADERS)
    return response


def place_names(session: Session) -> dict[str, dict[str, str]]:
    """Cluster, district and ownership names by code, for pages that show a profile."""
    return {
        "cluster": {c.code: c.name for c in taxonomy.list_clusters(session)},
        "district": {d.code: d.name for d in taxonomy.list_districts(session)},
        "ownership": {o.code: o.name for o in taxonomy.list_ownership_types(session)},
    }


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


HOME = {Role.enterprise: "/enterprise", Role.bank: "/bank", Role.office: "/office"}


def _safe_next(target: str | None, role: Role) -> str:
    """Only a page of ours, and never the sign-in page itself."""
    home = PREFIX + HOME[role]
    if not target:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX + "/"):
        return home
    if parts.path.startswith(PREFIX + "/sign-"):
        return home
    return target


# --- signing in -----------------------------------------------------------------------------


@router.get("")
@router.get("/")
def home(who: MaybeSigned) -> Response:
    if who is None:
        return see_other(f"{PREFIX}/sign-in")
    return see_other(PREFIX + HOME[who.role])


def _sign_in_page(
    request: Request, next_url: str | None, errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    token = new_sign_in_token()
    response = render(
        request, "sign_in.html", None, status, errors=errors, next_url=next_url, sign_in=token
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request, who: MaybeSigned, next_url: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    if who is not None:
        return see_other(_safe_next(next_url, who.role))
    return _sign_in_page(request, next_url, {})


@router.post("/sign-in")
async def sign_in(request: Request, session: SessionDep) -> Response:
    if not same_origin(request):
        raise CsrfRejected
    fields = await read_form(request)
    check_token(fields.get("sign_in"), request.cookies.get(SIGN_IN_CSRF_COOKIE) or "\x00")
    form = FormReader(fields)
    key = form.text("key", 200, required=True)
    next_url = form.text("next", 500)
    if key is None:
        return _sign_in_page(request, next_url, form.errors, 422)
    try:
        signed = access.open_web_session(session, key)
    except AppError as exc:
        return _sign_in_page(request, next_url, {"key": exc.detail}, 401)
    response = see_other(_safe_next(next_url, signed.principal.role))
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=int(access.WEB_SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep, _: Form) -> Response:
    access.close_web_session(session, request.cookies.get(SESSION_COOKIE))
    response = see_other(f"{PREFIX}/sign-in")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- the enterprise portal ------------------------------------------------------------------


def _enterprise_id(who: Visitor) -> int:
    assert who.principal.enterprise_id is not None
    return who.principal.enterprise_id


def _first_page(fetch: Callable[[PageParams], Any], limit: int = 200) -> list[Any]:
    """The first page of a listing (its first ``limit`` items): what a page shows."""
    return list(fetch(PageParams(limit=limit, cursor=None)).items)


@router.get("/enterprise")
def enterprise_home(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    enterprise_id = _enterprise_id(who)
    profile = enterprises.enterprise_public(
        session, enterprises.get_enterprise(session, enterprise_id)
    )
    needs = _first_page(lambda p: matching.list_needs(session, p, enterprise_id=enterprise_id))
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
    check_enterprise_fields(who.principal, data.model_fields_set)
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
        for n in _first_page(lambda p: matching.list_needs(session, p, enterprise_id=enterprise_id))
        if n.status in ("open", "matched")
    ]
    if need is not None:
        _own_need(session, who, need)
        result = matching.recommend_for_need(session, need)
    else:
        result = matching.recommend_for_enterprise(session, enterprise_id)
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
    return _first_page(lambda p: products.list_banks(session, p))


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


def _echo(fields: dict[str, Any]) -> dict[str, Any]:
    """What was typed, to show again beside the messages."""
    echo = dict(fields)
    for many in ("collateral", "bank_codes"):
        value = echo.get(many, [])
        echo[many] = [value] if isinstance(value, str) else list(value)
    echo["consent_share_details"] = fields.get("consent_share_details") == "on"
    return echo


@router.get("/enterprise/needs")
def enterprise_needs(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    enterprise_id = _enterprise_id(who)
    needs = _first_page(lambda p: matching.list_needs(session, p, enterprise_id=enterprise_id))
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
            session, NeedCreate(enterprise_id=_enterprise_id(who), **values)
        ),
        session.rollback,
    )
    if need is not None:
        return see_other(f"{PREFIX}/enterprise/needs?posted={need.id}")
    return _need_form(request, session, who, None, _echo(fields), form.errors, form.status)


def _own_need(session: Session, who: Visitor, need_id: int) -> Any:
    need = matching.get_need(session, need_id)
    ensure_sees_enterprise(who.principal, need.enterprise_id, "融资需求")  # as the API
    return need


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
        lambda: matching.update_need(session, need_id, NeedUpdate(**values), version),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/enterprise/needs?updated={need_id}")
    need = matching.get_need(session, need_id)
    return _need_form(request, session, who, need, _echo(fields), form.errors, form.status)


@router.post("/enterprise/needs/{need_id:int}/withdraw")
def withdraw_need(
    request: Request, session: SessionDep, who: EnterpriseUser, need_id: Id, fields: Form
) -> Response:
    _own_need(session, who, need_id)
    version = FormReader(fields).integer("version", 1, 2_147_483_647)
    matching.withdraw_need(session, need_id, version)
    return see_other(f"{PREFIX}/enterprise/needs?withdrawn={need_id}")


@router.get("/enterprise/leads")
def enterprise_leads(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return render(
        request,
        "enterprise/leads.html",
        who,
        leads=leads.recent_leads(session, who.principal, limit=200),
        requests=leads.list_contact_requests(session, who.principal),
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
    leads.decide_contact_request(session, who.principal, request_id, accept=decision == "accept")
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
        loans=_first_page(lambda p: loans.list_loans(session, who.principal, p)),
        reminders=_first_page(lambda p: loans.list_reminders(session, who.principal, p), 100),
    )


# --- the bank view --------------------------------------------------------------------------


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
        reminders=_first_page(lambda p: loans.list_reminders(session, who.principal, p), 50),
        loans=_first_page(
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
    case = loans.case_public(loans.get_case(session, who.principal, loan_id))
    loan = loans.loans_public(
        session, who.principal, [loans.get_loan(session, who.principal, loan_id)]
    )[0]
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
        lambda: loans.change_case(
            session, who.principal, loan_id, RenewalChange(**change), version
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/bank/loans/{loan_id}?saved=1")
    return _loan_page(request, session, who, loan_id, fields, form.errors, form.status)


# --- the office -----------------------------------------------------------------------------


# The 民营企业 filter of the office's pages: all enterprises, 民营 only, or the others.
PRIVATE_CHOICES = {"true": True, "false": False}


def report_query(
    from_date: Annotated[str | None, Query(alias="from")] = None,
    to_date: Annotated[str | None, Query(alias="to")] = None,
    bank: Annotated[str | None, Query(max_length=32)] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    private: Annotated[str | None, Query(max_length=20)] = None,
) -> tuple[ReportQuery, dict[str, str]]:
    """The period and 民营企业 filters, read leniently: a bad value is a message beside its
    field, and that filter is left out."""
    form = FormReader({"from": from_date or "", "to": to_date or "", "private": private or ""})
    start, end = form.day("from"), form.day("to")
    if start and end and start > end:
        form.fail("to", "结束日期不能早于开始日期。")
    period_ok = not form.errors
    owned = form.choice("private", PRIVATE_CHOICES)
    query = ReportQuery(
        from_date=start if period_ok else None,
        to_date=end if period_ok else None,
        bank=bank or None,
        product=product or None,
        private=PRIVATE_CHOICES.get(owned) if owned else None,
    )
    return query, form.errors


Period = Annotated[tuple[ReportQuery, dict[str, str]], Depends(report_query)]


def _period_args(query: ReportQuery) -> str:
    parts = []
    if query.from_date:
        parts.append(f"from={query.from_date.isoformat()}")
    if query.to_date:
        parts.append(f"to={query.to_date.isoformat()}")
    if query.bank:
        parts.append(f"bank={quote(query.bank)}")
    if query.product:
        parts.append(f"product={quote(query.product)}")
    if query.private is not None:
        parts.append(f"private={'true' if query.private else 'false'}")
    return "&".join(parts)


@router.get("/office")
def office_dashboard(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    period: Period,
    group: Annotated[str, Query(max_length=20)] = "bank",
    amount_group: Annotated[str, Query(max_length=20)] = "bank",
) -> Response:
    query, errors = period
    if group not in dashboard.FUNNEL_GROUPS:
        group = "bank"
    if amount_group not in dashboard.AMOUNT_GROUPS:
        amount_group = "bank"
    src = dashboard.Source(session, query)
    funnel = dashboard.funnel_table(src, group)
    trend = dashboard.trend_table(src)
    tables = [
        funnel,
        trend,
        dashboard.response_table(src),
        dashboard.declines_table(src),
        dashboard.amounts_table(src, amount_group),
        dashboard.renewals_table(src),
        dashboard.maturities_table(src),
    ]
    return render(
        request,
        "office/dashboard.html",
        who,
        query=query,
        errors=errors,
        group=group,
        amount_group=amount_group,
        groups=dashboard.FUNNEL_GROUPS,
        amount_groups=dashboard.AMOUNT_GROUPS,
        group_label=dashboard.GROUP_LABEL,
        charts=dashboard.funnel_charts(funnel, trend),
        tables=tables,
        period_args=_period_args(query),
        pending_reviews=lists.pending_reviews(session),
    )


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/office/export/{name}.{fmt}")
def office_export(
    session: SessionDep, who: OfficeUser, period: Period, name: str, fmt: str
) -> Response:
    query, errors = period
    if errors:
        code = "invalid_period" if {"from", "to"} & errors.keys() else "invalid_filter"
        raise Unprocessable("；".join(errors.values()), code=code)
    table = dashboard.build(session, name, query) if fmt in EXPORT_TYPES else None
    if table is None:
        raise AppError(f"没有名为 {name}.{fmt} 的导出。", status=404, code="export_not_found")
    content = table.csv() if fmt == "csv" else table.xlsx()
    stem = "_".join(
        ["finmatch", name]
        + [p for p in (query.bank, query.product) if p]
        + ([] if query.private is None else ["private" if query.private else "non-private"])
        + [query.from_date.isoformat() if query.from_date else "start"]
        + [query.to_date.isoformat() if query.to_date else str(today_local())]
    )
    return Response(
        content,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get("/office/banks/{code}")
def office_bank(
    request: Request, session: SessionDep, who: OfficeUser, period: Period, code: str
) -> Response:
    query, errors = period
    bank = products.get_bank(session, code)
    query = query.model_copy(update={"bank": bank.code})
    src = dashboard.Source(session, query)
    tables = [
        dashboard.funnel_table(src, "product"),
        dashboard.trend_table(src),
        dashboard.response_table(src),
        dashboard.declines_table(src),
        dashboard.amounts_table(src, "product"),
        dashboard.renewals_table(src),
        dashboard.maturities_table(src),
    ]
    return render(
        request,
        "office/bank.html",
        who,
        bank=bank,
        query=query,
        errors=errors,
        tables=tables,
        period_args=_period_args(query),
        leads=leads.recent_leads(session, who.principal, bank_code=bank.code, limit=50),
    )


def _enterprises_page(
    request: Request,
    session: Session,
    who: Visitor,
    name: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    found: list[Any] = []
    if name:
        filters = enterprises.EnterpriseFilters(name=name)
        found = list(
            enterprises.list_enterprises(session, filters, PageParams(limit=50, cursor=None)).items
        )
    return render(
        request,
        "office/enterprises.html",
        who,
        status,
        name=name or "",
        found=found,
        names=place_names(session),
        kinds=library_import.KINDS,
        values=values or {},
        errors=errors or {},
        max_upload=uploads.file_limit(),
    )


@router.get("/office/enterprises")
def office_enterprises(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    name: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    return _enterprises_page(request, session, who, name)


@router.post("/office/enterprises/imports")
def office_import_library(
    request: Request, session: SessionDep, who: OfficeUser, upload: uploads.Posted
) -> Response:
    """An enterprise or project library file uploaded through the page: the API's preview,
    then its page."""
    done = library_import.preview(session, who.principal, upload)
    if done.record is not None:
        return see_other(f"{PREFIX}/office/enterprises/imports/{done.record.id}")
    values = {"kind": str(upload.fields.get("kind") or "")}
    return _enterprises_page(request, session, who, None, values, done.errors, done.status)


@router.get("/office/enterprises/imports/{import_id:int}")
def office_library_import(
    request: Request, session: SessionDep, who: OfficeUser, import_id: Id
) -> Response:
    record = import_service.read_any_import(session, who.principal, import_id)
    names = place_names(session)
    words = library_import.Words(
        names, {q.code: q.name for q in taxonomy.list_qualification_types(session)}
    )
    return render(
        request,
        "office/library_import.html",
        who,
        record=record,
        library=library_import.KINDS[record.kind],
        counts=library_import.count_lines(record.applied or record.counts),
        rejected=library_import.rows(session, who.principal, record, RowAction.rejected),
        updated=library_import.rows(session, who.principal, record, RowAction.update),
        created=library_import.rows(session, who.principal, record, RowAction.create),
        warned=library_import.rows(session, who.principal, record, warned=True),
        words=words,
        shown=library_import.SHOWN,
    )


@router.post("/office/enterprises/imports/{import_id:int}/commit")
def office_commit_library_import(
    session: SessionDep, who: OfficeUser, import_id: Id, _: Form
) -> Response:
    record = import_service.read_any_import(session, who.principal, import_id)
    import_service.commit_import(session, who.principal, record.kind, import_id)
    return see_other(f"{PREFIX}/office/enterprises/imports/{import_id}?committed=1")


@router.get("/office/enterprises/{enterprise_id:int}")
def office_enterprise(
    request: Request, session: SessionDep, who: OfficeUser, enterprise_id: Id
) -> Response:
    return _office_enterprise_page(request, session, who, enterprise_id)


@router.post("/office/enterprises/{enterprise_id:int}/consent")
def office_enterprise_consent(
    request: Request, session: SessionDep, who: OfficeUser, enterprise_id: Id, fields: Form
) -> Response:
    """The office records the enterprise's choice from its signed 入库申报 form."""
    form = FormReader(fields)
    given = form.choice("given", ("yes", "no"), required=True)
    form_ref = form.text("form_ref", 100, required=True)
    signed_on = form.day("signed_on", required=True)
    version = form.integer("version", 1, 2_147_483_647)
    data = EnterpriseUpdate(
        share_with_banks=given == "yes", consent_form_ref=form_ref, consent_form_signed_on=signed_on
    )
    done = form.run(
        lambda: enterprises.update_enterprise(session, enterprise_id, data, version, who.principal),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/office/enterprises/{enterprise_id}?consent=1")
    error = "；".join(dict.fromkeys(form.errors.values()))
    return _office_enterprise_page(
        request, session, who, enterprise_id, _echo(fields), error, form.status
    )


def _office_enterprise_page(
    request: Request,
    session: Session,
    who: Visitor,
    enterprise_id: int,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    profile = enterprises.enterprise_public(
        session, enterprises.get_enterprise(session, enterprise_id)
    )
    return render(
        request,
        "office/enterprise.html",
        who,
        status,
        form=form,
        error=error,
        names=place_names(session),
        profile=profile,
        needs=_first_page(lambda p: matching.list_needs(session, p, enterprise_id=enterprise_id)),
        leads=leads.recent_leads(session, who.principal, enterprise_id=enterprise_id),
        loans=_first_page(
            lambda p: loans.list_loans(session, who.principal, p, enterprise_id=enterprise_id)
        ),
        recommendations=matching.recommend_for_enterprise(session, enterprise_id),
    )


def _lists_page(
    request: Request,
    session: Session,
    who: Visitor,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    queue = lists.list_entries(
        session, who.principal, PageParams(limit=100, cursor=None), match=Match.review, pending=True
    )
    imports = lists.list_imports(session, who.principal, PageParams(limit=20, cursor=None))
    types = {t.code: t.name for t in taxonomy.list_qualification_types(session)}
    return render(
        request,
        "office/lists.html",
        who,
        status,
        entries=queue.items,
        imports=imports.items,
        qualification_names=types,
        values=values or {},
        errors=errors or {},
        max_upload=uploads.file_limit(),
    )


@router.get("/office/lists")
def office_lists(request: Request, session: SessionDep, who: OfficeUser) -> Response:
    return _lists_page(request, session, who)


@router.post("/office/lists/imports")
def office_import_list(
    request: Request, session: SessionDep, who: OfficeUser, upload: list_upload.ListUpload
) -> Response:
    """A list file uploaded through the page: the API's preview, then its page."""
    types = [t.code for t in taxonomy.list_qualification_types(session)]
    done = list_upload.preview(session, who.principal, upload, types)
    if done.record is not None:
        again = "?duplicate=1" if done.duplicate else ""
        return see_other(f"{PREFIX}/office/lists/imports/{done.record.id}{again}")
    values = list_upload.echo(upload.fields)
    return _lists_page(request, session, who, values, done.errors, done.status)


@router.get("/office/lists/imports/{import_id:int}")
def office_list_import(
    request: Request, session: SessionDep, who: OfficeUser, import_id: Id
) -> Response:
    record = lists.get_import(session, import_id)
    types = {t.code: t.name for t in taxonomy.list_qualification_types(session)}
    return render(
        request,
        "office/list_import.html",
        who,
        record=record,
        type_name=types.get(record.qualification_type, "未知资质"),
        counts=list_upload.count_lines(record),
        rejected=list_upload.rejected_rows(session, who.principal, import_id),
    )


@router.post("/office/lists/imports/{import_id:int}/commit")
def office_commit_import(session: SessionDep, who: OfficeUser, import_id: Id, _: Form) -> Response:
    lists.commit_import(session, who.principal, import_id)
    return see_other(f"{PREFIX}/office/lists?committed={import_id}")


@router.post("/office/lists/entries/{entry_id:int}/confirm")
def office_confirm(session: SessionDep, who: OfficeUser, entry_id: Id, fields: Form) -> Response:
    form = FormReader(fields)
    enterprise_id = form.integer("enterprise_id", 1, 2_147_483_647, required=True)
    version = form.integer("version", 1, 2_147_483_647)
    if form.errors or enterprise_id is None:
        raise Unprocessable("请选择要确认的候选企业。", code="missing_candidate")
    lists.confirm(session, who.principal, entry_id, enterprise_id, version)
    return see_other(f"{PREFIX}/office/lists?confirmed={entry_id}")


@router.post("/office/lists/entries/{entry_id:int}/reject")
def office_reject(session: SessionDep, who: OfficeUser, entry_id: Id, fields: Form) -> Response:
    version = FormReader(fields).integer("version", 1, 2_147_483_647)
    lists.reject(session, who.principal, entry_id, version)
    return see_other(f"{PREFIX}/office/lists?rejected={entry_id}")


@router.get("/office/releases")
def office_releases(request: Request, session: SessionDep, who: OfficeUser) -> Response:
    found = library.office_releases(session, who.principal)
    return render(
        request,
        "office/releases.html",
        who,
        releases=found.items,
        more=found.next_cursor is not None,
        tiers=library.tiers_in_words(),
    )


@router.post("/office/releases")
def office_publish(session: SessionDep, who: OfficeUser, fields: Form) -> Response:
    note = FormReader(fields).text("note", 200)
    release = releases.publish(session, who.principal, note)
    return see_other(f"{PREFIX}/office/releases?published={release.number}")


@router.get("/releases/{number:int}/{kind}.{fmt}")
def release_download(
    request: Request, session: SessionDep, who: Signed, number: Id, kind: str, fmt: str
) -> Response:
    """A release's library as a spreadsheet, as the signed-in office or bank sees it (the
    API's export, with the page's session)."""
    if kind not in ("enterprise", "project") or fmt not in ("csv", "xlsx"):
        raise AppError(f"没有名为 {kind}.{fmt} 的导出。", status=404, code="export_not_found")
    open_session = request.app.state.open_session
    return send(release_export(session, who.principal, number, kind, fmt, open_session))  # type: ignore[arg-type]


@router.get("/{path:path}")
def not_found(path: str) -> Response:
    """Any other address under /web: a page that says so, not the API's problem+json."""
    raise AppError("没有这个页面。", status=404, code="page_not_found")

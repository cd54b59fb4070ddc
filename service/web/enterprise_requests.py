"""The enterprise's requests (诉求) and ratings: its requests with the next step each can take,
raising one (about a lead or a loan, with one file), following one through its timeline,
adding files, confirming the result with a rating, reopening once, withdrawing after a
confirmation; and rating a bank's service on a lead that has ended, once.

The use cases decide everything (who sees what, which step may follow which); the pages read
the form into their terms (元 to fen, % to basis points) and show their refusals beside the
field they name. A file is judged by its bytes before the request is raised: a refused file
raises nothing."""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.access.policy import Principal
from service.appeals import attachments, ratings, reference, steps, storage
from service.appeals import service as appeals
from service.appeals.exceptions import AlreadyRated
from service.appeals.kinds import (
    CHARGE_ITEM_LABEL,
    CHARGE_RULE_LABEL,
    KIND_LABEL,
    NEEDS_BANK,
    AppealKind,
)
from service.appeals.schemas import AppealCreate, AppealPublic, AppealStep, RatingCreate
from service.appeals.service import ROLE_NAME, AppealFilters
from service.appeals.states import ACTION_LABEL, FINAL, Action
from service.core.errors import AppError
from service.core.settings import get_settings
from service.leads import lifecycle as leads
from service.leads.schemas import LeadPublic
from service.leads.states import TERMINAL
from service.loans import service as loans
from service.web.enterprise import bank_names, bank_options, done_message
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, first_page, page_router, render, see_other
from service.web.security import EnterpriseUser, Form, Visitor
from service.web.uploads import Posted, Upload

router = page_router()

MAX_ID = 2_147_483_647
TITLE_MAX, DESCRIPTION_MAX = 80, 2000
COMMENT_MAX = steps.CONFIRM_COMMENT_MAX
MAX_CHARGE_FEN = 10**13  # the use case's bound: 1000 亿元
SCORE_WORDS = {1: "很不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "很满意"}

# What a page says after an action (?done=<key>): fixed texts, never the query's own words.
DONE = {
    "raised": "诉求已提交。金融办受理后交办给相关银行或部门办理，每一步都会在这里显示。",
    "attached": "附件已上传。",
    "confirmed": "已确认办理结果，感谢您的评价。",
    "reopened": "诉求已重新打开，金融办将再次办理。",
    "request_withdrawn": "诉求已撤回。",
    "lead_rated": "已评价，感谢您的反馈。",
    "lead_already_rated": "这条对接已经评价过了；每条对接只能评价一次，以第一次的评价为准。",
}
# The use case's field names, as the forms call them.
RAISE_FORM_NAMES = {
    "charge_amount_fen": "charge_amount",
    "offered_rate_bp": "offered_rate",
    "charged_rate_bp": "charged_rate",
    "lead_id": "about",
    "loan_id": "about",
    "enterprise_id": "_form",
}


def _render(
    request: Request, template: str, who: Visitor, status: int = 200, /, **context: Any
) -> HTMLResponse:
    done = DONE.get(request.query_params.get("done", "")) or done_message(request)
    return render(request, template, who, status, done=done, **context)


# --- the list, and ended leads to rate ------------------------------------------------------


def lead_ratings(session: Session, who: Visitor) -> dict[int, int]:
    """The enterprise's ratings of its leads: lead → score (for the leads page too)."""
    given = first_page(lambda p: ratings.list_ratings(session, who.principal, p))
    return {r.lead_id: r.score for r in given if r.lead_id is not None}


def _to_rate(session: Session, who: Visitor) -> list[LeadPublic]:
    rated = lead_ratings(session, who)
    ended = leads.recent_leads(session, who.principal, limit=200)
    return [lead for lead in ended if lead.status in TERMINAL and lead.id not in rated]


def _list_page(
    request: Request,
    session: Session,
    who: Visitor,
    errors: dict[int, dict[str, str]] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    shown = first_page(
        lambda p: appeals.list_appeals(session, who.principal, p, AppealFilters()), 200
    )
    return _render(
        request,
        "enterprise/requests.html",
        who,
        status,
        appeals=shown,
        to_rate=_to_rate(session, who),
        banks=bank_names(session),
        errors=errors or {},
        values=values or {},
        error=error,
        score_words=SCORE_WORDS,
        comment_max=COMMENT_MAX,
    )


@router.get("/enterprise/requests")
def enterprise_requests(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return _list_page(request, session, who)


@router.post("/enterprise/leads/{lead_id:int}/rate")
def rate_lead(
    request: Request, session: SessionDep, who: EnterpriseUser, lead_id: Id, fields: Form
) -> Response:
    """The enterprise rates the bank's service on a lead that has ended; a second rating is
    said plainly, not refused as an error."""
    leads.get_lead(session, who.principal, lead_id)  # another's lead: a 404 page
    form = FormReader(fields)
    score = _score(form, "score")
    comment = form.text("comment", COMMENT_MAX)
    if score is not None and not form.errors:
        data = RatingCreate(
            lead_id=lead_id, score=score, comment=comment, show_name=form.checked("show_name")
        )
        try:
            ratings.rate_lead(session, who.principal, data)
            return see_other(f"{PREFIX}/enterprise/requests?done=lead_rated#ratings")
        except AlreadyRated:
            session.rollback()
            return see_other(f"{PREFIX}/enterprise/requests?done=lead_already_rated#ratings")
        except AppError as exc:
            session.rollback()
            if exc.status == 404:
                raise
            return _list_page(request, session, who, error=exc.detail, status=exc.status)
    echo = {"lead": lead_id, **{k: v for k, v in fields.items() if isinstance(v, str)}}
    return _list_page(request, session, who, {lead_id: form.errors}, echo, 422)


def _score(form: FormReader, name: str) -> int | None:
    if not form.raw(name):
        form.fail(name, "请选择 1–5 分（5 分最满意）。")
        return None
    return form.integer(name, 1, 5)


# --- raising a request ----------------------------------------------------------------------


def _about(session: Session, who: Visitor, lead_id: int | None, loan_id: int | None) -> Any:
    """What the request concerns, as the form says it, and its bank (or None)."""
    names = bank_names(session)
    if lead_id is not None:
        lead = leads.leads_public(
            session, who.principal, [leads.get_lead(session, who.principal, lead_id)]
        )[0]
        bank = names.get(lead.bank_code, "该银行")
        return {"text": f"与{bank}就“{lead.product_name}”的对接", "bank": bank}
    if loan_id is not None:
        loan = loans.read_loan(session, who.principal, loan_id)
        bank = loan.bank_name or names.get(loan.bank_code, "该银行")
        return {"text": f"{bank}的贷款（合同号 {loan.contract_no}）", "bank": bank}
    return None


def _raise_form(
    request: Request,
    session: Session,
    who: Visitor,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    lead_id, loan_id = _id_or_none(values.get("lead_id")), _id_or_none(values.get("loan_id"))
    return _render(
        request,
        "enterprise/request_form.html",
        who,
        status,
        values=values,
        errors=errors,
        about=_about(session, who, lead_id, loan_id),
        kinds=[(str(k), v) for k, v in KIND_LABEL.items()],
        needs_bank=[str(k) for k in NEEDS_BANK],
        kind_needs_bank="、".join(KIND_LABEL[k] for k in AppealKind if k in NEEDS_BANK),
        rules=[(str(k), v) for k, v in CHARGE_RULE_LABEL.items()],
        items=[(str(k), v) for k, v in CHARGE_ITEM_LABEL.items()],
        banks=bank_options(session),
        file_limit=file_limit(),
        title_max=TITLE_MAX,
        description_max=DESCRIPTION_MAX,
    )


def _id_or_none(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_ID else None


@router.get("/enterprise/requests/new")
def new_request_form(
    request: Request,
    session: SessionDep,
    who: EnterpriseUser,
    lead: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    loan: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The raise form; from a lead or a loan (``?lead=`` / ``?loan=``) it concerns that one."""
    values = {"lead_id": str(lead) if lead else "", "loan_id": str(loan or "") if not lead else ""}
    return _raise_form(request, session, who, values, {})


def yuan_to_fen(form: FormReader, name: str) -> int | None:
    """An amount typed in 元 (up to two decimals) as integer fen, exactly."""
    value = form.raw(name).replace(",", "").replace("，", "").removesuffix("元").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        form.fail(name, "请填写数字，单位元，例如 12000 或 3500.50。")
        return None
    if not amount.is_finite() or amount <= 0:
        form.fail(name, "金额应大于 0 元。")
        return None
    fen = amount * 100
    if fen != fen.to_integral_value():
        form.fail(name, "金额最多精确到分（两位小数）。")
        return None
    if fen > MAX_CHARGE_FEN:
        form.fail(name, "金额过大，请确认单位是元。")
        return None
    return int(fen)


def _raise_values(form: FormReader, bank_codes: list[str]) -> dict[str, Any] | None:
    """The form in the use case's terms; only the kind's own details are read (a person may
    fill in one kind's fields and then choose another)."""
    kind = form.choice("kind", list(map(str, AppealKind)), required=True)
    values: dict[str, Any] = {
        "kind": kind,
        "lead_id": form.integer("lead_id", 1, MAX_ID),
        "loan_id": form.integer("loan_id", 1, MAX_ID),
        "title": form.text("title", TITLE_MAX, required=True),
        "description": form.text("description", DESCRIPTION_MAX, required=True),
        "show_to_bank": form.checked("show_to_bank"),
    }
    if values["lead_id"] is None and values["loan_id"] is None:
        values["bank_code"] = form.choice("bank_code", bank_codes)
    if kind == AppealKind.unreasonable_charge:
        values["charge_rule"] = form.choice("charge_rule", map(str, CHARGE_RULE_LABEL))
        values["charge_item"] = form.choice("charge_item", map(str, CHARGE_ITEM_LABEL))
        values["charge_amount_fen"] = yuan_to_fen(form, "charge_amount")
    if kind == AppealKind.rate_above_offer:
        values["offered_rate_bp"] = form.percent_to_bp("offered_rate")
        values["charged_rate_bp"] = form.percent_to_bp("charged_rate", required=True)
    return None if form.errors else values


def check_file(upload: Upload) -> tuple[bytes, str | None] | None:
    """The chosen file's bytes and why it would be refused (the use case's own rules, asked
    before the request exists), or None when no file was chosen."""
    if upload.file is None:
        return None
    limit = get_settings().attachment_max_bytes
    content = upload.file.file.read(limit + 1)
    name = attachments.clean_filename(upload.file.filename, "application/octet-stream")
    if len(content) > limit:
        return content, f"附件「{name}」超过 {file_limit()}，请压缩后再上传。"
    if not content:
        return content, f"附件「{name}」是空文件。"
    if storage.sniff(content) is None:
        return content, (
            f"附件「{name}」不是 PDF 或图片（PNG、JPEG、WebP）：文件内容不是这几种格式，"
            "改扩展名也不行。请上传原始的 PDF 或照片。"
        )
    return content, None


def _filename(upload: Upload) -> str | None:
    return upload.file.filename if upload.file else None


@router.post("/enterprise/requests/new")
def raise_request(
    request: Request, session: SessionDep, who: EnterpriseUser, upload: Posted
) -> Response:
    fields = upload.fields
    form = FormReader(fields, renamed=RAISE_FORM_NAMES)
    values = _raise_values(form, [b.code for b in bank_options(session)])
    chosen = check_file(upload)
    if chosen is not None and chosen[1] is not None:
        form.fail("file", chosen[1] + "诉求没有提交，请重新选择附件。")
    echo: dict[str, Any] = {k: v for k, v in fields.items() if isinstance(v, str)}
    echo["show_to_bank"] = form.checked("show_to_bank")
    if values is None or form.errors:
        return _raise_form(request, session, who, echo, form.errors, form.status)
    made = form.run(
        lambda: appeals.raise_appeal(session, who.principal, AppealCreate(**values)),
        session.rollback,
    )
    if made is None or made.id is None:
        return _raise_form(request, session, who, echo, form.errors, form.status)
    if chosen is not None:
        try:
            attachments.attach(session, who.principal, made.id, _filename(upload), chosen[0])
        except AppError as exc:
            session.rollback()
            message = f"诉求已提交，但附件没有上传：{exc.detail}"
            return _detail(request, session, who, made.id, {"file": message}, status=exc.status)
    return see_other(f"{PREFIX}/enterprise/requests/{made.id}?done=raised")


# --- one request ----------------------------------------------------------------------------


def _event_details(
    data: dict[str, Any], banks: dict[str, str], departments: dict[str, str], categories: Any
) -> list[str]:
    """What an event says, in words (names, never codes)."""
    out: list[str] = []
    if data.get("category_code"):
        out.append(f"类别：{categories.get(str(data['category_code']), '其他')}")
    if data.get("bank_code") and "due_date" in data:
        out.append(f"承办：{banks.get(str(data['bank_code']), '银行')}")
    if data.get("department_code"):
        out.append(f"承办：{departments.get(str(data['department_code']), '部门')}")
    if data.get("due_date"):
        out.append(f"办理期限：{data['due_date']}")
    if data.get("days_late"):
        out.append(f"已超期 {data['days_late']} 天")
    if data.get("merge_into_id"):
        out.append(f"合并到诉求 #{data['merge_into_id']}")
    if data.get("duplicate_id"):
        out.append(f"重复的诉求 #{data['duplicate_id']} 并入本件")
    if data.get("rating"):
        out.append(f"评分：{data['rating']} 分（{SCORE_WORDS.get(int(data['rating']), '')}）")
    if data.get("filename"):
        out.append(f"文件：{data['filename']}")
    for key, word in (
        ("reason", "理由"),
        ("answer", "答复"),
        ("result", "结果"),
        ("comment", "意见"),
        ("note", "说明"),
    ):
        if data.get(key):
            out.append(f"{word}：{data[key]}")
    return out


def _detail(
    request: Request,
    session: Session,
    who: Visitor,
    appeal_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _, shown = appeals.read_one(session, who.principal, appeal_id)
    banks = bank_names(session)
    departments = {d.code: d.name for d in reference.list_departments(session)}
    categories = {c.code: c.name for c in reference.list_categories(session)}
    events = [
        {
            "label": e.label,
            "who": "本企业" if e.actor_role == "enterprise" else e.actor_name,
            "at": e.at,
            "details": _event_details(e.data, banks, departments, categories),
        }
        for e in shown.events or []
    ]
    files = [
        {
            "name": f.filename,
            "kind": storage.MEDIA_LABEL.get(f.media_type, "文件"),
            "size": _size(f.size_bytes),
            "by": "本企业"
            if f.uploaded_by_role == "enterprise"
            else ROLE_NAME.get(f.uploaded_by_role, "其他"),
            "at": f.created_at,
            "url": f"{PREFIX}/enterprise/requests/{appeal_id}/files/{f.id}",
        }
        for f in shown.attachments
    ]
    return _render(
        request,
        "enterprise/request.html",
        who,
        status,
        r=shown,
        events=events,
        files=files,
        can_attach=shown.status not in FINAL and len(files) < attachments.MAX_FILES,
        max_files=attachments.MAX_FILES,
        file_limit=file_limit(),
        charge_item=CHARGE_ITEM_LABEL.get(shown.charge_item) if shown.charge_item else None,
        actions=[str(a) for a in shown.next_actions],
        action_label={str(a): v for a, v in ACTION_LABEL.items()},
        errors=errors or {},
        values=values or {},
        score_words=SCORE_WORDS,
        comment_max=COMMENT_MAX,
    )


def file_limit() -> str:
    """The largest file a request takes, in words."""
    limit = get_settings().attachment_max_bytes
    mb = limit / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{limit // 1024} KB"


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


@router.get("/enterprise/requests/{appeal_id:int}")
def request_page(
    request: Request, session: SessionDep, who: EnterpriseUser, appeal_id: Id
) -> Response:
    return _detail(request, session, who, appeal_id)


@router.get("/enterprise/requests/{appeal_id:int}/files/{attachment_id:int}")
def request_file(
    session: SessionDep, who: EnterpriseUser, appeal_id: Id, attachment_id: Id
) -> Response:
    """A file of the request, as a download (never shown inline)."""
    row, content = attachments.read(session, who.principal, appeal_id, attachment_id)
    return Response(
        content,
        media_type=row.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.post("/enterprise/requests/{appeal_id:int}/files")
def attach_file(
    request: Request, session: SessionDep, who: EnterpriseUser, appeal_id: Id, upload: Posted
) -> Response:
    appeals.get_appeal(session, who.principal, appeal_id)  # another's: a 404 page
    chosen = check_file(upload)
    if chosen is None:
        return _detail(
            request, session, who, appeal_id, {"file": "请选择要上传的文件。"}, status=422
        )
    content, refused = chosen
    if refused is not None:
        return _detail(request, session, who, appeal_id, {"file": refused}, status=415)
    try:
        attachments.attach(session, who.principal, appeal_id, _filename(upload), content)
    except AppError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        return _detail(request, session, who, appeal_id, {"file": exc.detail}, status=exc.status)
    return see_other(f"{PREFIX}/enterprise/requests/{appeal_id}?done=attached#files")


def _step(
    request: Request,
    session: Session,
    who: Visitor,
    appeal_id: int,
    fields: dict[str, Any],
    action: Action,
) -> Response:
    """Confirm with a rating, or reopen with a reason, and come back to the request."""
    text_field = "comment" if action == Action.confirm else "reason"
    form = FormReader(fields, renamed={"text": text_field, "version": "_form"})
    version = form.integer("version", 1, MAX_ID)
    rating = _score(form, "rating") if action == Action.confirm else None
    limit = COMMENT_MAX if action == Action.confirm else 2000
    text = form.text(text_field, limit, required=action == Action.reopen)
    done = form.run(
        lambda: steps.take_step(
            session,
            who.principal,
            appeal_id,
            AppealStep(action=action, text=text, rating=rating),
            version,
        ),
        session.rollback,
    )
    if done is not None:
        word = "confirmed" if action == Action.confirm else "reopened"
        return see_other(f"{PREFIX}/enterprise/requests/{appeal_id}?done={word}")
    echo = {k: v for k, v in fields.items() if isinstance(v, str)}
    return _detail(request, session, who, appeal_id, form.errors, echo, form.status)


@router.post("/enterprise/requests/{appeal_id:int}/confirm")
def confirm_request(
    request: Request, session: SessionDep, who: EnterpriseUser, appeal_id: Id, fields: Form
) -> Response:
    return _step(request, session, who, appeal_id, fields, Action.confirm)


@router.post("/enterprise/requests/{appeal_id:int}/reopen")
def reopen_request(
    request: Request, session: SessionDep, who: EnterpriseUser, appeal_id: Id, fields: Form
) -> Response:
    return _step(request, session, who, appeal_id, fields, Action.reopen)


def _withdraw_confirmation(
    request: Request, who: Visitor, shown: AppealPublic, error: str | None = None, status: int = 200
) -> HTMLResponse:
    return _render(
        request,
        "enterprise/confirm.html",
        who,
        status,
        heading=f"撤回诉求 #{shown.id}",
        points=[
            f"诉求“{shown.title}”将不再办理；正在办理的银行或部门会收到撤回通知。",
            "撤回后不能恢复；问题仍未解决时，可以重新提出诉求。",
        ],
        action=f"{PREFIX}/enterprise/requests/{shown.id}/withdraw",
        hidden={"version": shown.version},
        confirm_label="我确认撤回这项诉求",
        button="撤回诉求",
        cancel=f"{PREFIX}/enterprise/requests/{shown.id}",
        error=error,
    )


def _own(session: Session, principal: Principal, appeal_id: int) -> AppealPublic:
    return appeals.read_one(session, principal, appeal_id)[1]


@router.get("/enterprise/requests/{appeal_id:int}/withdraw/confirm")
def withdraw_request_confirm(
    request: Request, session: SessionDep, who: EnterpriseUser, appeal_id: Id
) -> Response:
    shown = _own(session, who.principal, appeal_id)
    if Action.withdraw not in shown.next_actions:
        message = f"诉求当前为「{shown.status_label}」，不能撤回。"
        raise AppError(message, status=409, code="transition_not_allowed")
    return _withdraw_confirmation(request, who, shown)


@router.post("/enterprise/requests/{appeal_id:int}/withdraw")
def withdraw_request(
    request: Request, session: SessionDep, who: EnterpriseUser, appeal_id: Id, fields: Form
) -> Response:
    form = FormReader(fields)
    if not form.checked("confirmed"):
        shown = _own(session, who.principal, appeal_id)
        message = "请勾选“我确认撤回这项诉求”后再提交；诉求没有撤回。"
        return _withdraw_confirmation(request, who, shown, message, 422)
    version = form.integer("version", 1, MAX_ID)
    steps.take_step(session, who.principal, appeal_id, AppealStep(action=Action.withdraw), version)
    return see_other(f"{PREFIX}/enterprise/requests/{appeal_id}?done=request_withdrawn")

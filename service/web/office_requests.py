"""The office's pages of requests (诉求): the lists by where they stand (the triage queue, those
being handled, the overdue ones with their escalation, the ended ones, all), each row with
what the office does next; one request with its steps and files and a form for each step the
office may take now (accept with a category, reject, merge into another open request of the
same enterprise, dispatch to a bank or a department with its due date, record a department's
answer, close, withdraw on the enterprise's word). Every form carries the version it was
drawn from: a form gone stale is refused with a message, never applied over a newer step.
The quarterly report (季度交办会报告) downloads from here as the API's workbook."""

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.appeals import queries, reference, service, steps
from service.appeals.schemas import (
    AppealPublic,
    AppealStep,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentUpdate,
)
from service.appeals.states import ACTION_LABEL, STATUS_LABEL, TEXT_MAX_CHARS, Action, AppealStatus
from service.core.errors import AppError
from service.core.models import today_local
from service.core.tables import EXPORT_MEDIA_TYPES
from service.metrics import request_report
from service.metrics.requests import recent_quarters
from service.taxonomy.workdays import settled
from service.web.bank_requests import (
    ENDED,
    OPEN_CAP,
    Cursor,
    Numbered,
    PageNo,
    context_names,
    due_words,
    event_words,
    file_response,
    gather,
    numbered,
    refused_status,
    step_reader,
    walk,
)
from service.web.dashboard import REPORT_QUARTERS
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, bank_names, page_router, render, see_other
from service.web.security import Form, OfficeUser, Visitor

router = page_router()
Code = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]

TABS = {
    "raised": "待受理",
    "handling": "办理中",
    "overdue": "逾期",
    "ended": "已办结",
    "all": "全部",
}
HANDLING = (
    AppealStatus.accepted,
    AppealStatus.dispatched,
    AppealStatus.answered,
    AppealStatus.reopened,
)
# What the office does next on a request in each status (shown in front of each row).
NEXT_STEP = {
    AppealStatus.raised: "受理或不予受理",
    AppealStatus.accepted: "交办",
    AppealStatus.dispatched: "等待答复",
    AppealStatus.answered: "审核答复并办结",
    AppealStatus.reopened: "重新交办或办结",
    AppealStatus.closed: "等待企业确认",
}
# The office's forms, in the order the page shows them; answer only for a department.
OFFICE_ACTIONS = (
    Action.accept,
    Action.dispatch,
    Action.answer,
    Action.close,
    Action.reject,
    Action.merge,
    Action.withdraw,
)
DONE = {
    "accept": "已受理，请交办给承办银行或部门。",
    "dispatch": "已交办。",
    "answer": "已登记部门的答复。",
    "close": "已办结，等待企业确认并评价。",
    "reject": "已记为不予受理。",
    "merge": "已合并。",
    "withdraw": "已按企业意愿撤回。",
}
NEEDS_TEXT = {
    Action.reject: "请写明不予受理的理由。",
    Action.close: "请写明办理结果。",
    Action.answer: "请填写答复内容。",
    Action.withdraw: "请写明企业何时、以何种方式表示撤回。",
}


def office_turn_first(item: AppealPublic) -> tuple[bool, str, int]:
    """Those waiting for the office first (longest waiting first), then those with their
    handler by due date."""
    if item.status != AppealStatus.dispatched:
        return (False, item.updated_at.isoformat(), item.id)
    return (True, (item.due_date or date.max).isoformat(), item.id)


def next_step(item: AppealPublic) -> str:
    if item.status == AppealStatus.dispatched:
        return "督办" if item.overdue else f"等待{item.handler_name or '承办单位'}答复"
    return NEXT_STEP.get(AppealStatus(item.status), "—")


@router.get("/office/requests")
def office_requests(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    tab: Annotated[str, Query(pattern=r"^(raised|handling|overdue|ended|all)$")] = "raised",
    page: PageNo = 1,
    cursor: Cursor = None,
) -> Response:
    """The triage queue oldest first; those being handled and the overdue ones by due date;
    the ended ones and all of them newest first."""
    today = today_local()
    listing: Numbered | None = None
    items: list[AppealPublic] = []
    next_cursor: str | None = None
    capped = False
    if tab in ("raised", "handling", "overdue"):
        # Each status of its own, so that a long triage queue never crowds out the others.
        wanted = {
            "raised": [service.AppealFilters(status=AppealStatus.raised)],
            "handling": [service.AppealFilters(status=s) for s in HANDLING],
            "overdue": [service.AppealFilters(overdue=True)],
        }[tab]
        found = []
        for filters in wanted:
            some, more = gather(session, who.principal, filters, OPEN_CAP)
            found.extend(some)
            capped = capped or more
        if tab == "raised":
            found.sort(key=lambda a: (a.created_at, a.id))
        else:
            found.sort(key=office_turn_first)
        listing = numbered(found, page)
        items = listing.items
    else:
        keep = (lambda a: a.status in ENDED) if tab == "ended" else None
        items, next_cursor = walk(session, who.principal, service.AppealFilters(), cursor, keep)
    return render(
        request,
        "office/requests.html",
        who,
        tab=tab,
        tabs=TABS,
        items=items,
        listing=listing,
        capped=capped,
        cap=OPEN_CAP,
        next_cursor=next_cursor,
        first=cursor is None,
        due_words=lambda a: due_words(a, today),
        next_step=next_step,
        report_quarters=recent_quarters(today, REPORT_QUARTERS),
    )


@router.get("/office/requests/quarterly.xlsx")
def office_request_report(
    session: SessionDep,
    who: OfficeUser,
    quarter: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The quarterly report (季度交办会报告), the API's workbook: of the quarter asked for
    (2026Q4), or of this one; a malformed quarter is an error page saying how to write it."""
    content, filename = request_report.quarterly_workbook(session, who.principal, quarter or None)
    return Response(
        content,
        media_type=EXPORT_MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _default_due(
    session: Session, item: AppealPublic, today: date
) -> tuple[date, str, bool] | None:
    """The due date a dispatch gets when the office gives none, why, and whether it would
    be provisional."""
    for category in reference.list_categories(session):
        if category.code == item.category_code:
            due, provisional = steps.counted_due(today, category.due_working_days)
            return due, f"{category.name}：{category.due_working_days} 个工作日", provisional
    return None


def _calendar_caught_up(item: AppealPublic) -> bool:
    """A provisional due date whose days the calendar now knows: dispatching again counts it
    on the published notice."""
    if not item.due_date_provisional or item.dispatched_date is None or item.due_date is None:
        return False
    return settled(item.dispatched_date, item.due_date)


def _request_page(
    request: Request,
    session: Session,
    who: Visitor,
    appeal_id: int,
    failed: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _, item = service.read_one(session, who.principal, appeal_id)
    names = context_names(session)
    today = today_local()
    actions = [
        a
        for a in OFFICE_ACTIONS
        if a in item.next_actions and (a != Action.answer or item.handler_kind == "department")
    ]
    merge_into = (
        queries.open_appeals_of(session, item.enterprise_id, appeal_id)
        if Action.merge in actions and item.enterprise_id is not None
        else []
    )
    done = request.query_params.get("done", "")
    return render(
        request,
        "office/request.html",
        who,
        status,
        a=item,
        words=lambda e: event_words(e, names["banks"], names["departments"], names["categories"]),
        due=due_words(item, today),
        actions=actions,
        opened=failed or (str(actions[0]) if actions else None),
        action_label={str(k): v for k, v in ACTION_LABEL.items()},
        categories=reference.list_categories(session),
        departments=reference.list_departments(session, include_inactive=False),
        banks=bank_names(session),
        merge_into=merge_into,
        status_label={str(k): v for k, v in STATUS_LABEL.items()},
        default_due=_default_due(session, item, today) if Action.dispatch in actions else None,
        recount=Action.dispatch in actions and _calendar_caught_up(item),
        failed=failed,
        values=values or {},
        errors=errors or {},
        text_max=TEXT_MAX_CHARS,
        done=DONE.get(done),
    )


@router.get("/office/requests/{appeal_id:int}")
def office_request(
    request: Request, session: SessionDep, who: OfficeUser, appeal_id: Id
) -> Response:
    return _request_page(request, session, who, appeal_id)


def _handler(raw: str, banks: dict[str, str], departments: set[str]) -> dict[str, str] | None:
    kind, _, code = raw.partition(":")
    if kind == "bank" and code in banks:
        return {"bank_code": code}
    if kind == "department" and code in departments:
        return {"department_code": code}
    return None


@router.post("/office/requests/{appeal_id:int}/steps/{action}")
def office_request_step(
    request: Request, session: SessionDep, who: OfficeUser, appeal_id: Id, action: str, fields: Form
) -> Response:
    """One step of the office's, on the version the form was drawn from (If-Match)."""
    if action not in {str(a) for a in OFFICE_ACTIONS}:
        raise AppError("没有这个办理操作。", status=404, code="page_not_found")
    step = Action(action)
    form = step_reader(fields)
    version = form.integer("version", 1, 2_147_483_647, required=True)
    change: dict[str, Any] = {"action": step}
    text = form.text("text", TEXT_MAX_CHARS)
    if step in NEEDS_TEXT and text is None and "text" not in form.errors:
        form.fail("text", NEEDS_TEXT[step])
    change["text"] = text
    if step == Action.accept:
        codes = [c.code for c in reference.list_categories(session)]
        change["category_code"] = form.choice("category", codes, required=True)
    elif step == Action.merge:
        if not form.raw("merge_into"):
            form.fail("merge_into", "请选择要合并到的诉求。")
        change["merge_into_id"] = form.integer("merge_into", 1, 2_147_483_647)
    elif step == Action.dispatch:
        active = {d.code for d in reference.list_departments(session, include_inactive=False)}
        handler = _handler(form.raw("handler"), bank_names(session), active)
        if handler is None:
            form.fail("handler", "请选择承办银行或部门。")
        change.update(handler or {})
        change["due_date"] = form.day("due_date")
    done = form.run(
        lambda: steps.take_step(session, who.principal, appeal_id, AppealStep(**change), version),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/office/requests/{appeal_id}?done={action}")
    values = {k: form.raw(k) for k in ("text", "category", "merge_into", "handler", "due_date")}
    return _request_page(
        request, session, who, appeal_id, action, values, form.errors, refused_status(form)
    )


@router.get("/office/requests/{appeal_id:int}/files/{attachment_id:int}")
def office_request_file(
    session: SessionDep, who: OfficeUser, appeal_id: Id, attachment_id: Id
) -> Response:
    return file_response(session, who.principal, appeal_id, attachment_id)


# --- the categories and departments requests use ------------------------------------------

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")


def _settings_page(
    request: Request,
    session: Session,
    who: Visitor,
    failed: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "office/request_settings.html",
        who,
        status,
        categories=reference.list_categories(session),
        departments=reference.list_departments(session),
        failed=failed,
        values=values or {},
        errors=errors or {},
        done=SETTINGS_DONE.get(request.query_params.get("done", "")),
    )


SETTINGS_DONE = {
    "category": "已保存诉求类别。新的办理时限用于此后交办的诉求，已交办的期限不变。",
    "department": "已保存部门。",
    "added": "已添加部门。",
}


@router.get("/office/request-settings")
def office_request_settings(request: Request, session: SessionDep, who: OfficeUser) -> Response:
    """The categories (each with its handler's working days) and the departments requests
    are dispatched to."""
    return _settings_page(request, session, who)


@router.post("/office/request-settings/categories/{code}")
def office_category(
    request: Request, session: SessionDep, who: OfficeUser, code: Code, fields: Form
) -> Response:
    form = FormReader(fields)
    name = form.text("name", 30, required=True)
    if name is not None and len(name) < 2:
        form.fail("name", "名称至少 2 个字。")
    days = form.integer("due_working_days", 1, 60, required=True)
    version = form.integer("version", 1, 2_147_483_647, required=True)
    done = form.run(
        lambda: reference.update_category(
            session, who.principal, code, CategoryUpdate(name=name, due_working_days=days), version
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/office/request-settings?done=category")
    values = {"name": form.raw("name"), "due_working_days": form.raw("due_working_days")}
    return _settings_page(
        request, session, who, f"category:{code}", values, form.errors, refused_status(form)
    )


@router.post("/office/request-settings/departments")
def office_add_department(
    request: Request, session: SessionDep, who: OfficeUser, fields: Form
) -> Response:
    form = FormReader(fields)
    code = form.text("code", 32, required=True)
    if code is not None and not CODE_PATTERN.fullmatch(code):
        form.fail("code", "代码为 2–32 个小写字母、数字或连字符，以字母或数字开头，如 wx-jrj。")
    name = form.text("name", 60, required=True)
    if name is not None and len(name) < 2:
        form.fail("name", "名称至少 2 个字。")
    done = form.run(
        lambda: reference.create_department(
            session, who.principal, DepartmentCreate(code=code or "", name=name or "")
        ),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/office/request-settings?done=added")
    values = {"code": form.raw("code"), "name": form.raw("name")}
    return _settings_page(request, session, who, "new", values, form.errors, refused_status(form))


@router.post("/office/request-settings/departments/{code}")
def office_department(
    request: Request, session: SessionDep, who: OfficeUser, code: Code, fields: Form
) -> Response:
    """Rename a department, or make it inactive (no longer offered for dispatch; the requests
    it has keep it) or active again."""
    form = FormReader(fields)
    name = form.text("name", 60)
    if name is not None and len(name) < 2:
        form.fail("name", "名称至少 2 个字。")
    active = form.choice("active", ["true", "false"])
    version = form.integer("version", 1, 2_147_483_647, required=True)
    # Only what the form gave: a field left out is unchanged (a null would ask to empty it).
    given = {"name": name, "active": None if active is None else active == "true"}
    change = DepartmentUpdate(**{k: v for k, v in given.items() if v is not None})
    done = form.run(
        lambda: reference.update_department(session, who.principal, code, change, version),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/office/request-settings?done=department")
    values = {"name": form.raw("name")}
    return _settings_page(
        request, session, who, f"department:{code}", values, form.errors, refused_status(form)
    )

"""The bank's pages of requests (诉求): those dispatched to it (the open ones first, by due
date, with the days left; the ended ones newest first), one request with its steps and the
files it may see, the answer form (with an optional file as evidence), and the enterprises'
ratings of its service with their average. What the office's pages share with these (the
lists gathered a page at a time, the timeline's words, a file's download) is here too."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.access.policy import Principal
from service.appeals import attachments, queries, ratings, service, steps, storage
from service.appeals.kinds import KIND_LABEL
from service.appeals.schemas import AppealEventPublic, AppealPublic, AppealStep, RatingPublic
from service.appeals.states import FINAL, TEXT_MAX_CHARS, AppealStatus
from service.core.errors import AppError
from service.core.models import today_local
from service.core.pagination import PageParams, encode_cursor
from service.core.settings import get_settings
from service.core.types import Digits
from service.web import uploads
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, page_router, render, see_other
from service.web.security import BankUser, Visitor

router = page_router()

PER_PAGE = 50
FETCH = 200  # rows read at a time when a list is gathered or filtered
OPEN_CAP = 1000  # open requests sorted by due date on one list; beyond, the count says so
SCAN_CAP = 2000  # rows looked through for one page of a filtered list
RATINGS_CAP = 2000  # ratings the average is taken over
ANONYMOUS = "匿名企业"
Cursor = Annotated[str | None, Query(max_length=200)]
PageNo = Annotated[int, Query(ge=1, le=1000), Digits]
ENDED = frozenset({AppealStatus.closed, *FINAL})


# --- lists, shared with the office's pages --------------------------------------------------


def gather(
    session: Session, principal: Principal, filters: service.AppealFilters, cap: int
) -> tuple[list[AppealPublic], bool]:
    """Every request of the listing up to ``cap`` (to sort it otherwise than newest first),
    and whether there were more."""
    found: list[AppealPublic] = []
    cursor: str | None = None
    while True:
        page = service.list_appeals(
            session, principal, PageParams(limit=FETCH, cursor=cursor), filters
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None or len(found) >= cap:
            return found[:cap], cursor is not None or len(found) > cap


def walk(
    session: Session,
    principal: Principal,
    filters: service.AppealFilters,
    cursor: str | None,
    keep: Callable[[AppealPublic], bool] | None = None,
) -> tuple[list[AppealPublic], str | None]:
    """One page of the listing, newest first, of the requests ``keep`` keeps, and the cursor
    of the next page (None on the last). At most ``SCAN_CAP`` rows are looked through for a
    page: a page of a rare status may come short, with a next page to go on."""
    shown: list[AppealPublic] = []
    scanned = 0
    limit = PER_PAGE if keep is None else FETCH
    while True:
        page = service.list_appeals(
            session, principal, PageParams(limit=limit, cursor=cursor), filters
        )
        for at, item in enumerate(page.items):
            scanned += 1
            if keep is None or keep(item):
                shown.append(item)
            if len(shown) == PER_PAGE:
                more = at < len(page.items) - 1 or page.next_cursor is not None
                return shown, encode_cursor([item.id]) if more else None
        if page.next_cursor is None:
            return shown, None
        cursor = page.next_cursor
        if scanned >= SCAN_CAP:
            return shown, cursor


@dataclass(frozen=True)
class Numbered:
    """A page of a list held whole: its items, which page, how many pages, how many items."""

    items: list[Any]
    page: int
    pages: int
    total: int


def numbered(items: list[Any], page: int) -> Numbered:
    pages = max(1, -(-len(items) // PER_PAGE))
    page = min(page, pages)
    start = (page - 1) * PER_PAGE
    return Numbered(items[start : start + PER_PAGE], page, pages, len(items))


def by_due_date(item: AppealPublic) -> tuple[bool, date, int]:
    """Those waiting for an answer first, the soonest due first."""
    return (item.status != AppealStatus.dispatched, item.due_date or date.max, item.id)


def due_words(item: AppealPublic, today: date) -> str:
    """How the due date stands, in words: for a request still waiting for its answer."""
    if item.due_date is None or item.status != AppealStatus.dispatched:
        return ""
    left = (item.due_date - today).days
    if left < 0:
        return f"逾期 {-left} 天"
    if left == 0:
        return "今天到期"
    return f"剩 {left} 天"


# --- one request, shared with the office's pages --------------------------------------------

EVENT_FIELDS = (
    ("answer", "答复"),
    ("result", "办理结果"),
    ("reason", "理由"),
    ("comment", "评价意见"),
    ("note", "说明"),
    ("filename", "文件"),
)


def event_words(
    event: AppealEventPublic,
    banks: dict[str, str],
    departments: dict[str, str],
    categories: dict[str, str],
) -> list[str]:
    """What came with a step, in words (names, never codes)."""
    data = event.data
    words = []
    if event.kind == "dispatch":
        to = banks.get(str(data.get("bank_code"))) or departments.get(
            str(data.get("department_code"))
        )
        provisional = "（暂定）" if data.get("due_date_provisional") else ""
        words.append(
            f"交办给 {to or '承办单位'}，办理期限 {data.get('due_date', '—')}{provisional}"
        )
    elif event.kind == "accept" and data.get("category_code"):
        words.append(f"类别：{categories.get(str(data['category_code']), '其他')}")
    elif event.kind == "merge" and data.get("merge_into_id"):
        words.append(f"并入诉求 #{data['merge_into_id']}")
    elif event.kind == "merged_in" and data.get("duplicate_id"):
        words.append(f"诉求 #{data['duplicate_id']} 并入本诉求")
    elif event.kind == "escalated":
        words.append(
            f"办理期限 {data.get('due_date', '—')}，已逾期 {data.get('days_late', '?')} 天"
        )
    elif event.kind == "confirm" and data.get("rating"):
        words.append(f"评分 {data['rating']} 分")
    if event.kind == "answer" and data.get("on_time") is False:
        words.append("超过办理期限答复")
    for key, name in EVENT_FIELDS:
        if data.get(key):
            words.append(f"{name}：{data[key]}")
    return words


def file_response(
    session: Session, principal: Principal, appeal_id: int, attachment_id: int
) -> Response:
    """A file of a request, as the caller may read it, always as a download."""
    row, content = attachments.read(session, principal, appeal_id, attachment_id)
    return Response(
        content,
        media_type=row.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "Content-Security-Policy": "sandbox",
        },
    )


def file_problem(upload: uploads.Upload) -> tuple[bytes | None, str | None]:
    """The chosen file's bytes, or why it cannot be attached (checked before any step is
    taken, so that a refused file leaves nothing half done)."""
    if upload.file is None:
        return None, None
    limit = get_settings().attachment_max_bytes
    content = upload.file.file.read(limit + 1)
    if not content:
        return None, "所选文件是空文件。"
    if len(content) > limit:
        return None, f"附件不能超过 {limit // (1024 * 1024)} MB。"
    if storage.sniff(content) is None:
        return None, "附件须为 PDF 或图片（PNG、JPEG、WebP）。"
    return content, None


def step_reader(fields: dict[str, Any]) -> FormReader:
    return FormReader(
        fields,
        renamed={
            "category_code": "category",
            "merge_into_id": "merge_into",
            "bank_code": "handler",
            "department_code": "handler",
        },
    )


def refused_status(form: FormReader) -> int:
    return form.status if form.status != 200 else 422


def context_names(session: Session) -> dict[str, dict[str, str]]:
    """Banks', departments' and categories' names: the pages show names, never codes."""
    return {
        "banks": queries.bank_names(session),
        "departments": queries.department_names(session),
        "categories": queries.category_names(session),
    }


# --- the bank's pages -----------------------------------------------------------------------

BANK_VIEWS = {"open": "办理中", "ended": "已结束", "all": "全部"}


@router.get("/bank/requests")
def bank_requests(
    request: Request,
    session: SessionDep,
    who: BankUser,
    view: Annotated[str, Query(pattern=r"^(open|ended|all)$")] = "open",
    page: PageNo = 1,
    cursor: Cursor = None,
) -> Response:
    """The requests dispatched to the bank: the open ones by due date (those waiting for its
    answer first), or the ended ones and all of them newest first."""
    today = today_local()
    listing: Numbered | None = None
    items: list[AppealPublic] = []
    next_cursor: str | None = None
    capped = False
    counts = (0, 0)  # waiting for the bank's answer, and of them overdue
    if view == "open":
        found, capped = gather(
            session, who.principal, service.AppealFilters(open_only=True), OPEN_CAP
        )
        waiting = [a for a in found if a.status == AppealStatus.dispatched]
        counts = (len(waiting), sum(1 for a in waiting if a.overdue))
        listing = numbered(sorted(found, key=by_due_date), page)
        items = listing.items
    else:
        keep = (lambda a: a.status in ENDED) if view == "ended" else None
        items, next_cursor = walk(session, who.principal, service.AppealFilters(), cursor, keep)
    return render(
        request,
        "bank/requests.html",
        who,
        view=view,
        views=BANK_VIEWS,
        items=items,
        listing=listing,
        capped=capped,
        cap=OPEN_CAP,
        counts=counts,
        next_cursor=next_cursor,
        first=cursor is None,
        due_words=lambda a: due_words(a, today),
        anonymous=ANONYMOUS,
    )


def _request_page(
    request: Request,
    session: Session,
    who: Visitor,
    appeal_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _, item = service.read_one(session, who.principal, appeal_id)
    names = context_names(session)
    return render(
        request,
        "bank/request.html",
        who,
        status,
        a=item,
        words=lambda e: event_words(e, names["banks"], names["departments"], names["categories"]),
        due=due_words(item, today_local()),
        anonymous=ANONYMOUS,
        values=values or {},
        errors=errors or {},
        text_max=TEXT_MAX_CHARS,
        max_file=f"{get_settings().attachment_max_bytes // (1024 * 1024)} MB",
        done=request.query_params.get("done") == "answer",
    )


@router.get("/bank/requests/{appeal_id:int}")
def bank_request(request: Request, session: SessionDep, who: BankUser, appeal_id: Id) -> Response:
    return _request_page(request, session, who, appeal_id)


@router.post("/bank/requests/{appeal_id:int}/answer")
def bank_request_answer(
    request: Request, session: SessionDep, who: BankUser, appeal_id: Id, upload: uploads.Posted
) -> Response:
    """The bank's answer, with a file as evidence if one is chosen: the answer is recorded
    first (a stale form records nothing), then the file."""
    form = FormReader(upload.fields)
    text = form.text("text", TEXT_MAX_CHARS, required=True)
    if "text" in form.errors and not form.raw("text"):
        form.errors["text"] = "请填写答复内容。"
    version = form.integer("version", 1, 2_147_483_647, required=True)
    content, wrong = file_problem(upload)
    if wrong:
        form.fail("file", wrong)
    done = form.run(
        lambda: steps.take_step(
            session, who.principal, appeal_id, AppealStep(action="answer", text=text), version
        ),
        session.rollback,
    )
    if done is None:
        values = {"text": form.raw("text")}
        return _request_page(
            request, session, who, appeal_id, values, form.errors, refused_status(form)
        )
    if content is not None:
        assert upload.file is not None
        try:
            attachments.attach(session, who.principal, appeal_id, upload.file.filename, content)
        except AppError as exc:
            session.rollback()
            errors = {"file": f"答复已记录，但附件未能上传：{exc.detail}"}
            return _request_page(request, session, who, appeal_id, {}, errors, exc.status)
    return see_other(f"{PREFIX}/bank/requests/{appeal_id}?done=answer")


@router.get("/bank/requests/{appeal_id:int}/files/{attachment_id:int}")
def bank_request_file(
    session: SessionDep, who: BankUser, appeal_id: Id, attachment_id: Id
) -> Response:
    return file_response(session, who.principal, appeal_id, attachment_id)


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    by_score: dict[int, int]
    capped: bool


def rating_summary(found: list[RatingPublic], capped: bool) -> RatingSummary:
    by_score = {s: 0 for s in range(5, 0, -1)}
    for r in found:
        by_score[r.score] = by_score.get(r.score, 0) + 1
    average = sum(r.score for r in found) / len(found) if found else None
    return RatingSummary(len(found), average, by_score, capped)


@router.get("/bank/ratings")
def bank_ratings(
    request: Request, session: SessionDep, who: BankUser, page: PageNo = 1
) -> Response:
    """The enterprises' ratings of the bank's service (on leads and on requests), newest
    first, with their average; an enterprise by name only where it agreed."""
    found: list[RatingPublic] = []
    cursor: str | None = None
    while True:
        got = ratings.list_ratings(session, who.principal, PageParams(limit=FETCH, cursor=cursor))
        found.extend(got.items)
        cursor = got.next_cursor
        if cursor is None or len(found) >= RATINGS_CAP:
            break
    capped = cursor is not None
    return render(
        request,
        "bank/ratings.html",
        who,
        summary=rating_summary(found, capped),
        listing=numbered(found, page),
        cap=RATINGS_CAP,
        kinds={str(k): v for k, v in KIND_LABEL.items()},
        anonymous=ANONYMOUS,
    )

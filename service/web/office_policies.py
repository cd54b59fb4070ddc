"""The office's pages of support policies (政策直达): the year's figures per policy (budget,
entitled enterprises, estimate, approved, paid, left, the share of the budget used), per
district and per industrial cluster, with the year's workbook; and one policy with its rule in
words, its versions, and the enterprises entitled to it, each row with the office's next step:
record the application, then approve with an amount, pay, or reject; beside them, the
entitlements that lapsed (a later evaluation no longer found them: a qualification removed, an
investment corrected), with any award still to decide. Every step form carries
the award's version: a form gone stale is refused with a message, never applied over a newer
step."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.errors import AppError
from service.core.models import today_local
from service.core.tables import EXPORT_MEDIA_TYPES
from service.metrics import policies as figures
from service.metrics import policy_report
from service.metrics.policy_schemas import GroupTable, PolicyReport
from service.policies import grants
from service.policies import service as policy_service
from service.policies.models import GrantStatus
from service.policies.schemas import GrantCreate, GrantStep
from service.web.bank_requests import refused_status
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, page_router, render, see_other
from service.web.security import Form, OfficeUser, Visitor
from service.web.tables import Column, Table

router = page_router()
Code = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
PER_PAGE = 50
NOTE_MAX = 500
STATE_KEYS = ("year", "district", "page", "show")
STEPS = {"approve": "核定", "pay": "拨付", "reject": "驳回"}
# The steps the office may take on an award in each status, in the order the row shows them.
NEXT_STEPS = {str(GrantStatus.applied): ("approve", "reject"), str(GrantStatus.approved): ("pay",)}
ACTION_LABEL = {"apply": "登记申报", **STEPS}
DONE = {
    "apply": "已登记申报，请在核定后填写核定金额。",
    "approve": "已核定。",
    "pay": "已记为拨付。",
    "reject": "已记为未获批。",
}
GROUP_COLUMNS = (
    Column("enterprises", "享受企业（家）", "int"),
    Column("entitled", "应享条目", "int"),
    Column("entitled_fen", "应享金额", "wan"),
    Column("estimated_fen", "待兑现金额", "wan"),
    Column("applied", "已申报（件）", "int"),
    Column("approved", "已核定（件）", "int"),
    Column("approved_fen", "核定金额", "wan"),
    Column("paid", "已拨付（件）", "int"),
    Column("paid_fen", "拨付金额", "wan"),
)


def wan_text(fen: int) -> str:
    """Fen as 万元, exactly, for a form's value (300, 52.5)."""
    text = f"{Decimal(fen) / 1_000_000:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _year(raw: str | None, today: date) -> tuple[int, dict[str, str]]:
    """The year asked for, read leniently: a bad one is a message, and this year is shown."""
    form = FormReader({"year": raw or ""})
    year = form.integer("year", figures.YEARS[0], figures.YEARS[1])
    return year or today.year, form.errors


YearArg = Annotated[str | None, Query(max_length=8)]


def group_table(title: str, first: str, table: GroupTable, group: str) -> Table:
    """A district's or cluster's row links to the enterprises of the library it holds."""
    columns = [Column("label", first), *([Column("tier", "层级")] if group == "cluster" else [])]

    def library(row: dict[str, Any]) -> str | None:
        return f"{PREFIX}/office/enterprises?{group}={row['key']}" if row.get("key") else None

    return Table(
        name=f"policy-{group}",
        title=title,
        columns=[*columns, *GROUP_COLUMNS],
        rows=[r.model_dump() for r in table.rows],
        links={"label": library},
        total=table.total.model_dump(),
    )


@router.get("/office/policies")
def office_policies(
    request: Request, session: SessionDep, who: OfficeUser, year: YearArg = None
) -> Response:
    today = today_local()
    chosen, errors = _year(year, today)
    report = figures.policy_report(session, who.principal, chosen)
    return render(
        request,
        "office/policies.html",
        who,
        report=report,
        year=chosen,
        errors=errors,
        years=range(today.year - 4, today.year + 2),
        districts=group_table("按区县", "区县", report.by_district, "district"),
        clusters=group_table("按产业集群", "产业集群", report.by_cluster, "cluster"),
        share=Column("used_share", "预算使用率", "ratio"),
    )


@router.get("/office/policies.xlsx")
def office_policies_workbook(
    session: SessionDep, who: OfficeUser, year: YearArg = None
) -> Response:
    chosen, errors = _year(year, today_local())
    if errors:
        raise AppError(errors["year"], status=422, code="invalid_year")
    content, filename = policy_report.yearly_workbook(session, who.principal, chosen)
    return Response(
        content,
        media_type=EXPORT_MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _state(fields: dict[str, Any]) -> dict[str, str]:
    """Where the office was on the policy's page (year, district, list, page), to return
    there."""
    form = FormReader(fields)
    out = {k: form.raw(k) for k in STATE_KEYS}
    return {k: v for k, v in out.items() if v}


def _policy_page(
    request: Request,
    session: Session,
    who: Visitor,
    code: str,
    state: dict[str, str],
    failed: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    _, policy = policy_service.get_policy(session, code)
    today = today_local()
    chosen, year_errors = _year(state.get("year"), today)
    districts = figures.district_names(session)
    district = (
        state.get("district") if state.get("district") in {c for c, _, _ in districts} else None
    )
    page_form = FormReader({"page": state.get("page", "")})
    page = page_form.integer("page", 1, 100_000) or 1
    lapsed = state.get("show") == "lapsed"
    wanted = figures.LineFilter(code, district, (page - 1) * PER_PAGE, PER_PAGE, lapsed)
    lines, total = figures.entitlement_lines(session, who.principal, chosen, wanted)
    counts = figures.line_counts(session, who.principal, chosen, wanted)
    pages = max(1, -(-total // PER_PAGE))
    report: PolicyReport = figures.policy_report(session, who.principal, chosen)
    row = next((p for p in report.policies if p.policy_code == code), None)
    where = {"year": str(chosen), **({"district": district} if district else {})}
    args = {**where, **({"show": "lapsed"} if lapsed else {})}
    return render(
        request,
        "office/policy.html",
        who,
        status,
        policy=policy,
        row=row,
        lines=lines,
        total=total,
        page=min(page, pages),
        pages=pages,
        year=chosen,
        year_errors=year_errors,
        district=district,
        districts=districts,
        state={**args, "page": str(page)},
        list_args=urlencode(args),
        where_args=urlencode(where),
        lapsed=lapsed,
        counts=counts,
        failed=failed,
        values=values or {},
        errors=errors or {},
        action_label=ACTION_LABEL,
        next_steps=NEXT_STEPS,
        done=DONE.get(request.query_params.get("done", "")),
        today=today,
        note_max=NOTE_MAX,
        per_page=PER_PAGE,
        wan_text=wan_text,
    )


@router.get("/office/policies/{code}")
def office_policy(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    code: Code,
    year: YearArg = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[str | None, Query(max_length=8)] = None,
    show: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """The entitlements in force, or with ``show=lapsed`` those that lapsed."""
    given = (("year", year), ("district", district), ("page", page), ("show", show))
    state = {k: v for k, v in given if v}
    return _policy_page(request, session, who, code, state)


def _back(code: str, state: dict[str, str], action: str) -> Response:
    return see_other(f"{PREFIX}/office/policies/{code}?{urlencode({**state, 'done': action})}")


@router.post("/office/policies/{code}/grants")
def office_record_grant(
    request: Request, session: SessionDep, who: OfficeUser, code: Code, fields: Form
) -> Response:
    """The office records that an enterprise applied for its entitlement."""
    form = FormReader(fields)
    state = _state(fields)
    enterprise_id = form.integer("enterprise_id", 1, 2_147_483_647, required=True)
    period = form.text("period", 8, required=True)
    applied = form.day("applied_date", required=True)
    note = form.text("note", NOTE_MAX)
    failed = f"apply-{enterprise_id or 0}-{period or ''}"
    done = form.run(
        lambda: grants.record_grant(
            session,
            who.principal,
            GrantCreate(
                enterprise_id=enterprise_id or 0,
                policy_code=code,
                period=period or "",
                applied_date=applied or today_local(),
                note=note,
            ),
        ),
        session.rollback,
    )
    if done is not None:
        return _back(code, state, "apply")
    values = {k: form.raw(k) for k in ("applied_date", "note")}
    return _policy_page(
        request, session, who, code, state, failed, values, form.errors, refused_status(form)
    )


@router.post("/office/policies/{code}/grants/{grant_id:int}/{action}")
def office_grant_step(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    code: Code,
    grant_id: Id,
    action: str,
    fields: Form,
) -> Response:
    """Approve (with the amount in 万元), pay or reject, on the version the form was drawn
    from (If-Match)."""
    if action not in STEPS:
        raise AppError("没有这个办理操作。", status=404, code="page_not_found")
    grant = grants.read_grant(session, who.principal, grant_id)
    if grant.policy_code != code:
        raise AppError(
            f"该政策下没有编号为 {grant_id} 的奖补记录。", status=404, code="grant_not_found"
        )
    form = FormReader(fields, renamed={"amount_fen": "amount"})
    state = _state(fields)
    version = form.integer("version", 1, 2_147_483_647, required=True)
    amount = form.wan_to_fen("amount", required=action == "approve") if action != "reject" else None
    on = form.day("on")
    note = form.text("note", NOTE_MAX)
    step = {"action": action, "amount_fen": amount, "on": on, "note": note}
    done = form.run(
        lambda: grants.take_step(session, who.principal, grant_id, GrantStep(**step), version),
        session.rollback,
    )
    if done is not None:
        return _back(code, state, action)
    values = {k: form.raw(k) for k in ("amount", "on", "note")}
    failed = f"{action}-{grant_id}"
    return _policy_page(
        request, session, who, code, state, failed, values, form.errors, refused_status(form)
    )

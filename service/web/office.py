"""The office's figures: the dashboard with its period and 民营企业 filters (read leniently by
``report_query``: a bad value is a message, not a refused page), its exports, and one
bank's report."""

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Depends, Query, Request, Response

from service.core.errors import AppError, Unprocessable
from service.core.models import today_local
from service.core.tables import EXPORT_MEDIA_TYPES
from service.leads import lifecycle as leads
from service.leads.states import LeadStatus
from service.lists import service as lists
from service.metrics import office_leads as office_leads_service
from service.metrics.schemas import ReportQuery
from service.products import service as products
from service.web import dashboard
from service.web.forms import FormReader
from service.web.pages import Id, SessionDep, first_page, page_router, place_names, render
from service.web.security import OfficeUser

router = page_router()


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
    measure: Annotated[str, Query(max_length=20)] = "no_bank_share",
) -> Response:
    query, errors = period
    if measure not in dashboard.MEASURES:
        measure = "no_bank_share"
    if group not in dashboard.FUNNEL_GROUPS:
        group = "bank"
    if amount_group not in dashboard.AMOUNT_GROUPS:
        amount_group = "bank"
    src = dashboard.Source(session, who.principal, query)
    tables = dashboard.report_tables(src, group, amount_group)
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
        charts=dashboard.funnel_charts(tables[0], tables[1]),
        tables=tables,
        answers=dashboard.answer_tables(src),
        request_panels=dashboard.request_panels(src),
        rate_charts=dashboard.conversion_charts(src),
        stall_chart=dashboard.stall_chart(src),
        district_map=dashboard.district_map_of(src, measure),
        measure=measure,
        measures={key: label for key, (_, label) in dashboard.MEASURES.items()},
        period_args=_period_args(query),
        pending_reviews=lists.pending_reviews(session),
    )


@router.get("/office/export/{name}.{fmt}")
def office_export(
    session: SessionDep, who: OfficeUser, period: Period, name: str, fmt: str
) -> Response:
    query, errors = period
    if errors:
        code = "invalid_period" if {"from", "to"} & errors.keys() else "invalid_filter"
        raise Unprocessable("；".join(errors.values()), code=code)
    table = (
        dashboard.build(session, who.principal, name, query) if fmt in EXPORT_MEDIA_TYPES else None
    )
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
        media_type=EXPORT_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
    )


@router.get("/office/banks/{code}")
def office_bank(
    request: Request, session: SessionDep, who: OfficeUser, period: Period, code: str
) -> Response:
    query, errors = period
    bank = products.get_bank(session, code)
    query = query.model_copy(update={"bank": bank.code})
    src = dashboard.Source(session, who.principal, query)
    tables = dashboard.report_tables(src, "product", "product")
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
        banks={bank.code: bank.name},
    )


# --- leads ----------------------------------------------------------------------------------

LEAD_STATUSES = [str(s) for s in LeadStatus]


@router.get("/office/leads")
def office_leads(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    name: Annotated[str | None, Query(max_length=100)] = None,
    bank: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1, le=2000)] = 1,
) -> Response:
    """Every lead, newest first; by enterprise name, bank and status, fifty to a page."""
    banks = {b.code: b.short_name for b in first_page(lambda p: products.list_banks(session, p))}
    search = office_leads_service.LeadSearch(
        name=(name or "").replace("\x00", "").strip() or None,
        bank=bank if bank in banks else None,
        status=status if status in LEAD_STATUSES else None,
        page=page,
    )
    found = office_leads_service.search_leads(session, who.principal, search)
    args = [("name", search.name), ("bank", search.bank), ("status", search.status)]
    return render(
        request,
        "office/leads.html",
        who,
        search=search,
        found=found,
        banks=banks,
        statuses=LEAD_STATUSES,
        filter_args=urlencode([(k, v) for k, v in args if v]),
    )


@router.get("/office/leads/{lead_id}")
def office_lead(request: Request, session: SessionDep, who: OfficeUser, lead_id: Id) -> Response:
    """One lead as the office sees it; opening it does not mark it viewed."""
    detail = office_leads_service.lead_detail(session, who.principal, lead_id)
    return render(
        request,
        "office/lead.html",
        who,
        detail=detail,
        names=place_names(session),
    )

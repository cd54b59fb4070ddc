"""The bank's workbench, its lists: the leads (search, filters, sort, numbered pages), the
renewal reminders by date, the loans by maturity, and the library as the bank sees it. A
lead's page is ``bank_leads``, a loan's ``bank_loans``."""

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from service.core.pagination import PageParams
from service.core.types import Digits
from service.leads import worklist
from service.leads.states import LeadStatus
from service.loans import reminders
from service.loans import service as loans
from service.loans.models import LoanStatus
from service.products import service as products
from service.web import library
from service.web.forms import FormReader
from service.web.pages import PREFIX, SessionDep, page_router, place_names, render
from service.web.security import BankUser

router = page_router()

COLUMNS = (
    ("enterprise", "企业"),
    ("amount", "金额"),
    ("term", "期限"),
    ("purpose", "用途"),
    ("district", "地区"),
    ("score", "匹配分"),
    ("due", "首次联系期限"),
    ("assignee", "负责人"),
    ("status", "状态"),
)
Text = Annotated[str | None, Query(max_length=100)]
# An empty choice (the form's 全部) is no filter.
STATUSES = "^(" + "|".join(s.value for s in LeadStatus) + ")?$"
Code = Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]*$")]


def _wan(fen: int | None) -> str:
    return "" if fen is None else f"{Decimal(fen) / 1_000_000:f}".rstrip("0").rstrip(".")


@router.get("/bank")
def bank_home(
    request: Request,
    session: SessionDep,
    who: BankUser,
    q: Text = None,
    status: Annotated[str | None, Query(pattern=STATUSES)] = None,
    product: Annotated[str | None, Query(pattern=r"^([1-9][0-9]{0,9})?$")] = None,
    district: Code = None,
    cluster: Code = None,
    amount_min: Annotated[str | None, Query(max_length=20)] = None,
    amount_max: Annotated[str | None, Query(max_length=20)] = None,
    assignee: Annotated[str | None, Query(pattern=r"^(all|me|none|[1-9][0-9]{0,9})?$")] = None,
    due: Annotated[str | None, Query(pattern=r"^(due|breached)?$")] = None,
    sort: Annotated[str, Query(pattern=r"^[a-z]{1,16}$")] = "updated",
    order: Annotated[str, Query(pattern=r"^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1, le=worklist.MAX_PAGE), Digits] = 1,
) -> Response:
    """The bank's leads: an account manager opens on its own, everyone else on all."""
    form = FormReader({"amount_min": amount_min or "", "amount_max": amount_max or ""})
    low, high = form.wan_to_fen("amount_min"), form.wan_to_fen("amount_max")
    if sort not in worklist.SORTS:
        sort = "updated"
    product_id = int(product) if product and int(product) <= 2_147_483_647 else None
    wanted = worklist.WorklistFilter(
        q=(q or "").strip() or None,
        status=LeadStatus(status) if status else None,
        product_id=product_id,
        district_code=district or None,
        cluster_code=cluster or None,
        amount_min_fen=low,
        amount_max_fen=high,
        assignee=assignee or None,
        due=due or None,
        sort=sort,
        descending=order == "desc",
        page=page,
    )
    found = worklist.worklist(session, who.principal, wanted)
    kept = {
        "q": wanted.q,
        "status": status or None,
        "product": product_id,
        "district": wanted.district_code,
        "cluster": wanted.cluster_code,
        "amount_min": amount_min if low is not None else None,
        "amount_max": amount_max if high is not None else None,
        "assignee": found.assignee,
        "due": due or None,
        "sort": sort,
        "order": order,
    }

    def link(**changes: Any) -> str:
        """This list's address with the current filters and ``changes``."""
        query = {k: v for k, v in {**kept, **changes}.items() if v not in (None, "")}
        return f"{PREFIX}/bank?{urlencode(query)}"

    return render(
        request,
        "bank/home.html",
        who,
        bank=products.get_bank(session, who.principal.bank_code or ""),
        found=found,
        kept=kept,
        link=link,
        columns=COLUMNS,
        statuses=list(LeadStatus),
        names=place_names(session),
        choices=worklist.choices(session, who.principal),
        errors=form.errors,
        me=who.principal.user_id,
    )


@router.get("/bank/reminders")
def bank_reminders(
    request: Request,
    session: SessionDep,
    who: BankUser,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The renewal reminders sent, latest first (by reminder date within a page of 50), each
    opening its loan's renewal case."""
    found = reminders.list_reminders(session, who.principal, PageParams(limit=50, cursor=cursor))
    items = sorted(found.items, key=lambda r: (r.remind_date, r.id), reverse=True)
    return render(
        request,
        "bank/reminders.html",
        who,
        reminders=items,
        next_cursor=found.next_cursor,
        first=cursor is None,
    )


@router.get("/bank/loans")
def bank_loans(
    request: Request,
    session: SessionDep,
    who: BankUser,
    status: Annotated[str, Query(pattern=r"^(|active|repaid|renewed)$")] = "active",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The bank's loans by maturity, soonest first, a page of 50 at a time (active ones
    unless asked otherwise)."""
    found = loans.list_loans(
        session,
        who.principal,
        PageParams(limit=50, cursor=cursor),
        status=LoanStatus(status) if status else None,
    )
    return render(
        request,
        "bank/loans.html",
        who,
        loans=found.items,
        next_cursor=found.next_cursor,
        first=cursor is None,
        status=status,
        statuses=list(LoanStatus),
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

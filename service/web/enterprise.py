"""The enterprise portal: its profile and sharing choice, and its recommendations as a list a
finance person can compare (one row per product, sortable, details on demand), with the near
misses, an application per product that says so once made, and beside them the largest
support policies it is entitled to. Needs, leads, loans and policies are ``enterprise_needs``,
``enterprise_leads``, ``enterprise_loans`` and ``enterprise_policies``; what they share (the
messages after an action, banks by name) is here.

An enterprise sees and changes only its own objects: the use cases see to it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.errors import Unprocessable
from service.core.types import Digits
from service.enterprises import service as enterprises
from service.enterprises.schemas import EnterpriseUpdate
from service.leads import lifecycle as leads
from service.leads.exceptions import LeadExists
from service.leads.schemas import LeadPublic
from service.leads.states import OPEN
from service.matching import recommendations
from service.matching.schemas import Recommendation
from service.policies import service as policies
from service.policies.schemas import EntitlementPublic
from service.products import service as products
from service.products.schemas import ProductPublic
from service.products.service import ProductFilters
from service.web.forms import FormReader
from service.web.labels import label
from service.web.pages import (
    PREFIX,
    SessionDep,
    bank_names,
    first_page,
    needs_of,
    page_router,
    place_names,
    render,
    see_other,
)
from service.web.security import EnterpriseUser, Form, Visitor

router = page_router()

# What a page says after an action (?done=<key>): fixed texts, never the query's own words.
DONE = {
    "saved": "已保存。",
    "posted": "融资需求已发布，符合条件的银行将收到它，进展见“对接进度”。",
    "posted_private": "融资需求已发布，但没有推送给任何银行：您没有同意向银行提供企业信息。"
    "需要银行对接时，请在下方点“同意推送给银行”。",
    "updated": "融资需求已保存。",
    "consented": "已同意推送：符合条件的银行将收到这项需求，进展见“对接进度”。",
    "withdrawn": "融资需求已撤回，已收到它的银行同时收到通知。",
    "applied": "已提交申请，银行将在首次联系期限前与您联系。",
    "already_applied": "已申请：您已向这家银行提交过申请或需求，银行正在处理，无需重复提交。",
    "accepted": "已同意，该银行将与您联系。",
    "declined": "已谢绝该银行的联系请求。",
    "lead_withdrawn": "已撤回，银行已收到通知。",
    "renewal_requested": "已向银行发出续贷申请，客户经理会与您联系。",
    "renewal_already": "您已就这笔贷款申请过续贷，银行正在处理。",
    "bridge_applied": "已提交转贷应急资金申请，金融办审核后通知您。",
}


def done_message(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def enterprise_id_of(who: Visitor) -> int:
    assert who.principal.enterprise_id is not None
    return who.principal.enterprise_id


def bank_options(session: Session) -> list[Any]:
    return first_page(lambda p: products.list_banks(session, p))


def page(
    request: Request, template: str, who: Visitor, status: int = 200, /, **context: Any
) -> HTMLResponse:
    """An enterprise page, with the message of the action just done."""
    return render(request, template, who, status, done=done_message(request), **context)


@router.get("/enterprise")
def enterprise_home(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    enterprise_id = enterprise_id_of(who)
    profile = enterprises.enterprise_public(
        session, enterprises.read_enterprise(session, enterprise_id, who.principal)
    )
    needs = needs_of(session, enterprise_id, who.principal)
    recent = leads.recent_leads(session, who.principal, limit=5)
    return page(
        request,
        "enterprise/home.html",
        who,
        profile=profile,
        needs=needs,
        leads=recent,
        names=place_names(session),
        banks=bank_names(session),
    )


@router.post("/enterprise/sharing")
def enterprise_sharing(session: SessionDep, who: EnterpriseUser, fields: Form) -> Response:
    """Whether banks may see who the enterprise is in the library releases: its own choice."""
    form = FormReader(fields)
    version = form.integer("version", 1, 2_147_483_647)
    data = EnterpriseUpdate(share_with_banks=form.checked("share_with_banks"))
    enterprises.update_enterprise(session, enterprise_id_of(who), data, version, who.principal)
    return see_other(f"{PREFIX}/enterprise?done=saved")


# --- recommendations ------------------------------------------------------------------------


RATE_BASE_LABEL = {"LPR1Y": "一年期LPR", "LPR5Y": "五年期LPR"}


@dataclass
class Row:
    """One recommended product as the list shows it: the figures a person compares."""

    item: Recommendation
    bank: str
    amount: str
    amount_max_fen: int | None
    term: str
    term_max_days: int | None
    rate: str
    collateral: str
    fees: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    description: str | None = None
    lead_id: int | None = None  # an open lead of this product: applied, or offered
    applied: bool = False  # the enterprise applied for it (not offered by its need)
    bank_lead_id: int | None = None  # an open lead with this bank for the same subject


def _wan(fen: int) -> str:
    return f"{fen / 1_000_000:,.6f}".rstrip("0").rstrip(".")


def amount_range(low: int | None, high: int | None) -> str:
    if low and high:
        return f"{_wan(low)}–{_wan(high)} 万元"
    if high:
        return f"最高 {_wan(high)} 万元"
    if low:
        return f"{_wan(low)} 万元起"
    return "不限"


def term_range(unit: str, low: int | None, high: int | None) -> str:
    word = "天" if unit == "day" else "个月"
    if low and high:
        return f"{low}–{high} {word}" if low != high else f"{high} {word}"
    if high:
        return f"最长 {high} {word}"
    if low:
        return f"{low} {word}起"
    return "不限"


def rate_text(product: ProductPublic | None, rate_bp: int | None) -> str:
    """The rate as the product prices it and, for an LPR-based one, today's figure."""
    now = f"{rate_bp / 100:.2f}%" if rate_bp is not None else None
    if product is None:
        return now or "—"
    rate = product.rate
    base = str(rate.base)
    if base in RATE_BASE_LABEL:
        if rate.tiers:
            formula = f"{RATE_BASE_LABEL[base]}加点按金额、期限分档"
        else:
            spread = rate.spread_bp or 0
            sign = "+" if spread >= 0 else "−"
            formula = f"{RATE_BASE_LABEL[base]}{sign}{abs(spread) / 100:.2f}%"
        return f"{formula}，现 {now}" if now else formula
    if base == "FIXED" and rate.fixed_rate_bp is not None:
        return f"固定 {rate.fixed_rate_bp / 100:.2f}%"
    return "不计利息，按日收费（见费用）"


def fee_text(fee: Any) -> str:
    basis = {
        "flat_fen": lambda: f"{_wan(fee.amount_fen or 0)} 万元",
        "bp_of_amount": lambda: f"金额的 {(fee.bp or 0) / 100:.2f}%",
        "bp_per_year": lambda: f"每年 {(fee.bp or 0) / 100:.2f}%",
        "bp_per_day": lambda: f"每日 {(fee.bp or 0) / 10:.1f}‰",
    }.get(str(fee.basis))
    amount = fee.note or (basis() if basis and (fee.bp or fee.amount_fen) else "")
    return f"{fee.name}：{amount}" if amount else str(fee.name)


def recommendation_rows(
    items: list[Recommendation],
    catalogue: dict[str, ProductPublic],
    banks: dict[str, str],
    applied: dict[str, tuple[int, bool]],
    with_bank: dict[str, int],
) -> list[Row]:
    """The recommendations as rows, with the product's terms in words. Pure."""
    rows = []
    for item in items:
        product = catalogue.get(item.product_code)
        days = None
        if product is not None and product.term_max:
            days = product.term_max * (1 if str(product.term_unit) == "day" else 30)
        collateral = [label("collateral", c) for c in (product.collateral_types if product else [])]
        rows.append(
            Row(
                item=item,
                bank=item.bank_name or banks.get(item.bank_code) or "（银行）",
                amount=amount_range(product.amount_min_fen, product.amount_max_fen)
                if product
                else "—",
                amount_max_fen=product.amount_max_fen if product else None,
                term=term_range(str(product.term_unit), product.term_min, product.term_max)
                if product
                else "—",
                term_max_days=days,
                rate=rate_text(product, item.rate_bp),
                collateral="、".join(collateral) or "—",
                fees=[fee_text(f) for f in product.fees] if product else [],
                conditions=list(product.eligibility.other) if product else [],
                description=product.description if product else None,
                lead_id=applied.get(item.product_code, (None, False))[0],
                applied=applied.get(item.product_code, (None, False))[1],
                bank_lead_id=with_bank.get(item.bank_code),
            )
        )
    return rows


def top_entitlements(session: Session, who: Visitor, limit: int = 3) -> list[EntitlementPublic]:
    """The largest policies the enterprise is entitled to now, for the panel beside its
    recommendations (the full list is the policies page)."""
    found = policies.entitlements(session, who.principal, enterprise_id_of(who))
    return [e for e in found if e.eligible][:limit]


def _none_last(value: float | int | None, big: float = float("inf")) -> float:
    return big if value is None else float(value)


# sort key → (its heading, the order of the rows)
SORTS: dict[str, tuple[str, Callable[[Row], Any]]] = {
    "score": ("匹配分从高到低", lambda r: (-r.item.score, r.item.product_name)),
    "rate": ("利率从低到高", lambda r: (_none_last(r.item.rate_bp), -r.item.score)),
    "amount": ("最高额度从高到低", lambda r: (-_none_last(r.amount_max_fen, 0), -r.item.score)),
    "term": ("最长期限从长到短", lambda r: (-_none_last(r.term_max_days, 0), -r.item.score)),
    "bank": ("银行名称", lambda r: (r.bank, -r.item.score)),
}


def _open_leads(
    all_leads: list[LeadPublic], need_id: int | None
) -> tuple[dict[str, tuple[int, bool]], dict[str, int]]:
    """Open leads of the same subject (the need, or the profile): by product (with whether
    the enterprise applied), by bank."""
    by_product: dict[str, tuple[int, bool]] = {}
    by_bank: dict[str, int] = {}
    for lead in all_leads:
        subject = lead.need.need_id if lead.need else None
        if lead.status in OPEN and subject == need_id:
            by_product.setdefault(lead.product_code, (lead.id, lead.source == "application"))
            by_bank.setdefault(lead.bank_code, lead.id)
    return by_product, by_bank


@router.get("/enterprise/recommendations")
def enterprise_recommendations(
    request: Request,
    session: SessionDep,
    who: EnterpriseUser,
    need: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
    sort: Annotated[str, Query(max_length=10)] = "score",
) -> Response:
    enterprise_id = enterprise_id_of(who)
    open_needs = [
        n
        for n in needs_of(session, enterprise_id, who.principal)
        if n.status in ("open", "matched")
    ]
    if need is not None:
        result = recommendations.recommend_for_need(session, need, who.principal)
    else:
        result = recommendations.recommend_for_enterprise(session, enterprise_id, who.principal)
    catalogue = {
        p.code: p
        for p in first_page(lambda p: products.list_products(session, ProductFilters(), p))
    }
    applied, with_bank = _open_leads(leads.recent_leads(session, who.principal, limit=200), need)
    sort = sort if sort in SORTS else "score"
    rows = recommendation_rows(result.items, catalogue, bank_names(session), applied, with_bank)
    rows.sort(key=SORTS[sort][1])
    return page(
        request,
        "enterprise/recommendations.html",
        who,
        result=result,
        rows=rows,
        needs=open_needs,
        chosen=need,
        sort=sort,
        sorts={key: heading for key, (heading, _) in SORTS.items()},
        entitled=top_entitlements(session, who),
    )


@router.post("/enterprise/apply")
def enterprise_apply(session: SessionDep, who: EnterpriseUser, fields: Form) -> Response:
    """Apply for a recommended product: the bank gets the lead, with who the enterprise is.
    Applying again (a double click, the back button) says it was done, not an error."""
    form = FormReader(fields)
    product_code = form.text("product_code", 64, required=True)
    need_id = form.integer("need_id", 1, 2_147_483_647)
    if product_code is None:
        raise Unprocessable("请选择要申请的产品。", code="missing_product")
    try:
        lead = leads.apply(
            session,
            who.principal,
            product_code,
            need_id=need_id,
            enterprise_id=enterprise_id_of(who),
        )
    except LeadExists as exc:
        session.rollback()
        anchor = f"#lead-{exc.extra['lead_id']}" if exc.extra.get("lead_id") else ""
        return see_other(f"{PREFIX}/enterprise/leads?done=already_applied{anchor}")
    return see_other(f"{PREFIX}/enterprise/leads?done=applied#lead-{lead.id}")

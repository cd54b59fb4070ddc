"""The enterprise's loans and what it can do next about each: ask its bank about renewal, apply
for the 转贷应急资金 bridge fund once the bank has committed the renewal (with the fund's quote:
the amount it may borrow, the days, the fee), and see its account manager and its bank by
name; a loan an interest-subsidy policy covers shows the rate after the subsidy and this
year's subsidy so far (``policies.loan_rates``)."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.loans import borrower as borrowers
from service.loans import bridge, reminders
from service.loans import bridge_applications as bridges
from service.loans import service as loans
from service.loans.renewal import FINAL
from service.loans.schemas import BridgeQuote, BridgeRequest, LoanPublic
from service.policies import loan_rates
from service.policies.loan_rates import LoanSubsidy
from service.web.enterprise import bank_names, enterprise_id_of, page
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, first_page, page_router, see_other
from service.web.security import EnterpriseUser, Form, Visitor

router = page_router()

BRIDGE_DAYS = 5  # the quote's days until the person types others: a usual bridge
OPEN_BRIDGE = ("submitted", "approved", "disbursed")


@dataclass
class LoanView:
    """A loan with what its borrower can do next."""

    loan: LoanPublic
    bank: str
    manager: str | None
    can_ask_renewal: bool
    renewal_asked: bool
    quote: BridgeQuote | None  # shown only when the fund would take the application
    bridge_status: str | None  # an application under way
    bridge_reasons: list[str]  # why the fund would not take one now
    subsidies: list[LoanSubsidy]  # interest-subsidy policies that cover it


def _quote(
    session: Session, who: Visitor, loan: LoanPublic
) -> tuple[BridgeQuote | None, list[str]]:
    """The fund's quote for the most the loan may bridge, over the usual days, or (None, the
    fund's reasons) when the loan may not use it now."""
    if loan.status != "active":
        return None, []
    probe = bridges.quote_bridge(
        session, who.principal, loan.id, BridgeRequest(amount_fen=1, days=BRIDGE_DAYS)
    )
    if probe.max_amount_fen is None or probe.max_amount_fen <= 0:
        return None, [r.message for r in probe.reasons]
    quote = bridges.quote_bridge(
        session,
        who.principal,
        loan.id,
        BridgeRequest(amount_fen=probe.max_amount_fen, days=BRIDGE_DAYS),
    )
    return (quote, []) if quote.eligible else (None, [r.message for r in quote.reasons])


def loan_views(session: Session, who: Visitor) -> list[LoanView]:
    shown = first_page(lambda p: loans.list_loans(session, who.principal, p))
    ids = [loan.id for loan in shown]
    managers = borrowers.account_managers(session, who.principal, ids)
    asked = borrowers.renewal_requested(session, who.principal, ids)
    applications = first_page(lambda p: bridges.list_bridges(session, who.principal, p))
    under_way = {a.loan_id: str(a.status) for a in applications if a.status in OPEN_BRIDGE}
    names = bank_names(session)
    subsidised = loan_rates.loan_subsidies(session, who.principal, enterprise_id_of(who))
    views = []
    for loan in shown:
        settled = loan.renewal is not None and loan.renewal.status in FINAL
        quote, reasons = (None, []) if loan.id in under_way else _quote(session, who, loan)
        views.append(
            LoanView(
                loan=loan,
                bank=loan.bank_name or names.get(loan.bank_code, "贷款银行"),
                manager=managers.get(loan.id),
                can_ask_renewal=loan.status == "active" and not settled and loan.id not in asked,
                renewal_asked=loan.id in asked,
                quote=quote,
                bridge_status=under_way.get(loan.id),
                bridge_reasons=reasons,
                subsidies=subsidised.get(loan.id, []),
            )
        )
    return views


def _loans_page(
    request: Request,
    session: Session,
    who: Visitor,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "enterprise/loans.html",
        who,
        status,
        views=loan_views(session, who),
        reminders=first_page(lambda p: reminders.list_reminders(session, who.principal, p), 100),
        errors=errors or {},
        max_days=bridge.MAX_DAYS,
    )


@router.get("/enterprise/loans")
def enterprise_loans(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    return _loans_page(request, session, who)


@router.post("/enterprise/loans/{loan_id:int}/renewal")
def ask_renewal(session: SessionDep, who: EnterpriseUser, loan_id: Id, _: Form) -> Response:
    """Ask the loan's bank about renewal; asking twice says it was asked."""
    asked = borrowers.request_renewal(session, who.principal, loan_id)
    done = "renewal_requested" if asked else "renewal_already"
    return see_other(f"{PREFIX}/enterprise/loans?done={done}#loan-{loan_id}")


@router.post("/enterprise/loans/{loan_id:int}/bridge")
def apply_bridge(
    request: Request, session: SessionDep, who: EnterpriseUser, loan_id: Id, fields: Form
) -> Response:
    """Apply for the bridge fund for this loan, for the amount and days typed."""
    form = FormReader(fields)
    amount = form.wan_to_fen("amount", required=True)
    days = form.integer("days", 1, bridge.MAX_DAYS, required=True)
    made: Any = None
    if amount is not None and days is not None:
        made = form.run(
            lambda: bridges.apply_bridge(
                session, who.principal, loan_id, BridgeRequest(amount_fen=amount, days=days)
            ),
            session.rollback,
        )
    if made is not None:
        return see_other(f"{PREFIX}/enterprise/loans?done=bridge_applied#loan-{loan_id}")
    message = "；".join(dict.fromkeys(form.errors.values())) or "申请未提交。"
    return _loans_page(request, session, who, {loan_id: message}, form.status)

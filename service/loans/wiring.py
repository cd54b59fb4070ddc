"""Loans listen to leads (a disbursed lead is a loan) and run the reminders periodically, and
tell matching which enterprises have a loan about to mature (the bridge fund's condition)."""

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import Connection, select

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.loans import service
from service.loans.models import BridgeApplication, Loan, LoanStatus, RenewalCase
from service.loans.renewal import CaseStatus
from service.matching import facts, scoring
from service.matching import service as matching
from service.products.models import Bank

COMMITTED = (CaseStatus.committed, CaseStatus.bridge_needed)


def connect() -> None:
    audit.audit(Loan, "loan")
    audit.audit(RenewalCase, "renewal_case")
    audit.audit(BridgeApplication, "bridge_application")
    service.stages()  # a wrong FINMATCH_REMINDER_STAGES stops the start, not a run at night
    subscribe("lead.disbursed", service.on_lead_disbursed)
    register(service.REMINDER_RUN, _run)
    # Reminder dates are whole days and the run catches up: hourly is plenty, and a worker
    # that starts after midnight sends the day's reminders within the hour.
    register_periodic(service.REMINDER_RUN, 60 * 60)
    facts.provide_bridge_states(bridge_states)
    subscribe("renewal.changed", matching.on_enterprise_changed)


def _run(session, **_payload):  # noqa: ANN001, ANN202 - the job runner's signature
    return service.run_reminder_job(session)


def bridge_states(
    conn: Connection, enterprise_ids: Sequence[int] | None, on: date, window_days: int
) -> dict[int, str]:
    """Enterprises with an active loan at a bank that cooperates with the bridge fund maturing
    within ``window_days`` of ``on``: committed when the bank has committed its renewal,
    maturing otherwise (one committed loan is enough)."""
    stmt = (
        select(Loan.enterprise_id, RenewalCase.status)
        .join(Bank, Bank.code == Loan.bank_code)
        .outerjoin(RenewalCase, RenewalCase.loan_id == Loan.id)
        .where(
            Loan.status == LoanStatus.active,
            Loan.maturity_date >= on,
            Loan.maturity_date <= on + timedelta(days=window_days),
            Bank.bridge_fund_partner.is_(True),
        )
    )
    if enterprise_ids is not None:
        if not enterprise_ids:
            return {}
        stmt = stmt.where(Loan.enterprise_id.in_(list(enterprise_ids)))
    out: dict[int, str] = {}
    for enterprise_id, status in conn.execute(stmt):
        if status in COMMITTED:
            out[enterprise_id] = scoring.BRIDGE_COMMITTED
        else:
            out.setdefault(enterprise_id, scoring.BRIDGE_MATURING)
    return out

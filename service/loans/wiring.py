"""Loans listen to leads (a disbursed lead is a loan) and run the reminders periodically, and
tell matching which enterprises have a loan about to mature (the bridge fund's condition)."""

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import Connection

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.loans import bridge, queries, reminders, service
from service.loans.models import BridgeApplication, Loan, RenewalCase
from service.matching import facts, rematch, scoring


def connect() -> None:
    audit.audit(Loan, "loan")
    audit.audit(RenewalCase, "renewal_case")
    audit.audit(BridgeApplication, "bridge_application")
    reminders.stages()  # a wrong FINMATCH_REMINDER_STAGES stops the start, not a run at night
    subscribe("lead.disbursed", service.on_lead_disbursed)
    register(reminders.REMINDER_RUN, _run)
    # Reminder dates are whole days and the run catches up: hourly is plenty, and a worker
    # that starts after midnight sends the day's reminders within the hour.
    register_periodic(reminders.REMINDER_RUN, 60 * 60)
    facts.provide_bridge_states(bridge_states)
    subscribe("renewal.changed", rematch.on_enterprise_changed)


def _run(session, **_payload):  # noqa: ANN001, ANN202 - the job runner's signature
    return reminders.run_reminder_job(session)


def bridge_states(
    conn: Connection, enterprise_ids: Sequence[int] | None, on: date, window_days: int
) -> dict[int, str]:
    """Enterprises with an active loan at a bank that cooperates with the bridge fund maturing
    within ``window_days`` of ``on``: committed when the bank has committed its renewal,
    maturing otherwise (one committed loan is enough)."""
    if enterprise_ids is not None and not enterprise_ids:
        return {}
    rows = queries.maturing_at_partner_banks(
        conn, enterprise_ids, on, on + timedelta(days=window_days)
    )
    out: dict[int, str] = {}
    for enterprise_id, status in rows:
        if status in bridge.COMMITTED:
            out[enterprise_id] = scoring.BRIDGE_COMMITTED
        else:
            out.setdefault(enterprise_id, scoring.BRIDGE_MATURING)
    return out

"""Loans listen to leads (a disbursed lead is a loan) and run the reminders periodically."""

from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.loans import service


def connect() -> None:
    service.stages()  # a wrong FINMATCH_REMINDER_STAGES stops the start, not a run at night
    subscribe("lead.disbursed", service.on_lead_disbursed)
    register(service.REMINDER_RUN, _run)
    # Reminder dates are whole days and the run catches up: hourly is plenty, and a worker
    # that starts after midnight sends the day's reminders within the hour.
    register_periodic(service.REMINDER_RUN, 60 * 60)


def _run(session, **_payload):  # noqa: ANN001, ANN202 - the job runner's signature
    return service.run_reminder_job(session)

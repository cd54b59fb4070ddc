"""Leads listen to needs: a consenting need is offered to banks, a withdrawn one withdrawn."""

from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.leads import jobs, service


def connect() -> None:
    subscribe("need.posted", service.on_need_posted)
    subscribe("need.changed", service.on_need_changed)
    subscribe("need.withdrawn", service.on_need_withdrawn)
    register(service.SLA_CHECK, service.run_deadline_check)
    register(jobs.DELIVER, jobs.deliver)
    service.on_bank_event(jobs.queue_deliveries)
    register_periodic(service.SLA_CHECK, 15 * 60)  # deadlines are whole days: often enough

"""Leads listen to needs: a consenting need is offered to banks, a withdrawn one withdrawn; every
bank event queues its webhook deliveries in its own transaction; the deadline check and the
webhook sends are jobs; and leads tell matching which enterprises consented to a bank through
a lead."""

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.leads import deadlines, lifecycle, outbox, queries
from service.leads.bank_events import EVENT_ADDED
from service.leads.models import ContactRequest, Lead, WebhookEndpoint
from service.matching import facts


def connect() -> None:
    audit.audit(Lead, "lead")
    audit.audit(ContactRequest, "contact_request")
    audit.audit(WebhookEndpoint, "webhook_endpoint")
    subscribe("need.posted", lifecycle.on_need_posted)
    subscribe("need.changed", lifecycle.on_need_changed)
    subscribe("need.withdrawn", lifecycle.on_need_withdrawn)
    register(deadlines.SLA_CHECK, deadlines.run_deadline_check)
    register(outbox.DELIVER, outbox.deliver)
    facts.provide_lead_consents(queries.consented_enterprises)
    subscribe(EVENT_ADDED, outbox.queue_deliveries)
    register_periodic(deadlines.SLA_CHECK, 15 * 60)  # deadlines are whole days: often enough

"""Leads listen to needs: a consenting need is offered to banks, a withdrawn one withdrawn; and
tell matching which enterprises consented to a bank through a lead."""

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register, register_periodic
from service.leads import outbox, queries, service
from service.leads.models import ContactRequest, Lead, WebhookEndpoint
from service.matching import facts


def connect() -> None:
    audit.audit(Lead, "lead")
    audit.audit(ContactRequest, "contact_request")
    audit.audit(WebhookEndpoint, "webhook_endpoint")
    subscribe("need.posted", service.on_need_posted)
    subscribe("need.changed", service.on_need_changed)
    subscribe("need.withdrawn", service.on_need_withdrawn)
    register(service.SLA_CHECK, service.run_deadline_check)
    register(outbox.DELIVER, outbox.deliver)
    facts.provide_lead_consents(queries.consented_enterprises)
    service.on_bank_event(outbox.queue_deliveries)
    register_periodic(service.SLA_CHECK, 15 * 60)  # deadlines are whole days: often enough

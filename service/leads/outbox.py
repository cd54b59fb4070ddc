"""The webhook outbox: every bank event becomes one delivery per subscribed endpoint, in the
event's transaction (``queue_deliveries`` hears of each event added through ``core.events``); a job per
endpoint sends the due ones after commit, signed per Standard Webhooks (``leads.sender``), and
retries failures on the spec's schedule (about 3.6 days, with jitter). A 410 disables the
endpoint. A restart or a receiver that is down loses nothing: the deliveries wait in the
table, and the job is queued again for the next due one. When a receiver cannot be reached,
the endpoint's other due deliveries wait for the failed one's next try instead of failing the
same way."""

import logging
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session

from service.core.models import utcnow
from service.jobs.service import enqueue
from service.leads import queries, sender
from service.leads.models import (
    BankEvent,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)
DELIVER = "webhooks.deliver"
BATCH = 100  # deliveries sent per job run; the job queues itself again for the rest
TIMEOUT_SECONDS = 10.0


def http_client() -> httpx.Client:
    """One client per job run, and so per endpoint (connections are pooled by the address
    checked); no proxies from the environment, no redirects."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False, follow_redirects=False)


def queue_deliveries(session: Session, bank_event: BankEvent) -> None:
    """Listener of each bank event added: the outbox rows, and a job to send them after commit."""
    assert bank_event.id is not None
    endpoints = queries.enabled_endpoints(session, bank_event.bank_code, bank_event.district_code)
    for endpoint in endpoints:
        assert endpoint.id is not None
        if endpoint.event_types and bank_event.type not in endpoint.event_types:
            continue
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=bank_event.id,
                msg_id=f"msg_{bank_event.id}_{endpoint.id}",
            )
        )
        schedule(session, endpoint.id)


def schedule(session: Session, endpoint_id: int, at: datetime | None = None) -> None:
    """The endpoint's delivery job, once (``at``: not before then)."""
    enqueue(session, DELIVER, {"endpoint_id": endpoint_id}, key=str(endpoint_id), run_after=at)


def _secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The current secret, and during a rotation's overlap the previous one as well, so a
    receiver that has not switched yet still verifies."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_until or utcnow()) > utcnow():
        secrets.append(endpoint.previous_secret)
    return secrets


def deliver(session: Session, endpoint_id: int) -> dict:
    """Job: send an endpoint's due deliveries, oldest first. No commit (the runner commits)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return {"sent": 0, "skipped": "endpoint disabled or removed"}
    now = utcnow()
    due = queries.due_deliveries_claimed(session, endpoint_id, now, BATCH)
    counts = {"sent": 0, "delivered": 0, "failed": 0}
    policy = sender.UrlPolicy.from_settings()
    with http_client() as http:
        for delivery in due:
            event = session.get(BankEvent, delivery.event_id)
            assert event is not None and event.id is not None
            # Thin: ids only; the receiver pulls the lead (and its consent), or the loan,
            # through the API.
            ids = (
                {"lead_id": event.lead_id}
                if event.lead_id is not None
                else {k: v for k, v in (event.data or {}).items() if k.endswith("_id")}
            )
            body = sender.thin_payload(
                event.type,
                event.id,
                event.occurred_at,
                {**ids, "seq": event.seq, "bank_code": event.bank_code}
                if event.bank_code is not None
                else {**ids, "district_code": event.district_code},
            )
            attempt = sender.send(
                http,
                endpoint.url,
                _secrets(endpoint),
                delivery.msg_id,
                utcnow(),
                body,
                timeout=TIMEOUT_SECONDS,
                policy=policy,
            )
            counts["sent"] += 1
            _record(session, endpoint, delivery, attempt)
            counts["delivered" if attempt.ok else "failed"] += 1
            if not endpoint.enabled:
                break
            if attempt.status_code is None:
                # Unreachable, or refused before sending (a URL now forbidden, or a host that
                # resolves to an internal address): the rest waits for the next try instead
                # of failing the same way. Retried on the schedule, so a URL fixed meanwhile
                # gets everything.
                _postpone(session, endpoint_id, delivery)
                break
    _schedule_next(session, endpoint)
    return counts


def _record(
    session: Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery, attempt: sender.Attempt
) -> None:
    assert delivery.id is not None
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error[:500] if attempt.error else None
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            at=now,
            status_code=attempt.status_code,
            error=delivery.last_error,
            duration_ms=attempt.duration_ms,
        )
    )
    if attempt.ok:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
        return
    if attempt.gone:
        # 410 Gone: the receiver says it will never want these; stop sending altogether.
        delivery.status = DeliveryStatus.failed
        endpoint.enabled = False
        endpoint.disabled_reason = "接收端返回 410 Gone，已停用"
        endpoint.updated_at = now
        assert endpoint.id is not None
        queries.fail_pending(session, endpoint.id, "接收端已停用")
        return
    delay = sender.next_attempt_delay(delivery.attempts)
    if delay is None:
        delivery.status = DeliveryStatus.dead
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)


def _postpone(session: Session, endpoint_id: int, failed: WebhookDelivery) -> None:
    if failed.status != DeliveryStatus.pending:
        return
    session.flush()
    queries.postpone_pending(session, endpoint_id, failed.next_attempt_at)


def _schedule_next(session: Session, endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        return
    assert endpoint.id is not None
    session.flush()
    following = queries.next_due(session, endpoint.id)
    if following is not None:
        schedule(session, endpoint.id, max(following, utcnow()))

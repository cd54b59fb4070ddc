"""Use cases of a bank's webhook endpoints: registering, changing and removing them, rotating
their signing secret, and reading and redelivering their deliveries. (The deliveries are
queued and sent by ``leads.outbox``; one message is signed and sent by ``leads.sender``.)

Rules that live here:
- The office manages any bank's endpoints, a bank its own; another bank's answers as a missing
  one (``access.policy.sees_bank``).
- A URL is https to a host that resolves to public addresses only (``sender``), checked when
  set and again when an endpoint is enabled, since its host may resolve elsewhere by then.
- Event types are among ``schemas.EVENT_TYPES`` (a bank's) or ``DISTRICT_EVENT_TYPES`` (a
  district office's, whose endpoints only the office registers and sees); none means all.
- The secret is shown once, at creation and at rotation; after a rotation messages carry
  signatures with both secrets for ``ROTATION_OVERLAP``.
- A delivery is sent again only while its endpoint is enabled; a delivered one is left alone."""

from datetime import timedelta

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, between_scope, check_sees_bank, require, sees_bank
from service.core.errors import NotFound
from service.core.models import refuse_nulls, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.leads import queries, sender
from service.leads.exceptions import InvalidLeadRequest
from service.leads.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from service.leads.outbox import schedule
from service.leads.schemas import (
    DISTRICT_EVENT_TYPES,
    EVENT_TYPES,
    AttemptPublic,
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)
from service.leads.sender import new_secret
from service.products.models import Bank
from service.taxonomy.models import District

ROTATION_OVERLAP = timedelta(hours=24)


def _check_url(url: str) -> str:
    """https to a host that resolves to public addresses only (see sender); checked again at
    every send, since the host's DNS answer may change."""
    url = url.strip()
    try:
        sender.check_destination(url, sender.UrlPolicy.from_settings())
    except sender.DestinationRefused as refused:
        raise InvalidLeadRequest(refused.message, code=refused.code, field="url") from None
    return url


def _check_types(types: list[str] | None, known: tuple[str, ...] = EVENT_TYPES) -> list[str] | None:
    if types is None:
        return None
    unknown = sorted(set(types) - set(known))
    if unknown or not types:
        raise InvalidLeadRequest(
            f"未知的事件类型：{', '.join(unknown) or '（空列表）'}；可选：{', '.join(known)}。",
            code="unknown_event_type",
            field="event_types",
        )
    return sorted(set(types))


def _webhook_public(endpoint: WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic.model_validate(endpoint, from_attributes=True)


def _endpoint(session: Session, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    require(principal, Role.office, Role.bank)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    seen = (
        principal.role == Role.office
        if endpoint is None or endpoint.bank_code is None
        else sees_bank(principal, endpoint.bank_code)
    )
    if endpoint is None or not seen:
        raise NotFound(f"回调地址 {endpoint_id} 不存在。", code="webhook_not_found")
    return endpoint


def create_webhook(
    session: Session, principal: Principal, data: WebhookCreate
) -> WebhookWithSecret:
    require(principal, Role.office, Role.bank)
    if data.district_code is not None:
        return _create_district_webhook(session, principal, data)
    if data.bank_code is not None:
        check_sees_bank(principal, data.bank_code)  # a bank registers for itself only
    bank_code, _ = between_scope(principal, data.bank_code, None)
    if not bank_code or session.get(Bank, bank_code) is None:
        raise InvalidLeadRequest(
            f"银行 {bank_code!r} 不存在。", code="unknown_bank", field="bank_code"
        )
    endpoint = WebhookEndpoint(
        bank_code=bank_code,
        url=_check_url(data.url),
        description=data.description,
        event_types=_check_types(data.event_types),
        secret=new_secret(),
    )
    session.add(endpoint)
    session.commit()
    return WebhookWithSecret(**_webhook_public(endpoint).model_dump(), secret=endpoint.secret)


def _create_district_webhook(
    session: Session, principal: Principal, data: WebhookCreate
) -> WebhookWithSecret:
    """The office registers a district office's endpoint (a district's own people have no
    key of their own)."""
    require(principal, Role.office)
    if data.bank_code is not None:
        raise InvalidLeadRequest(
            "回调地址属于一家银行或一个区县，不能两者都填。", code="one_audience", field="bank_code"
        )
    if session.get(District, data.district_code) is None:
        raise InvalidLeadRequest(
            f"区县 {data.district_code!r} 不存在。", code="unknown_district", field="district_code"
        )
    endpoint = WebhookEndpoint(
        district_code=data.district_code,
        url=_check_url(data.url),
        description=data.description,
        event_types=_check_types(data.event_types, DISTRICT_EVENT_TYPES),
        secret=new_secret(),
    )
    session.add(endpoint)
    session.commit()
    return WebhookWithSecret(**_webhook_public(endpoint).model_dump(), secret=endpoint.secret)


def list_webhooks(session: Session, principal: Principal) -> list[WebhookPublic]:
    require(principal, Role.office, Role.bank)
    bank_code, _ = between_scope(principal, None, None)
    return [_webhook_public(e) for e in queries.webhook_endpoints(session, bank_code)]


def get_webhook(session: Session, principal: Principal, endpoint_id: int) -> WebhookPublic:
    return _webhook_public(_endpoint(session, principal, endpoint_id))


def update_webhook(
    session: Session, principal: Principal, endpoint_id: int, data: WebhookUpdate
) -> WebhookPublic:
    endpoint = _endpoint(session, principal, endpoint_id)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(WebhookEndpoint, changes)
    if "url" in changes or changes.get("enabled"):
        # Enabling again checks the stored URL too: it may predate the rules, or its host
        # may resolve elsewhere now.
        endpoint.url = _check_url(changes.get("url", endpoint.url) or "")
    if "description" in changes:
        endpoint.description = changes["description"]
    if "event_types" in changes:
        known = EVENT_TYPES if endpoint.bank_code is not None else DISTRICT_EVENT_TYPES
        endpoint.event_types = _check_types(changes["event_types"], known)
    if changes.get("enabled") is not None:
        endpoint.enabled = changes["enabled"]
        endpoint.disabled_reason = None if endpoint.enabled else "已手动停用"
    endpoint.updated_at = utcnow()
    endpoint.version += 1
    session.commit()
    return _webhook_public(endpoint)


def rotate_secret(session: Session, principal: Principal, endpoint_id: int) -> WebhookWithSecret:
    """A new secret; for the next 24 hours messages carry signatures with both."""
    endpoint = _endpoint(session, principal, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = utcnow() + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    endpoint.updated_at = utcnow()
    session.commit()
    return WebhookWithSecret(**_webhook_public(endpoint).model_dump(), secret=endpoint.secret)


def delete_webhook(session: Session, principal: Principal, endpoint_id: int) -> None:
    endpoint = _endpoint(session, principal, endpoint_id)
    session.delete(endpoint)
    session.commit()


def list_deliveries(
    session: Session,
    principal: Principal,
    endpoint_id: int,
    page: PageParams,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryPublic]:
    """The endpoint's delivery log, newest first, with every attempt."""
    _endpoint(session, principal, endpoint_id)
    key = cursor_key(page, 1, (int,))
    rows = queries.deliveries(session, endpoint_id, status, key[0] if key else None, page.limit + 1)
    result = make_page(rows, page.limit, lambda row: [row[0].id])
    log = queries.attempts(session, [row[0].id for row in result.items])
    result.items = [
        DeliveryPublic(
            id=d.id,
            event_id=d.event_id,
            event_type=event_type,
            msg_id=d.msg_id,
            status=str(d.status),
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.pending else None,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            log=[AttemptPublic.model_validate(a, from_attributes=True) for a in log.get(d.id, [])],
        )
        for d, event_type in result.items
    ]
    return result


def retry_delivery(
    session: Session, principal: Principal, endpoint_id: int, delivery_id: int
) -> None:
    """Send a dead or failed delivery again (after the receiver was fixed)."""
    endpoint = _endpoint(session, principal, endpoint_id)
    assert endpoint.id is not None
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"投递记录 {delivery_id} 不存在。", code="delivery_not_found")
    if not endpoint.enabled:
        raise InvalidLeadRequest("回调地址已停用，请先启用。", code="webhook_disabled", status=409)
    if delivery.status != DeliveryStatus.delivered:
        delivery.status = DeliveryStatus.pending
        delivery.next_attempt_at = utcnow()
        schedule(session, endpoint.id)
    session.commit()

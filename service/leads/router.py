"""HTTP for leads: the banks' feed and events, outcomes, applications and contact requests."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from service.access.dependencies import BearerScheme, Caller, Retryable
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_engine, get_session
from service.core.errors import problem_responses
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageDep
from service.core.types import Digits, Timestamp
from service.leads import assignment, bank_events, contact_requests, feed, lifecycle, webhooks
from service.leads.models import ContactRequestStatus, DeliveryStatus
from service.leads.schemas import (
    ApplicationRequest,
    AssigneeChange,
    BankEventPublic,
    ContactRequestCreate,
    ContactRequestPublic,
    DeliveryPublic,
    LeadPublic,
    StatusChange,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)
from service.leads.states import LeadStatus

router = APIRouter(tags=["leads"])
SessionDep = Annotated[Session, Depends(get_session)]
LeadId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Lead id", examples=[1]), Digits]
IfMatch = Annotated[str | None, Header(description="ETag of the lead's version", examples=['"2"'])]


@router.get(
    "/leads",
    operation_id="listLeads",
    summary="Pull leads (a bank's feed)",
    description="A bank gets its own leads in feed order: every new or changed lead comes "
    "after all earlier ones, so paging on with `next_cursor` loses and repeats nothing while "
    "leads arrive. Who the enterprise is (name, credit code, contacts) shows only with its "
    "consent, and each such read is audited. An enterprise gets its own leads; the office "
    "everyone's (one bank's in feed order with `bank`). `need_id` keeps the leads of one "
    "financing need among those: a need with none of the caller's leads (or none at all) "
    "gives an empty page.",
    response_model=Page[LeadPublic],
    responses=problem_responses(404, 422),
)
async def list_leads(
    request: Request,
    _scheme: BearerScheme,
    page: PageDep,
    lead_status: Annotated[LeadStatus | None, Query(alias="status")] = None,
    product: Annotated[str | None, Query(max_length=64, description="Product code")] = None,
    updated_since: Annotated[Timestamp | None, Query(alias="updated-since")] = None,
    bank: Annotated[str | None, Query(max_length=32, description="Office only")] = None,
    need_id: Annotated[
        int | None,
        Query(ge=1, le=2_147_483_647, description="The leads of this financing need"),
        Digits,
    ] = None,
    assignee: Annotated[
        str | None,
        Query(
            max_length=12,
            pattern=r"^(me|none|[1-9][0-9]{0,9})$",
            description="`none`: leads nobody works yet; a person's id: theirs; `me` (a "
            "signed-in person only): the caller's own",
        ),
    ] = None,
) -> Any:
    # The hot path of a bank's integration (see service.leads.feed): on PostgreSQL it runs
    # on the event loop; otherwise in one call to a worker thread (the usual session and
    # caller dependencies would take three more).
    filters = feed.LeadFilters(lead_status, product, updated_since, bank, need_id, assignee)
    authorization = request.headers.get("authorization")
    today, now = today_local(), utcnow()
    pool = request.app.state.async_pool
    if pool is not None:
        async with (await pool.get()).connection() as connection:
            steps = feed.pull("postgresql", authorization, filters, page, today, now)
            body = await feed.run_async(connection, get_engine().dialect, steps)
    else:
        open_session = request.app.state.open_session

        def pull() -> bytes:
            with open_session() as session:
                dialect = session.get_bind().dialect.name
                steps = feed.pull(dialect, authorization, filters, page, today, now)
                return feed.run(session, steps)

        body = await run_in_threadpool(pull)
    # The body is already the JSON of Page[LeadPublic]: answer it as it is.
    return Response(body, media_type="application/json")


@router.get(
    "/leads/{lead_id:int}",
    operation_id="getLead",
    summary="Read a lead",
    description="One lead; the ETag carries its version for If-Match.",
    response_model=LeadPublic,
    responses=problem_responses(404),
)
def get_lead(
    principal: Caller, session: SessionDep, response: Response, lead_id: LeadId
) -> LeadPublic:
    lead = lifecycle.get_lead(session, principal, lead_id)
    response.headers["ETag"] = etag(lead.version)
    return lifecycle.leads_public(session, principal, [lead])[0]


@router.post(
    "/leads/{lead_id:int}/status",
    operation_id="changeLeadStatus",
    summary="Record what happened to a lead",
    description="new → viewed → contacted → approved → disbursed; `declined` (with a reason "
    "from the fixed list; `other` needs a note) at any open step; `withdrawn` by the "
    "enterprise. Approved and disbursed need the amount and rate. A wrong step is a 409; "
    "with If-Match, a change based on a stale version is a 412. Send an Idempotency-Key to "
    "retry safely.",
    response_model=LeadPublic,
    responses=problem_responses(403, 404, 409, 412, 422),
)
def change_status(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    lead_id: LeadId,
    change: Annotated[
        StatusChange,
        Body(
            openapi_examples={
                "contacted": {"summary": "First contact made", "value": {"status": "contacted"}},
                "approved": {
                    "summary": "Credit approved",
                    "value": {"status": "approved", "amount_fen": 300_000_000, "rate_bp": 345},
                },
                "declined": {
                    "summary": "Declined",
                    "value": {"status": "declined", "reason": "insufficient_collateral"},
                },
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        lead = lifecycle.change_status(
            session, principal, lead_id, change, parse_if_match(if_match)
        )
        body = lifecycle.leads_public(session, principal, [lead])[0]
        return 200, body, {"ETag": etag(lead.version)}

    return retry.answer({"change": change.model_dump(mode="json"), "if_match": if_match}, call)


@router.put(
    "/leads/{lead_id:int}/assignee",
    operation_id="assignLead",
    summary="Set who works a lead",
    description="The bank's person who works the lead (`assignee_user_id`), or null for "
    "nobody. The office, the bank's own key and its administrator assign to anyone of the "
    "bank; an account manager may only claim an unassigned lead for itself or hand its own "
    "back (403 `forbidden_assignment`). The assignee must be an active person of the lead's "
    "bank (422 `invalid_assignee`). With If-Match, a change based on a stale version is a "
    "412. The bank gets a `lead.assigned` event (and webhook).",
    response_model=LeadPublic,
    responses=problem_responses(403, 404, 412, 422),
)
def assign_lead(
    principal: Caller,
    session: SessionDep,
    response: Response,
    lead_id: LeadId,
    change: Annotated[
        AssigneeChange,
        Body(
            openapi_examples={
                "assign": {"summary": "To a person", "value": {"assignee_user_id": 12}},
                "nobody": {"summary": "To nobody", "value": {"assignee_user_id": None}},
            }
        ),
    ],
    if_match: IfMatch = None,
) -> LeadPublic:
    lead = assignment.assign(
        session, principal, lead_id, change.assignee_user_id, parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(lead.version)
    return lifecycle.leads_public(session, principal, [lead])[0]


@router.post(
    "/applications",
    operation_id="applyForProduct",
    status_code=status.HTTP_201_CREATED,
    summary="Apply for a recommended product",
    description="The enterprise (or the office for it) applies for a product it is eligible "
    "for, with a need or from its profile: a lead to that product's bank, with consent. An "
    "ineligible product is a 422 listing every failed condition; an open lead with that bank "
    "for the same need a 409.",
    response_model=LeadPublic,
    responses=problem_responses(403, 404, 409, 422),
)
def apply(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        ApplicationRequest,
        Body(
            openapi_examples={
                "need": {
                    "summary": "Apply with a posted need",
                    "value": {"product_code": "jsbank-wx-xikedai", "need_id": 1},
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        lead = lifecycle.apply(
            session, principal, data.product_code, data.need_id, data.enterprise_id
        )
        body = lifecycle.leads_public(session, principal, [lead])[0]
        return 201, body, {"Location": f"/api/v1/leads/{lead.id}"}

    return retry.answer(data.model_dump(mode="json"), call)


@router.post(
    "/products/{product_code}/contact-requests",
    operation_id="requestContact",
    status_code=status.HTTP_201_CREATED,
    summary="Ask to contact a prospect",
    description="A bank asks to contact one of its product's prospects (by `prospect_id` from "
    "the prospect list). The enterprise sees the request and accepts (a lead, with consent) or "
    "declines; until then the bank does not learn who it is.",
    response_model=ContactRequestPublic,
    responses=problem_responses(403, 404, 409, 422),
)
def request_contact(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    request: Request,
    product_code: Annotated[str, Path(max_length=64, examples=["jsbank-wx-xikedai"])],
    data: Annotated[
        ContactRequestCreate,
        Body(
            openapi_examples={
                "ask": {
                    "summary": "Ask to contact a prospect",
                    "value": {"prospect_id": "need-12", "message": "可提供信用贷款，欢迎洽谈"},
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        created = contact_requests.request_contact(
            session, principal, product_code, data.prospect_id, data.message
        )
        return 201, contact_requests.contact_request_public(session, principal, created), {}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/contact-requests",
    operation_id="listContactRequests",
    summary="Contact requests",
    description="An enterprise's requests from banks; a bank's own requests (without who the "
    "enterprise is); all for the office. Newest first.",
    response_model=list[ContactRequestPublic],
    responses=problem_responses(422),
)
def list_contact_requests(
    principal: Caller,
    session: SessionDep,
    request_status: Annotated[ContactRequestStatus | None, Query(alias="status")] = None,
) -> list[ContactRequestPublic]:
    return contact_requests.list_contact_requests(session, principal, request_status)


@router.post(
    "/contact-requests/{request_id:int}/accept",
    operation_id="acceptContactRequest",
    summary="Accept a bank's contact request",
    description="The enterprise agrees to be contacted: a lead to that bank, with consent.",
    response_model=ContactRequestPublic,
    responses=problem_responses(403, 404, 409),
)
def accept_contact_request(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    request_id: Annotated[int, Path(ge=1, le=2_147_483_647), Digits],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        decided = contact_requests.decide_contact_request(
            session, principal, request_id, accept=True
        )
        return 200, decided, {}

    return retry.answer({}, call)


@router.post(
    "/contact-requests/{request_id:int}/decline",
    operation_id="declineContactRequest",
    summary="Decline a bank's contact request",
    description="The bank is told the request was declined, and nothing about who asked.",
    response_model=ContactRequestPublic,
    responses=problem_responses(403, 404, 409),
)
def decline_contact_request(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    request_id: Annotated[int, Path(ge=1, le=2_147_483_647), Digits],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        decided = contact_requests.decide_contact_request(
            session, principal, request_id, accept=False
        )
        return 200, decided, {}

    return retry.answer({}, call)


@router.get(
    "/events",
    operation_id="listBankEvents",
    summary="A bank's events",
    description="lead.created, lead.updated, lead.withdrawn, lead.sla_breached, "
    "lead.assigned …, in order; "
    "replay from any position with `after` (the `seq` of the last event seen) or the cursor. "
    "The office reads any bank's with `bank`.",
    response_model=Page[BankEventPublic],
    responses=problem_responses(403, 422),
)
def list_events(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    after: Annotated[int | None, Query(ge=0, le=2**62), Digits] = None,
    bank: Annotated[str | None, Query(max_length=32, description="Office only")] = None,
) -> Page[BankEventPublic]:
    return bank_events.list_events(session, principal, page, after, bank)


WebhookId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Webhook endpoint id"), Digits]


@router.post(
    "/webhooks",
    operation_id="createWebhook",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint",
    description="Events are pushed as thin payloads (ids only; pull the lead for details), "
    "signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with "
    "the `whsec_` secret returned here once. Failed deliveries are retried for about 3.6 days "
    "with backoff and jitter; a 410 answer disables the endpoint. A retry with the same "
    "Idempotency-Key answers the same endpoint with `secret: null` (the stored answer never "
    "holds it): rotate the secret if the first answer was lost.",
    response_model=WebhookWithSecret,
    responses=problem_responses(403, 422),
)
def create_webhook(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        WebhookCreate,
        Body(
            openapi_examples={
                "all": {
                    "summary": "Every event",
                    "value": {"url": "https://api.bank.example/finmatch/events"},
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        return 201, webhooks.create_webhook(session, principal, data), {}

    return retry.answer(data.model_dump(mode="json"), call, withhold=("secret",))


@router.get(
    "/webhooks",
    operation_id="listWebhooks",
    summary="List webhook endpoints",
    description="A bank's own endpoints (all for the office); never the secrets.",
    response_model=list[WebhookPublic],
    responses=problem_responses(403),
)
def list_webhooks(principal: Caller, session: SessionDep) -> list[WebhookPublic]:
    return webhooks.list_webhooks(session, principal)


@router.get(
    "/webhooks/{endpoint_id:int}",
    operation_id="getWebhook",
    summary="Read a webhook endpoint",
    description="Whether it is enabled, and why not.",
    response_model=WebhookPublic,
    responses=problem_responses(403, 404),
)
def get_webhook(principal: Caller, session: SessionDep, endpoint_id: WebhookId) -> WebhookPublic:
    return webhooks.get_webhook(session, principal, endpoint_id)


@router.patch(
    "/webhooks/{endpoint_id:int}",
    operation_id="updateWebhook",
    summary="Change a webhook endpoint",
    description="URL, description, event types, or enabled (re-enable after fixing a receiver).",
    response_model=WebhookPublic,
    responses=problem_responses(403, 404, 422),
)
def update_webhook(
    principal: Caller,
    session: SessionDep,
    endpoint_id: WebhookId,
    data: Annotated[
        WebhookUpdate,
        Body(openapi_examples={"enable": {"summary": "Enable again", "value": {"enabled": True}}}),
    ],
) -> WebhookPublic:
    return webhooks.update_webhook(session, principal, endpoint_id, data)


@router.post(
    "/webhooks/{endpoint_id:int}/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate the signing secret",
    description="Returns a new secret; for 24 hours messages carry signatures made with the "
    "old and the new one, so the receiver can switch without missing any. A retry with the "
    "same Idempotency-Key rotates nothing and answers `secret: null` (the stored answer never "
    "holds it).",
    response_model=WebhookWithSecret,
    responses=problem_responses(403, 404),
)
def rotate_secret(
    principal: Caller, session: SessionDep, retry: Retryable, endpoint_id: WebhookId
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        return 200, webhooks.rotate_secret(session, principal, endpoint_id), {}

    return retry.answer({}, call, withhold=("secret",))


@router.delete(
    "/webhooks/{endpoint_id:int}",
    operation_id="deleteWebhook",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a webhook endpoint",
    description="Its pending deliveries go with it; the events feed keeps everything.",
    responses=problem_responses(403, 404),
)
def delete_webhook(principal: Caller, session: SessionDep, endpoint_id: WebhookId) -> Response:
    webhooks.delete_webhook(session, principal, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{endpoint_id:int}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="The delivery log",
    description="Each event sent to the endpoint, newest first: status (pending, delivered, "
    "failed, dead), attempts with their answers and errors, and the next try.",
    response_model=Page[DeliveryPublic],
    responses=problem_responses(403, 404, 422),
)
def list_deliveries(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    endpoint_id: WebhookId,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> Page[DeliveryPublic]:
    return webhooks.list_deliveries(session, principal, endpoint_id, page, delivery_status)


@router.post(
    "/webhooks/{endpoint_id:int}/deliveries/{delivery_id:int}/retry",
    operation_id="retryWebhookDelivery",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again",
    description="A dead or failed delivery is sent again at once (after the receiver was "
    "fixed); a delivered one is left alone.",
    responses=problem_responses(403, 404, 409),
)
def retry_delivery(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    endpoint_id: WebhookId,
    delivery_id: Annotated[int, Path(ge=1, le=2**62), Digits],
) -> Response:
    def call() -> tuple[int, Any, dict[str, str]]:
        webhooks.retry_delivery(session, principal, endpoint_id, delivery_id)
        return status.HTTP_202_ACCEPTED, None, {}

    return retry.answer({}, call)

"""HTTP for requests (诉求): raising, triage and every later step, attachments, the departments
and categories the office keeps, and satisfaction ratings."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Header,
    Path,
    Query,
    Response,
    UploadFile,
    status,
)
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.appeals import attachments, escalation, ratings, reference, service, steps
from service.appeals.kinds import AppealKind
from service.appeals.schemas import (
    AppealCreate,
    AppealPublic,
    AppealStep,
    AttachmentPublic,
    CategoryPublic,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentUpdate,
    RatingCreate,
    RatingPublic,
)
from service.appeals.states import AppealStatus
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.idempotency import file_digest
from service.core.pagination import Page, PageDep
from service.core.settings import get_settings
from service.core.types import Digits

router = APIRouter(tags=["requests"])
SessionDep = Annotated[Session, Depends(get_session)]
RequestId = Annotated[
    int, Path(ge=1, le=2_147_483_647, description="Request id", examples=[1]), Digits
]
IfMatch = Annotated[
    str | None, Header(description="ETag of the request's version", examples=['"2"'])
]
Code = Annotated[str, Path(max_length=32, examples=["wx-jrj"])]


@router.post(
    "/requests",
    operation_id="raiseRequest",
    status_code=status.HTTP_201_CREATED,
    summary="Raise a request (诉求)",
    description="An enterprise raises a financing problem: a need no bank took up, a slow "
    "response, a refused renewal, a charge it thinks unreasonable (naming the 七不准 / 四公开 "
    "rule), a rate above the one offered, or another. Name the bank, or the lead or loan it "
    "concerns (the bank is taken from it). `show_to_bank` lets the handling bank see who "
    "raised it. The office may raise one for an enterprise (`enterprise_id`). Attach files "
    "with POST /requests/{id}/attachments. Send an Idempotency-Key to retry safely.",
    response_model=AppealPublic,
    responses=problem_responses(403, 422),
)
def raise_request(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        AppealCreate,
        Body(
            openapi_examples={
                "charge": {
                    "summary": "An unreasonable charge",
                    "value": {
                        "kind": "unreasonable_charge",
                        "bank_code": "jsbank-wx",
                        "charge_rule": "tied_sale",
                        "charge_item": "insurance",
                        "charge_amount_fen": 1_200_000,
                        "title": "贷款时被要求购买保险",
                        "description": "办理流动资金贷款时，客户经理要求购买一年期保险，否则不予放款。",
                        "show_to_bank": True,
                    },
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = service.raise_appeal(session, principal, data)
        _, body = service.read_one(session, principal, row.id or 0)
        return 201, body, {"Location": f"/api/v1/requests/{row.id}", "ETag": etag(row.version)}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/requests",
    operation_id="listRequests",
    summary="List requests",
    description="Newest first. The office sees every request (`status=raised` is the triage "
    "queue; `overdue=true` the requests past their due date), a bank those dispatched to it, "
    "an enterprise its own.",
    response_model=Page[AppealPublic],
    responses=problem_responses(422),
)
def list_requests(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    request_status: Annotated[AppealStatus | None, Query(alias="status")] = None,
    kind: AppealKind | None = None,
    bank: Annotated[str | None, Query(max_length=32, description="Handling bank")] = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    overdue: Annotated[bool, Query(description="Only those past their due date")] = False,
    open_only: Annotated[
        bool, Query(alias="open", description="Only those still being handled")
    ] = False,
) -> Page[AppealPublic]:
    filters = service.AppealFilters(request_status, kind, bank, department, overdue, open_only)
    return service.list_appeals(session, principal, page, filters)


@router.get(
    "/requests/{request_id:int}",
    operation_id="getRequest",
    summary="Read a request with its steps",
    description="The request, every step (who and when) and its files; the ETag carries its "
    "version for If-Match. `next_actions` says what the caller may do now.",
    response_model=AppealPublic,
    responses=problem_responses(404),
)
def get_request(
    principal: Caller, session: SessionDep, response: Response, request_id: RequestId
) -> AppealPublic:
    row, body = service.read_one(session, principal, request_id)
    response.headers["ETag"] = etag(row.version)
    return body


@router.post(
    "/requests/{request_id:int}/steps",
    operation_id="takeRequestStep",
    summary="Take a step on a request",
    description="The office: `accept` (with `category_code`), `reject` (with the reason in "
    "`text`), `merge` (into `merge_into_id`, an open request of the same enterprise), "
    "`dispatch` (to `bank_code` or `department_code`; due the category's working days from "
    "today on China's calendar, or `due_date`), `close` (with the result). The handler: "
    "`answer` (the bank it is dispatched to; the office for a department). The enterprise: "
    "`confirm` (with `rating` 1–5 and a comment), `reopen` once (with the reason), "
    "`withdraw`. A wrong step is a 409, another role's step a 403, a stale If-Match a 412. "
    "Send an Idempotency-Key to retry safely.",
    response_model=AppealPublic,
    responses=problem_responses(403, 404, 409, 412, 422),
)
def take_step(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    request_id: RequestId,
    change: Annotated[
        AppealStep,
        Body(
            openapi_examples={
                "accept": {"value": {"action": "accept", "category_code": "charges"}},
                "dispatch": {"value": {"action": "dispatch", "bank_code": "jsbank-wx"}},
                "answer": {"value": {"action": "answer", "text": "已核实，保险费已退还。"}},
                "confirm": {"value": {"action": "confirm", "rating": 5, "text": "处理及时"}},
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = steps.take_step(session, principal, request_id, change, parse_if_match(if_match))
        _, body = service.read_one(session, principal, request_id)
        return 200, body, {"ETag": etag(row.version)}

    return retry.answer({"change": change.model_dump(mode="json"), "if_match": if_match}, call)


@router.post(
    "/requests/{request_id:int}/attachments",
    operation_id="attachToRequest",
    status_code=status.HTTP_201_CREATED,
    summary="Attach a file to a request",
    description="A PDF or an image (PNG, JPEG, WebP), judged by its content; at most "
    f"{attachments.MAX_FILES} per request and FINMATCH_ATTACHMENT_MAX_BYTES each (10 MB by "
    "default). The enterprise to its own open request, the office, or the handling bank. "
    "When the attachment store cannot be reached: 503 `attachment_store_unavailable`, "
    "nothing stored; try again (with the same Idempotency-Key, if one was sent).",
    response_model=AttachmentPublic,
    responses=problem_responses(404, 409, 413, 415, 422, 503),
)
def attach(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    request_id: RequestId,
    file: Annotated[UploadFile, File(description="PDF or image")],
) -> Any:
    content = file.file.read(get_settings().attachment_max_bytes + 1)

    def call() -> tuple[int, Any, dict[str, str]]:
        row = attachments.attach(session, principal, request_id, file.filename, content)
        body = service.attachment_public(request_id, row)
        return 201, body, {"Location": body.url}

    return retry.answer({"file_sha256": file_digest(content), "filename": file.filename}, call)


@router.get(
    "/requests/{request_id:int}/attachments/{attachment_id:int}",
    operation_id="getRequestAttachment",
    summary="Download a request's file",
    description="The file as it was uploaded, as an attachment (never shown inline). A bank "
    "gets the enterprise's files only if the enterprise let it see who raised the request.",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/*": {}}},
        **problem_responses(404, 503),
    },
)
def get_attachment(
    principal: Caller,
    session: SessionDep,
    request_id: RequestId,
    attachment_id: Annotated[int, Path(ge=1, le=2_147_483_647), Digits],
) -> Response:
    row, content = attachments.read(session, principal, request_id, attachment_id)
    return Response(
        content,
        media_type=row.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.post(
    "/requests/overdue-check",
    operation_id="checkOverdueRequests",
    summary="Escalate overdue requests now",
    description="The office runs the overdue check at once (it also runs every 15 minutes): "
    "each request past its due date is flagged once and its bank reminded.",
    responses=problem_responses(403),
)
def check_overdue(principal: Caller, session: SessionDep, retry: Retryable) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        return 200, escalation.check_overdue_now(session, principal), {}

    return retry.answer({}, call)


@router.get(
    "/departments",
    operation_id="listDepartments",
    summary="Departments requests are dispatched to",
    description="Every department, the inactive ones too (they keep their requests).",
    response_model=list[DepartmentPublic],
)
def list_departments(_: Caller, session: SessionDep) -> Any:
    return reference.list_departments(session)


@router.post(
    "/departments",
    operation_id="createDepartment",
    status_code=status.HTTP_201_CREATED,
    summary="Add a department",
    description="The office adds a named unit requests can be dispatched to.",
    response_model=DepartmentPublic,
    responses=problem_responses(403, 409, 422),
)
def create_department(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        DepartmentCreate,
        Body(openapi_examples={"add": {"value": {"code": "wx-jrj", "name": "市地方金融监管局"}}}),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = reference.create_department(session, principal, data)
        return 201, DepartmentPublic.model_validate(row, from_attributes=True), {}

    return retry.answer(data.model_dump(mode="json"), call)


@router.patch(
    "/departments/{code}",
    operation_id="updateDepartment",
    summary="Rename or deactivate a department",
    description="A department is never deleted: made inactive, it takes no new dispatch and "
    "keeps its requests. With If-Match, a change based on a stale version is a 412.",
    response_model=DepartmentPublic,
    responses=problem_responses(403, 404, 412, 422),
)
def update_department(
    principal: Caller,
    session: SessionDep,
    response: Response,
    code: Code,
    data: Annotated[
        DepartmentUpdate,
        Body(openapi_examples={"deactivate": {"value": {"active": False}}}),
    ],
    if_match: IfMatch = None,
) -> Any:
    row = reference.update_department(session, principal, code, data, parse_if_match(if_match))
    response.headers["ETag"] = etag(row.version)
    return row


@router.get(
    "/request-categories",
    operation_id="listRequestCategories",
    summary="Request categories and their due days",
    description="The office's categories of accepted requests, each with the working days "
    "(China's calendar) its handler has from dispatch.",
    response_model=list[CategoryPublic],
)
def list_categories(_: Caller, session: SessionDep) -> Any:
    return reference.list_categories(session)


@router.patch(
    "/request-categories/{code}",
    operation_id="updateRequestCategory",
    summary="Change a category's name or working days",
    description="The working days apply to requests dispatched from now on.",
    response_model=CategoryPublic,
    responses=problem_responses(403, 404, 412, 422),
)
def update_category(
    principal: Caller,
    session: SessionDep,
    response: Response,
    code: Code,
    data: Annotated[
        CategoryUpdate,
        Body(openapi_examples={"days": {"value": {"due_working_days": 5}}}),
    ],
    if_match: IfMatch = None,
) -> Any:
    row = reference.update_category(session, principal, code, data, parse_if_match(if_match))
    response.headers["ETag"] = etag(row.version)
    return row


@router.post(
    "/ratings",
    operation_id="rateLead",
    status_code=status.HTTP_201_CREATED,
    summary="Rate a bank's service on an ended lead",
    description="The enterprise rates (1–5, with an optional comment) once per lead, after "
    "the lead ended (disbursed, declined or withdrawn); a second rating is a 409. "
    "`show_name` lets the bank see who rated it.",
    response_model=RatingPublic,
    responses=problem_responses(403, 404, 409, 422),
)
def rate_lead(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        RatingCreate,
        Body(
            openapi_examples={
                "rate": {"value": {"lead_id": 12, "score": 4, "comment": "响应及时，利率合理"}}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        row = ratings.rate_lead(session, principal, data)
        return 201, ratings.present(session, principal, [row])[0], {}

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/ratings",
    operation_id="listRatings",
    summary="Satisfaction ratings",
    description="Newest first: a bank its own (without the enterprise's name unless it "
    "agreed), an enterprise its own, the office all (`bank` for one bank's).",
    response_model=Page[RatingPublic],
)
def list_ratings(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    bank: Annotated[str | None, Query(max_length=32)] = None,
    lead_id: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
) -> Page[RatingPublic]:
    return ratings.list_ratings(session, principal, page, bank, lead_id)

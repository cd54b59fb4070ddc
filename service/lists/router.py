"""HTTP for lists (import, preview, commit, review) and library releases: each operation
parses the request, calls one use case with the caller (``principal``), who checks what the
caller may do, and shapes the answer (a release's ETag and If-None-Match are HTTP's, here)."""

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.access.policy import Principal
from service.core import tables
from service.core.concurrency import etag as version_etag
from service.core.concurrency import parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.exports import ExportFormat, SessionOpener, export_responses, send
from service.core.idempotency import file_digest
from service.core.pagination import Page, PageDep
from service.core.types import Digits, IsoDate
from service.enterprises.exports import Kind
from service.lists import exports, publishing, releases, service
from service.lists.models import Match
from service.lists.schemas import (
    ChangePublic,
    Confirmation,
    EntryCreate,
    EntryPublic,
    ImportPublic,
    ReleaseCreate,
    ReleaseItemPublic,
    ReleasePublic,
)

router = APIRouter(tags=["lists"])
SessionDep = Annotated[Session, Depends(get_session)]
ImportId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Import id"), Digits]
EntryId = Annotated[int, Path(ge=1, le=2**62, description="Entry id"), Digits]
Number = Annotated[int, Path(ge=1, le=2_147_483_647, description="Release number"), Digits]
IfMatch = Annotated[str | None, Header(description="ETag of the entry's version")]
IfNoneMatch = Annotated[str | None, Header(description="ETag the caller already has")]


@router.post(
    "/lists/imports",
    operation_id="importList",
    summary="Import a government list (preview)",
    description="Multipart upload (`file`, CSV in UTF-8 or GB18030, or XLSX) with the list's "
    "qualification type (`qualification_type`, e.g. little_giant, srdi_sme, high_tech, "
    "tech_sme, eaglet, gazelle, quasi_unicorn) and optionally its title, source, batch and "
    "dates. Columns by header, loosely: a name (企业名称 / 单位名称 …), a credit code, a "
    "district, a batch, dates; a title line above the header is skipped. Each row is linked "
    "to the library: by credit code, else by name (automatically above the high threshold, "
    "for review between thresholds, proposed as new below). Nothing is applied until the "
    "import is committed. The same file for the same list again answers the first import "
    "(`duplicate: true`) and changes nothing.",
    response_model=ImportPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 422),
)
def import_list(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    file: Annotated[UploadFile, File(description="CSV or XLSX")],
    qualification_type: Annotated[str, Form(max_length=32)],
    title: Annotated[str | None, Form(max_length=200)] = None,
    source: Annotated[str | None, Form(max_length=200)] = None,
    batch: Annotated[str | None, Form(max_length=100)] = None,
    issued_date: Annotated[IsoDate | None, Form()] = None,
    expires_date: Annotated[IsoDate | None, Form()] = None,
) -> Any:
    # One byte over the limit is enough for read_table to refuse the file (413).
    content = file.file.read(tables.LIMITS.file_bytes + 1)

    def call() -> tuple[int, Any, dict[str, str]]:
        record, duplicate = service.preview_import(
            session,
            principal,
            content,
            file.filename,
            qualification_type,
            title,
            source,
            batch,
            issued_date,
            expires_date,
        )
        answer = status.HTTP_200_OK if duplicate else status.HTTP_201_CREATED
        return answer, service.import_public(record, duplicate), {}

    upload = {
        "file_sha256": file_digest(content),
        "filename": file.filename,
        "qualification_type": qualification_type,
        "title": title,
        "source": source,
        "batch": batch,
        "issued_date": issued_date,
        "expires_date": expires_date,
    }
    return retry.answer(upload, call)


@router.get(
    "/lists/imports",
    operation_id="listListImports",
    summary="List imports",
    description="Newest first (office).",
    response_model=Page[ImportPublic],
    responses=problem_responses(403, 422),
)
def list_imports(principal: Caller, session: SessionDep, page: PageDep) -> Page[ImportPublic]:
    return service.list_imports(session, principal, page)


@router.get(
    "/lists/imports/{import_id:int}",
    operation_id="getListImport",
    summary="Read an import",
    description="Its counts by how the rows were linked, and whether it is committed.",
    response_model=ImportPublic,
    responses=problem_responses(403, 404),
)
def get_import(principal: Caller, session: SessionDep, import_id: ImportId) -> ImportPublic:
    return service.import_public(service.read_import(session, principal, import_id))


@router.post(
    "/lists/imports/{import_id:int}/commit",
    operation_id="commitListImport",
    summary="Commit an import",
    description="Applies the list's qualification (its dates and source) to every linked "
    "enterprise; entries still in review apply when confirmed. Committing again changes "
    "nothing.",
    response_model=ImportPublic,
    responses=problem_responses(403, 404),
)
def commit_import(
    principal: Caller, session: SessionDep, retry: Retryable, import_id: ImportId
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        record = service.commit_import(session, principal, import_id)
        return 200, service.import_public(record), {}

    return retry.answer({}, call)


@router.get(
    "/lists/entries",
    operation_id="listListEntries",
    summary="Entries of imports; the review queue",
    description="In list order. `match=review&pending=true` is the review queue: each entry "
    "with its candidates, their scores, the normalised forms compared and what lowered a "
    "score.",
    response_model=Page[EntryPublic],
    responses=problem_responses(403, 404, 422),
)
def list_entries(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    import_id: Annotated[int | None, Query(ge=1, le=2_147_483_647), Digits] = None,
    match: Match | None = None,
    pending: bool | None = None,
) -> Page[EntryPublic]:
    return service.list_entries(session, principal, page, import_id, match, pending)


@router.post(
    "/lists/entries/{entry_id:int}/confirm",
    operation_id="confirmListEntry",
    summary="Confirm a link",
    description="The office links a review (or proposed-new) entry to an enterprise; who and "
    "when are recorded. A decided entry is a 409.",
    response_model=EntryPublic,
    responses=problem_responses(403, 404, 409, 412, 422),
)
def confirm(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    entry_id: EntryId,
    body: Annotated[
        Confirmation,
        Body(
            openapi_examples={
                "candidate": {"summary": "A candidate", "value": {"enterprise_id": 7}}
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        entry = service.confirm(
            session, principal, entry_id, body.enterprise_id, parse_if_match(if_match)
        )
        return 200, service.entry_public(entry), {"ETag": version_etag(entry.version)}

    return retry.answer({"body": body.model_dump(mode="json"), "if_match": if_match}, call)


@router.post(
    "/lists/entries/{entry_id:int}/reject",
    operation_id="rejectListEntry",
    summary="Reject the candidates",
    description="None of the candidates is this company; the entry stays a proposal for a "
    "new library entry. Who and when are recorded.",
    response_model=EntryPublic,
    responses=problem_responses(403, 404, 409, 412),
)
def reject(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    entry_id: EntryId,
    if_match: IfMatch = None,
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        entry = service.reject(session, principal, entry_id, parse_if_match(if_match))
        return 200, service.entry_public(entry), {"ETag": version_etag(entry.version)}

    return retry.answer({"if_match": if_match}, call)


@router.post(
    "/lists/entries/{entry_id:int}/create-enterprise",
    operation_id="createEnterpriseFromListEntry",
    summary="Add the entry's company to the library",
    description="Needs a credit code (the list's, or given here).",
    response_model=EntryPublic,
    responses=problem_responses(403, 404, 409, 422),
)
def create_enterprise(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    entry_id: EntryId,
    body: Annotated[
        EntryCreate,
        Body(
            openapi_examples={
                "code": {"summary": "With a code", "value": {"credit_code": "91320200134757148J"}}
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        entry = service.create_from_entry(session, principal, entry_id, body)
        return 200, service.entry_public(entry), {}

    return retry.answer(body.model_dump(mode="json"), call)


# --- releases -------------------------------------------------------------------------------


@router.post(
    "/releases",
    operation_id="publishRelease",
    summary="Publish a library release (office)",
    description="A numbered, immutable snapshot of the enterprise and project libraries with "
    "counts and a checksum.",
    response_model=ReleasePublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409),
)
def publish(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    body: Annotated[
        ReleaseCreate,
        Body(
            openapi_examples={
                "monthly": {"summary": "Monthly", "value": {"note": "2026年12月发布"}}
            }
        ),
    ] = ReleaseCreate(),
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        release = publishing.publish(session, principal, body.note)
        return 201, releases.release_public(release, principal), {}

    return retry.answer(body.model_dump(mode="json"), call)


@router.get(
    "/releases",
    operation_id="listReleases",
    summary="Library releases",
    description="Newest first. A bank's counts and checksum are of what it may see.",
    response_model=Page[ReleasePublic],
    responses=problem_responses(403, 422),
)
def list_releases(principal: Caller, session: SessionDep, page: PageDep) -> Page[ReleasePublic]:
    return releases.list_releases(session, principal, page)


def _release(
    request: Request, principal: Principal, session: Session, number: int | None
) -> Response | ReleasePublic:
    tag, body = releases.view(session, principal, number)
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return _json(body.model_dump(mode="json"), tag)


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    return header.strip() == "*" or tag in [t.strip().removeprefix("W/") for t in header.split(",")]


def _json(body: Any, tag: str) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(body, headers={"ETag": tag, "Cache-Control": "private, max-age=0"})


@router.get(
    "/releases/latest",
    operation_id="getLatestRelease",
    summary="The latest release",
    description="With `If-None-Match` and the ETag of the release you have: 304 when it is "
    "still the latest.",
    response_model=ReleasePublic,
    responses={304: {"description": "Not modified"}, **problem_responses(403, 404)},
)
def latest(request: Request, principal: Caller, session: SessionDep, _: IfNoneMatch = None) -> Any:
    return _release(request, principal, session, None)


@router.get(
    "/releases/{number:int}",
    operation_id="getRelease",
    summary="A release",
    description="Any earlier release, by number; ETag and If-None-Match as for the latest. "
    "A bank's view leaves out the enterprises that have withdrawn their consent to share "
    "with banks since publication (`withheld_since_consent_withdrawn`, `withheld_note`), and "
    "its ETag changes with them.",
    response_model=ReleasePublic,
    responses={304: {"description": "Not modified"}, **problem_responses(403, 404)},
)
def get_release(
    request: Request, principal: Caller, session: SessionDep, number: Number, _: IfNoneMatch = None
) -> Any:
    return _release(request, principal, session, number)


@router.get(
    "/releases/{number:int}/items",
    operation_id="listReleaseItems",
    summary="A release's enterprises and projects",
    description="By kind and id, paged. A bank gets only the enterprises that consented to "
    "share their details with banks, and their projects; of an enterprise that has withdrawn "
    "that consent since, only the kind and id, marked `withheld: consent_withdrawn`.",
    response_model=Page[ReleaseItemPublic],
    responses=problem_responses(403, 404, 422),
)
def release_items(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    number: Number,
    kind: Annotated[str | None, Query(max_length=16, description="enterprise | project")] = None,
) -> Page[ReleaseItemPublic]:
    return releases.items(session, principal, number, page, kind)


@router.get(
    "/releases/{number:int}/diff",
    operation_id="diffReleases",
    summary="What changed between two releases",
    description="Items added, removed and changed (with the changed fields) from release "
    "`since` to this one, by kind and id, paged. For a bank, an enterprise that stopped "
    "sharing counts as removed (marked `withheld: consent_withdrawn` while it withholds its "
    "consent), and nothing of it is added or changed.",
    response_model=Page[ChangePublic],
    responses=problem_responses(403, 404, 422),
)
def release_diff(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    number: Number,
    since: Annotated[int, Query(ge=1, le=2_147_483_647, description="The earlier release"), Digits],
) -> Page[ChangePublic]:
    return releases.diff(session, principal, number, since, page)


ExportKind = Annotated[Kind, Query(description="Which library: enterprise or project")]
EXPORT_DESCRIPTION = (
    "One library (`kind`: enterprise or project) of the release as a spreadsheet: `format=csv` "
    "(UTF-8 with a byte-order mark, for Excel) or `xlsx`, streamed. Columns in Chinese, one "
    "row per item: names of districts, clusters, ownership types and qualifications, not "
    "codes; money in 万元; qualifications, contacts and financing needs as text in one cell; "
    "text that a spreadsheet would take as a formula starts with a single quote. The office "
    "gets the release as published (every field, and whether the enterprise consented when it "
    "was published). A bank gets what `GET /releases/{number}/items` gives it: every "
    "enterprise's public facts and every listed project's, the private facts of those that "
    "consented and still do; its 非公开信息 column says 已授权, 未授权 or 授权已撤回 (consent "
    "withdrawn since: delete what you kept). An XLSX over a worksheet's 1,048,575 rows is a "
    "422 `too_many_rows_for_xlsx` (take the CSV)."
)


@router.get(
    "/releases/latest/export",
    operation_id="exportLatestRelease",
    summary="The latest release as a spreadsheet",
    description=EXPORT_DESCRIPTION,
    response_class=StreamingResponse,
    responses=export_responses(403, 404, 422),
)
def export_latest_release(
    principal: Caller,
    session: SessionDep,
    open_session: SessionOpener,
    kind: ExportKind,
    output: ExportFormat = "csv",
) -> StreamingResponse:
    return send(exports.release_export(session, principal, None, kind, output, open_session))


@router.get(
    "/releases/{number:int}/export",
    operation_id="exportRelease",
    summary="A release as a spreadsheet",
    description=EXPORT_DESCRIPTION,
    response_class=StreamingResponse,
    responses=export_responses(403, 404, 422),
)
def export_release(
    principal: Caller,
    session: SessionDep,
    open_session: SessionOpener,
    number: Number,
    kind: ExportKind,
    output: ExportFormat = "csv",
) -> StreamingResponse:
    return send(exports.release_export(session, principal, number, kind, output, open_session))

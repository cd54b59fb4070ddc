"""HTTP for the libraries as spreadsheets: the bulk imports of the enterprise and the project
library (upload and preview, read, its rows, commit) and their exports. The office's alone,
as the use cases (``import_service``, ``exports``) decide; a route passes the caller."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core import tables
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.exports import ExportFormat, SessionOpener, export_responses, send
from service.core.idempotency import file_digest
from service.core.pagination import Page, PageDep
from service.core.types import Digits
from service.enterprises import import_service, imports
from service.enterprises.exports import library_export
from service.enterprises.models import ImportKind, RowAction
from service.enterprises.schemas import CREDIT_CODE_EXAMPLE, ImportPublic, ImportRowPublic

router = APIRouter(tags=["enterprises"])
SessionDep = Annotated[Session, Depends(get_session)]

# --- imports --------------------------------------------------------------------------------

ImportId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Import id"), Digits]

IMPORT_EXAMPLE = {
    "id": 12,
    "kind": "enterprise",
    "filename": "企业库2026年12月.xlsx",
    "checksum": "9f2c4e0d5b1a…",
    "status": "preview",
    "rows": 3,
    "counts": {"create": 1, "update": 1, "unchanged": 0, "rejected": 1, "warnings": 0},
    "applied": None,
    "created_by": "key:1",
    "created_at": "2026-12-14T02:00:00Z",
    "committed_by": None,
    "committed_at": None,
}
ROWS_EXAMPLE = {
    "items": [
        {
            "id": 101,
            "row": 2,
            "credit_code": CREDIT_CODE_EXAMPLE,
            "label": "无锡华光电子股份有限公司",
            "action": "update",
            "subject_id": 7,
            "changes": [
                {"field": "employees", "old": 260, "new": 320},
                {
                    "field": "qualifications",
                    "old": None,
                    "new": {"type_code": "high_tech", "issued_date": "2024-12-01"},
                },
            ],
            "errors": [],
            "warnings": [],
        },
        {
            "id": 102,
            "row": 3,
            "credit_code": "91320200134757148K",
            "label": "无锡某某科技有限公司",
            "action": "rejected",
            "subject_id": None,
            "changes": [],
            "errors": [
                {
                    "field": "credit_code",
                    "code": "invalid_credit_code_checksum",
                    "message": "第 3 行：统一社会信用代码「91320200134757148K」："
                    "统一社会信用代码校验位不符，请核对是否抄错。",
                }
            ],
            "warnings": [],
        },
    ],
    "next_cursor": None,
    "limit": 50,
}
_COLUMNS_HELP = {
    ImportKind.enterprise: "Columns by Chinese or English header, any order (full-width "
    "brackets, spaces and units allowed): 统一社会信用代码 (required), 企业名称 (required for "
    "a new enterprise), 所属地区 (新吴区 / 新吴 / xinwu / 320214), 行业代码 (GB/T 4754), "
    "产业集群 (name or code), 控股情况 (name, code or statistics code) or 登记注册类型 "
    "(ownership derived as the API does), 从业人员（人）, 营业收入 and 资产总额 (元 / 万元 / "
    "亿元 in the header or in the cell: 3000万, 1.2亿元; an amount without a unit is "
    "refused), 成立日期, 信用等级, one contact (联系人 / 职务 / 联系电话 / 邮箱, matched by "
    "name), qualifications with issue dates (资质: 高新技术企业 2024-12-01；专精特新中小企业 "
    "2025-03-01, and/or a column per qualification type holding its issue date), and consent "
    "(是否同意向银行共享: 是 / 否) with its signed 入库申报 form (申报表编号, 申报表签署日期; "
    "required with it). A blank cell changes nothing; qualifications are only added.",
    ImportKind.project: "Columns by Chinese or English header, any order: 统一社会信用代码 of "
    "the unit (in the library) and 项目名称 (required; together they identify the project), "
    "项目类型 (技术改造, 智能化改造数字化转型, 研发, 扩产, 绿色化改造, 新建, 其他, or the "
    "code), 产业集群, 总投资 / 设备投资 / 融资需求 (元 / 万元 / 亿元 in the header or cell), "
    "年度, 状态 (计划, 已备案, 在建, 竣工, 暂停), 项目简介, 所属名单 (the key-project list "
    "it is on: its name, unit, year and investment become public facts). A new project needs "
    "its type, total investment and year. A blank cell changes nothing.",
}


def _import_routes(kind: ImportKind, base: str, noun: str, plural: str) -> None:
    """The four routes of one library's imports."""
    label = {ImportKind.enterprise: "enterprise", ImportKind.project: "project"}[kind]

    def import_file(
        principal: Caller,
        session: SessionDep,
        retry: Retryable,
        file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX")],
    ) -> Any:
        # One byte over the limit is enough for read_table to refuse the file (413).
        content = file.file.read(tables.LIMITS.file_bytes + 1)

        def call() -> tuple[int, Any, dict[str, str]]:
            record = import_service.preview_import(session, principal, kind, content, file.filename)
            headers = {"Location": f"/api/v1{base}/{record.id}"}
            return 201, import_service.import_public(record), headers

        return retry.answer({"file_sha256": file_digest(content), "filename": file.filename}, call)

    def read(principal: Caller, session: SessionDep, import_id: ImportId) -> ImportPublic:
        record = import_service.read_import(session, principal, kind, import_id)
        return import_service.import_public(record)

    def rows(
        principal: Caller,
        session: SessionDep,
        page: PageDep,
        import_id: ImportId,
        action: Annotated[
            RowAction | None, Query(description="Only rows of this action", examples=["rejected"])
        ] = None,
        warnings: Annotated[bool, Query(description="Only rows with warnings")] = False,
    ) -> Page[ImportRowPublic]:
        return import_service.list_rows(
            session, principal, kind, import_id, page, action, warned=warnings
        )

    def commit(
        principal: Caller, session: SessionDep, retry: Retryable, import_id: ImportId
    ) -> Any:
        def call() -> tuple[int, Any, dict[str, str]]:
            record = import_service.commit_import(session, principal, kind, import_id)
            return 200, import_service.import_public(record), {}

        return retry.answer({}, call)

    example = {**IMPORT_EXAMPLE, "kind": label}
    committed = {
        **example,
        "status": "committed",
        "applied": {"create": 1, "update": 1, "unchanged": 0, "rejected": 1, "warnings": 0},
        "committed_by": "key:1",
        "committed_at": "2026-12-14T02:05:00Z",
    }
    router.add_api_route(
        base,
        import_file,
        methods=["POST"],
        operation_id=f"import{plural}",
        summary=f"Import the {noun} library from a spreadsheet (preview)",
        description=f"Multipart upload (`file`, CSV in UTF-8 with or without BOM or GB18030, "
        f"or XLSX; the header in the first row; at most {imports.MAX_ROWS:,} data rows, within "
        f"the reader's size limits). {_COLUMNS_HELP[kind]} Every row is checked and compared "
        "with the library: what would be created, updated (each field old → new) and "
        "unchanged, and every reason for every rejected row (field, code, and a Chinese "
        "message naming the row as the spreadsheet numbers it), with warnings. Nothing is "
        f"applied until `POST {base}/{{id}}/commit`. Office only.",
        response_model=ImportPublic,
        status_code=status.HTTP_201_CREATED,
        responses={
            201: {"content": {"application/json": {"example": example}}},
            **problem_responses(403, 413, 422),
        },
    )
    router.add_api_route(
        f"{base}/{{import_id:int}}",
        read,
        methods=["GET"],
        operation_id=f"get{noun.title()}Import",
        summary=f"Read a {noun} import",
        description="Its counts by action (preview), and once committed what was applied.",
        response_model=ImportPublic,
        responses={
            200: {"content": {"application/json": {"example": committed}}},
            **problem_responses(403, 404),
        },
    )
    router.add_api_route(
        f"{base}/{{import_id:int}}/rows",
        rows,
        methods=["GET"],
        operation_id=f"list{noun.title()}ImportRows",
        summary=f"The rows of a {noun} import",
        description="In file order, paged; `action` keeps one kind (create, update, "
        "unchanged, rejected), `warnings=true` the rows with warnings. Each row with its "
        "number in the spreadsheet, its changes (old → new), every reason it was rejected "
        "and its warnings; once committed, as applied.",
        response_model=Page[ImportRowPublic],
        responses={
            200: {"content": {"application/json": {"example": ROWS_EXAMPLE}}},
            **problem_responses(403, 404, 422),
        },
    )
    router.add_api_route(
        f"{base}/{{import_id:int}}/commit",
        commit,
        methods=["POST"],
        operation_id=f"commit{noun.title()}Import",
        summary=f"Commit a {noun} import",
        description="Applies every row that was not rejected, in one transaction, against "
        "the library as it is now (a row whose subject changed since the preview is compared "
        "again); each change audited as yours, versions bumped only where something changed. "
        "Committing again, or concurrently, changes nothing and answers the committed import. "
        "A 409 `import_conflict` when the library changed under the commit: nothing was "
        "applied; commit again.",
        response_model=ImportPublic,
        responses={
            200: {"content": {"application/json": {"example": committed}}},
            **problem_responses(403, 404, 409),
        },
    )


_import_routes(ImportKind.enterprise, "/enterprises/imports", "enterprise", "Enterprises")
_import_routes(ImportKind.project, "/projects/imports", "project", "Projects")


# --- exports --------------------------------------------------------------------------------

LIBRARY_EXPORT_DESCRIPTION = (
    "The live {library} as a spreadsheet, for the office: `format=csv` (UTF-8 with a "
    "byte-order mark, for Excel) or `xlsx`, streamed, one row per {noun}. The columns and "
    "headers are the ones `POST {imports}` reads (names of districts, clusters, ownership "
    "types and qualifications, not codes; money in 万元 to the fen{extra}), so that a file "
    "exported and imported again changes nothing; columns the import does not read tell "
    "people the rest. Text that a spreadsheet would take as a formula starts with a single "
    "quote. An XLSX over a worksheet's 1,048,575 rows is a 422 `too_many_rows_for_xlsx` "
    "(take the CSV)."
)


@router.get(
    "/enterprises/export",
    operation_id="exportEnterprises",
    summary="The enterprise library as a spreadsheet (office)",
    description=LIBRARY_EXPORT_DESCRIPTION.format(
        library="enterprise library (企业库)",
        noun="enterprise",
        imports="/enterprises/imports",
        extra="; the primary contact in 联系人 / 职务 / 联系电话 / 邮箱, the others in 其他联系人; "
        "qualifications as 高新技术企业 2024-12-01；…; a consent recorded from a signed "
        "入库申报 form with the form's number and date, one the enterprise made itself told in "
        "共享授权说明",
    ),
    response_class=StreamingResponse,
    responses=export_responses(403, 422),
)
def export_enterprises(
    principal: Caller,
    session: SessionDep,
    open_session: SessionOpener,
    output: ExportFormat = "csv",
) -> StreamingResponse:
    return send(library_export(session, principal, "enterprise", output, open_session))


@router.get(
    "/projects/export",
    operation_id="exportProjects",
    summary="The project library as a spreadsheet (office)",
    description=LIBRARY_EXPORT_DESCRIPTION.format(
        library="project library (项目库)",
        noun="project",
        imports="/projects/imports",
        extra="; the unit by its credit code and name, kind and status in Chinese",
    ),
    response_class=StreamingResponse,
    responses=export_responses(403, 422),
)
def export_projects(
    principal: Caller,
    session: SessionDep,
    open_session: SessionOpener,
    output: ExportFormat = "csv",
) -> StreamingResponse:
    return send(library_export(session, principal, "project", output, open_session))

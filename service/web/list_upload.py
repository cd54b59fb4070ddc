"""The office imports a government list through its page: a multipart form (CSRF-checked as
every form, the file taken as the API takes it), read into the import's values with a message
beside each field, run through the same preview use case, and the preview told in words."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, File, Request, UploadFile
from sqlmodel import Session
from starlette.datastructures import UploadFile as ReceivedFile

from service.access.policy import Principal
from service.core import tables
from service.core.errors import AppError
from service.core.pagination import PageParams
from service.core.settings import get_settings
from service.lists import service as lists
from service.lists.models import ListImport, Match
from service.lists.schemas import EntryPublic
from service.web.forms import FormReader
from service.web.security import CsrfRejected, Visitor, check_token, same_origin, visitor

SUFFIXES = (".csv", ".xlsx")
FILE_FIELD = "file"
FIELDS = ("qualification_type", "title", "source", "batch", "issued_date", "expires_date")
MAX_FILENAME = 200  # as the import keeps it
SHOWN_REJECTED = 200  # rejected rows listed on the preview; the count says how many in all

# How each kind of link reads in the preview, in the order the preview tells them.
MATCH_WORDS: dict[str, tuple[str, str]] = {
    Match.code: ("按信用代码匹配", "统一社会信用代码已在企业库中，提交后即获得该资质"),
    Match.auto: ("按名称自动匹配", "名称与企业库中一家企业高度一致，提交后即获得该资质"),
    Match.review: ("待人工审核", "名称与企业库中的企业相近，需在审核队列中确认后才生效"),
    Match.new: ("拟新增", "企业库中没有相近的企业，提交后不会获得资质"),
    Match.invalid: ("无效（未导入）", "这一行本身无法使用，原因见下表"),
}


@dataclass(frozen=True)
class Upload:
    """The posted form: its text fields (CSRF token removed) and the file, if one was chosen."""

    fields: dict[str, Any]
    file: ReceivedFile | None

    def content(self) -> bytes:
        assert self.file is not None
        # One byte over the limit is enough for read_table to refuse the file (413).
        return self.file.file.read(tables.LIMITS.file_bytes + 1)


async def posted_upload(
    request: Request,
    who: Annotated[Visitor, Depends(visitor)],
    file: Annotated[UploadFile | None, File()] = None,
) -> Upload:
    """A signed-in page's form with a file, its CSRF token checked. Declaring the file is
    also what gives the route the edge's upload limit rather than the 1 MB form limit."""
    if not same_origin(request):
        raise CsrfRejected
    form = await request.form()  # already read for the file: the same form
    fields: dict[str, Any] = {}
    for name in form:
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        if values:
            fields[name] = values[0] if len(values) == 1 else values
    check_token(fields.pop("csrf_token", None), who.csrf_token)
    chosen = file if isinstance(file, ReceivedFile) and file.filename else None
    return Upload(fields, chosen)


ListUpload = Annotated[Upload, Depends(posted_upload)]


@dataclass
class Outcome:
    """A preview made (``record``), or the form again with a message beside each field."""

    record: ListImport | None = None
    duplicate: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 422


def preview(
    session: Session, principal: Principal, upload: Upload, type_codes: list[str]
) -> Outcome:
    """Read the form; when it reads well, the preview use case on the file. A file the use
    case refuses (unreadable, missing columns, over a limit) is told beside the file field."""
    form = FormReader(upload.fields)
    values: dict[str, Any] = {
        "qualification_type": form.choice("qualification_type", type_codes, required=True),
        "title": form.text("title", 200, required=True),
        "source": form.text("source", 200),
        "batch": form.text("batch", 100),
        "issued_date": form.day("issued_date"),
        "expires_date": form.day("expires_date"),
    }
    issued, expires = values["issued_date"], values["expires_date"]
    if issued and expires and expires < issued:
        form.fail("expires_date", "有效期不能早于认定日期。")
    if upload.file is None:
        form.fail(FILE_FIELD, "请选择名单文件（CSV 或 XLSX）。")
    elif not (upload.file.filename or "").lower().endswith(SUFFIXES):
        form.fail(
            FILE_FIELD,
            f"只能导入 CSV 或 XLSX 文件，「{upload.file.filename}」不是；"
            "旧版 .xls 请在 Excel 中另存为 .xlsx。",
        )
    if form.errors:
        return Outcome(errors=form.errors)
    assert upload.file is not None
    try:
        record, duplicate = lists.preview_import(
            session, principal, upload.content(), _kept_name(upload.file.filename or ""), **values
        )
    except AppError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        form.absorb(exc, default=FILE_FIELD)
        return Outcome(errors=form.errors, status=exc.status)
    return Outcome(record=record, duplicate=duplicate)


def _kept_name(name: str) -> str:
    """The file's name within what the import keeps, its suffix kept (a long name is no
    reason to refuse a list)."""
    if len(name) <= MAX_FILENAME:
        return name
    suffix = len(next(s for s in SUFFIXES if name.lower().endswith(s)))
    return name[: MAX_FILENAME - suffix] + name[-suffix:]


def file_limit() -> str:
    """The largest file the form takes, in words: the edge's limit on the request, or the
    spreadsheet reader's on the file, whichever is smaller."""
    size = min(get_settings().max_upload_bytes, tables.LIMITS.file_bytes)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB" if size >= 1024 else f"{size} 字节"


def echo(fields: dict[str, Any]) -> dict[str, str]:
    """What was typed, to show again beside the messages (a file input cannot be refilled)."""
    return {name: str(fields.get(name) or "") for name in FIELDS}


@dataclass(frozen=True)
class CountLine:
    kind: str
    label: str
    count: int
    meaning: str


def count_lines(record: ListImport) -> list[CountLine]:
    return [
        CountLine(kind, label, int(record.counts.get(kind, 0)), meaning)
        for kind, (label, meaning) in MATCH_WORDS.items()
    ]


def rejected_rows(session: Session, principal: Principal, import_id: int) -> list[EntryPublic]:
    """The import's invalid rows in list order, with every reason; the first few hundred."""
    found = lists.list_entries(
        session,
        principal,
        PageParams(limit=SHOWN_REJECTED, cursor=None),
        import_id=import_id,
        match=Match.invalid,
    )
    return sorted(found.items, key=lambda e: e.row)

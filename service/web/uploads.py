"""Uploads through the pages: a multipart form with a file, CSRF-checked as every form (the file
taken as the API takes it, the edge giving the route its upload limit), and what the pages
say about the size a file may have. Shared by every page that imports a spreadsheet."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, File, Request, UploadFile
from starlette.datastructures import UploadFile as ReceivedFile

from service.core import tables
from service.core.settings import get_settings
from service.web.security import CsrfRejected, Visitor, check_token, same_origin, visitor

SUFFIXES = (".csv", ".xlsx")
FILE_FIELD = "file"


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


Posted = Annotated[Upload, Depends(posted_upload)]


def wrong_file(upload: Upload, what: str) -> str | None:
    """Why the posted file cannot be imported (none chosen, not CSV or XLSX), or None."""
    if upload.file is None:
        return f"请选择{what}文件（CSV 或 XLSX）。"
    if not (upload.file.filename or "").lower().endswith(SUFFIXES):
        return (
            f"只能导入 CSV 或 XLSX 文件，「{upload.file.filename}」不是；"
            "旧版 .xls 请在 Excel 中另存为 .xlsx。"
        )
    return None


def file_limit() -> str:
    """The largest file the form takes, in words: the edge's limit on the request, or the
    spreadsheet reader's on the file, whichever is smaller."""
    size = min(get_settings().max_upload_bytes, tables.LIMITS.file_bytes)
    mb = size / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{size // 1024} KB"

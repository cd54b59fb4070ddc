"""Spreadsheet downloads over HTTP: a CSV for Excel or an XLSX, streamed as it is written,
with a file name people can read (RFC 6266 / RFC 5987) and its OpenAPI description. What
the rows hold is the domains' business; writing them is ``core.tables``'."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service.core.errors import Unprocessable, problem_responses
from service.core.tables import EXPORT_MEDIA_TYPES, XLSX_MAX_ROWS, csv_stream, xlsx_stream

Format = Literal["csv", "xlsx"]
# How an export opens the sessions it reads its rows with, a batch each, while it is sent
# (after the request's own session is gone): the app's ``open_session``.
OpenSession = Callable[[], AbstractContextManager[Session]]


def session_opener(request: Request) -> OpenSession:
    return request.app.state.open_session  # type: ignore[no-any-return]


SessionOpener = Annotated[OpenSession, Depends(session_opener)]
ExportFormat = Annotated[
    Format,
    Query(
        alias="format",
        description="csv (UTF-8 with a byte-order mark, so that Excel reads the Chinese) or xlsx",
    ),
]
_XLSX = EXPORT_MEDIA_TYPES["xlsx"]


def export_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a download: the spreadsheet, and the given error statuses."""
    return {
        200: {
            "description": "The spreadsheet, as an attachment (streamed)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                _XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
            "headers": {
                "Content-Disposition": {
                    "description": "attachment; the file name in ASCII (filename) and in "
                    "UTF-8 (filename*, RFC 5987), e.g. 企业库_第3版_2026-12-01.csv",
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(*statuses),
    }


@dataclass(frozen=True)
class Spreadsheet:
    """One sheet to send: its names, its header and its lines (cells), read as they are sent."""

    fmt: Format
    filename: str  # for people, in Chinese
    ascii_filename: str  # for clients that do not read RFC 5987
    title: str  # the worksheet's
    header: Sequence[str]
    lines: Callable[[], Iterator[Sequence[Any]]]
    number_formats: Sequence[str | None] = ()
    widths: Sequence[int | None] = ()

    @property
    def media_type(self) -> str:
        return EXPORT_MEDIA_TYPES[self.fmt]

    @property
    def content_disposition(self) -> str:
        """The file name twice (RFC 6266): in ASCII for old clients, in UTF-8 (RFC 5987) for
        the others, which take that one."""
        plain = self.ascii_filename.replace("\\", "_").replace('"', "_")
        return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(self.filename, safe='')}"

    def stream(self) -> Iterator[bytes]:
        if self.fmt == "csv":
            return csv_stream(self.header, self.lines())
        return xlsx_stream(self.title, self.header, self.lines(), self.number_formats, self.widths)


def check_fits(fmt: Format, rows: int) -> None:
    """An XLSX worksheet holds about a million rows; a longer export is a CSV."""
    if fmt == "xlsx" and rows + 1 > XLSX_MAX_ROWS:
        raise Unprocessable(
            f"共 {rows:,} 行，超过 Excel 工作表 {XLSX_MAX_ROWS - 1:,} 行的上限：请导出 CSV。",
            code="too_many_rows_for_xlsx",
            field="format",
            rows=rows,
            limit=XLSX_MAX_ROWS - 1,
        )


def send(sheet: Spreadsheet) -> StreamingResponse:
    """The answer: the sheet streamed as an attachment, never kept by a cache (it holds what
    only the caller may see)."""
    return StreamingResponse(
        sheet.stream(),
        media_type=sheet.media_type,
        headers={"Content-Disposition": sheet.content_disposition, "Cache-Control": "no-store"},
    )

"""Spreadsheets. Reading uploads: CSV (UTF-8 with or without BOM, or GB18030, the delimiter
sniffed) and XLSX (the first sheet), as rows of cell values, header first; and matching
messy headers to known columns. Writing exports: CSV for Excel and XLSX. No database, no
domain."""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

MAX_BYTES = 20 * 1024 * 1024


class FileError(ValueError):
    """The file as a whole cannot be read (not one row's fault)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def normalize_header(raw: Any) -> str:
    """NFKC, lower case, without spaces, underscores, hyphens, brackets or a "单位：" label:
    "本金（单位：万元）" -> "本金万元", " Rate (%) " -> "rate%", "principal_yuan" ->
    "principalyuan"."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().lower()
    text = re.sub(r"(单位|unit)\s*[:：]", "", text)  # "（单位：万元）", not "单位名称"
    return re.sub(r"[\s_\-()\[\]【】<>:：*]+", "", text)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_table(content: bytes, filename: str | None = None) -> Iterator[list[Any]]:
    """Rows of the first sheet (XLSX) or of the CSV, header first."""
    if len(content) > MAX_BYTES:
        raise FileError("file_too_large", f"文件超过 {MAX_BYTES // 1024 // 1024} MB")
    if not content.strip():
        raise FileError("empty_file", "文件是空的")
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(content)
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("unsupported_format", "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV")
    return _csv_rows(content)


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # only when a workbook comes in

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same to the user
        raise FileError("unreadable_xlsx", "无法读取 XLSX 文件，请确认文件未损坏") from exc
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield list(row)
    book.close()


def _csv_rows(content: bytes) -> Iterator[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly everything
        raise FileError("unknown_encoding", "无法识别文件编码，请存为 UTF-8 或 GB18030")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:  # a NUL byte, an unterminated quote at the end …
        raise FileError("unreadable_csv", f"无法读取 CSV 文件：{exc}") from exc


_DATES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def cell_date(value: Any) -> date:
    """A date cell: a spreadsheet date, 2026-03-31, 2026/3/31, 2026.3.31, 2026年3月31日 or
    20260331 (text or number). Raises ValueError for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(int(value))
    else:
        text = re.sub(r"[ T]00:00(:00)?$", "", unicodedata.normalize("NFKC", str(value)).strip())
    for pattern in _DATES:
        match = pattern.match(text)
        if match:
            return date(*(int(g) for g in match.groups()))  # ValueError for 2026-02-30
    raise ValueError(f"not a date: {value!r}")


# --- writing --------------------------------------------------------------------------------


def csv_bytes(header: Sequence[str], lines: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese; None as an empty
    cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow(["" if value is None else value for value in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(
    sheet_title: str,
    header: Sequence[str],
    lines: Iterable[Sequence[Any]],
    number_formats: Sequence[str | None] = (),
) -> bytes:
    """One sheet: a bold, frozen header row, then the lines; numbers stay numbers, with the
    column's number format (e.g. ``0.0%``) where one is given."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    # Excel forbids some characters in sheet titles and caps them at 31.
    sheet.title = re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "Sheet1"
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for line in lines:
        sheet.append(list(line))
    for index, fmt in enumerate(number_formats, start=1):
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = fmt
    for index, title in enumerate(header, start=1):
        width = max(8, min(40, 2 * len(str(title)) + 2))
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

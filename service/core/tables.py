"""Spreadsheets. Reading uploads: CSV (UTF-8 with or without BOM, or GB18030, the delimiter
sniffed) and XLSX (the first worksheet), as rows of cell values, header first, within hard
limits; and matching messy headers to known columns. Writing exports: CSV for Excel and
XLSX. No database, no domain."""

import codecs
import csv
import io
import posixpath
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.parsers import expat

# --- limits ---------------------------------------------------------------------------------
# An upload is read whole before anything is written, so each of these bounds the memory and
# the time one request can take, whatever the file claims about itself.

MAX_BYTES = 32 * 1024 * 1024  # the upload itself: a 100,000-row library file with every column
MAX_INFLATED_BYTES = 100 * 1024 * 1024  # an XLSX's parts once decompressed
MAX_ROWS = 100_000  # the last row that holds a value, header and title lines included
MAX_COLUMNS = 200  # the last column that holds a value
MAX_CELLS = 2_000_000  # cells read, blank ones included
MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Limits:
    file_bytes: int = MAX_BYTES
    inflated_bytes: int = MAX_INFLATED_BYTES
    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cells: int = MAX_CELLS
    seconds: float = MAX_SECONDS


LIMITS = Limits()


class FileError(ValueError):
    """The file as a whole cannot be read (not one row's fault). ``status`` is 413 for a file
    with too many bytes, 422 otherwise."""

    def __init__(self, code: str, message: str, status: int = 422, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
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


def read_table(
    content: bytes, filename: str | None = None, limits: Limits | None = None
) -> Iterator[list[Any]]:
    """Rows of the first worksheet (XLSX) or of the CSV, header first, numbered as in the file
    (a blank row is an empty list), trailing blank cells trimmed. Raises FileError, while the
    rows are read, for a file over one of the limits or that cannot be read at all."""
    limits = limits or LIMITS
    if len(content) > limits.file_bytes:
        raise FileError(
            "file_too_large",
            f"文件超过 {_size(limits.file_bytes)} 的大小上限，请拆分后分批导入",
            status=413,
            limit=limits.file_bytes,
        )
    if not content or content.isspace():  # (strip() would copy the file)
        raise FileError("empty_file", "文件是空的")
    budget = _Budget(limits)
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE: .xls, or an encrypted .xlsx
        raise FileError(
            "unsupported_format", "不支持旧版 .xls 或加密的工作簿，请另存为 .xlsx 或 CSV"
        )
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm")):
        return _bounded(_xlsx_rows(content, budget), budget)
    return _bounded(_csv_rows(content, budget), budget)


def _size(n: int) -> str:
    return f"{n // 1024 // 1024} MB" if n >= 1024 * 1024 else f"{n} 字节"


class _Budget:
    """What one read has spent: seconds, cells and inflated bytes, each against its limit."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline: float | None = None
        self.cells = 0
        self.inflated = 0

    def check_time(self) -> None:
        now = time.monotonic()
        if self.deadline is None:  # the clock starts with the first row asked for
            self.deadline = now + self.limits.seconds
        elif now > self.deadline:
            seconds = f"{self.limits.seconds:g}"
            raise FileError(
                "read_timeout",
                f"读取表格超过 {seconds} 秒的时间上限，请拆分后分批导入",
                limit=self.limits.seconds,
            )

    def add_cells(self, count: int) -> None:
        self.cells += count
        if self.cells > self.limits.cells:
            raise self.too_many_cells()

    def too_many_cells(self) -> FileError:
        return FileError(
            "too_many_cells",
            f"表格超过 {self.limits.cells} 个单元格的上限，请拆分后分批导入",
            limit=self.limits.cells,
        )

    def add_inflated(self, count: int) -> None:
        self.inflated += count
        if self.inflated > self.limits.inflated_bytes:
            raise _inflated_too_large(self.limits)


def _inflated_too_large(limits: Limits) -> FileError:
    return FileError(
        "inflated_too_large",
        f"XLSX 解压后超过 {_size(limits.inflated_bytes)} 的上限，文件可能已损坏或是压缩炸弹",
        limit=limits.inflated_bytes,
    )


def _bounded(numbered: Iterator[tuple[int, list[Any]]], budget: _Budget) -> Iterator[list[Any]]:
    """Rows by their number in the file, within the limits. Blank rows cost no more than
    reading them: they are given back (as empty lists, so row numbers hold) only between rows
    that hold a value, so the row limit applies to the last row with a value."""
    limits = budget.limits
    given = 0
    budget.check_time()
    for number, values in numbered:
        budget.check_time()
        end = len(values)
        while end and blank(values[end - 1]):
            end -= 1
        if not end:
            continue
        number = max(number, given + 1)  # a sheet's rows out of order keep their order
        if number > limits.rows:
            raise FileError(
                "too_many_rows",
                f"第 {number} 行有内容，超过 {limits.rows} 行的上限，请拆分后分批导入",
                limit=limits.rows,
                row=number,
            )
        if end > limits.columns:
            raise _too_many_columns(limits, number, end)
        while given < number - 1:
            given += 1
            yield []
        given = number
        yield values[:end]


def _too_many_columns(limits: Limits, row: int, column: int) -> FileError:
    return FileError(
        "too_many_columns",
        f"第 {row} 行第 {column} 列有内容，超过 {limits.columns} 列的上限",
        limit=limits.columns,
        row=row,
        column=column,
    )


# --- CSV ------------------------------------------------------------------------------------


def _encoding(content: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) if the file is that, else GB18030: checked a
    piece at a time, so that no decoded copy of the whole file is kept."""
    view = memoryview(content)
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), _CSV_CHUNK):
                decoder.decode(view[start : start + _CSV_CHUNK])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileError(  # pragma: no cover - gb18030 decodes nearly everything
        "unknown_encoding", "无法识别文件编码，请存为 UTF-8 或 GB18030"
    )


_CSV_CHUNK = 64 * 1024


def _csv_rows(content: bytes, budget: _Budget) -> Iterator[tuple[int, list[Any]]]:
    """The records, decoded as they are read (memory holds a line, not a copy of the file)."""
    encoding = _encoding(content)
    # A NUL byte is a NUL character in UTF-8 and GB18030 alike (no multi-byte character
    # holds one).
    nul = content.find(b"\x00")
    if nul >= 0:  # no name, code or amount holds one; PostgreSQL could not store it
        line = content.count(b"\n", 0, nul) + 1
        raise FileError(
            "nul_character",
            f"文件第 {line} 行含有空字符（U+0000），这不是合法的文字；请删去后重新上传",
            line=line,
        )
    # The first 4096 characters (a character cut at the end of the bytes read is dropped).
    sample = content[: 4 * 4096].decode(encoding, errors="ignore")[:4096]
    try:
        sniffed: Any = csv.Sniffer().sniff(sample, delimiters=",\t;，")

        # The sniffer takes quotes inside a quoted cell as not doubled when its sample has
        # none; every spreadsheet (and RFC 4180) doubles them, and a later cell that holds
        # one ('专精特新""小巨人""企业') would be misread.
        class dialect(sniffed):  # type: ignore[valid-type,misc]
            doublequote = True

    except csv.Error:
        dialect = csv.excel
    try:
        stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        for number, record in enumerate(csv.reader(stream, dialect), start=1):
            budget.add_cells(len(record))
            yield number, record
    except csv.Error as exc:  # a NUL byte, an unterminated quote at the end …
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit()
            raise FileError(
                "cell_too_long",
                f"有单元格超过 {limit} 个字符的上限（常因引号未闭合），无法读取",
                limit=limit,
            ) from exc
        raise FileError("unreadable_csv", f"无法读取 CSV 文件：{exc}") from exc


# --- XLSX -----------------------------------------------------------------------------------
# Read with expat, streaming, rather than with openpyxl: openpyxl's read-only mode trusts the
# sheet's declared <dimension> (an understated one hides rows, an overstated one pads every
# row to 16,384 columns and a million rows), loads shared strings without a bound and parses
# DTDs. Here the cells themselves give the extent, every part is read through one inflated
# byte budget, and a DTD (which no workbook needs) is refused, so entity expansion cannot
# happen.

_CHUNK = 64 * 1024
# Built-in number formats that are dates or times: 14–22 and 45–47 everywhere, 27–36 and
# 50–58 in Chinese, Japanese and Korean Excel (yyyy"年"m"月"d"日" …), which openpyxl misses.
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_TIMEDELTA_FORMAT_IDS = {46}
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d*)$")


def _unreadable(detail: str = "无法读取 XLSX 文件，请确认文件未损坏") -> FileError:
    return FileError("unreadable_xlsx", detail)


def _xlsx_rows(content: bytes, budget: _Budget) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from _Workbook(content, budget).rows()
    except FileError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever breaks inside a workbook, same to the user
        raise _unreadable() from exc


def _declared_size(archive: zipfile.ZipFile) -> int:
    return sum(info.file_size for info in archive.infolist())


def _local(name: str) -> str:
    return name.rpartition("}")[2]


class _Workbook:
    def __init__(self, content: bytes, budget: _Budget) -> None:
        self.budget = budget
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(content))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise _unreadable(
                "无法读取 XLSX 文件：不是完整的 zip 压缩包（文件可能被截断）"
            ) from exc
        # Declared sizes first (cheap, and refuses an honest bomb before inflating anything);
        # the bytes really inflated are counted as well, since a declared size can lie.
        if _declared_size(self.archive) > budget.limits.inflated_bytes:
            raise _inflated_too_large(budget.limits)
        self.parts = {info.filename.lower(): info for info in self.archive.infolist()}

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        book = self._resolve("/", self._relationships("", "officeDocument") or "xl/workbook.xml")
        if book not in self.parts:
            raise FileError("no_workbook", "压缩包里没有工作簿，请上传 Excel 另存的 .xlsx 文件")
        folder = posixpath.dirname(book)
        related = self._relations(book)
        sheets, date1904 = self._sheets(book)
        targets = [related.get(rid) for rid in sheets]
        worksheets = [t for t in targets if t and t[0].endswith("/worksheet")]
        if not worksheets:
            raise FileError("no_workbook", "工作簿里没有工作表")
        by_type = {kind.rpartition("/")[2]: target for kind, target in related.values()}
        strings = (
            self._shared_strings(self._resolve(folder, by_type["sharedStrings"]))
            if "sharedStrings" in by_type
            else []
        )
        dates, timedeltas = (
            self._date_styles(self._resolve(folder, by_type["styles"]))
            if "styles" in by_type
            else (set(), set())
        )
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

        sheet = _SheetReader(
            strings, dates, timedeltas, CALENDAR_MAC_1904 if date1904 else WINDOWS_EPOCH, self
        )
        yield from sheet.read(self._resolve(folder, worksheets[0][1]))

    # -- parts --

    def _resolve(self, folder: str, target: str) -> str:
        path = target if target.startswith("/") else posixpath.join(folder, target)
        return posixpath.normpath(path).lstrip("/").lower()

    def chunks(self, name: str) -> Iterator[bytes]:
        info = self.parts.get(name)
        if info is None:
            raise FileError("no_workbook", f"工作簿缺少部件 {name}，请用 Excel 另存后再上传")
        with self.archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                self.budget.add_inflated(len(chunk))
                self.budget.check_time()
                yield chunk

    def parse(
        self,
        name: str,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None] | None = None,
        text: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """Feed the part to expat a chunk at a time, yielding after each chunk."""
        parser = expat.ParserCreate(namespace_separator="}")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_dtd
        parser.buffer_text = True
        parser.StartElementHandler = lambda tag, attrs: start(_local(tag), attrs)
        if end is not None:
            parser.EndElementHandler = lambda tag: end(_local(tag))
        if text is not None:
            parser.CharacterDataHandler = text
        for chunk in self.chunks(name):
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)

    def _relations(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id -> (type, target resolved against the part's folder)."""
        folder, base = posixpath.split(part)
        name = posixpath.join(folder, "_rels", base + ".rels").lower()
        found: dict[str, tuple[str, str]] = {}
        if name not in self.parts:
            return found

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "Relationship" and attrs.get("TargetMode") != "External":
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""))

        for _ in self.parse(name, start):
            pass
        return found

    def _relationships(self, part: str, kind: str) -> str | None:
        for rel_type, target in self._relations(part).values():
            if rel_type.endswith("/" + kind):
                return target
        return None

    def _sheets(self, book: str) -> tuple[list[str], bool]:
        ids: list[str] = []
        date1904 = [False]

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "sheet":
                ids.extend(v for k, v in attrs.items() if _local(k) == "id")
            elif tag == "workbookPr":
                date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

        for _ in self.parse(book, start):
            pass
        return ids, date1904[0]

    def _shared_strings(self, name: str) -> list[str]:
        strings: list[str] = []
        parts: list[str] = []
        state = {"t": False, "skip": 0}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "si":
                parts.clear()
            elif tag == "rPh":  # a phonetic guide, not part of the text
                state["skip"] += 1
            elif tag == "t":
                state["t"] = True

        def end(tag: str) -> None:
            if tag == "si":
                # More distinct texts than cells allowed: no sheet within the limits needs them.
                if len(strings) >= self.budget.limits.cells:
                    raise self.budget.too_many_cells()
                strings.append("".join(parts))
            elif tag == "rPh":
                state["skip"] -= 1
            elif tag == "t":
                state["t"] = False

        def text(data: str) -> None:
            if state["t"] and not state["skip"]:
                parts.append(data)

        for _ in self.parse(name, start, end, text):
            pass
        return strings

    def _date_styles(self, name: str) -> tuple[set[int], set[int]]:
        """Indices of the cell formats that show a date (and those that show a duration)."""
        from openpyxl.styles.numbers import is_date_format, is_timedelta_format

        codes: dict[int, str] = {}
        formats: list[int] = []
        inside = {"cellXfs": False}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "numFmt":
                codes[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
            elif tag == "cellXfs":
                inside["cellXfs"] = True
            elif tag == "xf" and inside["cellXfs"]:
                formats.append(int(attrs.get("numFmtId", "0")))

        def end(tag: str) -> None:
            if tag == "cellXfs":
                inside["cellXfs"] = False

        for _ in self.parse(name, start, end):
            pass
        dates: set[int] = set()
        timedeltas: set[int] = set()
        for index, fmt in enumerate(formats):
            code = codes.get(fmt)
            if fmt in _DATE_FORMAT_IDS or (code is not None and is_date_format(code)):
                dates.add(index)
            if fmt in _TIMEDELTA_FORMAT_IDS or (code is not None and is_timedelta_format(code)):
                timedeltas.add(index)
        return dates, timedeltas


def _refuse_dtd(*_: Any) -> None:
    raise FileError(
        "unsafe_xml", "XLSX 文件含有 DTD 或实体声明（正常的工作簿不会有），出于安全考虑拒绝读取"
    )


class _SheetReader:
    """The cells of one worksheet, row by row, from the <c> elements themselves (never the
    declared dimension); a cell with a value beyond the row or column limit stops the read at
    once, blank and styled-only cells cost nothing but their parse."""

    def __init__(
        self,
        strings: list[str],
        dates: set[int],
        timedeltas: set[int],
        epoch: datetime,
        book: _Workbook,
    ) -> None:
        self.strings = strings
        self.dates = dates
        self.timedeltas = timedeltas
        self.epoch = epoch
        self.book = book
        self.limits = book.budget.limits
        self.done: list[tuple[int, list[Any]]] = []
        self.row = 0
        self.column = 0
        self.cells: dict[int, Any] = {}
        self.cell_type = "n"
        self.cell_style = 0
        self.parts: list[str] = []
        self.collect = False
        self.inline = False
        self.phonetic = 0
        self.finished = False

    def read(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        for _ in self.book.parse(name, self.start, self.end, self.text):
            yield from self.done
            self.done.clear()
            if self.finished:  # what follows <sheetData> (merged cells, print setup …)
                return
        yield from self.done

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.finished:
            return
        if tag == "row":
            self.row = int(attrs["r"]) if "r" in attrs else self.row + 1
            self.column = 0
            self.cells = {}
        elif tag == "c":
            self.book.budget.add_cells(1)
            self.column = _column(attrs["r"]) if "r" in attrs else self.column + 1
            self.cell_type = attrs.get("t", "n")
            self.cell_style = int(attrs.get("s", "0"))
            self.parts = []
        elif tag == "v":
            self.collect = True
        elif tag == "is":
            self.inline = True
        elif tag == "t" and self.inline:
            self.collect = True
        elif tag == "rPh":
            self.phonetic += 1

    def end(self, tag: str) -> None:
        if self.finished:
            return
        if tag in ("v", "t"):
            self.collect = False
        elif tag == "is":
            self.inline = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c":
            value = self._value("".join(self.parts) if self.parts else None)
            if not blank(value):
                if self.row > self.limits.rows:
                    raise FileError(
                        "too_many_rows",
                        f"单元格 {_cell_name(self.row, self.column)} 有内容，"
                        f"超过 {self.limits.rows} 行的上限，请拆分后分批导入",
                        limit=self.limits.rows,
                        row=self.row,
                    )
                if self.column > self.limits.columns:
                    raise _too_many_columns(self.limits, self.row, self.column)
                self.cells[self.column] = value
        elif tag == "row":
            if self.cells:
                values: list[Any] = [None] * max(self.cells)
                for column, value in self.cells.items():
                    values[column - 1] = value
                self.done.append((self.row, values))
            self.cells = {}
        elif tag == "sheetData":
            self.finished = True

    def text(self, data: str) -> None:
        if self.collect and not self.phonetic:
            self.parts.append(data)

    def _value(self, text: str | None) -> Any:
        kind = self.cell_type
        if kind == "inlineStr" or kind == "str" or kind == "e":
            return text
        if text is None:
            return None
        if kind == "s":
            index = int(text)
            if not 0 <= index < len(self.strings):
                raise _unreadable(
                    f"单元格 {_cell_name(self.row, self.column)} 引用的文字不存在，文件已损坏"
                )
            return self.strings[index]
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                return from_ISO8601(text)
            except ValueError:
                return text
        number: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        if self.cell_style in self.dates:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(number, self.epoch, timedelta=self.cell_style in self.timedeltas)
            except (OverflowError, ValueError):
                return number  # not a date a calendar has: the row's check will say so
        return number


def _column(reference: str) -> int:
    match = _CELL_REF.match(reference.upper())
    if match is None:
        raise _unreadable(f"无法识别的单元格位置 {reference[:20]}，文件已损坏")
    number = 0
    for letter in match.group(1):
        number = number * 26 + ord(letter) - 64
    return number


def _cell_name(row: int, column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


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


# --- reading cells ----------------------------------------------------------------------------
# What a column holds, read from a cell as people type it: text, whole counts, money with its
# unit in the header or in the cell ("3000万", "1.2亿元"), yes or no. Each reader raises
# CellError with a machine code and a message that names the value, never the row (the caller
# knows the row and the column).


class CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def cell_text(value: Any, limit: int | None = None) -> str | None:
    """The cell as text, stripped; None when blank. A whole number typed into a spreadsheet
    (260.0) reads as "260". The text is kept as written (full-width brackets in a company name
    stay full-width), and a NUL character, which no name or code holds, is refused. The single
    quote an export puts before text a spreadsheet would take as a formula (``export_cell``)
    is not part of the text, as in a spreadsheet: an exported file reads back as it was."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()[:10]
    text = str(value).strip()
    if text[:1] == "'" and export_cell(text[1:]) == text:
        text = text[1:]
    if "\x00" in text:
        raise CellError("nul_character", "含有空字符（U+0000），这不是合法的文字")
    if limit is not None and len(text) > limit:
        raise CellError("too_long", f"超过 {limit} 个字符")
    return text


def cell_word(value: Any) -> str:
    """A code or a choice as typed: NFKC (full-width letters and digits folded), without
    spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).lower()


def cell_decimal(value: Any) -> Decimal | None:
    """A number cell (or text of one, with thousands separators); None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest decimal that round-trips: 1.1 not 1.1000…
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


FEN_PER_UNIT = {
    "fen": Decimal(1),
    "yuan": Decimal(100),
    "wan": Decimal(1_000_000),
    "yi": Decimal(10_000_000_000),
}
UNIT_LABEL = {"fen": "分", "yuan": "元", "wan": "万元", "yi": "亿元"}
# A unit word after a number or at the end of a header; longest first.
_UNIT_WORDS = (
    ("亿元", "yi"),
    ("万元", "wan"),
    ("亿", "yi"),
    ("万", "wan"),
    ("元", "yuan"),
    ("分", "fen"),
    ("yuan", "yuan"),
    ("wan", "wan"),
    ("fen", "fen"),
    ("yi", "yi"),
)
MONEY_FEN_MAX = 10**16  # a hundred thousand billion yuan: anything above is a unit mistake


def header_units(normalized: str) -> Iterator[tuple[str, str]]:
    """The ways a normalised header may end in a money unit: ("营业收入万元") gives
    ("营业收入", "wan"); the caller keeps the one whose base names a money column."""
    for word, unit in _UNIT_WORDS:
        if normalized.endswith(word) and len(normalized) > len(word):
            yield normalized[: -len(word)], unit


def cell_money_fen(value: Any, unit: str | None, label: str) -> int:
    """An amount in fen. The unit is the cell's own ("3000万", "1.2亿元", "18,500元") or else
    the header's (``unit``); with neither, the amount is refused rather than guessed, since
    元 and 万元 differ ten thousand times. Negative amounts, fractions of a fen and amounts
    beyond any enterprise's are refused."""
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    number = cell_decimal(value) if not isinstance(value, str) else None
    if number is None:
        for word, cell_unit in _UNIT_WORDS[:6]:
            if text.endswith(word):
                number, unit = cell_decimal(text[: -len(word)]), cell_unit
                break
        else:
            number = cell_decimal(text)
    if number is None:
        raise CellError("invalid_amount", f"{label}「{value}」不是金额")
    if unit is None:
        raise CellError(
            "unit_required",
            f"{label}「{value}」没有单位：请在表头注明（如「{label}（万元）」）或在数字后写明元、万元或亿元",
        )
    if number < 0:
        raise CellError("negative_amount", f"{label}「{value}」不能为负数")
    fen = number * FEN_PER_UNIT[unit]
    if fen != fen.to_integral_value():
        raise CellError("fraction_of_fen", f"{label}「{value}」精确到分以下，请核对单位")
    if fen > MONEY_FEN_MAX:
        raise CellError("amount_too_large", f"{label}「{value}」过大，请核对单位")
    return int(fen)


def cell_count(value: Any, label: str, maximum: int) -> int:
    """A whole count, such as people ("260" or "260人")."""
    text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix("人")
    number = cell_decimal(value) if not isinstance(value, str) else cell_decimal(text)
    if number is None or number != number.to_integral_value():
        raise CellError("invalid_count", f"{label}「{value}」应为整数")
    if number < 0:
        raise CellError("negative_count", f"{label}「{value}」不能为负数")
    if number > maximum:
        raise CellError("count_too_large", f"{label}「{value}」过大，请核对")
    return int(number)


_YES = frozenset(
    {
        "是",
        "同意",
        "授权",
        "已授权",
        "共享",
        "同意共享",
        "y",
        "yes",
        "true",
        "t",
        "1",
        "√",
        "✓",
        "✔",
    }
)
_NO = frozenset(
    {"否", "不同意", "不授权", "未授权", "不共享", "n", "no", "false", "f", "0", "×", "✗", "✘", "x"}
)

_YES_OR_NO = _YES | _NO


def cell_yes_no(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    word = value if isinstance(value, str) and value in _YES_OR_NO else cell_word(value)
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise CellError("invalid_yes_no", f"{label}「{value}」应为 是 或 否（同意 / 不同意）")


# --- writing --------------------------------------------------------------------------------
# Formula injection (OWASP "CSV Injection", ASVS 1.2.10): a spreadsheet takes a text cell that
# starts with = + - or @ as a formula (=HYPERLINK(...) sends the sheet's data away,
# =cmd|... runs a program), and tab, carriage return and NUL are on OWASP's list too. The
# full-width ＝＋－＠ are quoted as well, as a precaution for spreadsheets that may fold
# full-width characters to ASCII; the quote costs a real name nothing. Every export goes
# through export_cell: such text gets a single quote before it, numbers stay numbers.

_FORMULA_START = frozenset("=+-@\t\r\0＝＋－＠")
# What a spreadsheet may skip before it sees the first character: spaces and controls.
_SKIPPED = "".join(map(chr, range(0x21))) + "\u3000\x7f"


def export_cell(value: Any) -> Any:
    """The value as an export holds it: text a spreadsheet would take as a formula (also
    behind spaces or control characters) with a single quote before it, so that it shows as
    the text it is; numbers (-5 included), dates and None as they are."""
    if not isinstance(value, str):
        return value
    if value[:1] in _FORMULA_START or value.lstrip(_SKIPPED)[:1] in _FORMULA_START:
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], lines: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese; None as an empty
    cell; text that would be a formula neutralised (``export_cell``)."""
    return b"".join(csv_stream(header, lines))


_STREAM_CHUNK = 64 * 1024


def csv_stream(header: Sequence[str], lines: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """``csv_bytes`` a piece at a time (about 64 KB each, the byte-order mark and the header
    first), for an export too large to hold: the memory is one piece whatever the lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([export_cell(title) for title in header])
    for line in lines:
        writer.writerow(["" if value is None else export_cell(value) for value in line])
        if buffer.tell() >= _STREAM_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_row(sheet: Any, values: Sequence[Any]) -> None:
    """Append a row whose text is stored as text: never a formula (openpyxl makes one of any
    string that starts with =), without the control characters XML cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    sheet.append(
        [export_cell(ILLEGAL_CHARACTERS_RE.sub("", v)) if isinstance(v, str) else v for v in values]
    )
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def xlsx_bytes(
    sheet_title: str,
    header: Sequence[str],
    lines: Iterable[Sequence[Any]],
    number_formats: Sequence[str | None] = (),
) -> bytes:
    """One sheet: a bold, frozen header row, then the lines; numbers stay numbers, with the
    column's number format (e.g. ``0.0%``) where one is given; text stays text, neutralised
    like the CSV's (``export_cell``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    # Excel forbids some characters in sheet titles and caps them at 31.
    sheet.title = re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "Sheet1"
    _xlsx_row(sheet, list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for line in lines:
        _xlsx_row(sheet, list(line))
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


# --- streaming XLSX ---------------------------------------------------------------------------
# An export of a whole library (half a million enterprises) is written as it is read and sent
# as it is written: the worksheet's XML goes through a zip stream straight to the answer, its
# text as inline strings. openpyxl's write-only mode is not enough for that: it keeps every
# distinct text in a shared-strings table in memory (the names and codes of every row) and
# can only save the workbook once the last row is in. The memory here is one compressed
# piece, whatever the rows; the reader above (``read_table``) and Excel read it alike.

EXPORT_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_MAX_ROWS = 1_048_576  # rows of one worksheet in Excel, header included
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_EPOCH = date(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd"


class _Sink(io.RawIOBase):
    """Where the zip stream writes: kept until the generator hands it on. It tells its
    position but cannot seek, so zipfile writes each part's sizes after its data."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        piece = bytes(data)
        self.pieces.append(piece)
        self.size += len(piece)
        self.position += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out = b"".join(self.pieces)
        self.pieces.clear()
        self.size = 0
        return out


def _xml_text(value: str) -> str:
    text = _XML_ILLEGAL.sub("", value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column_letters(index: int) -> str:
    return _cell_name(1, index)[:-1]


def _number_text(value: int | float | Decimal) -> str | None:
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, float):
        return (
            repr(value) if value == value and value not in (float("inf"), float("-inf")) else None
        )
    return str(int(value))


def _styles(formats: Sequence[str]) -> str:
    """Style 0 plain, 1 the bold header, then one per number format (2, 3, …)."""
    custom = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode="{_xml_text(code).replace(chr(34), "&quot;")}"/>'
        for i, code in enumerate(formats)
    )
    xfs = "".join(
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/>'
        for i in range(len(formats))
    )
    return (
        f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
        f'<numFmts count="{len(formats)}">{custom}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{2 + len(formats)}">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        f'{xfs}</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
        'builtinId="0"/></cellStyles></styleSheet>'
    )


def _package(sheet_title: str) -> dict[str, str]:
    title = _xml_text(re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "Sheet1")
    return {
        "[Content_Types].xml": f"{_XML_DECLARATION}<Types xmlns="
        '"http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" '
        f'xmlns:r="{_REL_NS}"><sheets><sheet name="{title.replace(chr(34), "&quot;")}" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f"{_XML_DECLARATION}<Relationships "
        f'xmlns="{_PACKAGE_REL_NS}"><Relationship Id="rId1" Type="{_REL_NS}/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>",
    }


def xlsx_stream(
    sheet_title: str,
    header: Sequence[str],
    lines: Iterable[Sequence[Any]],
    number_formats: Sequence[str | None] = (),
    widths: Sequence[int | None] = (),
) -> Iterator[bytes]:
    """One sheet like ``xlsx_bytes`` (a bold, frozen header row; numbers with the column's
    number format; text as text, neutralised by ``export_cell``; dates as dates), written a
    piece at a time as the lines come. At most ``XLSX_MAX_ROWS`` rows fit a sheet: the
    caller checks the count first (a longer export is a CSV)."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    for name, content in _package(sheet_title).items():
        archive.writestr(name, content)
    formats = sorted({f for f in number_formats if f} | {DATE_FORMAT})
    style = {code: 2 + i for i, code in enumerate(formats)}
    archive.writestr("xl/styles.xml", _styles(formats))
    yield sink.take()
    column_style = [style.get(f) if f else None for f in number_formats]
    letters = [_column_letters(i) for i in range(1, len(header) + 1)]
    cols = ""
    for i, title in enumerate(header):
        width = (widths[i] if i < len(widths) else None) or max(8, min(40, 2 * len(title) + 2))
        cols += f'<col min="{i + 1}" max="{i + 1}" width="{width}" customWidth="1"/>'
    with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
        out: list[str] = [
            f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f"<cols>{cols}</cols><sheetData>"
        ]
        out.append(_xlsx_line(1, letters, list(header), [], header_style=1))
        pending = 0
        for number, line in enumerate(lines, start=2):
            if number > XLSX_MAX_ROWS:
                raise ValueError(f"more than {XLSX_MAX_ROWS} rows do not fit a worksheet")
            out.append(_xlsx_line(number, letters, line, column_style, date_style=style))
            pending += 1
            if pending >= 200:
                sheet.write("".join(out).encode("utf-8"))
                out.clear()
                pending = 0
                if sink.size >= _STREAM_CHUNK:
                    yield sink.take()
        out.append("</sheetData></worksheet>")
        sheet.write("".join(out).encode("utf-8"))
    archive.close()
    yield sink.take()


def _xlsx_line(
    number: int,
    letters: Sequence[str],
    values: Sequence[Any],
    column_style: Sequence[int | None],
    header_style: int | None = None,
    date_style: Mapping[str, int] | None = None,
) -> str:
    cells: list[str] = []
    for index, value in enumerate(values):
        if value is None or index >= len(letters):
            continue
        ref = f"{letters[index]}{number}"
        style = header_style or (column_style[index] if index < len(column_style) else None)
        if isinstance(value, bool):
            cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            continue
        if isinstance(value, datetime | date):
            day = value.date() if isinstance(value, datetime) else value
            serial = (day - _EXCEL_EPOCH).days
            if isinstance(value, datetime):
                seconds = value.hour * 3600 + value.minute * 60 + value.second
                serial_text = repr(serial + seconds / 86400) if seconds else str(serial)
            else:
                serial_text = str(serial)
            style = style or (date_style or {}).get(DATE_FORMAT)
            cells.append(f'<c r="{ref}" s="{style}"><v>{serial_text}</v></c>')
            continue
        if isinstance(value, int | float | Decimal):
            text = _number_text(value)
            if text is None:
                continue
            styled = f' s="{style}"' if style else ""
            cells.append(f'<c r="{ref}"{styled}><v>{text}</v></c>')
            continue
        text = _xml_text(str(export_cell(str(value))))
        styled = f' s="{header_style}"' if header_style else ""
        cells.append(
            f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">{text}</t></is></c>'
        )
    return f'<row r="{number}">{"".join(cells)}</row>'

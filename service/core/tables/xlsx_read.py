"""The rows of an XLSX upload's first worksheet, read with expat, streaming, rather than with
openpyxl: openpyxl's read-only mode trusts the sheet's declared <dimension> (an understated one
hides rows, an overstated one pads every row to 16,384 columns and a million rows), loads
shared strings without a bound and parses DTDs. Here the cells themselves give the extent,
every part is read through one inflated byte budget (declared sizes checked first, inflated
bytes counted as they come, against zip bombs), and a DTD (which no workbook needs) is refused,
so entity expansion cannot happen. Date cells are told by their number format, Chinese,
Japanese and Korean built-in date formats included; the 1904 calendar is honoured."""

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from xml.parsers import expat

from service.core.tables.cells import blank
from service.core.tables.read_limits import (
    FileError,
    ReadBudget,
    inflated_too_large,
    too_many_columns,
)

_CHUNK = 64 * 1024
# Built-in number formats that are dates or times: 14–22 and 45–47 everywhere, 27–36 and
# 50–58 in Chinese, Japanese and Korean Excel (yyyy"年"m"月"d"日" …), which openpyxl misses.
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_TIMEDELTA_FORMAT_IDS = {46}
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d*)$")


def _unreadable(detail: str = "无法读取 XLSX 文件，请确认文件未损坏") -> FileError:
    return FileError("unreadable_xlsx", detail)


def xlsx_rows(content: bytes, budget: ReadBudget) -> Iterator[tuple[int, list[Any]]]:
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
    def __init__(self, content: bytes, budget: ReadBudget) -> None:
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
            raise inflated_too_large(budget.limits)
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
                        f"单元格 {cell_name(self.row, self.column)} 有内容，"
                        f"超过 {self.limits.rows} 行的上限，请拆分后分批导入",
                        limit=self.limits.rows,
                        row=self.row,
                    )
                if self.column > self.limits.columns:
                    raise too_many_columns(self.limits, self.row, self.column)
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
                    f"单元格 {cell_name(self.row, self.column)} 引用的文字不存在，文件已损坏"
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


def cell_name(row: int, column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"

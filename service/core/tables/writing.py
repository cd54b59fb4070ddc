"""Writing exports: CSV for Excel (UTF-8 with a byte-order mark, which Excel needs to read
Chinese), a small XLSX through openpyxl (``xlsx_bytes``) and a streaming XLSX for whole
libraries (``xlsx_stream``), with the media types of the two formats. Every text cell goes
through the formula-injection guard (``formula_guard.export_cell``); numbers stay numbers,
dates dates. A streamed export holds one piece in memory (about 64 KB) whatever the rows; a
worksheet holds at most ``XLSX_MAX_ROWS`` rows (a longer export is a CSV)."""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from service.core.tables.formula_guard import export_cell
from service.core.tables.xlsx_read import cell_name


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
# piece, whatever the rows; the reader (``read_table``) and Excel read it alike.

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
    return cell_name(1, index)[:-1]


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

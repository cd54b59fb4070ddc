"""Exports written as they are read: a CSV for Excel and an XLSX a piece at a time, each
readable by the project's own reader and by openpyxl, text never a formula."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from service.core.exports import Spreadsheet
from service.core.tables import (
    cell_text,
    csv_bytes,
    csv_stream,
    export_cell,
    read_table,
    writing,
    xlsx_stream,
)

HEADER = ["企业名称", "从业人员（人）", "营业收入（万元）", "成立日期", "是否", "备注"]
LINES = [
    ["无锡甲有限公司", 120, Decimal("8123.456789"), date(2015, 3, 1), True, "a<b & c>d"],
    ['=HYPERLINK("http://x")', -5, None, None, False, "控制\x01字符\x0b去掉"],
    ["+86 510", 0, Decimal("0.000001"), datetime(2026, 1, 5), None, "＝1"],
]


def test_csv_pieces_are_the_whole_csv(monkeypatch) -> None:
    monkeypatch.setattr(writing, "_STREAM_CHUNK", 64)
    lines = LINES * 20
    pieces = list(csv_stream(HEADER, iter(lines)))
    assert len(pieces) > 5
    assert b"".join(pieces) == csv_bytes(HEADER, lines)
    assert pieces[0].startswith("\ufeff企业名称".encode())


def _xlsx(lines: list[list], **options) -> bytes:
    return b"".join(
        xlsx_stream("企业库 [测试]", HEADER, iter(lines), [None, "#,##0", "#,##0.00"], **options)
    )


def test_the_xlsx_reads_back_with_the_projects_reader() -> None:
    rows = list(read_table(_xlsx(LINES), "a.xlsx"))
    assert rows[0] == HEADER
    assert rows[1] == [
        "无锡甲有限公司",
        120,
        8123.456789,
        datetime(2015, 3, 1),
        True,
        "a<b & c>d",
    ]
    assert rows[2] == ['\'=HYPERLINK("http://x")', -5, None, None, False, "控制字符去掉"]
    assert rows[3] == ["'+86 510", 0, 0.000001, datetime(2026, 1, 5), None, "'＝1"]


def test_the_xlsx_reads_back_with_openpyxl() -> None:
    book = load_workbook(io.BytesIO(_xlsx(LINES)))
    sheet = book.active
    assert sheet.title == "企业库  测试 "  # brackets are not allowed in a sheet's title
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    assert sheet["B2"].number_format == "#,##0" and sheet["C2"].number_format == "#,##0.00"
    assert sheet["D2"].is_date and sheet["D2"].number_format == "yyyy-mm-dd"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    assert sheet["A3"].data_type == "s" and sheet["A3"].value.startswith("'=")
    assert sheet.column_dimensions["A"].width > 8


def test_the_xlsx_is_sent_in_pieces_as_it_is_written(monkeypatch) -> None:
    monkeypatch.setattr(writing, "_STREAM_CHUNK", 1024)
    read: list[int] = []

    def lines():
        for i in range(3000):
            read.append(i)
            yield [f"无锡{i}有限公司", i, Decimal(i) / 100, date(2020, 1, 1), True, f"第{i}行"]

    stream = xlsx_stream("sheet", HEADER, lines())
    sizes = []
    for piece in stream:
        sizes.append(len(piece))
        if len(sizes) == 2:
            assert len(read) < 3000  # the first pieces go before the last line is read
    assert len(sizes) > 3
    content = b"".join(xlsx_stream("sheet", HEADER, iter([LINES[0]])))
    assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None


def test_more_rows_than_a_worksheet_holds_stop_the_export(monkeypatch) -> None:
    monkeypatch.setattr(writing, "XLSX_MAX_ROWS", 3)
    with pytest.raises(ValueError, match="do not fit"):
        _xlsx(LINES)
    assert len(list(read_table(_xlsx(LINES[:2]), "a.xlsx"))) == 3


def test_a_chinese_file_name_in_rfc_5987() -> None:
    sheet = Spreadsheet("csv", "企业库_第3版.csv", 'finmatch-"3".csv', "企业库", [], iter)
    assert sheet.content_disposition == (
        'attachment; filename="finmatch-_3_.csv"; '
        "filename*=UTF-8''%E4%BC%81%E4%B8%9A%E5%BA%93_%E7%AC%AC3%E7%89%88.csv"
    )
    assert sheet.media_type == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+86 510 8123 4567", "-5", "@SUM(A1)", "＝1", "无锡甲"]
)
def test_an_exported_cell_reads_back_as_it_was(text) -> None:
    assert cell_text(export_cell(text)) == text
    for line in read_table(csv_bytes(["a"], [[text]]), "a.csv"):
        assert cell_text(line[0]) in ("a", text)


def test_a_quote_the_export_did_not_add_is_kept() -> None:
    assert cell_text("'无锡甲") == "'无锡甲"
    assert cell_text("''=1") == "''=1"

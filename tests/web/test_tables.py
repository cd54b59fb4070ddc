"""A page table exported as CSV and XLSX holds what the page shows."""

import csv
import io

from openpyxl import load_workbook

from service.web.tables import Column, Table, display, export_value


def _table() -> Table:
    return Table(
        name="t",
        title="测试/表:1",
        columns=[
            Column("label", "银行"),
            Column("n", "笔数", "int"),
            Column("fen", "金额", "wan"),
            Column("rate", "联系率", "ratio"),
            Column("bp", "利率", "bp"),
        ],
        rows=[
            {
                "key": "b1",
                "label": "甲银行",
                "n": 3,
                "fen": 1_234_567_891,
                "rate": 0.6667,
                "bp": 345,
            }
        ],
        total={
            "key": None,
            "label": "合计",
            "n": 3,
            "fen": 1_234_567_891,
            "rate": None,
            "bp": None,
        },
        links={"label": lambda row: f"/web/office/banks/{row['key']}"},
    )


def test_display() -> None:
    t = _table()
    row = t.rows[0]
    shown = [display(c, row[c.key]) for c in t.columns]
    assert shown == ["甲银行", "3", "1,234.57", "66.7%", "3.45%"]
    assert display(t.columns[3], None) == "—"


def test_links_skip_the_total() -> None:
    t = _table()
    assert t.link(t.columns[0], t.rows[0]) == "/web/office/banks/b1"
    assert t.link(t.columns[0], t.total) is None
    assert t.link(t.columns[1], t.rows[0]) is None


def test_csv_has_the_headers_and_every_row_with_the_total() -> None:
    text = _table().csv().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["银行", "笔数", "金额（万元）", "联系率", "利率（%）"]
    assert rows[1] == ["甲银行", "3", "1234.567891", "0.6667", "3.45"]
    assert rows[2] == ["合计", "3", "1234.567891", "", ""]


def test_xlsx_keeps_numbers_as_numbers_with_formats() -> None:
    book = load_workbook(io.BytesIO(_table().xlsx()))
    sheet = book.active
    assert sheet.title == "测试 表 1"
    assert [c.value for c in sheet[1]] == ["银行", "笔数", "金额（万元）", "联系率", "利率（%）"]
    assert [c.value for c in sheet[2]] == ["甲银行", 3, 1234.567891, 0.6667, 3.45]
    assert sheet["D2"].number_format == "0.0%"
    assert sheet["C3"].value == 1234.567891 and sheet["D3"].value is None


def test_export_values() -> None:
    assert export_value(Column("x", "x", "wan"), 1) == 0.000001
    assert export_value(Column("x", "x", "text"), 5) == "5"
    assert export_value(Column("x", "x", "int"), None) is None

"""Reading spreadsheets within hard limits: the real extent of an XLSX sheet (never its
declared dimension), rows, columns, cells, bytes and seconds capped, and hostile files (zip
bombs, truncated or foreign archives, DTDs and entity expansion, huge CSV lines) refused with
a code that says why, quickly."""

import csv
import io
import re
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal
from itertools import count

import pytest
from openpyxl import load_workbook

from service.core.tables import (
    FileError,
    Limits,
    csv_bytes,
    export_cell,
    read_limits,
    read_table,
    xlsx_bytes,
    xlsx_read,
)
from tests import spreadsheets as s

ROWS = [
    ["企业名称", "统一社会信用代码", "批次"],
    ["无锡甲有限公司", "A1", "第一批"],
    ["无锡乙有限公司", None, 2],
]


def _read(content: bytes, name: str = "a.xlsx", **limits) -> list[list]:
    return list(read_table(content, name, Limits(**limits) if limits else None))


def _refused(content: bytes, name: str = "a.xlsx", **limits) -> FileError:
    with pytest.raises(FileError) as caught:
        _read(content, name, **limits)
    return caught.value


# --- the real extent ------------------------------------------------------------------------


def test_an_understated_dimension_hides_no_row() -> None:
    content = s.understated(ROWS)
    assert '<dimension ref="A1:A1"' in zipfile.ZipFile(io.BytesIO(content)).read(s.SHEET).decode()
    assert _read(content) == ROWS[:2] + [["无锡乙有限公司", None, 2]]


def test_a_styled_cell_at_the_far_corner_costs_nothing() -> None:
    started = time.monotonic()
    rows = _read(s.far_corner(ROWS, value=None))
    assert time.monotonic() - started < 5
    assert rows == ROWS  # three rows of three cells: no padding to XFD, no million blank rows


def test_a_value_at_the_far_corner_is_refused_at_once() -> None:
    started = time.monotonic()
    error = _refused(s.far_corner(ROWS))
    assert time.monotonic() - started < 5
    assert (error.code, error.status, error.extra["limit"]) == ("too_many_rows", 422, 100_000)
    assert "XFD1048576" in error.message and "100000 行" in error.message


def test_the_reader_touches_only_the_cells_there_are(monkeypatch) -> None:
    spent: list[int] = []
    original = read_limits.ReadBudget.add_cells

    def counting(self, n: int) -> None:
        spent.append(n)
        original(self, n)

    monkeypatch.setattr(read_limits.ReadBudget, "add_cells", counting)
    _read(s.far_corner(ROWS, value=None))
    there = sum(value is not None for row in ROWS for value in row)
    assert sum(spent) == there + 1  # the table's cells and the styled corner


def test_blank_rows_keep_row_numbers_and_trailing_blanks_are_trimmed() -> None:
    content = s.xlsx([["企业名称", None, "  "], [], [], ["无锡甲有限公司", "", None]])
    assert _read(content) == [["企业名称"], [], [], ["无锡甲有限公司"]]
    assert _read("企业名称,,\n\n,,\n无锡甲有限公司,,\n".encode(), "a.csv") == [
        ["企业名称"],
        [],
        [],
        ["无锡甲有限公司"],
    ]


def test_blank_rows_beyond_the_row_limit_cost_nothing() -> None:
    text = "企业名称\n无锡甲有限公司\n" + ",,\n" * 50
    assert _read(text.encode(), "a.csv", rows=5) == [["企业名称"], ["无锡甲有限公司"]]
    sheet = s.with_sheet_xml(
        s.xlsx(ROWS),
        lambda xml: xml.replace(
            "</sheetData>",
            "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(10, 60))
            + "</sheetData>",
        ),
    )
    assert _read(sheet, rows=5) == ROWS


def test_shared_strings_without_their_phonetic_guides() -> None:
    assert _read(s.shared_strings(s.xlsx(ROWS))) == ROWS
    assert _read(s.shared_strings(s.xlsx(ROWS), phonetic=True)) == ROWS


def test_dates_in_a_chinese_built_in_format() -> None:
    content = s.rewrite(
        s.xlsx([["认定日期"], [datetime(2026, 3, 1)]]),
        "xl/styles.xml",
        lambda d: re.sub(rb'numFmtId="164" fontId', b'numFmtId="31" fontId', d),  # yyyy年m月d日
    )
    assert _read(content) == [["认定日期"], [datetime(2026, 3, 1)]]


def test_numbers_booleans_and_formulas_cached_values() -> None:
    content = s.with_sheet_xml(
        s.xlsx([["a", 1, 2.5, True]]),
        lambda xml: xml.replace(
            "</row>",
            '<c r="E1" t="str"><f>A1&amp;"x"</f><v>ax</v></c><c r="F1" t="e"><v>#N/A</v></c></row>',
        ),
    )
    assert _read(content) == [["a", 1, 2.5, True, "ax", "#N/A"]]


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_too_many_bytes_is_a_413(name) -> None:
    content = s.xlsx(ROWS) if name.endswith("xlsx") else "企业名称\n甲\n".encode()
    error = _refused(content, name, file_bytes=len(content) - 1)
    assert (error.code, error.status, error.extra["limit"]) == (
        "file_too_large",
        413,
        len(content) - 1,
    )
    assert _refused(b"x" * (32 * 1024 * 1024 + 1), name).message.startswith("文件超过 32 MB")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_rows_columns_and_cells_each_have_a_limit(fmt) -> None:
    wide = [[f"列{i}" for i in range(1, 8)], ["x"] * 7]
    long = [["企业名称"]] + [[f"甲{i}"] for i in range(10)]

    def build(rows: list[list]) -> bytes:
        if fmt == "xlsx":
            return s.xlsx(rows)
        return "\n".join(",".join(map(str, r)) for r in rows).encode()

    name = f"a.{fmt}"
    error = _refused(build(wide), name, columns=6)
    assert (error.code, error.extra) == ("too_many_columns", {"limit": 6, "row": 1, "column": 7})
    assert "6 列" in error.message
    error = _refused(build(long), name, rows=10)
    assert (error.code, error.extra["limit"], error.extra["row"]) == ("too_many_rows", 10, 11)
    error = _refused(build(wide), name, cells=13)
    assert (error.code, error.extra["limit"]) == ("too_many_cells", 13)
    assert "13 个单元格" in error.message
    assert len(_read(build(wide), name, columns=7, cells=14)) == 2


def test_shared_strings_count_against_the_cell_limit() -> None:
    content = s.rewrite(
        s.shared_strings(s.xlsx([["企业名称"]])),
        "xl/sharedStrings.xml",
        lambda d: d.replace(b"</sst>", b"<si><t>x</t></si>" * 20 + b"</sst>"),
    )
    assert _read(content, cells=21) == [["企业名称"]]
    error = _refused(content, cells=20)  # 21 texts for a sheet of one cell
    assert (error.code, error.extra["limit"]) == ("too_many_cells", 20)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_read_that_takes_too_long_stops(monkeypatch, fmt) -> None:
    clock = count(step=7.0)
    monkeypatch.setattr(read_limits.time, "monotonic", lambda: next(clock))
    content = s.xlsx(ROWS) if fmt == "xlsx" else "企业名称\n甲\n乙\n丙\n丁\n".encode()
    error = _refused(content, f"a.{fmt}")
    assert (error.code, error.status, error.extra["limit"]) == ("read_timeout", 422, 30)
    assert "30 秒" in error.message


def test_a_huge_csv_cell_or_line() -> None:
    error = _refused(b"name\n" + b"x" * 200_000 + b"\n", "a.csv")
    assert error.code == "cell_too_long" and "131072" in error.message
    error = _refused(b"name\n" + b"x" * 200_000, "a.csv")  # the same without a line end
    assert error.code == "cell_too_long"
    error = _refused(b"name\n" + b"x," * 300 + b"\n", "a.csv")
    assert (error.code, error.extra["limit"]) == ("too_many_columns", 200)
    error = _refused(b"name\n" + b"," * 3_000_000 + b"\n", "a.csv")  # blank, but read
    assert error.code == "too_many_cells"


# --- hostile archives -----------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_it_inflates() -> None:
    bomb = s.zip_bomb()
    assert len(bomb) < 1024 * 1024
    started = time.monotonic()
    error = _refused(bomb)
    assert time.monotonic() - started < 5
    assert (error.code, error.status, error.extra["limit"]) == (
        "inflated_too_large",
        422,
        100 * 1024 * 1024,
    )


def test_inflated_bytes_are_counted_whatever_the_sizes_declare(monkeypatch) -> None:
    # CPython's zipfile stops at a declared size (and the CRC then fails), so a size that
    # lies low cannot inflate more; the reader counts the bytes it inflates all the same.
    assert _refused(s.lying_sizes(s.zip_bomb())).code == "unreadable_xlsx"
    monkeypatch.setattr(xlsx_read, "_declared_size", lambda archive: 0)
    error = _refused(s.zip_bomb(), inflated_bytes=5 * 1024 * 1024)
    assert (error.code, error.extra["limit"]) == ("inflated_too_large", 5 * 1024 * 1024)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: s.truncated(s.xlsx(ROWS)), "unreadable_xlsx"),
        (lambda: s.truncated(s.zip_bomb()), "unreadable_xlsx"),
        (lambda: b"PK\x03\x04" + b"\x00" * 100, "unreadable_xlsx"),
        (s.foreign_zip, "no_workbook"),
        (lambda: s.rewrite(s.xlsx(ROWS), s.SHEET, lambda d: d[: len(d) // 2]), "unreadable_xlsx"),
        (
            lambda: s.rewrite(s.xlsx(ROWS), s.SHEET, lambda d: d.replace(b'r="A2"', b'r="2A"')),
            "unreadable_xlsx",
        ),
        (lambda: s.billion_laughs(ROWS), "unsafe_xml"),
        (lambda: s.billion_laughs(ROWS, "xl/sharedStrings.xml"), "unsafe_xml"),
        (lambda: s.external_entity(ROWS), "unsafe_xml"),
        (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "unsupported_format"),
    ],
    ids=[
        "truncated",
        "truncated-bomb",
        "zip-header-only",
        "zip-without-workbook",
        "half-a-sheet",
        "bad-cell-reference",
        "billion-laughs-sheet",
        "billion-laughs-shared-strings",
        "external-entity",
        "ole-file",
    ],
)
def test_hostile_workbooks_are_refused_with_a_reason(build, code) -> None:
    started = time.monotonic()
    error = _refused(build())
    assert time.monotonic() - started < 5
    assert (error.code, error.status) == (code, 422)
    assert error.message


# --- writing: formula injection -------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1+1"]


@pytest.mark.parametrize("text", [*FORMULAS, " =1+1", "\x01=1", "\u3000@x", "\x00=1", "-"])
def test_text_that_would_be_a_formula_gets_a_quote(text) -> None:
    assert export_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [
        "无锡甲有限公司",
        "a=b",
        "2026-11",
        "",
        "'=1",
        None,
        -5,
        -2.5,
        Decimal("-1.5"),
        True,
        date(2026, 1, 1),
    ],
)
def test_anything_else_is_left_as_it_is(value) -> None:
    assert export_cell(value) == value


def test_csv_exports_neutralise_text_and_keep_numbers() -> None:
    data = csv_bytes(["名称", "=header", "利差"], [[name, None, -50.5] for name in FORMULAS])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "'=header", "利差"]
    assert [row[0] for row in rows[1:]] == ["'" + name for name in FORMULAS]
    assert {row[2] for row in rows[1:]} == {"-50.5"}


def test_xlsx_exports_store_text_as_text_never_a_formula() -> None:
    data = xlsx_bytes(
        "表", ["名称", "利差"], [[name, -50.5] for name in [*FORMULAS, "控制\x01字符"]]
    )
    sheet = load_workbook(io.BytesIO(data)).active
    names = [sheet.cell(row, 1) for row in range(2, sheet.max_row + 1)]
    # XML reads a carriage return back as a line feed
    expected = ["'" + name.replace("\r", "\n") for name in FORMULAS] + ["控制字符"]
    assert [c.value for c in names] == expected
    assert all(c.data_type == "s" for c in names)
    assert all(sheet.cell(row, 2).value == -50.5 for row in range(2, sheet.max_row + 1))
    assert all(sheet.cell(row, 2).data_type == "n" for row in range(2, sheet.max_row + 1))
    raw = zipfile.ZipFile(io.BytesIO(data)).read(s.SHEET).decode()
    assert "<f>" not in raw and "<f " not in raw

"""Reading an upload: ``read_table`` gives the rows of a CSV or of an XLSX's first worksheet,
header first and numbered as in the file, within the limits of ``read_limits``. The format is
told by the bytes (a zip is an XLSX, an OLE file an old .xls or an encrypted workbook, which
are refused), the rows by ``csv_read`` and ``xlsx_read``. The row and column limits apply to
the last row and column that hold a value: blank rows and trailing blank cells cost nothing."""

from collections.abc import Iterator
from typing import Any

from service.core.tables import read_limits
from service.core.tables.cells import blank
from service.core.tables.csv_read import csv_rows
from service.core.tables.read_limits import (
    FileError,
    Limits,
    ReadBudget,
    size_in_words,
    too_many_columns,
)
from service.core.tables.xlsx_read import xlsx_rows


def read_table(
    content: bytes, filename: str | None = None, limits: Limits | None = None
) -> Iterator[list[Any]]:
    """Rows of the first worksheet (XLSX) or of the CSV, header first, numbered as in the file
    (a blank row is an empty list), trailing blank cells trimmed. Raises FileError, while the
    rows are read, for a file over one of the limits or that cannot be read at all."""
    limits = limits or read_limits.LIMITS  # looked up at each read, not at import
    if len(content) > limits.file_bytes:
        raise FileError(
            "file_too_large",
            f"文件超过 {size_in_words(limits.file_bytes)} 的大小上限，请拆分后分批导入",
            status=413,
            limit=limits.file_bytes,
        )
    if not content or content.isspace():  # (strip() would copy the file)
        raise FileError("empty_file", "文件是空的")
    budget = ReadBudget(limits)
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE: .xls, or an encrypted .xlsx
        raise FileError(
            "unsupported_format", "不支持旧版 .xls 或加密的工作簿，请另存为 .xlsx 或 CSV"
        )
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm")):
        return _bounded(xlsx_rows(content, budget), budget)
    return _bounded(csv_rows(content, budget), budget)


def _bounded(numbered: Iterator[tuple[int, list[Any]]], budget: ReadBudget) -> Iterator[list[Any]]:
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
            raise too_many_columns(limits, number, end)
        while given < number - 1:
            given += 1
            yield []
        given = number
        yield values[:end]

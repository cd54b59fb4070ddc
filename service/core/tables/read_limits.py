"""What one read of an uploaded spreadsheet may cost, and how it says no. An upload is read
whole before anything is written, so each limit (``Limits``: bytes, inflated XLSX bytes, rows,
columns, cells, seconds) bounds the memory and the time one request can take, whatever the file
claims about itself. ``ReadBudget`` counts what one read has spent against them; ``FileError``
is the refusal of a file as a whole (413 for too many bytes, 422 otherwise), with the limit
named in its message. ``LIMITS`` are the limits a read has unless it is given others."""

import time
from dataclasses import dataclass
from typing import Any

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


def size_in_words(n: int) -> str:
    return f"{n // 1024 // 1024} MB" if n >= 1024 * 1024 else f"{n} 字节"


class ReadBudget:
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
            raise inflated_too_large(self.limits)


def inflated_too_large(limits: Limits) -> FileError:
    return FileError(
        "inflated_too_large",
        f"XLSX 解压后超过 {size_in_words(limits.inflated_bytes)} 的上限，文件可能已损坏或是压缩炸弹",
        limit=limits.inflated_bytes,
    )


def too_many_columns(limits: Limits, row: int, column: int) -> FileError:
    return FileError(
        "too_many_columns",
        f"第 {row} 行第 {column} 列有内容，超过 {limits.columns} 列的上限",
        limit=limits.columns,
        row=row,
        column=column,
    )

"""A table of a page: columns with a kind that says how to show and export each figure, rows
as dicts, and links from a cell to the page of what it names. The same table is drawn on the
page and exported as CSV and XLSX, so an export never differs from what was seen."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from service.core.tables import csv_bytes, xlsx_bytes

# kind → (how an export holds it, its XLSX number format)
#   text, int; wan: fen shown as 万元; ratio: 0–1 shown as a percentage; bp: basis points
#   shown as an annual rate in %; bp_spread: basis points over the LPR; num: a plain figure.
XLSX_FORMAT = {
    "int": "#,##0",
    "wan": "#,##0.00",
    "ratio": "0.0%",
    "bp": "0.00",
    "bp_spread": "0.0",
    "num": "#,##0.0",
}
HEADER_UNIT = {"wan": "（万元）", "bp": "（%）", "bp_spread": "（基点）"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    @property
    def header(self) -> str:
        return self.label + HEADER_UNIT.get(self.kind, "")


@dataclass
class Table:
    name: str  # stable, in the export's address and file name
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    links: dict[str, Callable[[dict[str, Any]], str | None]] = field(default_factory=dict)
    total: dict[str, Any] | None = None  # drawn last, in bold
    note: str | None = None

    def all_rows(self) -> list[dict[str, Any]]:
        return [*self.rows, *([self.total] if self.total is not None else [])]

    def link(self, column: Column, row: dict[str, Any]) -> str | None:
        make = self.links.get(column.key)
        return make(row) if make is not None and row is not self.total else None

    def csv(self) -> bytes:
        return csv_bytes([c.header for c in self.columns], self._lines())

    def xlsx(self) -> bytes:
        formats = [XLSX_FORMAT.get(c.kind) for c in self.columns]
        return xlsx_bytes(self.title, [c.header for c in self.columns], self._lines(), formats)

    def _lines(self) -> list[list[Any]]:
        return [[export_value(c, row.get(c.key)) for c in self.columns] for row in self.all_rows()]


def _places(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def export_value(column: Column, value: Any) -> Any:
    """The cell as a spreadsheet holds it: a number stays a number (money in 万元 to the fen,
    rates in %), a ratio stays a ratio (the XLSX shows it as a percentage)."""
    if value is None:
        return None
    if column.kind == "wan":
        return float(_places(Decimal(value) / 1_000_000, 6))
    if column.kind == "bp":
        return float(_places(Decimal(str(value)) / 100, 4))
    if column.kind in ("ratio", "num", "bp_spread"):
        return float(value)
    if column.kind == "int":
        return int(value)
    return str(value)


def display(column: Column, value: Any) -> str:
    """The cell as the page shows it."""
    if value is None or value == "":
        return "—"
    if column.kind == "wan":
        return f"{Decimal(value) / 1_000_000:,.2f}"
    if column.kind == "ratio":
        return f"{_places(Decimal(str(value)) * 100, 1)}%"
    if column.kind == "bp":
        return f"{_places(Decimal(str(value)) / 100, 2)}%"
    if column.kind == "bp_spread":
        return f"{_places(Decimal(str(value)), 1)}"
    if column.kind == "int":
        return f"{int(value):,}"
    if column.kind == "num":
        return f"{_places(Decimal(str(value)), 1)}"
    return str(value)

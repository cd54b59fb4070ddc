"""Spreadsheets, with no database and no domain. Reading uploads: CSV (UTF-8 with or without
BOM, or GB18030, the delimiter sniffed) and XLSX (the first worksheet), as rows of cell values,
header first, within hard limits against hostile files; reading cells as people type them and
matching messy headers to known columns. Writing exports: CSV for Excel and XLSX, whole or
streamed, every text cell guarded against formula injection.

This is the package's public face; the rules live in its modules:
- ``read_limits``   the limits of one read (bytes, inflated bytes, rows, columns, cells,
                    seconds), the budget that counts against them, ``FileError``
- ``reading``       ``read_table``: which format, rows numbered as in the file, blank rows
- ``csv_read``      CSV: encoding, delimiter, quotes, NUL bytes, decoding as it reads
- ``xlsx_read``     XLSX with expat: zip-bomb and DTD refusal, shared strings, date formats
- ``cells``         cell values (text, codes, dates, counts, money and its units, yes or no)
                    and header matching
- ``formula_guard`` ``export_cell``, the formula-injection guard of every export
- ``writing``       CSV and XLSX exports, whole or streamed, and their media types
"""

from service.core.tables.cells import (
    FEN_PER_UNIT,
    MONEY_FEN_MAX,
    UNIT_LABEL,
    CellError,
    blank,
    cell_count,
    cell_date,
    cell_decimal,
    cell_money_fen,
    cell_text,
    cell_word,
    cell_yes_no,
    header_units,
    normalize_header,
)
from service.core.tables.formula_guard import export_cell
from service.core.tables.read_limits import LIMITS, FileError, Limits
from service.core.tables.reading import read_table
from service.core.tables.writing import (
    DATE_FORMAT,
    EXPORT_MEDIA_TYPES,
    XLSX_MAX_ROWS,
    csv_bytes,
    csv_stream,
    xlsx_bytes,
    xlsx_stream,
)

__all__ = [
    "DATE_FORMAT",
    "EXPORT_MEDIA_TYPES",
    "FEN_PER_UNIT",
    "LIMITS",
    "MONEY_FEN_MAX",
    "UNIT_LABEL",
    "XLSX_MAX_ROWS",
    "CellError",
    "FileError",
    "Limits",
    "blank",
    "cell_count",
    "cell_date",
    "cell_decimal",
    "cell_money_fen",
    "cell_text",
    "cell_word",
    "cell_yes_no",
    "csv_bytes",
    "csv_stream",
    "export_cell",
    "header_units",
    "normalize_header",
    "read_table",
    "xlsx_bytes",
    "xlsx_stream",
]

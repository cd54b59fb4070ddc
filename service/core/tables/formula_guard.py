"""The formula-injection guard (OWASP "CSV Injection", ASVS 1.2.10) that every exported text
cell passes: ``export_cell``. A spreadsheet takes a text cell that starts with = + - or @ as a
formula (=HYPERLINK(...) sends the sheet's data away, =cmd|... runs a program), and tab,
carriage return and NUL are on OWASP's list too; such text gets a single quote before it, also
behind spaces or control characters. The full-width ＝＋－＠ are quoted as well, as a
precaution for spreadsheets that may fold full-width characters to ASCII; the quote costs a
real name nothing. Numbers (-5 included), dates and None stay what they are. Reading a cell
back (``cells.cell_text``) drops the quote, as a spreadsheet does."""

from typing import Any

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

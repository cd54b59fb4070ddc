"""Reading one cell of an uploaded table as people type it, and matching messy headers to known
columns (``normalize_header``). What a column holds: text, codes and choices, whole counts,
dates (a spreadsheet date, 2026-03-31, 2026/3/31, 2026年3月31日, 20260331), money with its unit
in the header or in the cell ("3000万", "1.2亿元", never guessed when neither says), yes or
no. Each reader raises ``CellError`` with a machine code and a message that names the value,
never the row (the caller knows the row and the column). Text read back drops the quote an
export put before a would-be formula (``formula_guard.export_cell``)."""

import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from service.core.tables.formula_guard import export_cell


def normalize_header(raw: Any) -> str:
    """NFKC, lower case, without spaces, underscores, hyphens, brackets or a "单位：" label:
    "本金（单位：万元）" -> "本金万元", " Rate (%) " -> "rate%", "principal_yuan" ->
    "principalyuan"."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().lower()
    text = re.sub(r"(单位|unit)\s*[:：]", "", text)  # "（单位：万元）", not "单位名称"
    return re.sub(r"[\s_\-()\[\]【】<>:：*]+", "", text)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_DATES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def cell_date(value: Any) -> date:
    """A date cell: a spreadsheet date, 2026-03-31, 2026/3/31, 2026.3.31, 2026年3月31日 or
    20260331 (text or number). Raises ValueError for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(int(value))
    else:
        text = re.sub(r"[ T]00:00(:00)?$", "", unicodedata.normalize("NFKC", str(value)).strip())
    for pattern in _DATES:
        match = pattern.match(text)
        if match:
            return date(*(int(g) for g in match.groups()))  # ValueError for 2026-02-30
    raise ValueError(f"not a date: {value!r}")


class CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def cell_text(value: Any, limit: int | None = None) -> str | None:
    """The cell as text, stripped; None when blank. A whole number typed into a spreadsheet
    (260.0) reads as "260". The text is kept as written (full-width brackets in a company name
    stay full-width), and a NUL character, which no name or code holds, is refused. The single
    quote an export puts before text a spreadsheet would take as a formula (``export_cell``)
    is not part of the text, as in a spreadsheet: an exported file reads back as it was."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()[:10]
    text = str(value).strip()
    if text[:1] == "'" and export_cell(text[1:]) == text:
        text = text[1:]
    if "\x00" in text:
        raise CellError("nul_character", "含有空字符（U+0000），这不是合法的文字")
    if limit is not None and len(text) > limit:
        raise CellError("too_long", f"超过 {limit} 个字符")
    return text


def cell_word(value: Any) -> str:
    """A code or a choice as typed: NFKC (full-width letters and digits folded), without
    spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).lower()


def cell_decimal(value: Any) -> Decimal | None:
    """A number cell (or text of one, with thousands separators); None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest decimal that round-trips: 1.1 not 1.1000…
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


FEN_PER_UNIT = {
    "fen": Decimal(1),
    "yuan": Decimal(100),
    "wan": Decimal(1_000_000),
    "yi": Decimal(10_000_000_000),
}
UNIT_LABEL = {"fen": "分", "yuan": "元", "wan": "万元", "yi": "亿元"}
# A unit word after a number or at the end of a header; longest first.
_UNIT_WORDS = (
    ("亿元", "yi"),
    ("万元", "wan"),
    ("亿", "yi"),
    ("万", "wan"),
    ("元", "yuan"),
    ("分", "fen"),
    ("yuan", "yuan"),
    ("wan", "wan"),
    ("fen", "fen"),
    ("yi", "yi"),
)
MONEY_FEN_MAX = 10**16  # a hundred thousand billion yuan: anything above is a unit mistake


def header_units(normalized: str) -> Iterator[tuple[str, str]]:
    """The ways a normalised header may end in a money unit: ("营业收入万元") gives
    ("营业收入", "wan"); the caller keeps the one whose base names a money column."""
    for word, unit in _UNIT_WORDS:
        if normalized.endswith(word) and len(normalized) > len(word):
            yield normalized[: -len(word)], unit


def cell_money_fen(value: Any, unit: str | None, label: str) -> int:
    """An amount in fen. The unit is the cell's own ("3000万", "1.2亿元", "18,500元") or else
    the header's (``unit``); with neither, the amount is refused rather than guessed, since
    元 and 万元 differ ten thousand times. Negative amounts, fractions of a fen and amounts
    beyond any enterprise's are refused."""
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    number = cell_decimal(value) if not isinstance(value, str) else None
    if number is None:
        for word, cell_unit in _UNIT_WORDS[:6]:
            if text.endswith(word):
                number, unit = cell_decimal(text[: -len(word)]), cell_unit
                break
        else:
            number = cell_decimal(text)
    if number is None:
        raise CellError("invalid_amount", f"{label}「{value}」不是金额")
    if unit is None:
        raise CellError(
            "unit_required",
            f"{label}「{value}」没有单位：请在表头注明（如「{label}（万元）」）或在数字后写明元、万元或亿元",
        )
    if number < 0:
        raise CellError("negative_amount", f"{label}「{value}」不能为负数")
    fen = number * FEN_PER_UNIT[unit]
    if fen != fen.to_integral_value():
        raise CellError("fraction_of_fen", f"{label}「{value}」精确到分以下，请核对单位")
    if fen > MONEY_FEN_MAX:
        raise CellError("amount_too_large", f"{label}「{value}」过大，请核对单位")
    return int(fen)


def cell_count(value: Any, label: str, maximum: int) -> int:
    """A whole count, such as people ("260" or "260人")."""
    text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix("人")
    number = cell_decimal(value) if not isinstance(value, str) else cell_decimal(text)
    if number is None or number != number.to_integral_value():
        raise CellError("invalid_count", f"{label}「{value}」应为整数")
    if number < 0:
        raise CellError("negative_count", f"{label}「{value}」不能为负数")
    if number > maximum:
        raise CellError("count_too_large", f"{label}「{value}」过大，请核对")
    return int(number)


_YES = frozenset(
    {
        "是",
        "同意",
        "授权",
        "已授权",
        "共享",
        "同意共享",
        "y",
        "yes",
        "true",
        "t",
        "1",
        "√",
        "✓",
        "✔",
    }
)
_NO = frozenset(
    {"否", "不同意", "不授权", "未授权", "不共享", "n", "no", "false", "f", "0", "×", "✗", "✘", "x"}
)

_YES_OR_NO = _YES | _NO


def cell_yes_no(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    word = value if isinstance(value, str) and value in _YES_OR_NO else cell_word(value)
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise CellError("invalid_yes_no", f"{label}「{value}」应为 是 或 否（同意 / 不同意）")

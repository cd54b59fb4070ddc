"""GB/T 4754-2017 industry codes. Pure: no I/O.

Codes are kept canonical as the section letter followed by 2–4 digits ("C3562"); a bare
numeric code ("3562") gets its section from the division (its first two digits)."""

import re
import unicodedata

# Division ranges of each section in GB/T 4754-2017.
_SECTIONS: list[tuple[str, int, int]] = [
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 96),
    ("T", 97, 97),
]
_PATTERN = re.compile(r"^([A-T])?([0-9]{2,4})$")


class IndustryCodeError(ValueError):
    pass


def section_of_division(division: int) -> str | None:
    for letter, low, high in _SECTIONS:
        if low <= division <= high:
            return letter
    return None


def normalize_industry_code(raw: str) -> str:
    """Return the canonical form ("C3562") or raise IndustryCodeError."""
    text = unicodedata.normalize("NFKC", raw).strip().upper().replace(" ", "")
    match = _PATTERN.match(text)
    if not match:
        raise IndustryCodeError(
            f"国民经济行业代码 '{raw}' 格式不对：应为门类字母加 2–4 位数字，如 C3562 或 3562。"
        )
    letter, digits = match.groups()
    section = section_of_division(int(digits[:2]))
    if section is None:
        raise IndustryCodeError(f"国民经济行业代码 '{raw}' 的大类 {digits[:2]} 不存在。")
    if letter and letter != section:
        raise IndustryCodeError(
            f"国民经济行业代码 '{raw}' 的门类应为 {section}（大类 {digits[:2]} 属于门类 {section}）。"
        )
    return section + digits


def code_matches(code: str, scope: str) -> bool:
    """Does canonical ``code`` fall under ``scope``: a section letter ("C") or a code prefix
    with or without its letter ("51", "7010", "C36")?"""
    if len(scope) == 1 and scope.isalpha():
        return code[0] == scope
    digits = scope[1:] if scope[0].isalpha() else scope
    return code[1:].startswith(digits)

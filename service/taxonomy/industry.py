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
SECTION_NAMES = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}
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


def section_of_scope(scope: str) -> str | None:
    """The section a scope lies in: "Q" -> "Q", "85" -> "Q", "K7010" -> "K"."""
    if scope[0].isalpha():
        return scope[0]
    return section_of_division(int(scope[:2]))


def code_matches(code: str, scope: str) -> bool:
    """Does canonical ``code`` fall under ``scope``: a section letter ("C") or a code prefix
    with or without its letter ("51", "7010", "C36")?"""
    if len(scope) == 1 and scope.isalpha():
        return code[0] == scope
    digits = scope[1:] if scope[0].isalpha() else scope
    return code[1:].startswith(digits)

"""Ownership (控股情况) from a registration type (企业登记注册类型, or the 类型 line of a
business licence). Pure: no I/O.

A registration type names the legal form and, often, who holds the capital: 私营有限责任公司,
国有独资公司, 外商独资企业, 有限责任公司（自然人投资或控股）… Where it says who holds it, that
is the ownership; where it does not (其他有限责任公司, 股份有限公司, 联营企业, 合伙企业), the
answer is None and the ownership has to come from the enterprise's own declaration."""

import re
import unicodedata

# Ownership not recorded: a filter value (``ownership=unknown``) and a group of the office's
# figures, never a code of the reference table.
UNKNOWN = "unknown"
UNKNOWN_LABEL = "未知"

# Tried in order, the first that matches wins: Hong Kong, Macao and Taiwan before 外 (their
# joint ventures are 合资经营企业（港或澳、台资）), a foreign or HMT share before 国有 (a
# 中外合资 company with a state partner is registered as foreign-invested).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("hmt", re.compile(r"港澳台|台港澳|港或澳|港、澳|港澳|香港|澳门|台湾|[港澳台](?:资|商|胞)")),
    ("foreign", re.compile(r"外商|外资|外国|中外|境外|外籍")),
    ("state", re.compile(r"国有|全民所有制|国资")),
    ("collective", re.compile(r"集体|股份合作")),
    # 自然人 but not 非自然人 (…非自然人投资或控股的法人独资 says nothing about who).
    ("private", re.compile(r"私营|私人|(?<!非)自然人|个人独资|个体|民营")),
)


def normalize_registration_type(text: str) -> str:
    """Full-width forms folded (（）→ ()), spaces removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def ownership_from_registration_type(text: str | None) -> str | None:
    """The ownership code (state, collective, private, hmt, foreign) a registration type
    implies, or None when it does not say who holds the capital."""
    if not text:
        return None
    normalized = normalize_registration_type(text)
    for code, pattern in _RULES:
        if pattern.search(normalized):
            return code
    return None

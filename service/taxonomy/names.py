"""Chinese company names: normalisation and fuzzy scoring. Pure: no I/O.

"无锡市华光电子股份有限公司", "华光电子有限公司" and "华光电子(无锡)有限公司" all normalise to
"华光电子", so a search need not know the legal form or the place prefix."""

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process

# Longest first, so "股份有限公司" goes before "有限公司" and "公司".
LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团股份有限公司",
        "集团有限公司",
        "有限公司",
        "股份公司",
        "集团公司",
        "分公司",
        "总公司",
        "公司",
        "集团",
        "股份",
        "有限",
        "合伙企业",
        "有限合伙",
        "(有限合伙)",
        "(普通合伙)",
        "厂",
    ],
    key=len,
    reverse=True,
)
PLACE_PREFIXES = sorted(
    [
        "江苏省",
        "江苏",
        "无锡市",
        "无锡",
        "江阴市",
        "江阴",
        "宜兴市",
        "宜兴",
        "梁溪区",
        "锡山区",
        "惠山区",
        "滨湖区",
        "新吴区",
        "无锡经济开发区",
        "无锡高新区",
        "中国",
    ],
    key=len,
    reverse=True,
)
_MIN_CORE = 2
_BRACKETED = re.compile(r"\([^()]*\)")
_SPACES = re.compile(r"[\s·•.,，、\-_/]+")


def normalize_company_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)  # full-width to half-width, （）→()
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    text = _BRACKETED.sub("", text)
    text = _SPACES.sub("", text).lower()
    # Strip place prefixes and legal-form suffixes (and the place of a branch, as in
    # "…有限公司无锡分公司") while at least two characters of the name remain.
    changed = True
    while changed:
        changed = False
        for prefix in PLACE_PREFIXES:
            if text.startswith(prefix) and len(text) - len(prefix) >= _MIN_CORE:
                text = text[len(prefix) :]
                changed = True
                break
        for suffix in LEGAL_SUFFIXES + PLACE_PREFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= _MIN_CORE:
                text = text[: -len(suffix)]
                changed = True
                break
    return text


def name_score(query_normalized: str, candidate_normalized: str) -> float:
    """0–100: how well a normalised query matches a normalised name. A query that is a part of
    the name ("华光" in "华光电子") scores high, but below an exact match."""
    if not query_normalized or not candidate_normalized:
        return 0.0
    if query_normalized == candidate_normalized:
        return 100.0
    full = fuzz.ratio(query_normalized, candidate_normalized)
    partial = fuzz.partial_ratio(query_normalized, candidate_normalized)
    # A partial hit counts less the shorter the query is relative to the name.
    coverage = min(len(query_normalized), len(candidate_normalized)) / max(
        len(query_normalized), len(candidate_normalized)
    )
    return round(max(full, partial * (0.75 + 0.2 * coverage)), 2)


def best_matches(
    query_normalized: str, ids: Sequence[int], names: Sequence[str], minimum: float
) -> list[tuple[float, int]]:
    """(score, id) of the names scoring at least ``minimum``, best first. A C-level
    partial_ratio pass (an upper bound of name_score) discards most names before the exact
    score is computed."""
    survivors = process.extract(
        query_normalized, names, scorer=fuzz.partial_ratio, score_cutoff=minimum, limit=None
    )
    scored = []
    for _, _, index in survivors:
        score = name_score(query_normalized, names[index])
        if score >= minimum:
            scored.append((score, ids[index]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored

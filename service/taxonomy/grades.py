"""The city credit-rating scale, best first. Pure: no I/O."""

import unicodedata

CREDIT_GRADES: tuple[str, ...] = (
    "AAA",
    "AA+",
    "AA",
    "AA-",
    "A+",
    "A",
    "A-",
    "BBB+",
    "BBB",
    "BBB-",
    "BB+",
    "BB",
    "BB-",
    "B+",
    "B",
    "B-",
    "CCC",
    "CC",
    "C",
    "D",
)
_RANK = {g: i for i, g in enumerate(CREDIT_GRADES)}


def normalize_grade(raw: str) -> str | None:
    grade = unicodedata.normalize("NFKC", raw).strip().upper().replace("−", "-")
    return grade if grade in _RANK else None


def grade_at_least(grade: str, minimum: str) -> bool:
    """True when ``grade`` is ``minimum`` or better; an unknown grade is never enough."""
    g, m = normalize_grade(grade), normalize_grade(minimum)
    if m is None:
        raise ValueError(f"unknown credit grade {minimum!r}")
    return g is not None and _RANK[g] <= _RANK[m]

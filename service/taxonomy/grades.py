"""The city credit-rating scale, best first. Pure: no I/O."""

CREDIT_GRADES: tuple[str, ...] = (
    "AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
    "B+", "B", "B-", "CCC", "CC", "C", "D",
)
_RANK = {g: i for i, g in enumerate(CREDIT_GRADES)}


def normalize_grade(raw: str) -> str | None:
    grade = raw.strip().upper().replace("＋", "+").replace("－", "-")
    return grade if grade in _RANK else None


def grade_at_least(grade: str, minimum: str) -> bool:
    """True when ``grade`` is ``minimum`` or better."""
    return _RANK[grade] <= _RANK[minimum]

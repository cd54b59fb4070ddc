"""The numbers of the office's reports, computed exactly and rounded only when shown. Pure.

Ratios and averages are integers and fractions until ``rounded`` rounds them half up (away
from zero). The median of an even count is the mean of the two middle values; the 90th
percentile is by nearest rank, the ⌈0.9·n⌉-th smallest value, so it is always a value that
occurred. The LPR in force on a day is the last fixing effective on or before it."""

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def rounded(value: Fraction | int | None, places: int) -> float | None:
    """``value`` rounded half up (away from zero) to ``places`` decimals."""
    if value is None:
        return None
    value = Fraction(value)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def ratio(numerator: int, denominator: int, places: int = 4) -> float | None:
    """numerator / denominator rounded; None when the denominator is 0."""
    return rounded(Fraction(numerator, denominator), places) if denominator else None


def median(values: Iterable[Fraction | int]) -> Fraction | None:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    middle = n // 2
    if n % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def percentile_nearest_rank(values: Iterable[Fraction | int], pct: int) -> Fraction | None:
    """The ⌈pct/100·n⌉-th smallest value (nearest-rank method); ``pct`` in 1..100."""
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in 1..100, got {pct}")
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    rank = -(-pct * n // 100)  # ceiling, in integers
    return Fraction(ordered[rank - 1])


def lpr_in_force(history: Sequence[tuple[date, int]], on: date) -> int | None:
    """The rate of the last fixing effective on or before ``on``; ``history`` oldest first."""
    position = bisect_right(history, on, key=lambda item: item[0])
    return history[position - 1][1] if position else None

"""Small drawing helpers of the generator: weighted choice, uniform picks, log-uniform amounts,
and the calendar and money arithmetic its values need (validity as the service computes it,
amounts to 0.01 万元, amounts written in Chinese).

Every draw goes through a ``random.Random`` passed in, never the global generator."""

import math
from bisect import bisect
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from random import Random
from typing import Any

from service.taxonomy.sizing import FEN_PER_WAN


class Choice:
    """Weighted choice by bisection over cumulative weights (faster than Random.choices)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]) -> None:
        pairs = [(item, w) for item, w in pairs if w > 0]
        if not pairs:
            raise ValueError("nothing to choose from")
        self.items = [item for item, _ in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: Random) -> Any:
        return self.items[min(bisect(self.cum, rng.random() * self.total), len(self.items) - 1)]


def pick(rng: Random, items: Sequence[Any]) -> Any:
    # Random.choice and Random.randint are several times slower; this matters at 500,000.
    return items[int(rng.random() * len(items))]


def randint(rng: Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def expiry(issued: date, term_months: int | None) -> date | None:
    """Last day of validity: as the service computes it (issued + term − 1 day)."""
    if term_months is None:
        return None
    return add_months(issued, term_months) - timedelta(days=1)


def log_uniform(rng: Random, low: float, high: float, skew: float = 1.0) -> float:
    """Between low and high on a log scale; skew > 1 leans towards low."""
    if high <= low:
        return low
    return low * (high / low) ** (rng.random() ** skew)


def wan_to_fen(wan: float) -> int:
    # Reported to 0.01 万元 (100 元).
    return math.floor(wan * 100) * (FEN_PER_WAN // 100)


def amount_text(fen: int) -> str:
    wan = fen / FEN_PER_WAN
    if wan >= 10_000:
        return f"{wan / 10_000:.2f}".rstrip("0").rstrip(".") + "亿元"
    return f"{wan:.0f}万元"

"""Closest valid values for an unknown code, so a 422 can say what was probably meant."""

from collections.abc import Iterable

from rapidfuzz import fuzz, process


def closest(value: str, options: Iterable[tuple[str, str]], limit: int = 3) -> list[dict]:
    """``options`` are (code, label) pairs; a value may resemble either the code or the label."""
    options = list(options)
    scored: dict[str, tuple[float, str]] = {}
    for choices in ({c: c for c, _ in options}, {c: label for c, label in options}):
        for _, score, code in process.extract(
            value, choices, scorer=fuzz.WRatio, limit=limit, processor=str.lower, score_cutoff=50
        ):
            if code not in scored or score > scored[code][0]:
                scored[code] = (score, dict(options)[code])
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [
        {"value": code, "label": label, "score": round(score, 1)} for code, (score, label) in ranked
    ]

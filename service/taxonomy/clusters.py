"""Map a free-text industry description to 465 clusters by their keyword lists. Pure."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ClusterKeywords:
    code: str
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class ClusterHit:
    code: str
    name: str
    score: float
    matched: list[str]


@lru_cache(maxsize=1024)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A Latin keyword ("AI", "SiC") must stand as a word of its own, not inside "email" or
    "basic"; Chinese keywords match anywhere."""
    left = r"(?<![a-z0-9])" if re.match(r"[a-z0-9]", keyword.lower()) else ""
    right = r"(?![a-z0-9])" if re.search(r"[a-z0-9]$", keyword.lower()) else ""
    return re.compile(left + re.escape(keyword.lower()) + right)


def match_clusters(
    text: str, clusters: Iterable[ClusterKeywords], limit: int = 3
) -> list[ClusterHit]:
    """Rank clusters by the keywords found in ``text``; a longer keyword weighs more, and a
    keyword inside a longer matched one ("芯片" within "芯片设计") is not counted twice."""
    lowered = text.lower()
    hits: list[ClusterHit] = []
    for cluster in clusters:
        found = sorted(
            {k for k in cluster.keywords if _keyword_pattern(k).search(lowered)},
            key=len,
            reverse=True,
        )
        kept: list[str] = []
        for keyword in found:
            if not any(keyword.lower() in longer.lower() for longer in kept):
                kept.append(keyword)
        if kept:
            score = sum(len(k) for k in kept) + 2 * (cluster.name.lower() in lowered)
            hits.append(ClusterHit(cluster.code, cluster.name, float(score), kept))
    hits.sort(key=lambda h: (-h.score, h.code))
    return hits[:limit]

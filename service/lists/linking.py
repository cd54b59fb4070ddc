"""Linking a list's company names to the library. Pure: no database, no I/O.

Names are compared by their normalised core (``taxonomy.names``: full- and half-width forms,
brackets and bracketed places, leading province and city names, legal-form suffixes longest
first). Candidates are found by blocking: an inverted index from each character pair of a
core to the names that contain it, of which only the rarest pairs of a query are read, so a
list is never compared with the whole library. The few candidates are then scored with
rapidfuzz, and lowered when the two names carry different places (华光电子（苏州） is not
无锡华光电子), the list's district differs from the library's, or the trade names (字号)
differ: words that say what a company does (新材料, 智能装备 …) are shared by many companies
and do not make two trade names alike.

Above ``AUTO`` a unique best candidate is linked automatically; between ``REVIEW`` and
``AUTO``, or when two candidates are that close, the office decides; below, the name is
proposed as a new library entry. A short name with no legal form ("长电科技") is linked
automatically only when no other enterprise of the library carries its trade name: the list
may mean 江苏长电科技股份有限公司 or 江阴长电先进封装有限公司, and a person decides."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz import fuzz

from service.taxonomy.names import (
    has_legal_form,
    is_branch,
    name_places,
    normalize_company_name,
    places_conflict,
    trade_name,
)

AUTO = 97.0  # in practice the same normalised name: one differing character needs 66
REVIEW = 75.0
AMBIGUOUS_MARGIN = 3.0  # a runner-up this close to the best makes the best a question
PLACE_CONFLICT_CAP = 88.0  # different cities: never linked without a person
BRANCH_CAP = 85.0  # a branch against a company (or the reverse)
DISTRICT_PENALTY = 8.0
# Trade names this unlike (华光 / 宏达: no character in common) are different companies, whatever
# industry words follow them: shown as a candidate, never proposed for review.
TRADE_NAME_MIN = 50.0
DIFFERENT_TRADE_NAME_CAP = REVIEW - 5
NAMESAKES_SHOWN = 2  # other enterprises of a short name's trade name, shown to the office
CANDIDATES = 40  # read from the index per name
RARE_LISTS = 6  # the rarest character pairs of a name whose postings are read
READ_BUDGET = 20_000  # positions read from the index per name, beyond its rarest pair


@dataclass(frozen=True)
class Candidate:
    index: int  # position in the index
    enterprise_id: int
    name: str
    normalized: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass
class Verdict:
    outcome: str  # "auto" | "review" | "new"
    normalized: str
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def pairs(core: str) -> set[str]:
    """The character pairs of a core (a one-character core is its own key)."""
    if len(core) < 2:
        return {core} if core else set()
    return {core[i : i + 2] for i in range(len(core) - 1)}


class LinkIndex:
    """The library's names, with an inverted index from character pairs to positions, built
    with numpy: every pair of every core as one 64-bit key (two code points), sorted once."""

    def __init__(
        self,
        ids: Sequence[int],
        names: Sequence[str],
        cores: Sequence[str],
        districts: Sequence[str | None],
    ) -> None:
        self.ids = list(ids)
        self.names = list(names)
        self.cores = list(cores)
        self.districts = list(districts)
        self._places: dict[int, frozenset[str]] = {}
        self._trades: dict[int, str] = {}
        self.exact: dict[str, list[int]] = {}
        for position, core in enumerate(self.cores):
            bucket = self.exact.get(core)
            if bucket is None:
                self.exact[core] = [position]
            else:
                bucket.append(position)
        lengths = np.fromiter((len(c) for c in self.cores), dtype=np.int64, count=len(self.cores))
        codes = np.frombuffer("".join(self.cores).encode("utf-32-le"), dtype=np.uint32)
        owner = np.repeat(np.arange(len(self.cores), dtype=np.int32), lengths)
        ends = np.cumsum(lengths)
        # a pair starts at every character but a core's last; a one-character core is a key
        starts = np.ones(len(codes), dtype=bool)
        starts[ends[lengths > 0] - 1] = False
        at = np.nonzero(starts)[0]
        keys = (codes[at].astype(np.uint64) << np.uint64(32)) | codes[at + 1].astype(np.uint64)
        single = ends[lengths == 1] - 1
        keys = np.concatenate([keys, codes[single].astype(np.uint64) << np.uint64(32)])
        positions = np.concatenate([owner[at], owner[single]])
        order = np.lexsort((positions, keys))
        keys, positions = keys[order], positions[order]
        if len(keys):
            distinct = np.ones(len(keys), dtype=bool)
            distinct[1:] = (keys[1:] != keys[:-1]) | (positions[1:] != positions[:-1])
            keys, positions = keys[distinct], positions[distinct]
        self._keys, first = np.unique(keys, return_index=True)
        self._first = first
        self._end = np.append(first[1:], len(keys))
        self._positions = positions
        # Each core's first two characters as one key, for the cores that begin with a prefix;
        # sorted when first needed (only short names ask).
        owners = np.nonzero(lengths >= 2)[0]
        begins = (ends - lengths)[owners]
        self._leading_keys = (codes[begins].astype(np.uint64) << np.uint64(32)) | codes[begins + 1]
        self._leading_owners = owners.astype(np.int32)
        self._leading_sorted = False

    def _by_leading_pair(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._leading_sorted:
            order = np.argsort(self._leading_keys, kind="stable")
            self._leading_keys = self._leading_keys[order]
            self._leading_owners = self._leading_owners[order]
            self._leading_sorted = True
        return self._leading_keys, self._leading_owners

    def posting(self, pair: str) -> np.ndarray | None:
        """Positions of the names containing a pair (or a one-character core)."""
        high = ord(pair[0])
        low = ord(pair[1]) if len(pair) > 1 else 0
        key = np.uint64((high << 32) | low)
        i = int(np.searchsorted(self._keys, key))
        if i == len(self._keys) or self._keys[i] != key:
            return None
        return self._positions[self._first[i] : self._end[i]]

    def beginning_with(self, prefix: str) -> np.ndarray:
        """Positions of the cores that begin with ``prefix`` (two characters or more)."""
        keys, owners = self._by_leading_pair()
        key = np.uint64((ord(prefix[0]) << 32) | ord(prefix[1]))
        low, high = np.searchsorted(keys, [key, key + np.uint64(1)])
        found = owners[low:high]
        if len(prefix) > 2:
            found = found[[self.cores[p].startswith(prefix) for p in found]]
        return found

    def trade(self, position: int) -> str:
        found = self._trades.get(position)
        if found is None:
            found = self._trades[position] = trade_name(self.cores[position])
        return found

    def places(self, position: int) -> frozenset[str]:
        found = self._places.get(position)
        if found is None:
            found = self._places[position] = name_places(self.names[position])
        return found

    def __len__(self) -> int:
        return len(self.ids)

    def candidates(self, core: str, limit: int = CANDIDATES) -> list[int]:
        """Positions of the names sharing the most of the query's rarest character pairs."""
        found = list(self.exact.get(core, ()))
        lists = sorted(
            (p for p in (self.posting(pair) for pair in pairs(core)) if p is not None), key=len
        )
        # The rarest pairs, as many as fit the budget (always the rarest one): a name's trade
        # name is usually rare, its industry words common; common lists cost time, not recall.
        chosen: list[np.ndarray] = []
        total = 0
        for posting in lists[:RARE_LISTS]:
            if chosen and total + len(posting) > READ_BUDGET:
                break
            chosen.append(posting)
            total += len(posting)
        if chosen:
            merged = np.concatenate(chosen) if len(chosen) > 1 else chosen[0]
            positions, hits = np.unique(merged, return_counts=True)
            if len(positions) > limit:
                keep = np.argpartition(-hits, limit)[:limit]
                positions = positions[keep]
            seen = set(found)
            found += [int(p) for p in positions if int(p) not in seen]
        return found


@dataclass(frozen=True)
class Query:
    core: str
    places: frozenset[str]
    branch: bool
    district: str | None
    trade: str = ""
    short: bool = False  # written without a legal form: a short name (简称)

    @classmethod
    def of(cls, raw_name: str, district: str | None = None) -> "Query":
        core = normalize_company_name(raw_name)
        return cls(
            core,
            name_places(raw_name),
            is_branch(raw_name),
            district,
            trade_name(core),
            not has_legal_form(raw_name),
        )


def score(
    query: "Query",
    name: str,
    core: str,
    district: str | None,
    places: frozenset[str] | None = None,
    trade: str | None = None,
) -> tuple[float, tuple[str, ...]]:
    """0–100 and what lowered it."""
    query_core, query_places, query_district = query.core, query.places, query.district
    if not query_core or not core:
        return 0.0, ()
    value = 100.0 if query_core == core else float(fuzz.ratio(query_core, core))
    reasons: list[str] = []
    # Only when both names say their trade name and then what they do.
    if value > DIFFERENT_TRADE_NAME_CAP and query.trade and query.trade != query_core:
        trade = trade_name(core) if trade is None else trade
        if trade != core and fuzz.ratio(query.trade, trade) < TRADE_NAME_MIN:
            value = DIFFERENT_TRADE_NAME_CAP
            reasons.append(f"字号不同：{query.trade} / {trade}")
    if query.branch != is_branch(name):
        value = min(value, BRANCH_CAP)
        reasons.append("一方为分支机构")
    places = name_places(name) if places is None else places
    if places_conflict(query_places, places):
        value = min(value, PLACE_CONFLICT_CAP)
        reasons.append(f"地名不同：{'、'.join(sorted(query_places))} / {'、'.join(sorted(places))}")
    if query_district and district and query_district != district:
        value -= DISTRICT_PENALTY
        reasons.append(f"所在区不同：{query_district} / {district}")
    return round(max(value, 0.0), 2), tuple(reasons)


def _candidate(index: LinkIndex, query: Query, position: int) -> Candidate:
    value, reasons = score(
        query,
        index.names[position],
        index.cores[position],
        index.districts[position],
        index.places(position),
    )
    return Candidate(
        position,
        index.ids[position],
        index.names[position],
        index.cores[position],
        value,
        reasons,
    )


def link(index: LinkIndex, raw_name: str, district: str | None = None, keep: int = 5) -> Verdict:
    """Where one list name belongs: auto-linked, for review (with its candidates), or new."""
    query = Query.of(raw_name, district)
    core = query.core
    scored = []
    for position in index.candidates(core):
        value, reasons = score(
            query,
            index.names[position],
            index.cores[position],
            index.districts[position],
            index.places(position),
        )
        if value >= REVIEW - 20:  # kept to show, even when not close enough to review
            scored.append(
                Candidate(
                    position,
                    index.ids[position],
                    index.names[position],
                    index.cores[position],
                    value,
                    reasons,
                )
            )
    scored.sort(key=lambda c: (-c.score, c.enterprise_id))
    shown = scored[:keep]
    if not shown or shown[0].score < REVIEW:
        return Verdict("new", core, shown)
    best = shown[0]
    runner_up = shown[1].score if len(shown) > 1 else 0.0
    if best.score >= AUTO and best.score - runner_up > AMBIGUOUS_MARGIN:
        if query.short and (namesakes := _namesakes(index, query, best)):
            others = "、".join(index.names[p] for p in namesakes)
            flagged = replace(
                best, reasons=(*best.reasons, f"简称，企业库中另有同字号的企业：{others}")
            )
            listed = {c.index for c in shown}
            extra = [_candidate(index, query, p) for p in namesakes if p not in listed]
            return Verdict("review", core, [flagged, *extra, *shown[1:]][:keep])
        return Verdict("auto", core, shown)
    return Verdict("review", core, shown)


def _namesakes(index: LinkIndex, query: Query, best: Candidate) -> list[int]:
    """Other enterprises of a short name's trade name (长电先进封装 for 长电科技: both 长电;
    not 新洁能 for 新洁新能源): the short name may mean any of them."""
    found: list[int] = []
    if len(query.trade) < 2:
        return found
    for position in index.beginning_with(query.trade):
        if index.cores[position] != best.normalized and index.trade(position) == query.trade:
            found.append(int(position))
            if len(found) == NAMESAKES_SHOWN:
                break
    return found

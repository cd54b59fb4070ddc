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

import heapq
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz

from service.lists.link_index import LinkIndex
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
SHOWN_FROM = REVIEW - 20  # candidates scoring this much are shown, even when not reviewed


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
    branch: bool | None = None,
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
    if query.branch != (is_branch(name) if branch is None else branch):
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
        # places conflict only when both names carry some: a query with none needs not read
        # the library name's
        index.places(position) if query.places else frozenset(),
        branch=index.branch(position),
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
    # A candidate's score is at most its core's ratio to the query's (what follows only lowers
    # it): candidates are scored best ratio first, until the rest can reach neither the
    # shown ones nor ``SHOWN_FROM``. Most are dismissed by the ratio alone.
    cutoff = SHOWN_FROM - 0.01  # rounding to two places may lift 54.996 to 55
    bounds = sorted(
        (
            (round(fuzz.ratio(core, index.cores[p], score_cutoff=cutoff), 2), index.ids[p], p)
            for p in index.candidates(core)
        ),
        key=lambda bound: (-bound[0], bound[1]),
    )
    scored: list[Candidate] = []
    kept: list[tuple[float, int]] = []  # (score, -id) of the ``keep`` best so far, worst first
    for bound, enterprise_id, position in bounds if keep > 0 else ():
        full = len(kept) == keep
        if bound < SHOWN_FROM or (full and bound < kept[0][0]):
            break
        if full and (bound, -enterprise_id) < kept[0]:
            continue  # at best a tie with the worst shown, of a larger id
        candidate = _candidate(index, query, position)
        if candidate.score >= SHOWN_FROM:
            scored.append(candidate)
            if len(kept) < keep:
                heapq.heappush(kept, (candidate.score, -enterprise_id))
            else:
                heapq.heappushpop(kept, (candidate.score, -enterprise_id))
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
    not 新洁能 for 新洁新能源): the short name may mean any of them. The first by enterprise
    id, when there are more."""
    if len(query.trade) < 2:
        return []
    found = [
        position
        for position in index.beginning_with(query.trade).tolist()
        if index.cores[position] != best.normalized and index.trade(position) == query.trade
    ]
    return sorted(found, key=lambda p: index.ids[p])[:NAMESAKES_SHOWN]

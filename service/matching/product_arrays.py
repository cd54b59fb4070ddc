"""One enterprise (with or without a need) against the catalogue, as the API's recommendations
and explanations ask: ``ProductArrays`` compiles the products once (per catalogue change) into
arrays and counts each product's failed gates for one enterprise with vectorised checks (the
count equals ``len(scoring.gates(e, need, p, on))``); ``score_one`` then calls
``scoring.score`` (with its explanations) only for the pairs failing at most
``config.near_miss_max_failures`` gates, so its results are those of the plain loop
(``score_plain``) for those products. Pure: no I/O."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np

from service.matching import scoring
from service.matching.enterprise_arrays import GRADE_MISSING, GRADE_RANK, rank_of_grade
from service.matching.results import Result
from service.matching.scoring import EnterpriseFacts, NeedFacts, ProductRules, ScoringConfig
from service.taxonomy.grades import grade_at_least, normalize_grade
from service.taxonomy.industry import code_matches


class ProductArrays:
    """The products compiled once (per catalogue change) for scoring one enterprise, with or
    without a need, at a time. ``failure_counts`` equals ``len(scoring.gates(e, need, p, on))``
    for every product."""

    def __init__(self, products: Sequence[ProductRules]) -> None:
        self.products = tuple(products)
        ps = self.products
        self._cache: dict[tuple[str, Any], np.ndarray] = {}

        def flags(fn: Callable[[ProductRules], Any]) -> np.ndarray:
            return np.array([bool(fn(p)) for p in ps], dtype=bool)

        def ints(fn: Callable[[ProductRules], int | None]) -> np.ndarray:
            return np.array([fn(p) or 0 for p in ps], dtype=np.int64)

        self.inactive = flags(lambda p: not p.active)
        self.has_from = flags(lambda p: p.effective_from)
        self.from_day = ints(lambda p: p.effective_from.toordinal() if p.effective_from else None)
        self.has_to = flags(lambda p: p.effective_to)
        self.to_day = ints(lambda p: p.effective_to.toordinal() if p.effective_to else None)
        self.has_clusters = flags(lambda p: p.clusters_included)
        self.has_tiers = flags(lambda p: p.tiers)
        self.has_sizes = flags(lambda p: p.size_classes)
        codes = sorted({c for p in ps for c in p.qualifications_any | p.qualifications_all})
        self.bit = {c: 1 << i for i, c in enumerate(codes)}
        self.has_any = flags(lambda p: p.qualifications_any)
        self.any_bits = self._bits(lambda p: p.qualifications_any)
        self.all_bits = self._bits(lambda p: p.qualifications_all)
        self.has_years = flags(lambda p: p.min_years_in_business)
        self.min_years = ints(lambda p: p.min_years_in_business)
        self.has_revenue_rule = flags(
            lambda p: p.revenue_min_fen is not None or p.revenue_max_fen is not None
        )
        self.has_revenue_min = flags(lambda p: p.revenue_min_fen is not None)
        self.revenue_min = ints(lambda p: p.revenue_min_fen)
        self.has_revenue_max = flags(lambda p: p.revenue_max_fen is not None)
        self.revenue_max = ints(lambda p: p.revenue_max_fen)
        self.has_grade = flags(lambda p: p.min_credit_grade)
        self.bad_grade = [
            p for p in ps if p.min_credit_grade and normalize_grade(p.min_credit_grade) is None
        ]
        self.min_rank = np.array(
            [GRADE_RANK.get(normalize_grade(p.min_credit_grade or "") or "", -1) for p in ps],
            dtype=np.int64,
        )
        self.has_districts = flags(lambda p: p.districts)
        self.wuxi_only = flags(lambda p: p.registered_in_wuxi)
        self.has_industries = flags(lambda p: p.industries_excluded)
        self.has_included = flags(lambda p: p.industries_included)
        self.has_regions = flags(lambda p: p.regions)
        self.has_ownership = flags(lambda p: p.ownership_types)
        self.needs_bridge = flags(lambda p: p.needs_committed_renewal)
        self.has_amount_min = flags(lambda p: p.amount_min_fen is not None)
        self.amount_min = ints(lambda p: p.amount_min_fen)
        self.has_amount_max = flags(lambda p: p.amount_max_fen is not None)
        self.amount_max = ints(lambda p: p.amount_max_fen)
        ranges = [p.term_months_range() for p in ps]
        self.term_low = np.array([np.nan if lo is None else lo for lo, _ in ranges], dtype=float)
        self.term_high = np.array([np.nan if hi is None else hi for _, hi in ranges], dtype=float)
        self.has_purposes = flags(lambda p: p.purposes)
        collateral = sorted({c for p in ps for c in p.collateral_types})
        self.collateral_bit = {c: 1 << i for i, c in enumerate(collateral)}
        self.has_collateral = flags(lambda p: not p.credit)
        self.collateral_bits = np.array(
            [sum(self.collateral_bit[c] for c in p.collateral_types) for p in ps], dtype=np.uint64
        )

    def __len__(self) -> int:
        return len(self.products)

    def _bits(self, fn: Callable[[ProductRules], frozenset[str]]) -> np.ndarray:
        return np.array([sum(self.bit[c] for c in fn(p)) for p in self.products], dtype=np.uint64)

    def _member(self, attribute: str, value: Any) -> np.ndarray:
        """Per product: ``value in p.<attribute>`` (cached per value)."""
        key = (attribute, value)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = np.array(
                [value in getattr(p, attribute) for p in self.products], dtype=bool
            )
        return hit

    def _per_product(
        self, key: tuple[str, Any], test: Callable[[ProductRules], bool]
    ) -> np.ndarray:
        """Per product: ``test(p)``, cached under ``key``."""
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = np.array([test(p) for p in self.products], dtype=bool)
        return hit

    def _excluded_industry(self, code: str) -> np.ndarray:
        return self._per_product(
            ("industries_excluded", code),
            lambda p: any(code_matches(code, s) for s in p.industries_excluded),
        )

    def _included_industry(self, code: str | None) -> np.ndarray:
        scope = code or ""
        return self._per_product(
            ("industries_included", code),
            lambda p: bool(scope) and any(code_matches(scope, s) for s in p.industries_included),
        )

    def _in_region(self, area_code: str | None) -> np.ndarray:
        return self._per_product(
            ("regions", area_code), lambda p: scoring._in_regions(area_code, p.regions)
        )

    def _accepts_purpose(self, accepted: frozenset[str]) -> np.ndarray:
        return self._per_product(("purposes", accepted), lambda p: bool(p.purposes & accepted))

    def candidates(
        self, e: EnterpriseFacts, need: NeedFacts | None, on: date, max_failures: int
    ) -> list[int]:
        """Indices of the products that fail at most ``max_failures`` gates, ascending."""
        return np.flatnonzero(self.failure_counts(e, need, on) <= max_failures).tolist()

    def failure_counts(self, e: EnterpriseFacts, need: NeedFacts | None, on: date) -> np.ndarray:
        """How many gates each product fails for ``e`` (and ``need``) on ``on``."""
        if e.credit_grade is not None and self.bad_grade:
            # scoring raises here too; do it the same way.
            grade_at_least(e.credit_grade, self.bad_grade[0].min_credit_grade or "")
        day = on.toordinal()
        count = self.inactive.astype(np.int8)
        if not e.in_service_area:
            count += 1
        count += self.has_from & (day < self.from_day)
        count += self.has_to & (day > self.to_day)
        count += self.has_clusters & ~self._member("clusters_included", e.cluster)
        if e.cluster:
            count += self._member("clusters_excluded", e.cluster)
        count += self.has_tiers & ~self._member("tiers", e.tier)
        count += self.has_sizes & ~self._member("size_classes", e.size_class)
        mask = np.uint64(sum(self.bit.get(c, 0) for c in e.valid_codes(on)))
        count += self.has_any & ((self.any_bits & mask) == 0)
        count += (self.all_bits & mask) != self.all_bits
        if e.established is None:
            count += self.has_years
        else:
            count += self.has_years & (scoring._years_between(e.established, on) < self.min_years)
        if e.revenue_fen is None:
            count += self.has_revenue_rule
        else:
            count += (self.has_revenue_min & (e.revenue_fen < self.revenue_min)) | (
                self.has_revenue_max & (e.revenue_fen >= self.revenue_max)
            )
        rank = rank_of_grade(e.credit_grade)
        count += self.has_grade & ((rank == GRADE_MISSING) | (rank > self.min_rank))
        count += self.has_districts & ~self._member("districts", e.district)
        if not e.registered_in_wuxi:
            count += self.wuxi_only
        count += self.has_regions & ~self._in_region(e.area_code)
        count += self.has_ownership & ~self._member("ownership_types", e.ownership)
        if e.industry_code:
            count += self.has_industries & self._excluded_industry(e.industry_code)
        count += self.has_included & ~self._included_industry(e.industry_code)
        if e.bridge != scoring.BRIDGE_COMMITTED:
            count += self.needs_bridge
        if need is not None:
            count += self.has_amount_min & (need.amount_fen < self.amount_min)
            count += self.has_amount_max & (need.amount_fen > self.amount_max)
            with np.errstate(invalid="ignore"):
                count += need.term_months < self.term_low
                count += need.term_months > self.term_high
            count += self.has_purposes & ~self._accepts_purpose(need.purposes_accepted_by)
            offered = np.uint64(sum(self.collateral_bit.get(c, 0) for c in need.collateral_offered))
            count += self.has_collateral & ((self.collateral_bits & offered) == 0)
        return count


def score_one(
    e: EnterpriseFacts,
    need: NeedFacts | None,
    catalogue: ProductArrays,
    on: date,
    config: ScoringConfig,
    names: dict[str, str] | None = None,
) -> list[Result]:
    """``scoring.score`` for every product of the catalogue that ``e`` (with ``need``) is
    eligible for or misses by at most ``config.near_miss_max_failures`` gates, in catalogue
    order; the others (which would be neither recommended nor explained) are left out. Each
    result is the one the plain loop gives for that product."""
    products = catalogue.products
    return [
        scoring.score(e, need, products[i], on, config, names)
        for i in catalogue.candidates(e, need, on, config.near_miss_max_failures)
    ]


def score_plain(
    e: EnterpriseFacts,
    need: NeedFacts | None,
    products: Sequence[ProductRules],
    on: date,
    config: ScoringConfig,
    names: dict[str, str] | None = None,
) -> list[Result]:
    """The plain loop: every product, eligible or not."""
    return [scoring.score(e, need, p, on, config, names) for p in products]

"""The catalogue against each input of the score, one distinct value at a time, for the batch
engine (``engine``). A *component* is one input of the enterprises (their (cluster, tier) pair,
size class, valid qualifications, industry: scored; their district, registration, years in
business, revenue, credit grade, ownership, region, service area, bridge-fund state: gates only)
with a table of every product's outcome on each of its distinct values: a contribution in
hundredths of a point, or -1 where a gate fails (a pass/fail for gate-only ones).

The rules here are those of ``scoring`` evaluated per value: factor values come from the factor
rules themselves (``factors``), gate conditions are written as in ``scoring.gates`` (profile
matching: no need), contributions are rounded with ``scoring.score``'s expression
(``contribution``), and revenue is cut into bins at the catalogue's thresholds. Pure: no I/O."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np

from service.matching import factors, scoring
from service.matching.enterprise_arrays import GRADE_MISSING, GRADE_RANK, EnterpriseArrays
from service.matching.scoring import EnterpriseFacts, Held, ProductRules, ScoringConfig
from service.taxonomy.grades import normalize_grade
from service.taxonomy.industry import code_matches


def contribution(config: ScoringConfig, name: str, value: float) -> int:
    # The expression of scoring.score, kept identical so that rounding is identical.
    return round(config.weights[name] * factors.clamp(value) * 100)


def product_open(p: ProductRules, on: date) -> bool:
    """The gates that depend on the product alone (active, effective dates)."""
    if not p.active:
        return False
    if p.effective_from and on < p.effective_from:
        return False
    return not (p.effective_to and on > p.effective_to)


def _min_rank(p: ProductRules) -> int:
    normal = normalize_grade(p.min_credit_grade or "")
    if normal is None:
        # scoring.gates raises for such a product as soon as an enterprise has a grade.
        raise ValueError(f"product {p.code}: unknown credit grade {p.min_credit_grade!r}")
    return GRADE_RANK[normal]


def _dummy_held(k: int, on: date) -> tuple[Held, ...]:
    return tuple(Held(f"\x00{i}", on, None) for i in range(k))


class Component:
    """One input of the score (or of the gates) with its distinct values among the enterprises:
    ``codes`` maps each enterprise to a value; ``table[p, v]`` is product p's outcome on value
    v (an int16 contribution, or -1 when a gate fails; or a bool pass for gate-only ones).
    With ``merge``, values that every product treats alike become one."""

    def __init__(self, codes: np.ndarray, table: np.ndarray, merge: bool = True) -> None:
        if merge and table.shape[1] > 1:
            columns = np.ascontiguousarray(table.T)
            rows = columns.view(np.dtype((np.void, columns.shape[1] * columns.itemsize)))
            _, first, inverse = np.unique(rows.reshape(-1), return_index=True, return_inverse=True)
            table = table[:, first]
            codes = inverse.reshape(-1).astype(np.int32)[codes]
        self.table = np.ascontiguousarray(table)
        self.codes = codes

    @property
    def size(self) -> int:
        return self.table.shape[1]


def distinct(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a small-domain integer column and each row's index among them."""
    if len(column) and column.dtype.kind in "iub":
        low, high = int(column.min()), int(column.max())
        if high - low < 1 << 22:
            shifted = column.astype(np.intp) - low
            present = np.bincount(shifted) > 0
            values = np.flatnonzero(present)
            remap = np.zeros(len(present), dtype=np.int32)
            remap[values] = np.arange(len(values), dtype=np.int32)
            return (values + low).astype(column.dtype), remap[shifted]
    values, inverse = np.unique(column, return_inverse=True)
    return values, inverse.reshape(-1).astype(np.int32)


def combine(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Combinations of several code columns that occur: (inverse per row, combos × columns)."""
    n = len(codes[0])
    key = np.zeros(n, dtype=np.int64)
    total = 1
    for c, s in zip(codes, sizes, strict=True):
        key = key * s + c
        total *= s
    if total <= 1 << 23:
        present = np.zeros(total, dtype=bool)
        present[key] = True
        values = np.flatnonzero(present)
        remap = np.zeros(total, dtype=np.int32)
        remap[values] = np.arange(len(values), dtype=np.int32)
        inverse = remap[key]
    else:
        values, found = np.unique(key, return_inverse=True)
        inverse = found.reshape(-1).astype(np.int32)
    parts = []
    rest = values
    for s in reversed(sizes):
        parts.append(rest % s)
        rest = rest // s
    return inverse, np.stack(parts[::-1], axis=1).astype(np.int32)


def _clusters(
    products: Sequence[ProductRules], a: EnterpriseArrays, config: ScoringConfig
) -> Component:
    pairs, codes = distinct(a.cluster.astype(np.int32) * len(a.tiers) + a.tier.astype(np.int32))
    values = [(a.clusters[v // len(a.tiers)], a.tiers[v % len(a.tiers)]) for v in pairs]
    facts = [EnterpriseFacts(0, cluster=c, tier=t) for c, t in values]
    table = np.empty((len(products), len(values)), dtype=np.int16)
    for i, p in enumerate(products):
        for k, (c, t) in enumerate(values):
            if (
                (p.clusters_included and c not in p.clusters_included)
                or (c and c in p.clusters_excluded)
                or (p.tiers and t not in p.tiers)
            ):
                table[i, k] = -1
            else:
                value = factors.sector_fit(facts[k], p, config, {})[0]
                table[i, k] = contribution(config, "sector", value)
    return Component(codes, table)


def _sizes(
    products: Sequence[ProductRules], a: EnterpriseArrays, config: ScoringConfig
) -> Component:
    present, codes = distinct(a.size_class)
    values = [a.size_classes[v] for v in present]
    table = np.empty((len(products), len(values)), dtype=np.int16)
    for i, p in enumerate(products):
        for k, s in enumerate(values):
            if p.size_classes and s not in p.size_classes:
                table[i, k] = -1
            else:
                value = factors.size_fit(EnterpriseFacts(0, size_class=s), p, config)[0]
                table[i, k] = contribution(config, "size", value)
    return Component(codes, table)


def _qualifications(
    products: Sequence[ProductRules], a: EnterpriseArrays, config: ScoringConfig
) -> Component:
    masks, codes = distinct(a.qualifications)
    counts = np.bitwise_count(masks).astype(np.int64)
    bit = {c: np.uint64(1 << i) for i, c in enumerate(a.qualification_codes)}
    zero = np.uint64(0)
    # The factor depends on the number of valid qualifications (and on the product).
    dummies = [
        EnterpriseFacts(0, qualifications=_dummy_held(k, a.on))
        for k in range(int(counts.max(initial=0)) + 1)
    ]
    table = np.empty((len(products), len(masks)), dtype=np.int16)
    for i, p in enumerate(products):
        by_count = np.array(
            [
                contribution(config, "qualification", factors.qualification_fit(d, p, a.on, {})[0])
                for d in dummies
            ],
            dtype=np.int16,
        )
        row = by_count[counts]
        if p.qualifications_any:
            wanted = sum((bit[c] for c in p.qualifications_any if c in bit), zero)
            row[(masks & wanted) == zero] = -1
        if p.qualifications_all:
            if any(c not in bit for c in p.qualifications_all):
                row[:] = -1  # nobody holds a code outside the vocabulary
            else:
                wanted = sum((bit[c] for c in p.qualifications_all), zero)
                row[(masks & wanted) != wanted] = -1
        table[i] = row
    return Component(codes, table)


def _categorical(
    products: Sequence[ProductRules],
    codes_column: np.ndarray,
    vocab: Sequence[Any],
    rule: Callable[[ProductRules], Any],
    passes: Callable[[ProductRules, Any], bool],
) -> Component:
    """A gate-only component; ``passes`` is asked only of products that have the ``rule``."""
    present, codes = distinct(codes_column)
    values = [vocab[v] for v in present]
    table = np.ones((len(products), len(values)), dtype=bool)
    for i, p in enumerate(products):
        if rule(p):
            table[i] = [passes(p, v) for v in values]
    return Component(codes, table)


def _districts(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    return _categorical(
        products,
        a.district,
        a.districts,
        lambda p: p.districts,
        lambda p, d: not (p.districts and d not in p.districts),
    )


def _wuxi(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    return _categorical(
        products,
        a.registered_in_wuxi.astype(np.int8),
        (False, True),
        lambda p: p.registered_in_wuxi,
        lambda p, w: not (p.registered_in_wuxi and not w),
    )


def _industries(
    products: Sequence[ProductRules], a: EnterpriseArrays, config: ScoringConfig
) -> Component:
    present, codes = distinct(a.industry)
    values = [a.industries[v] for v in present]
    facts = [EnterpriseFacts(0, industry_code=v) for v in values]
    table = np.empty((len(products), len(values)), dtype=np.int16)
    for i, p in enumerate(products):
        if not (p.industries_excluded or p.industries_included or p.industries_targeted):
            table[i] = contribution(config, "industry", factors.industry_fit(facts[0], p)[0])
            continue
        for k, code in enumerate(values):
            if (code and any(code_matches(code, s) for s in p.industries_excluded)) or (
                p.industries_included
                and not (code and any(code_matches(code, s) for s in p.industries_included))
            ):
                table[i, k] = -1
            else:
                value = factors.industry_fit(facts[k], p)[0]
                table[i, k] = contribution(config, "industry", value)
    return Component(codes, table)


def _ownerships(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    return _categorical(
        products,
        a.ownership,
        a.ownerships,
        lambda p: p.ownership_types,
        lambda p, o: o in p.ownership_types,
    )


def _regions(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    return _categorical(
        products,
        a.area_code,
        a.area_codes,
        lambda p: p.regions,
        lambda p, area: scoring._in_regions(area, p.regions),
    )


def _served(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    return _categorical(
        products, a.in_service_area.astype(np.int8), (False, True), lambda p: True, lambda p, s: s
    )


def _bridges(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    return _categorical(
        products,
        a.bridge,
        a.bridges,
        lambda p: p.needs_committed_renewal,
        lambda p, b: b == scoring.BRIDGE_COMMITTED,
    )


def _years(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    missing = np.int16(np.iinfo(np.int16).min)  # never a real number of years
    years = np.where(a.has_established, a.years_in_business, missing)
    present, codes = distinct(years.astype(np.int16))
    table = np.ones((len(products), len(present)), dtype=bool)
    for i, p in enumerate(products):
        if p.min_years_in_business:
            table[i] = (present != missing) & (present >= p.min_years_in_business)
    return Component(codes, table)


def _revenue(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    # Revenue enters the gates only through comparisons with the catalogue's thresholds:
    # cut it into bins between them (bin b holds thresholds[b-1] <= revenue < thresholds[b]),
    # and evaluate each bin on a representative.
    thresholds = sorted(
        {t for p in products for t in (p.revenue_min_fen, p.revenue_max_fen) if t is not None}
    )
    edges = np.array(thresholds, dtype=np.int64)
    bins = np.searchsorted(edges, a.revenue_fen, side="right").astype(np.int32)
    bins = np.where(a.has_revenue, bins + 1, 0)  # 0: unknown
    present, codes = distinct(bins.astype(np.int16))
    representative: list[int | None] = [
        None
        if b == 0
        else (thresholds[b - 2] if b >= 2 else (thresholds[0] - 1 if thresholds else 0))
        for b in present.tolist()
    ]

    def passes(p: ProductRules, r: int | None) -> bool:
        if p.revenue_min_fen is None and p.revenue_max_fen is None:
            return True
        if r is None:
            return False
        if p.revenue_min_fen is not None and r < p.revenue_min_fen:
            return False
        return not (p.revenue_max_fen is not None and r >= p.revenue_max_fen)

    table = np.array(
        [[passes(p, r) for r in representative] for p in products], dtype=bool
    ).reshape(len(products), len(representative))
    return Component(codes, table)


def _grades(products: Sequence[ProductRules], a: EnterpriseArrays) -> Component:
    present, codes = distinct(a.grade_rank)
    table = np.ones((len(products), len(present)), dtype=bool)
    for i, p in enumerate(products):
        if p.min_credit_grade:
            table[i] = (present != GRADE_MISSING) & (present <= _min_rank(p))
    return Component(codes, table)


def score_components(
    products: Sequence[ProductRules], a: EnterpriseArrays, config: ScoringConfig
) -> list[Component]:
    """The scored inputs: (cluster, tier), size class, valid qualifications, industry. Each
    table holds the factor's contribution, or -1 where one of its gates fails."""
    return [
        _clusters(products, a, config),
        _sizes(products, a, config),
        _qualifications(products, a, config),
        _industries(products, a, config),
    ]


def gate_components(products: Sequence[ProductRules], a: EnterpriseArrays) -> list[Component]:
    """The gate-only inputs, each table a pass/fail per product and value."""
    return [
        _districts(products, a),
        _wuxi(products, a),
        _years(products, a),
        _revenue(products, a),
        _grades(products, a),
        _ownerships(products, a),
        _regions(products, a),
        _served(products, a),
        _bridges(products, a),
    ]


def constant_scores(products: Sequence[ProductRules], config: ScoringConfig) -> np.ndarray:
    """The contributions that depend on the product alone (need, without a need; cost; policy),
    as a column (products × 1)."""
    return np.array(
        [
            contribution(config, "need", factors.need_fit(None, p)[0])
            + contribution(
                config, "cost", factors.cost_fit(factors.rate_bp(p, None, config), p, config)[0]
            )
            + contribution(config, "policy", factors.policy_fit(p, config)[0])
            for p in products
        ],
        dtype=np.int32,
    ).reshape(len(products), 1)

"""The batch matching engine: every enterprise of the library against every product of the
catalogue, vectorised with numpy, reproducing ``scoring.score(e, None, p, on, config)`` exactly
(profile matching: no need, so the amount / term / purpose / collateral gates are skipped, as
``scoring.gates`` skips them when need is None). Pure: no session, no I/O (the library's
arrays come from ``facts.load_enterprise_arrays`` or ``EnterpriseArrays.from_facts``).

How it stays fast and exact
---------------------------
Whether a pair is eligible, and its score, depend on the enterprise only through a few small
components: its (cluster, tier) pair, size class and valid qualifications (gates and factors),
and its district, registration, industry, years in business, revenue and credit grade (gates
only). For each component the engine evaluates every product on each *distinct value* of it
(a few dozen values; revenue is first cut into bins at the catalogue's thresholds) in Python
(``components``: the factor values come from the factor rules themselves (``factors``), the
gate conditions are written as in ``scoring.gates``, and contributions are rounded with the
same expression, ``round``, half to even). Values that every product treats alike are merged.
The scored components combine into *score classes* (same score from every product, or the
same failed gate), the gate-only ones into *gate classes* (same pass/fail for every product),
and each enterprise gets a *profile* = (score class, gate class): enterprises of one profile
are indistinguishable to every product. At 500,000 synthetic enterprises × 500 products there
are about 3,800 score classes, 1,900 gate classes and 140,000 profiles.

- An enterprise's top products: each score class ranks the products once (score desc, then
  product id, as ``scoring.rank``); each profile walks down its class's list, keeping the
  products its gate class passes, until it has K (about 22 steps per profile on average).
- A product's top prospects: walk its score classes from the best score down, a few levels at
  a time, keeping the profiles whose gate class passes, until K enterprises are reached; then
  the enterprises of those profiles are ordered (score desc, then enterprise id), the
  threshold level cut by enterprise id.

Memory: a few arrays the length of the library, tables of products × classes and the K-wide
result; never an enterprise × product matrix.

The library as arrays is ``enterprise_arrays``; one enterprise against the catalogue (the API's
recommendations) is ``product_arrays``."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from service.matching.components import (
    Component,
    combine,
    constant_scores,
    gate_components,
    product_open,
    score_components,
)
from service.matching.enterprise_arrays import EnterpriseArrays
from service.matching.scoring import ProductRules, ScoringConfig


class _Plan:
    """The catalogue compiled against one EnterpriseArrays: enterprises grouped into profiles,
    and for each product its score on each profile."""

    def __init__(
        self, arrays: EnterpriseArrays, products: Sequence[ProductRules], config: ScoringConfig
    ) -> None:
        on = arrays.on
        self.products = list(products)
        self.open = np.array([product_open(p, on) for p in self.products], dtype=bool)
        n_products = len(self.products)
        score_parts = score_components(self.products, arrays, config)
        gate_parts = gate_components(self.products, arrays)
        # Score part: the four factor components → one table of score or -1.
        inverse, combos = combine([c.codes for c in score_parts], [c.size for c in score_parts])
        constant = constant_scores(self.products, config)
        total = np.zeros((n_products, len(combos)), dtype=np.int32)
        failed = np.zeros((n_products, len(combos)), dtype=bool)
        for i, part in enumerate(score_parts):
            values = part.table[:, combos[:, i]]
            failed |= values < 0
            total += values
        table = np.where(failed, -1, total + constant).astype(np.int16)
        score = Component(inverse, table, merge=False)
        # Gate part: the pass/fail components → one pass table.
        inverse, combos = combine([c.codes for c in gate_parts], [c.size for c in gate_parts])
        table = np.ones((n_products, len(combos)), dtype=bool)
        for i, part in enumerate(gate_parts):
            table &= part.table[:, combos[:, i]]
        gate = Component(inverse, table, merge=False)
        # Profiles: the (score, gate) combinations that occur.
        self.profile_of, combos = combine([score.codes, gate.codes], [score.size, gate.size])
        self.profile_score = np.ascontiguousarray(combos[:, 0])
        self.profile_gate = np.ascontiguousarray(combos[:, 1])
        self.score_table = score.table  # products × score classes: score_centi, or -1
        self.score_table[~self.open] = -1
        self.gate_table = gate.table  # products × gate classes: all gate-only rules pass
        self.n_profiles = len(combos)
        # Enterprises grouped by profile (positions ascending within each), profiles grouped
        # by score class.
        self.members = np.bincount(self.profile_of, minlength=self.n_profiles).astype(np.int64)
        self.member_order = np.argsort(self.profile_of, kind="stable")
        self.member_start = np.cumsum(self.members) - self.members
        self.class_profiles = np.argsort(self.profile_score, kind="stable")
        per_class = np.bincount(self.profile_score, minlength=score.size).astype(np.int64)
        self.class_count = per_class
        self.class_start = np.cumsum(per_class) - per_class

    def scores(self, j: int) -> np.ndarray:
        """Product j's score on every profile (int16, -1 where a gate fails)."""
        s = np.take(self.score_table[j], self.profile_score)
        return np.where(np.take(self.gate_table[j], self.profile_gate), s, np.int16(-1))

    def top_products(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each profile's best k products (indices, scores), best first, ties by lower index.

        Within a score class every product's score is the same for all its profiles; rank the
        products of each class once, then walk each profile down its class's list, keeping
        the products whose gate-only rules it passes, until it has k."""
        n_products, n_classes = self.score_table.shape
        u = self.n_profiles
        top_p = np.full((u, k), -1, dtype=np.int32)
        top_s = np.full((u, k), -1, dtype=np.int16)
        if k == 0 or n_products == 0:
            return top_p, top_s
        small = np.int16 if n_products < 1 << 15 else np.int32  # halves a large catalogue's table
        ranked = np.empty((n_classes, n_products), dtype=small)
        for lo in range(0, n_classes, 4096):  # bounded temporaries for large catalogues
            block = self.score_table[:, lo : lo + 4096].T.astype(np.int32)
            key = np.where(block >= 0, 10_001 - block, 20_000)
            ranked[lo : lo + 4096] = np.argsort(key, axis=1, kind="stable")
        length = (self.score_table >= 0).sum(axis=0)
        ranked_flat = ranked.reshape(-1)
        gates_flat = self.gate_table.reshape(-1)
        scores_flat = self.score_table.reshape(-1)
        n_gates = self.gate_table.shape[1]
        found = np.zeros(u, dtype=np.int32)
        active = np.flatnonzero(length[self.profile_score] > 0)
        for step in range(n_products):
            if not active.size:
                break
            classes = self.profile_score[active].astype(np.intp)
            product = ranked_flat[classes * n_products + step].astype(np.intp)
            passing = gates_flat[product * n_gates + self.profile_gate[active]]
            winners = active[passing]
            slot = found[winners]
            top_p[winners, slot] = product[passing]
            top_s[winners, slot] = scores_flat[product[passing] * n_classes + classes[passing]]
            found[winners] += 1
            active = active[(found[active] < k) & (step + 1 < length[classes])]
        return top_p, top_s

    def prospects(self, j: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Product j's best k enterprises (positions, scores), best first, ties by lower
        position. Walks the score classes from the best score down, a few levels at a time,
        until k enterprises pass the gates; every enterprise at the last level is considered."""
        empty = np.zeros(0, np.int64), np.zeros(0, np.int16)
        row = self.score_table[j]
        classes = np.flatnonzero(row >= 0)
        if not classes.size or k == 0:
            return empty
        descending = -row[classes].astype(np.int32)
        order = np.argsort(descending, kind="stable")
        classes, descending = classes[order], descending[order]
        gate_row = self.gate_table[j]
        profiles: list[np.ndarray] = []
        total, start, chunk = 0, 0, 16
        while start < len(classes) and total < k:
            end = min(len(classes), start + chunk)
            end = int(np.searchsorted(descending, descending[end - 1], side="right"))
            group = classes[start:end]
            found = _gather(self.class_profiles, self.class_start, self.class_count[group], group)
            found = found[np.take(gate_row, self.profile_gate[found])]
            profiles.append(found)
            total += int(self.members[found].sum())
            start, chunk = end, chunk * 4
        chosen = np.concatenate(profiles)
        return self._best(chosen, np.take(row, self.profile_score[chosen]), k)

    def _best(
        self, profiles: np.ndarray, scores: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best k enterprises of the given profiles (every enterprise scoring at least the
        k-th best one's score is in them)."""
        if not profiles.size:
            return np.zeros(0, np.int64), np.zeros(0, np.int16)
        counts = self.members[profiles]
        per_level = np.bincount(scores, weights=counts)
        from_top = np.cumsum(per_level[::-1])
        reached = int(np.searchsorted(from_top, k))  # first level, from the top, reaching k
        threshold = len(per_level) - 1 - reached if reached < len(from_top) else 0
        above = profiles[scores > threshold]
        level = profiles[scores == threshold]
        lens = self.members[above]
        pos = _gather(self.member_order, self.member_start, lens, above)
        pos_s = np.repeat(scores[scores > threshold], lens)
        ranked = np.lexsort((pos, -pos_s.astype(np.int32)))
        wanted = k - len(pos)
        tail = np.zeros(0, dtype=np.int64)
        if wanted > 0 and level.size:
            limit = np.minimum(self.members[level], wanted)
            if int(limit.sum()) > len(self.profile_of) // 8:
                in_level = np.zeros(self.n_profiles, dtype=bool)
                in_level[level] = True
                tail = np.flatnonzero(in_level[self.profile_of])[:wanted]
            else:
                tail = np.sort(_gather(self.member_order, self.member_start, limit, level))
                tail = tail[:wanted]
        positions = np.concatenate((pos[ranked], tail)).astype(np.int64)
        out = np.concatenate((pos_s[ranked], np.full(len(tail), threshold))).astype(np.int16)
        return positions, out


# --- the batch run ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Matches:
    """The kept matches of a batch run.

    ``top_products[i]`` / ``top_scores[i]``: enterprise i's best products (indices into
    ``product_ids``) and their scores, best first (ties: lower product id); -1 pads an
    enterprise with fewer eligible products than K. ``prospects[j]``: product j's best
    enterprises as (positions into ``enterprise_ids``, scores), best first (ties: lower
    enterprise id)."""

    enterprise_ids: np.ndarray  # (n,) int64
    product_ids: np.ndarray  # (P,) int64, ascending
    top_products: np.ndarray  # (n, K) int32
    top_scores: np.ndarray  # (n, K) int16
    prospects: tuple[tuple[np.ndarray, np.ndarray], ...]
    scores: dict[int, np.ndarray] = field(default_factory=dict)  # product id → (n,) int16

    def rows(self) -> dict[str, np.ndarray]:
        """Every kept pair once: enterprise_id, product_id, score_centi, enterprise_rank and
        product_rank (0 where the pair is not kept for that side). The enterprises' rows come
        first (by enterprise, best first), then the pairs kept only as prospects."""
        n, k = self.top_products.shape
        flat = np.flatnonzero(self.top_products.reshape(-1) >= 0)  # cells of the n × K grid
        position = flat // max(k, 1)
        product = self.top_products.reshape(-1)[flat].astype(np.int64)
        score = self.top_scores.reshape(-1)[flat]
        enterprise_rank = (flat % max(k, 1) + 1).astype(np.int32)
        product_rank = np.zeros(len(flat), dtype=np.int32)
        row_of = np.full(n * k, -1, dtype=np.int32 if n * k < 1 << 31 else np.int64)
        row_of[flat] = np.arange(len(flat))
        extra: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        for j, (pos, s) in enumerate(self.prospects):
            rank = np.arange(1, len(pos) + 1, dtype=np.int32)
            if k and len(pos):
                hit = self.top_products[pos] == j  # is the product in the enterprise's list?
                found = hit.any(axis=1)
                slot = hit.argmax(axis=1)
                product_rank[row_of[pos[found] * k + slot[found]]] = rank[found]
                pos, s, rank = pos[~found], s[~found], rank[~found]
            extra.append((pos, j, s, rank))
        position = np.concatenate([position, *(e[0] for e in extra)])
        product = np.concatenate([product, *(np.full(len(e[0]), e[1], np.int64) for e in extra)])
        return {
            "enterprise_id": self.enterprise_ids[position],
            "product_id": self.product_ids[product],
            "score_centi": np.concatenate([score, *(e[2] for e in extra)]).astype(np.int16),
            "enterprise_rank": np.concatenate(
                [enterprise_rank, *(np.zeros(len(e[0]), np.int32) for e in extra)]
            ),
            "product_rank": np.concatenate([product_rank, *(e[3] for e in extra)]),
        }


def _sorted_products(products: Sequence[ProductRules]) -> list[ProductRules]:
    ordered = sorted(products, key=lambda p: p.id)
    ids = [p.id for p in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate product ids")
    return ordered


def match_all(
    arrays: EnterpriseArrays,
    products: Sequence[ProductRules],
    config: ScoringConfig,
    *,
    progress: Callable[[int], None] | None = None,
    scores_for: Sequence[int] = (),
) -> Matches:
    """Score every (enterprise, product) pair of ``arrays`` × ``products`` on ``arrays.on``
    without a need; keep each enterprise's top ``config.top_per_enterprise`` products and each
    product's top ``config.top_per_product`` enterprises. ``progress(j)`` is called after each
    product's prospects are picked. For the product ids in ``scores_for``, also every
    enterprise's score (-1 where ineligible)."""
    ordered = _sorted_products(products)
    n = len(arrays)
    k_e = max(0, config.top_per_enterprise)
    k_p = max(0, config.top_per_product)
    product_ids = np.array([p.id for p in ordered], dtype=np.int64)
    if n == 0 or not ordered:
        return Matches(
            arrays.ids,
            product_ids,
            np.full((n, k_e), -1, dtype=np.int32),
            np.full((n, k_e), -1, dtype=np.int16),
            tuple((np.zeros(0, np.int64), np.zeros(0, np.int16)) for _ in ordered),
        )
    plan = _Plan(arrays, ordered, config)
    top_p, top_s = plan.top_products(k_e)
    prospects = []
    for j in range(len(ordered)):
        prospects.append(plan.prospects(j, k_p))
        if progress is not None:
            progress(j)
    wanted = set(scores_for)
    return Matches(
        arrays.ids,
        product_ids,
        top_p[plan.profile_of],
        top_s[plan.profile_of],
        tuple(prospects),
        {p.id: plan.scores(j)[plan.profile_of] for j, p in enumerate(ordered) if p.id in wanted},
    )


def _gather(
    flat: np.ndarray, starts: np.ndarray, lens: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Concatenate ``flat[starts[g] : starts[g] + lens[i]]`` for the i-th group g."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=flat.dtype)
    ends = np.cumsum(lens)
    index = np.repeat(starts[groups] - (ends - lens), lens) + np.arange(total)
    return flat[index]


def score_matrix(
    arrays: EnterpriseArrays, products: Sequence[ProductRules], config: ScoringConfig
) -> np.ndarray:
    """Every pair's score_centi (-1 where ineligible), enterprises × products in the order
    given. Materialises the matrix: for a handful of enterprises (incremental rematch)."""
    out = np.full((len(arrays), len(products)), -1, dtype=np.int16)
    if not len(arrays) or not products:
        return out
    plan = _Plan(arrays, list(products), config)
    for j in range(len(products)):
        out[:, j] = plan.scores(j)[plan.profile_of]
    return out

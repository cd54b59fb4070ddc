"""The batch matching engine: every enterprise of the library against every product of the
catalogue, vectorised with numpy, reproducing ``scoring.score(e, None, p, on, config)`` exactly
(profile matching: no need, so the amount / term / purpose / collateral gates are skipped, as
``scoring.gates`` skips them when need is None). Pure: no session, no I/O except the one loader
that reads the enterprise columns (``load_enterprise_arrays``).

How it stays fast and exact
---------------------------
Whether a pair is eligible, and its score, depend on the enterprise only through a few small
components: its (cluster, tier) pair, size class and valid qualifications (gates and factors),
and its district, registration, industry, years in business, revenue and credit grade (gates
only). For each component the engine evaluates every product on each *distinct value* of it
(a few dozen values; revenue is first cut into bins at the catalogue's thresholds) in Python:
the factor values come from the factor functions of ``scoring`` themselves, the gate
conditions are written as in ``scoring.gates``, and contributions are rounded with the same
expression (``round``, half to even). Values that every product treats alike are merged. The
three scored components combine into *score classes* (same score from every product, or the
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

One enterprise against the catalogue (the API's recommendations): ``ProductArrays`` counts each
product's failed gates for one enterprise (and need) with vectorised checks over the products,
and ``score_one`` calls ``scoring.score`` only for the pairs failing at most
``config.near_miss_max_failures`` gates, so its results are those of the plain loop for those
products."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from service.matching import scoring
from service.matching.scoring import (
    EnterpriseFacts,
    Held,
    NeedFacts,
    ProductRules,
    Result,
    ScoringConfig,
    in_service_area,
)
from service.taxonomy.grades import CREDIT_GRADES, grade_at_least, normalize_grade
from service.taxonomy.industry import code_matches

# Rank of a missing or unrecognised credit grade: it meets no minimum (grade_at_least is False).
GRADE_MISSING = len(CREDIT_GRADES)
_GRADE_RANK = {g: i for i, g in enumerate(CREDIT_GRADES)}
MAX_QUALIFICATION_CODES = 64  # one bit each in a uint64


def _grade_rank(grade: str | None) -> int:
    if grade is None:
        return GRADE_MISSING
    normal = normalize_grade(grade)
    return GRADE_MISSING if normal is None else _GRADE_RANK[normal]


def _contribution(config: ScoringConfig, name: str, value: float) -> int:
    # The expression of scoring.score, kept identical so that rounding is identical.
    return round(config.weights[name] * scoring._clamp(value) * 100)


class _Vocab:
    """Codes of a categorical column: index 0 is None."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self.values: list[Any] = [None]
        self.index: dict[Any, int] = {None: 0}
        for v in values:
            self(v)

    def __call__(self, value: Any) -> int:
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.values)
            self.values.append(value)
        return i


# --- enterprises as arrays -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EnterpriseArrays:
    """The library as a struct of arrays, in ascending id order, evaluated on one day ``on``.

    Categorical columns hold indices into their vocabulary tuple (index 0 is None);
    ``qualifications`` has bit i set when ``qualification_codes[i]`` is valid on ``on``;
    ``years_in_business`` is ``scoring._years_between(established, on)`` (0 when unknown);
    ``grade_rank`` is the index in CREDIT_GRADES (GRADE_MISSING when missing or unrecognised)."""

    on: date
    ids: np.ndarray  # int64
    cluster: np.ndarray  # int16
    tier: np.ndarray  # int16
    size_class: np.ndarray  # int16
    district: np.ndarray  # int16
    industry: np.ndarray  # int16
    ownership: np.ndarray  # int16
    area_code: np.ndarray  # int16
    bridge: np.ndarray  # int16
    registered_in_wuxi: np.ndarray  # bool
    in_service_area: np.ndarray  # bool
    qualifications: np.ndarray  # uint64
    years_in_business: np.ndarray  # int16
    has_established: np.ndarray  # bool
    revenue_fen: np.ndarray  # int64
    has_revenue: np.ndarray  # bool
    grade_rank: np.ndarray  # int8
    clusters: tuple[str | None, ...]
    tiers: tuple[str | None, ...]
    size_classes: tuple[str | None, ...]
    districts: tuple[str | None, ...]
    industries: tuple[str | None, ...]
    ownerships: tuple[str | None, ...]
    area_codes: tuple[str | None, ...]
    bridges: tuple[str | None, ...]
    qualification_codes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_facts(
        cls,
        facts: Sequence[EnterpriseFacts],
        on: date,
        qualification_codes: Sequence[str] = (),
    ) -> "EnterpriseArrays":
        """From scoring's inputs (tests, small batches). ``qualification_codes`` fixes the bit
        order; codes held but not listed get the next bits."""
        ordered = sorted(facts, key=lambda f: f.id)
        columns = _Columns(on, qualification_codes)
        if ordered:
            columns.extend(
                [f.id for f in ordered],
                [f.cluster for f in ordered],
                [f.tier for f in ordered],
                [f.size_class for f in ordered],
                [f.district for f in ordered],
                [f.industry_code for f in ordered],
                [f.ownership for f in ordered],
                [f.area_code for f in ordered],
                [f.bridge for f in ordered],
                [f.registered_in_wuxi for f in ordered],
                [f.in_service_area for f in ordered],
                [columns.bits(f.valid_codes(on)) for f in ordered],
                [f.established for f in ordered],
                [f.revenue_fen for f in ordered],
                [f.credit_grade for f in ordered],
            )
        return columns.build()

    def subset(self, positions: np.ndarray) -> "EnterpriseArrays":
        """The enterprises at ``positions`` (ascending), with the same vocabularies."""
        take = {name: getattr(self, name)[positions] for name in _ARRAY_FIELDS}
        return EnterpriseArrays(
            on=self.on,
            clusters=self.clusters,
            tiers=self.tiers,
            size_classes=self.size_classes,
            districts=self.districts,
            industries=self.industries,
            ownerships=self.ownerships,
            area_codes=self.area_codes,
            bridges=self.bridges,
            qualification_codes=self.qualification_codes,
            **take,
        )

    @classmethod
    def concat(cls, parts: Sequence["EnterpriseArrays"]) -> "EnterpriseArrays":
        """Join arrays built separately (on the same day, ids not overlapping), remapping their
        vocabularies onto common ones."""
        if not parts:
            raise ValueError("nothing to concatenate")
        on = parts[0].on
        if any(p.on != on for p in parts):
            raise ValueError("arrays evaluated on different days")
        vocabs = {name: _Vocab() for name in _VOCAB_OF.values()}
        codes: list[str] = []
        for p in parts:
            codes.extend(c for c in p.qualification_codes if c not in codes)
        if len(codes) > MAX_QUALIFICATION_CODES:
            raise ValueError(f"more than {MAX_QUALIFICATION_CODES} qualification types")
        merged: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAY_FIELDS}
        for p in parts:
            for name in _ARRAY_FIELDS:
                column = getattr(p, name)
                if name in _VOCAB_OF:
                    vocab = vocabs[_VOCAB_OF[name]]
                    remap = np.array(
                        [vocab(v) for v in getattr(p, _VOCAB_OF[name])], dtype=np.int16
                    )
                    column = remap[column]
                elif name == "qualifications":
                    column = _remap_bits(column, p.qualification_codes, codes)
                merged[name].append(column)
        ids = np.concatenate(merged["ids"])
        order = np.argsort(ids, kind="stable")
        if len(ids) > 1 and np.any(ids[order][1:] == ids[order][:-1]):
            raise ValueError("duplicate enterprise ids")
        return EnterpriseArrays(
            on=on,
            qualification_codes=tuple(codes),
            **{name: np.concatenate(merged[name])[order] for name in _ARRAY_FIELDS},
            **{field: tuple(vocabs[field].values) for field in _VOCAB_OF.values()},
        )


_ARRAY_FIELDS = (
    "ids",
    "cluster",
    "tier",
    "size_class",
    "district",
    "industry",
    "ownership",
    "area_code",
    "bridge",
    "registered_in_wuxi",
    "in_service_area",
    "qualifications",
    "years_in_business",
    "has_established",
    "revenue_fen",
    "has_revenue",
    "grade_rank",
)
_VOCAB_OF = {
    "cluster": "clusters",
    "tier": "tiers",
    "size_class": "size_classes",
    "district": "districts",
    "industry": "industries",
    "ownership": "ownerships",
    "area_code": "area_codes",
    "bridge": "bridges",
}


def _remap_bits(masks: np.ndarray, old: Sequence[str], new: Sequence[str]) -> np.ndarray:
    if list(old) == list(new[: len(old)]):
        return masks
    out = np.zeros_like(masks)
    for i, code in enumerate(old):
        j = new.index(code)
        out |= ((masks >> np.uint64(i)) & np.uint64(1)) << np.uint64(j)
    return out


class _Columns:
    """Builds EnterpriseArrays a chunk of rows at a time (from facts, or from the database)."""

    def __init__(self, on: date, qualification_codes: Sequence[str]) -> None:
        self.on = on
        self.codes = list(dict.fromkeys(qualification_codes))
        self.bit = {c: 1 << i for i, c in enumerate(self.codes)}
        self.vocabs = {name: _Vocab() for name in _VOCAB_OF}
        self.years: dict[date, int] = {}  # by established date, on ``on``
        self.grades: dict[str | None, int] = {}  # rank by grade as stored
        self.chunks: list[dict[str, np.ndarray]] = []

    def bits(self, codes: Iterable[str]) -> int:
        mask = 0
        for code in codes:
            bit = self.bit.get(code)
            if bit is None:
                if len(self.codes) >= MAX_QUALIFICATION_CODES:
                    raise ValueError(f"more than {MAX_QUALIFICATION_CODES} qualification types")
                bit = self.bit[code] = 1 << len(self.codes)
                self.codes.append(code)
            mask |= bit
        return mask

    def _codes(self, name: str, values: Sequence[Any]) -> np.ndarray:
        vocab = self.vocabs[name]
        for v in dict.fromkeys(values):  # first-seen order: the same codes however chunked
            vocab(v)
        index = vocab.index
        return np.array([index[v] for v in values], dtype=np.int16)

    def extend(
        self,
        ids: Sequence[int],
        cluster: Sequence[str | None],
        tier: Sequence[str | None],
        size_class: Sequence[str | None],
        district: Sequence[str | None],
        industry: Sequence[str | None],
        ownership: Sequence[str | None],
        area_code: Sequence[str | None],
        bridge: Sequence[str | None],
        registered_in_wuxi: Sequence[bool],
        in_service_area: Sequence[bool],
        qualifications: Sequence[int],
        established: Sequence[date | None],
        revenue_fen: Sequence[int | None],
        credit_grade: Sequence[str | None],
    ) -> None:
        """Add a chunk of enterprises, one sequence per column (``qualifications``: masks from
        ``bits``)."""
        years, grades = self.years, self.grades
        for day in set(established):
            if day is not None and day not in years:
                years[day] = scoring._years_between(day, self.on)
        for grade in set(credit_grade):
            if grade not in grades:
                grades[grade] = _grade_rank(grade)
        self.chunks.append(
            {
                "ids": np.array(ids, dtype=np.int64),
                "cluster": self._codes("cluster", cluster),
                "tier": self._codes("tier", tier),
                "size_class": self._codes("size_class", size_class),
                "district": self._codes("district", district),
                "industry": self._codes("industry", industry),
                "ownership": self._codes("ownership", ownership),
                "area_code": self._codes("area_code", area_code),
                "bridge": self._codes("bridge", bridge),
                "registered_in_wuxi": np.array([bool(w) for w in registered_in_wuxi], bool),
                "in_service_area": np.array([bool(w) for w in in_service_area], bool),
                "qualifications": np.array(qualifications, dtype=np.uint64),
                "years_in_business": np.array(
                    [0 if d is None else years[d] for d in established], dtype=np.int16
                ),
                "has_established": np.array([d is not None for d in established], dtype=bool),
                "revenue_fen": np.array(
                    [0 if r is None else r for r in revenue_fen], dtype=np.int64
                ),
                "has_revenue": np.array([r is not None for r in revenue_fen], dtype=bool),
                "grade_rank": np.array([grades[g] for g in credit_grade], dtype=np.int8),
            }
        )

    def build(self) -> EnterpriseArrays:
        columns = {
            name: np.concatenate([c[name] for c in self.chunks])
            if self.chunks
            else np.zeros(0, dtype=_DTYPES[name])
            for name in _ARRAY_FIELDS
        }
        ids = columns["ids"]
        if len(ids) > 1 and np.any(np.diff(ids) <= 0):
            raise ValueError("enterprise ids must be unique and ascending")
        return EnterpriseArrays(
            on=self.on,
            **columns,
            **{field: tuple(self.vocabs[name].values) for name, field in _VOCAB_OF.items()},
            qualification_codes=tuple(self.codes),
        )


_DTYPES = {
    "ids": np.int64,
    **dict.fromkeys(_VOCAB_OF, np.int16),
    "registered_in_wuxi": bool,
    "in_service_area": bool,
    "qualifications": np.uint64,
    "years_in_business": np.int16,
    "has_established": bool,
    "revenue_fen": np.int64,
    "has_revenue": bool,
    "grade_rank": np.int8,
}


def load_enterprise_arrays(
    conn: Connection,
    on: date,
    *,
    service_area: Sequence[str],
    bridge: Mapping[int, str] | None = None,
    chunk_size: int = 50_000,
) -> EnterpriseArrays:
    """Every enterprise of the library, read column by column in chunks (no ORM objects), with
    its qualifications valid on ``on`` and its cluster's tier; ``service_area`` is the
    area-code prefixes served, ``bridge`` the enterprises' bridge-fund states. Same result as
    ``EnterpriseArrays.from_facts(facts.enterprise_facts(...), on, codes)`` with the codes of
    the qualification_type table."""
    from service.enterprises.models import Enterprise, Qualification
    from service.taxonomy.models import Cluster, QualificationType

    tier_of = {code: str(tier) for code, tier in conn.execute(select(Cluster.code, Cluster.tier))}
    codes = list(
        conn.execute(
            select(QualificationType.code).order_by(
                QualificationType.sort_order, QualificationType.code
            )
        ).scalars()
    )
    columns = _Columns(on, codes)
    e = Enterprise.__table__.c  # type: ignore[attr-defined]
    q = Qualification.__table__.c  # type: ignore[attr-defined]
    page = (
        select(
            e.id,
            e.cluster_code,
            e.size_class,
            e.district_code,
            e.industry_code,
            e.ownership,
            e.registered_area_code,
            e.registered_in_wuxi,
            e.established_date,
            e.revenue_fen,
            e.credit_grade,
        )
        .order_by(e.id)
        .limit(chunk_size)
    )
    valid = select(q.enterprise_id, q.type_code).where(
        q.issued_date <= on, (q.expires_date.is_(None)) | (q.expires_date >= on)
    )
    last: int | None = None
    while True:
        # Keyset pages: one round trip per chunk, memory bounded by the chunk.
        rows = conn.execute(page if last is None else page.where(e.id > last)).all()
        if not rows:
            break
        (
            ids,
            cluster,
            size,
            district,
            industry,
            ownership,
            area,
            wuxi,
            established,
            revenue,
            grade,
        ) = zip(*rows, strict=True)
        states = bridge or {}
        masks = np.zeros(len(ids), dtype=np.uint64)
        held = conn.execute(valid.where(q.enterprise_id >= ids[0], q.enterprise_id <= ids[-1]))
        held = held.all()
        if held:
            holders, type_codes = zip(*held, strict=True)
            columns.bits(set(type_codes))  # a code outside the table gets a bit too
            bits = np.array([columns.bit[c] for c in type_codes], dtype=np.uint64)
            at = np.searchsorted(np.array(ids, dtype=np.int64), np.array(holders, np.int64))
            np.bitwise_or.at(masks, at, bits)
        columns.extend(
            ids,
            cluster,
            [tier_of.get(c or "") for c in cluster],
            size,
            district,
            industry,
            ownership,
            area,
            [states.get(i) for i in ids],
            wuxi,
            [in_service_area(a, service_area) for a in area],
            masks,
            established,
            revenue,
            grade,
        )
        last = ids[-1]
    return columns.build()


# --- the catalogue compiled against the library --------------------------------------------


def _product_open(p: ProductRules, on: date) -> bool:
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
    return _GRADE_RANK[normal]


def _dummy_held(k: int, on: date) -> tuple[Held, ...]:
    return tuple(Held(f"\x00{i}", on, None) for i in range(k))


class _Component:
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


def _distinct(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _combine(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
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
        values, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.reshape(-1).astype(np.int32)
    parts = []
    rest = values
    for s in reversed(sizes):
        parts.append(rest % s)
        rest = rest // s
    return inverse, np.stack(parts[::-1], axis=1).astype(np.int32)


class _Plan:
    """The catalogue compiled against one EnterpriseArrays: enterprises grouped into profiles,
    and for each product its score on each profile."""

    def __init__(
        self, arrays: EnterpriseArrays, products: Sequence[ProductRules], config: ScoringConfig
    ) -> None:
        on = arrays.on
        self.products = list(products)
        self.open = np.array([_product_open(p, on) for p in self.products], dtype=bool)
        n_products = len(self.products)
        score_parts = [
            self._clusters(arrays, config),
            self._sizes(arrays, config),
            self._qualifications(arrays, config),
            self._industries(arrays, config),
        ]
        gate_parts = [
            self._districts(arrays),
            self._wuxi(arrays),
            self._years(arrays),
            self._revenue(arrays),
            self._grades(arrays),
            self._ownerships(arrays),
            self._regions(arrays),
            self._served(arrays),
            self._bridges(arrays),
        ]
        # Score part: the four factor components → one table of score or -1.
        inverse, combos = _combine([c.codes for c in score_parts], [c.size for c in score_parts])
        constant = np.array(
            [
                _contribution(config, "need", scoring._need(None, p)[0])
                + _contribution(
                    config, "cost", scoring._cost(scoring.rate_bp(p, None, config), p, config)[0]
                )
                + _contribution(config, "policy", scoring._policy(p, config)[0])
                for p in self.products
            ],
            dtype=np.int32,
        ).reshape(n_products, 1)
        total = np.zeros((n_products, len(combos)), dtype=np.int32)
        failed = np.zeros((n_products, len(combos)), dtype=bool)
        for i, part in enumerate(score_parts):
            values = part.table[:, combos[:, i]]
            failed |= values < 0
            total += values
        table = np.where(failed, -1, total + constant).astype(np.int16)
        score = _Component(inverse, table, merge=False)
        # Gate part: the pass/fail components → one pass table.
        inverse, combos = _combine([c.codes for c in gate_parts], [c.size for c in gate_parts])
        table = np.ones((n_products, len(combos)), dtype=bool)
        for i, part in enumerate(gate_parts):
            table &= part.table[:, combos[:, i]]
        gate = _Component(inverse, table, merge=False)
        # Profiles: the (score, gate) combinations that occur.
        self.profile_of, combos = _combine([score.codes, gate.codes], [score.size, gate.size])
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

    # components ------------------------------------------------------------------------

    def _clusters(self, a: EnterpriseArrays, config: ScoringConfig) -> _Component:
        pairs, codes = _distinct(
            a.cluster.astype(np.int32) * len(a.tiers) + a.tier.astype(np.int32)
        )
        values = [(a.clusters[v // len(a.tiers)], a.tiers[v % len(a.tiers)]) for v in pairs]
        facts = [EnterpriseFacts(0, cluster=c, tier=t) for c, t in values]
        table = np.empty((len(self.products), len(values)), dtype=np.int16)
        for i, p in enumerate(self.products):
            for k, (c, t) in enumerate(values):
                if (
                    (p.clusters_included and c not in p.clusters_included)
                    or (c and c in p.clusters_excluded)
                    or (p.tiers and t not in p.tiers)
                ):
                    table[i, k] = -1
                else:
                    value = scoring._sector(facts[k], p, config, {})[0]
                    table[i, k] = _contribution(config, "sector", value)
        return _Component(codes, table)

    def _sizes(self, a: EnterpriseArrays, config: ScoringConfig) -> _Component:
        present, codes = _distinct(a.size_class)
        values = [a.size_classes[v] for v in present]
        table = np.empty((len(self.products), len(values)), dtype=np.int16)
        for i, p in enumerate(self.products):
            for k, s in enumerate(values):
                if p.size_classes and s not in p.size_classes:
                    table[i, k] = -1
                else:
                    value = scoring._size(EnterpriseFacts(0, size_class=s), p, config)[0]
                    table[i, k] = _contribution(config, "size", value)
        return _Component(codes, table)

    def _qualifications(self, a: EnterpriseArrays, config: ScoringConfig) -> _Component:
        masks, codes = _distinct(a.qualifications)
        counts = np.bitwise_count(masks).astype(np.int64)
        bit = {c: np.uint64(1 << i) for i, c in enumerate(a.qualification_codes)}
        zero = np.uint64(0)
        # The factor depends on the number of valid qualifications (and on the product).
        dummies = [
            EnterpriseFacts(0, qualifications=_dummy_held(k, a.on))
            for k in range(int(counts.max(initial=0)) + 1)
        ]
        table = np.empty((len(self.products), len(masks)), dtype=np.int16)
        for i, p in enumerate(self.products):
            by_count = np.array(
                [
                    _contribution(
                        config, "qualification", scoring._qualification(d, p, a.on, {})[0]
                    )
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
        return _Component(codes, table)

    def _categorical(
        self,
        codes_column: np.ndarray,
        vocab: Sequence[Any],
        rule: Callable[[ProductRules], Any],
        passes: Callable[[ProductRules, Any], bool],
    ) -> _Component:
        """A gate-only component; ``passes`` is asked only of products that have the ``rule``."""
        present, codes = _distinct(codes_column)
        values = [vocab[v] for v in present]
        table = np.ones((len(self.products), len(values)), dtype=bool)
        for i, p in enumerate(self.products):
            if rule(p):
                table[i] = [passes(p, v) for v in values]
        return _Component(codes, table)

    def _districts(self, a: EnterpriseArrays) -> _Component:
        return self._categorical(
            a.district,
            a.districts,
            lambda p: p.districts,
            lambda p, d: not (p.districts and d not in p.districts),
        )

    def _wuxi(self, a: EnterpriseArrays) -> _Component:
        return self._categorical(
            a.registered_in_wuxi.astype(np.int8),
            (False, True),
            lambda p: p.registered_in_wuxi,
            lambda p, w: not (p.registered_in_wuxi and not w),
        )

    def _industries(self, a: EnterpriseArrays, config: ScoringConfig) -> _Component:
        present, codes = _distinct(a.industry)
        values = [a.industries[v] for v in present]
        facts = [EnterpriseFacts(0, industry_code=v) for v in values]
        table = np.empty((len(self.products), len(values)), dtype=np.int16)
        for i, p in enumerate(self.products):
            if not (p.industries_excluded or p.industries_included or p.industries_targeted):
                table[i] = _contribution(config, "industry", scoring._industry(facts[0], p)[0])
                continue
            for k, code in enumerate(values):
                if (code and any(code_matches(code, s) for s in p.industries_excluded)) or (
                    p.industries_included
                    and not (code and any(code_matches(code, s) for s in p.industries_included))
                ):
                    table[i, k] = -1
                else:
                    value = scoring._industry(facts[k], p)[0]
                    table[i, k] = _contribution(config, "industry", value)
        return _Component(codes, table)

    def _ownerships(self, a: EnterpriseArrays) -> _Component:
        return self._categorical(
            a.ownership,
            a.ownerships,
            lambda p: p.ownership_types,
            lambda p, o: o in p.ownership_types,
        )

    def _regions(self, a: EnterpriseArrays) -> _Component:
        return self._categorical(
            a.area_code,
            a.area_codes,
            lambda p: p.regions,
            lambda p, area: scoring._in_regions(area, p.regions),
        )

    def _served(self, a: EnterpriseArrays) -> _Component:
        return self._categorical(
            a.in_service_area.astype(np.int8), (False, True), lambda p: True, lambda p, s: s
        )

    def _bridges(self, a: EnterpriseArrays) -> _Component:
        return self._categorical(
            a.bridge,
            a.bridges,
            lambda p: p.needs_committed_renewal,
            lambda p, b: b == scoring.BRIDGE_COMMITTED,
        )

    def _years(self, a: EnterpriseArrays) -> _Component:
        missing = np.int16(np.iinfo(np.int16).min)  # never a real number of years
        years = np.where(a.has_established, a.years_in_business, missing)
        present, codes = _distinct(years.astype(np.int16))
        table = np.ones((len(self.products), len(present)), dtype=bool)
        for i, p in enumerate(self.products):
            if p.min_years_in_business:
                table[i] = (present != missing) & (present >= p.min_years_in_business)
        return _Component(codes, table)

    def _revenue(self, a: EnterpriseArrays) -> _Component:
        # Revenue enters the gates only through comparisons with the catalogue's thresholds:
        # cut it into bins between them (bin b holds thresholds[b-1] <= revenue < thresholds[b]),
        # and evaluate each bin on a representative.
        thresholds = sorted(
            {
                t
                for p in self.products
                for t in (p.revenue_min_fen, p.revenue_max_fen)
                if t is not None
            }
        )
        edges = np.array(thresholds, dtype=np.int64)
        bins = np.searchsorted(edges, a.revenue_fen, side="right").astype(np.int32)
        bins = np.where(a.has_revenue, bins + 1, 0)  # 0: unknown
        present, codes = _distinct(bins.astype(np.int16))
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
            [[passes(p, r) for r in representative] for p in self.products], dtype=bool
        ).reshape(len(self.products), len(representative))
        return _Component(codes, table)

    def _grades(self, a: EnterpriseArrays) -> _Component:
        present, codes = _distinct(a.grade_rank)
        table = np.ones((len(self.products), len(present)), dtype=bool)
        for i, p in enumerate(self.products):
            if p.min_credit_grade:
                table[i] = (present != GRADE_MISSING) & (present <= _min_rank(p))
        return _Component(codes, table)


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


# --- one enterprise against the catalogue ----------------------------------------------------


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
        self.from_day = ints(lambda p: p.effective_from and p.effective_from.toordinal())
        self.has_to = flags(lambda p: p.effective_to)
        self.to_day = ints(lambda p: p.effective_to and p.effective_to.toordinal())
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
            [_GRADE_RANK.get(normalize_grade(p.min_credit_grade or "") or "", -1) for p in ps],
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
        return self._per_product(
            ("industries_included", code),
            lambda p: bool(code) and any(code_matches(code, s) for s in p.industries_included),  # type: ignore[arg-type]
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
        rank = _grade_rank(e.credit_grade)
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

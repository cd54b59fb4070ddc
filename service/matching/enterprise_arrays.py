"""The library as arrays: every enterprise as one row of a struct of numpy columns, evaluated on
one day, for the batch engine (``engine``). Categorical columns are small integer codes into a
vocabulary; valid qualifications are bits of a uint64; years in business and the credit grade's
rank are computed once per distinct value. Rules that live here: how a credit grade ranks
(``rank_of_grade``: missing or unrecognised meets no minimum) and at most
``MAX_QUALIFICATION_CODES`` qualification types. Pure: the database loader is
``facts.load_enterprise_arrays``."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from service.matching import scoring
from service.matching.scoring import EnterpriseFacts
from service.taxonomy.grades import CREDIT_GRADES, normalize_grade

# Rank of a missing or unrecognised credit grade: it meets no minimum (grade_at_least is False).
GRADE_MISSING = len(CREDIT_GRADES)
GRADE_RANK = {g: i for i, g in enumerate(CREDIT_GRADES)}
MAX_QUALIFICATION_CODES = 64  # one bit each in a uint64


def rank_of_grade(grade: str | None) -> int:
    if grade is None:
        return GRADE_MISSING
    normal = normalize_grade(grade)
    return GRADE_MISSING if normal is None else GRADE_RANK[normal]


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
        columns = Columns(on, qualification_codes)
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
        columns: dict[str, Any] = {
            name: np.concatenate(merged[name])[order] for name in _ARRAY_FIELDS
        }
        vocabularies: dict[str, Any] = {
            field: tuple(vocabs[field].values) for field in _VOCAB_OF.values()
        }
        return EnterpriseArrays(on=on, qualification_codes=tuple(codes), **columns, **vocabularies)


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


class Columns:
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
        qualifications: Sequence[int] | np.ndarray,
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
                grades[grade] = rank_of_grade(grade)
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
        columns: dict[str, Any] = {
            name: np.concatenate([c[name] for c in self.chunks])
            if self.chunks
            else np.zeros(0, dtype=_DTYPES[name])
            for name in _ARRAY_FIELDS
        }
        ids = columns["ids"]
        if len(ids) > 1 and np.any(np.diff(ids) <= 0):
            raise ValueError("enterprise ids must be unique and ascending")
        vocabularies: dict[str, Any] = {
            field: tuple(self.vocabs[name].values) for name, field in _VOCAB_OF.items()
        }
        return EnterpriseArrays(
            on=self.on, **columns, **vocabularies, qualification_codes=tuple(self.codes)
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

"""The rules of ``rules.py`` over the whole library at once: the library's facts as columns
(numpy arrays, one row per enterprise, qualification, project, loan or grant) and each rule
evaluated over all of them in a few array operations. Pure: no database (``columns_of``
builds the columns from ``rules.Facts``; the store reads them from the database).

It answers who is entitled and to how much, exactly as ``rules.evaluate`` does for one
enterprise (the tests hold the two equal on random libraries); the reasons and the lines of
an amount come from ``rules.evaluate`` when one enterprise is shown."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from service.policies.rules import BP, DAY_BASIS, Award, Facts, Rule, Scheme

_EPOCH = date(1970, 1, 1)
I64 = np.int64


def day_number(d: date) -> int:
    return (d - _EPOCH).days


class Vocabulary:
    """Codes of one kind (qualification types, project kinds …) as small integers."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        return self.index.setdefault(value, len(self.index))

    def codes(self, values: frozenset[str]) -> np.ndarray:
        return np.array([self.index[v] for v in values if v in self.index], dtype=np.int32)


@dataclass
class Columns:
    enterprise_ids: np.ndarray
    private: np.ndarray  # int8: 1 private, 0 not, -1 not known
    in_area: np.ndarray  # bool
    size: np.ndarray  # int32 code, -1 none
    q_enterprise: np.ndarray  # qualifications: row of the enterprise
    q_type: np.ndarray
    q_day: np.ndarray  # issued, as a day number
    q_rank: np.ndarray  # 0 for the enterprise's first of that type, 1 for the next …
    p_enterprise: np.ndarray  # projects
    p_kind: np.ndarray
    p_year: np.ndarray
    p_base: np.ndarray  # technology and equipment investment, -1 when not known
    l_enterprise: np.ndarray  # loans
    l_product: np.ndarray
    l_scheme: np.ndarray
    l_purpose: np.ndarray
    l_principal: np.ndarray
    l_rate: np.ndarray
    l_start: np.ndarray  # disbursed, day number
    l_end: np.ndarray  # maturity or closing, whichever first, day number
    g_enterprise: np.ndarray  # grants recorded by the office
    g_policy: np.ndarray
    g_period: np.ndarray  # 0 for "once", else the year
    g_amount: np.ndarray
    sizes: Vocabulary
    types: Vocabulary
    kinds: Vocabulary
    products: Vocabulary
    schemes: Vocabulary
    purposes: Vocabulary
    policies: Vocabulary

    @property
    def count(self) -> int:
        return len(self.enterprise_ids)

    def decoded(self) -> dict[str, list[tuple[Any, ...]]]:
        """The columns as sorted rows of plain values (codes back to their text, rows back to
        enterprise ids): two readings of the same facts are equal in this form whatever
        order or codes each gave them."""

        def text(vocabulary: Vocabulary, codes: np.ndarray) -> list[str | None]:
            names = {i: v for v, i in vocabulary.index.items()}
            return [names.get(int(c)) for c in codes]

        ids = self.enterprise_ids.astype(np.int64)
        tables: dict[str, list[Any]] = {
            "enterprises": [
                ids,
                self.private.astype(np.int64),
                self.in_area.astype(bool),
                text(self.sizes, self.size),
            ],
            "qualifications": [
                ids[self.q_enterprise],
                text(self.types, self.q_type),
                self.q_day,
                self.q_rank,
            ],
            "projects": [
                ids[self.p_enterprise],
                text(self.kinds, self.p_kind),
                self.p_year,
                self.p_base,
            ],
            "loans": [
                ids[self.l_enterprise],
                text(self.products, self.l_product),
                text(self.schemes, self.l_scheme),
                text(self.purposes, self.l_purpose),
                self.l_principal,
                self.l_rate,
                self.l_start,
                self.l_end,
            ],
            "grants": [
                ids[self.g_enterprise],
                text(self.policies, self.g_policy),
                self.g_period,
                self.g_amount,
            ],
        }
        out = {}
        for name, columns in tables.items():
            plain = [c.tolist() if isinstance(c, np.ndarray) else c for c in columns]
            out[name] = sorted(zip(*plain, strict=True), key=repr)
        return out


def _array(values: Sequence[int], dtype: type = np.int32) -> np.ndarray:
    return np.array(values, dtype=dtype)


def columns_of(library: Sequence[Facts]) -> Columns:
    v = {
        name: Vocabulary()
        for name in ("sizes", "types", "kinds", "products", "schemes", "purposes", "policies")
    }
    q: list[tuple[int, int, int]] = []
    p: list[tuple[int, int, int, int]] = []
    loans: list[tuple[int, ...]] = []
    g: list[tuple[int, int, int, int]] = []
    for row, facts in enumerate(library):
        for held in facts.qualifications:
            q.append((row, v["types"].code(held.type_code), day_number(held.issued_date)))
        for project in facts.projects:
            base = project.equipment_investment_fen
            p.append(
                (row, v["kinds"].code(project.kind), project.year, -1 if base is None else base)
            )
        for loan in facts.loans:
            end = (
                loan.maturity_date
                if loan.closed_date is None
                else min(loan.maturity_date, loan.closed_date)
            )
            loans.append(
                (
                    row,
                    v["products"].code(loan.product_code),
                    v["schemes"].code(loan.product_scheme),
                    v["purposes"].code(loan.purpose),
                    loan.principal_fen,
                    loan.rate_bp,
                    day_number(loan.disbursed_date),
                    day_number(end),
                )
            )
        for granted in facts.granted:
            period = 0 if granted.period == "once" else int(granted.period)
            g.append((row, v["policies"].code(granted.policy_code), period, granted.amount_fen))
    qa = np.array(q, dtype=I64).reshape(-1, 3)
    pa = np.array(p, dtype=I64).reshape(-1, 4)
    la = np.array(loans, dtype=I64).reshape(-1, 8)
    ga = np.array(g, dtype=I64).reshape(-1, 4)
    return Columns(
        enterprise_ids=_array([f.enterprise_id for f in library], I64),
        private=_array([-1 if f.private is None else int(f.private) for f in library], np.int8),
        in_area=np.array([f.in_area for f in library], dtype=bool),
        size=_array([v["sizes"].code(f.size_class) for f in library]),
        q_enterprise=qa[:, 0].astype(np.int32),
        q_type=qa[:, 1].astype(np.int32),
        q_day=qa[:, 2].astype(np.int32),
        q_rank=ranks(qa[:, 0], qa[:, 1], qa[:, 2]),
        p_enterprise=pa[:, 0].astype(np.int32),
        p_kind=pa[:, 1].astype(np.int32),
        p_year=pa[:, 2].astype(np.int32),
        p_base=pa[:, 3],
        l_enterprise=la[:, 0].astype(np.int32),
        l_product=la[:, 1].astype(np.int32),
        l_scheme=la[:, 2].astype(np.int32),
        l_purpose=la[:, 3].astype(np.int32),
        l_principal=la[:, 4],
        l_rate=la[:, 5],
        l_start=la[:, 6].astype(np.int32),
        l_end=la[:, 7].astype(np.int32),
        g_enterprise=ga[:, 0].astype(np.int32),
        g_policy=ga[:, 1].astype(np.int32),
        g_period=ga[:, 2].astype(np.int32),
        g_amount=ga[:, 3],
        **v,
    )


def ranks(enterprise: np.ndarray, kind: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Each qualification's place among the enterprise's of its type, by issue date (0: the
    first)."""
    if len(enterprise) == 0:
        return np.zeros(0, dtype=np.int32)
    order = np.lexsort((day, kind, enterprise))
    e, k = enterprise[order], kind[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (e[1:] != e[:-1]) | (k[1:] != k[:-1])
    starts = np.flatnonzero(new_group)
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
    out = np.empty(len(order), dtype=np.int32)
    out[order] = position
    return out


@dataclass
class Result:
    """Who is entitled (rows of the columns) and to how much, for which period."""

    rows: np.ndarray
    amounts: np.ndarray
    period: str


def evaluate_policy_all(rules: Sequence[Rule], c: Columns, as_of: date) -> Result:
    """``rules.evaluate_policy`` over the library: for an award, each enterprise's newest
    version that finds one (a version that finds it already paid stops the search); for a
    yearly scheme, the version in force on ``as_of``."""
    begun = [r for r in rules if r.effective_from <= as_of]
    if not begun:
        return evaluate_all(rules[-1], c, as_of)
    current = begun[0]
    if current.scheme != Scheme.qualification_award:
        return evaluate_all(current, c, as_of)
    amounts = np.zeros(c.count, dtype=I64)
    decided = np.zeros(c.count, dtype=bool)
    if current.once:
        decided[c.g_enterprise[_granted(current, c)]] = True
    for rule in begun:
        result = evaluate_all(rule, c, as_of)
        rows = result.rows[~decided[result.rows]]
        amounts[rows] = result.amounts[~decided[result.rows]]
        decided[rows] = True
    rows = np.flatnonzero(amounts > 0).astype(np.int32)
    return Result(rows, amounts[rows], "once")


def evaluate_all(rule: Rule, c: Columns, as_of: date) -> Result:
    period = "once" if rule.scheme == Scheme.qualification_award else str(as_of.year)
    if not rule.in_force(as_of):
        return Result(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=I64), period)
    base = np.ones(c.count, dtype=bool)
    if rule.private_only:
        base &= c.private == 1
    if rule.in_area_only:
        base &= c.in_area
    if rule.size_classes is not None:
        base &= np.isin(c.size, c.sizes.codes(rule.size_classes))
    if rule.scheme == Scheme.qualification_award:
        amounts = _awards(rule, c, as_of, base)
    elif rule.scheme == Scheme.tech_transformation:
        amounts = _tech(rule, c, as_of, base)
    else:
        amounts = _subsidies(rule, c, as_of, base)
    rows = np.flatnonzero(amounts > 0).astype(np.int32)
    return Result(rows, amounts[rows], period)


def _granted(rule: Rule, c: Columns) -> np.ndarray:
    code = c.policies.index.get(rule.policy_code, -2)
    return c.g_policy == code


def _awards(rule: Rule, c: Columns, as_of: date, base: np.ndarray) -> np.ndarray:
    last = day_number(as_of if rule.effective_to is None else min(as_of, rule.effective_to))
    rows = np.isin(c.q_type, c.types.codes(rule.qualification_types))
    rows &= (c.q_day >= day_number(rule.effective_from)) & (c.q_day <= last)
    if rule.award == Award.first:
        rows &= c.q_rank == 0
    elif rule.award == Award.renewal:
        rows &= c.q_rank >= 1
    holds = np.zeros(c.count, dtype=bool)
    holds[c.q_enterprise[rows]] = True
    if rule.once:
        holds[c.g_enterprise[_granted(rule, c)]] = False
    out = np.zeros(c.count, dtype=I64)
    out[holds & base] = rule.amount_fen or 0
    return out


def _less_granted(
    rule: Rule, c: Columns, year: int, totals: np.ndarray, base: np.ndarray
) -> np.ndarray:
    if rule.cap_per_year_fen is not None:
        np.minimum(totals, rule.cap_per_year_fen, out=totals)
    mine = _granted(rule, c)
    this_year = mine & (c.g_period == year)
    already = np.zeros(c.count, dtype=I64)
    np.add.at(already, c.g_enterprise[this_year], c.g_amount[this_year])
    totals = np.maximum(totals - already, 0)
    if rule.max_years is not None:
        earlier = mine & (c.g_period != year)
        pairs = np.unique(np.stack([c.g_enterprise[earlier], c.g_period[earlier]]), axis=1)
        years = np.bincount(pairs[0], minlength=c.count) if pairs.size else np.zeros(c.count, I64)
        had_this_year = np.zeros(c.count, dtype=bool)
        had_this_year[c.g_enterprise[this_year]] = True
        totals[(years >= rule.max_years) & ~had_this_year] = 0
    totals[~base] = 0
    return totals


def _tech(rule: Rule, c: Columns, as_of: date, base: np.ndarray) -> np.ndarray:
    year = as_of.year
    starts = np.array([t.from_fen for t in sorted(rule.tiers, key=lambda t: t.from_fen)], dtype=I64)
    rates = np.array([t.rate_bp for t in sorted(rule.tiers, key=lambda t: t.from_fen)], dtype=I64)
    rows = np.isin(c.p_kind, c.kinds.codes(rule.project_kinds)) & (c.p_year == year - 1)
    rows &= c.p_base >= max(rule.min_base_fen, int(starts[0]) if len(starts) else 0)
    tier = np.searchsorted(starts, c.p_base[rows], side="right") - 1
    amounts = c.p_base[rows] * rates[tier] // BP
    totals = np.zeros(c.count, dtype=I64)
    np.add.at(totals, c.p_enterprise[rows], amounts)
    return _less_granted(rule, c, year, totals, base)


def _subsidies(rule: Rule, c: Columns, as_of: date, base: np.ndarray) -> np.ndarray:
    year = as_of.year
    covered = np.ones(len(c.l_enterprise), dtype=bool)
    named = [
        (rule.loan_products, c.products, c.l_product),
        (rule.loan_schemes, c.schemes, c.l_scheme),
        (rule.loan_purposes, c.purposes, c.l_purpose),
    ]
    lists = [
        np.isin(column, vocabulary.codes(allowed))
        for allowed, vocabulary, column in named
        if allowed
    ]
    if lists:
        covered = np.logical_or.reduce(lists)
    if rule.loan_qualifications:
        qualified = np.zeros(c.count, dtype=bool)
        qualified[c.q_enterprise[np.isin(c.q_type, c.types.codes(rule.loan_qualifications))]] = True
        covered &= qualified[c.l_enterprise]
    # Loans disbursed while the policy is in force (under any of its versions).
    first = day_number(rule.policy_from or rule.effective_from)
    end = rule.policy_to if rule.policy_from is not None else rule.effective_to
    covered &= c.l_start >= first
    if end is not None:
        covered &= c.l_start <= day_number(end)
    start = np.maximum(c.l_start, day_number(date(year, 1, 1)))
    end = np.minimum(c.l_end, min(day_number(date(year + 1, 1, 1)), day_number(as_of) + 1))
    days = np.maximum(end - start, 0).astype(I64)
    interest = c.l_principal * c.l_rate * days // (BP * DAY_BASIS)
    subsidy = interest * rule.share_bp // BP
    if rule.cap_per_loan_fen is not None:
        np.minimum(subsidy, rule.cap_per_loan_fen, out=subsidy)
    totals = np.zeros(c.count, dtype=I64)
    np.add.at(totals, c.l_enterprise[covered], subsidy[covered])
    return _less_granted(rule, c, year, totals, base)

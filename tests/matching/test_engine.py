"""The batch engine against the pure scoring: the same scores for every pair, the same top-K
lists as a brute-force sort, deterministic ties, and the one-enterprise path equal to the plain
loop. No database."""

import json
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.enterprises.derive import derive
from service.matching import facts, scoring
from service.matching.engine import match_all, score_matrix
from service.matching.enterprise_arrays import EnterpriseArrays
from service.matching.product_arrays import ProductArrays, score_one, score_plain
from service.matching.scoring import (
    EnterpriseFacts,
    Held,
    NeedFacts,
    ProductRules,
    ScoringConfig,
)
from service.products.models import Product, ProductSpec, ProductVersion
from service.products.schemas import ProductCreate
from service.synth import AS_OF, Generator, generate_enterprises, generate_products
from service.taxonomy.credit_code import CreditCode

REFERENCE = Path(__file__).resolve().parents[2] / "seed" / "reference"
ON = AS_OF


def _config(**overrides) -> ScoringConfig:
    data = json.loads((REFERENCE / "scoring.json").read_text(encoding="utf-8"))
    config = facts.config_from_dict(data["version"], data, {"LPR1Y": 300, "LPR5Y": 350})
    return replace(config, **overrides)


def _rules(items: list[dict], first_id: int = 1) -> list[ProductRules]:
    out = []
    for i, item in enumerate(items):
        create = ProductCreate.model_validate(item)
        product = Product(
            id=first_id + i, code=create.code, bank_code=create.bank_code, status="active"
        )
        spec = {f: getattr(create, f) for f in ProductSpec.model_fields}
        out.append(
            facts.product_rules(product, ProductVersion(**spec, product_id=product.id, version=1))
        )
    return out


def _synth_facts(n: int, seed: int) -> list[EnterpriseFacts]:
    tiers = {
        c["code"]: c["tier"]
        for c in json.loads((REFERENCE / "clusters.json").read_text(encoding="utf-8"))
    }
    generator = Generator(seed)
    out = []
    for i, e in enumerate(generate_enterprises(n, seed)):
        industry = e["industry_code"]
        row = generator._row(industry) if industry else None
        derived = derive(
            CreditCode(e["credit_code"]),
            e["name"],
            industry,
            e["employees"],
            e["revenue_fen"],
            e["total_assets_fen"],
            (row,) if row else (),
        )
        out.append(
            EnterpriseFacts(
                id=10 * i + 3,  # not contiguous: positions and ids differ
                cluster=e["cluster_code"],
                tier=tiers.get(e["cluster_code"] or ""),
                size_class=derived.size_class,
                qualifications=tuple(
                    Held(
                        q["type_code"],
                        date.fromisoformat(q["issued_date"]),
                        date.fromisoformat(q["expires_date"]) if q["expires_date"] else None,
                    )
                    for q in e["qualifications"]
                ),
                established=date.fromisoformat(e["established_date"]),
                revenue_fen=e["revenue_fen"],
                credit_grade=e["credit_grade"],
                district=e["district_code"],
                registered_in_wuxi=derived.registered_in_wuxi,
                industry_code=industry,
            )
        )
    return out


@pytest.fixture(scope="module")
def library() -> list[EnterpriseFacts]:
    return _synth_facts(400, seed=11)


@pytest.fixture(scope="module")
def products() -> list[ProductRules]:
    synthetic = list(generate_products(150, ["bank-a", "bank-b"], 11, fund_codes=["fund"]))
    seeded = json.loads((REFERENCE / "products.json").read_text(encoding="utf-8"))
    rules = _rules(synthetic, first_id=100) + _rules(seeded, first_id=1)
    random.Random(3).shuffle(rules)  # the engine must not depend on the order given
    return rules


def _brute(
    enterprises: list[EnterpriseFacts], products: list[ProductRules], config: ScoringConfig
) -> np.ndarray:
    out = np.full((len(enterprises), len(products)), -1, dtype=np.int16)
    for i, e in enumerate(enterprises):
        for j, p in enumerate(products):
            result = scoring.score(e, None, p, ON, config)
            if result.eligible:
                out[i, j] = result.score_centi
    return out


# --- synthetic library and catalogue -------------------------------------------------------


def test_scores_equal_scoring_on_random_pairs(library, products) -> None:
    config = _config()
    arrays = EnterpriseArrays.from_facts(library, ON)
    matrix = score_matrix(arrays, products, config)
    rng = random.Random(5)
    eligible = 0
    for _ in range(4000):
        i, j = rng.randrange(len(library)), rng.randrange(len(products))
        result = scoring.score(library[i], None, products[j], ON, config)
        assert matrix[i, j] == (result.score_centi if result.eligible else -1), (i, j)
        eligible += result.eligible
    assert eligible > 300  # the sample exercises scores, not only gates


def test_top_k_equal_brute_force(library, products) -> None:
    config = _config(top_per_enterprise=7, top_per_product=15)
    enterprises = library[:90]
    matches = match_all(EnterpriseArrays.from_facts(enterprises, ON), products, config)
    expected = _brute(enterprises, products, config)
    order = sorted(range(len(products)), key=lambda j: products[j].id)
    assert matches.product_ids.tolist() == [products[j].id for j in order]
    for i, e in enumerate(enterprises):
        ranked = scoring.rank([scoring.score(e, None, p, ON, config) for p in products])[:7]
        got = [
            (int(matches.product_ids[j]), int(s))
            for j, s in zip(matches.top_products[i], matches.top_scores[i], strict=True)
            if j >= 0
        ]
        assert got == [(r.product_id, r.score_centi) for r in ranked]
    for k, j in enumerate(order):
        best = sorted(
            (i for i in range(len(enterprises)) if expected[i, j] >= 0),
            key=lambda i: (-expected[i, j], enterprises[i].id),
        )[:15]
        positions, scores = matches.prospects[k]
        assert positions.tolist() == best
        assert scores.tolist() == [expected[i, j] for i in best]


def test_rows_carry_both_ranks(library, products) -> None:
    config = _config(top_per_enterprise=4, top_per_product=6)
    matches = match_all(EnterpriseArrays.from_facts(library[:80], ON), products, config)
    rows = matches.rows()
    keys = list(zip(rows["enterprise_id"].tolist(), rows["product_id"].tolist(), strict=True))
    assert len(keys) == len(set(keys))
    assert np.all((rows["enterprise_rank"] > 0) | (rows["product_rank"] > 0))
    assert np.count_nonzero(rows["enterprise_rank"]) == np.count_nonzero(matches.top_products >= 0)
    assert np.count_nonzero(rows["product_rank"]) == sum(len(p) for p, _ in matches.prospects)
    both = (rows["enterprise_rank"] > 0) & (rows["product_rank"] > 0)
    assert both.any()


def test_concat_and_subset_keep_the_encoding(library, products) -> None:
    config = _config()
    whole = EnterpriseArrays.from_facts(library[:120], ON)
    parts = EnterpriseArrays.concat(
        [
            EnterpriseArrays.from_facts(library[60:120], ON, ["high_tech"]),
            EnterpriseArrays.from_facts(library[:60], ON, ["srdi_sme", "tech_sme"]),
        ]
    )
    assert parts.ids.tolist() == whole.ids.tolist()
    assert np.array_equal(
        score_matrix(parts, products, config), score_matrix(whole, products, config)
    )
    subset = whole.subset(np.arange(0, 120, 7))
    assert np.array_equal(
        score_matrix(subset, products, config), score_matrix(whole, products, config)[::7]
    )


def test_one_enterprise_equals_the_plain_loop(library, products) -> None:
    config = _config()
    catalogue = ProductArrays(products)
    rng = random.Random(9)
    needs = [
        None,
        NeedFacts(300_000_000, 12, "working_capital"),
        NeedFacts(50_000_000, 6, "rnd", frozenset({"ip", "none"})),
        NeedFacts(5_000_000_000, 60, "equipment", frozenset({"equipment", "property"})),
    ]
    for e in rng.sample(library, 12):
        for need in needs:
            plain = score_plain(e, need, products, ON, config)
            assert catalogue.failure_counts(e, need, ON).tolist() == [
                len(r.failures) for r in plain
            ]
            fast = score_one(e, need, catalogue, ON, config)
            assert fast == [r for r in plain if len(r.failures) <= config.near_miss_max_failures]


# --- ties and order --------------------------------------------------------------------------


def test_ties_are_broken_by_id() -> None:
    config = _config(top_per_enterprise=3, top_per_product=4)
    base = ProductRules(id=0, code="p", bank_code="b", rate_base="LPR1Y", spread_bp=50)
    products = [replace(base, id=i, code=f"p{i}") for i in (9, 4, 7, 2, 5)]
    twin = EnterpriseFacts(
        id=0, cluster="ic", tier="landmark", size_class="small", revenue_fen=10**9
    )
    enterprises = [replace(twin, id=i) for i in (30, 10, 50, 20, 40, 60)]
    matches = match_all(EnterpriseArrays.from_facts(enterprises, ON), products, config)
    assert matches.enterprise_ids.tolist() == [10, 20, 30, 40, 50, 60]
    assert matches.product_ids.tolist() == [2, 4, 5, 7, 9]
    for row in matches.top_products:
        assert matches.product_ids[row].tolist() == [2, 4, 5]
    for positions, scores in matches.prospects:
        assert matches.enterprise_ids[positions].tolist() == [10, 20, 30, 40]
        assert len(set(scores.tolist())) == 1
    again = match_all(EnterpriseArrays.from_facts(enterprises[::-1], ON), products[::-1], config)
    assert np.array_equal(again.top_products, matches.top_products)


def test_a_crowded_score_level_is_cut_by_enterprise_id() -> None:
    # Many enterprises share the threshold score: the k-th place is decided among them.
    config = _config(top_per_enterprise=2, top_per_product=25)
    product = ProductRules(id=1, code="p", bank_code="b", rate_base="LPR1Y", spread_bp=0)
    better = EnterpriseFacts(0, cluster="ic", tier="landmark", size_class="small")
    same = EnterpriseFacts(0, cluster="ic", tier="landmark", size_class="medium")
    enterprises = [replace(better, id=i) for i in range(1000, 1010)]
    enterprises += [replace(same, id=i) for i in range(1, 200)]
    matches = match_all(EnterpriseArrays.from_facts(enterprises, ON), [product], config)
    positions, scores = matches.prospects[0]
    ids = matches.enterprise_ids[positions].tolist()
    assert ids == list(range(1000, 1010)) + list(range(1, 16))
    assert scores[0] > scores[-1]


def test_unknown_minimum_grade_is_refused_like_scoring() -> None:
    product = ProductRules(id=1, code="p", bank_code="b", min_credit_grade="ZZ")
    graded = EnterpriseFacts(1, credit_grade="A")
    with pytest.raises(ValueError):
        scoring.score(graded, None, product, ON, _config())
    with pytest.raises(ValueError):
        match_all(EnterpriseArrays.from_facts([graded], ON), [product], _config())
    with pytest.raises(ValueError):
        score_one(graded, None, ProductArrays([product]), ON, _config())


def test_no_enterprises_or_no_products() -> None:
    config = _config()
    empty = EnterpriseArrays.from_facts([], ON)
    assert (
        match_all(empty, [ProductRules(id=1, code="p", bank_code="b")], config)
        .rows()["enterprise_id"]
        .size
        == 0
    )
    one = EnterpriseArrays.from_facts([EnterpriseFacts(1)], ON)
    assert match_all(one, [], config).top_products.shape == (1, config.top_per_enterprise)


# --- edge cases, property-based --------------------------------------------------------------

CLUSTERS = [None, "", "ic", "iot", "textile", "software"]
TIERS = [None, "landmark", "advantage", "future", "elsewhere"]
SIZES = [None, "large", "medium", "small", "micro"]
QUALIFICATIONS = ["high_tech", "tech_sme", "srdi_sme", "little_giant", "gazelle"]
DISTRICTS = [None, "xinwu", "binhu", "liangxi"]
GRADES = [None, "AAA", "A", "BBB-", "BB", "B-", "b-", "CCC", "D", "unknown"]
INDUSTRIES = [None, "", "C3973", "K7010", "C2511", "C3110", "B0610", "I6513", "C3120"]
REVENUES = [0, 1, 999_999_999, 1_000_000_000, 1_000_000_001, 5_000_000_000, 20_000_000_000]
WEIGHTS = [
    {
        "sector": 20,
        "industry": 10,
        "size": 10,
        "need": 20,
        "qualification": 10,
        "cost": 10,
        "policy": 20,
    },
    {
        "sector": 33,
        "industry": 3,
        "size": 7,
        "need": 21,
        "qualification": 13,
        "cost": 13,
        "policy": 10,
    },
    {
        "sector": 1,
        "industry": 1,
        "size": 1,
        "need": 1,
        "qualification": 1,
        "cost": 94,
        "policy": 1,
    },
]
OWNERSHIP = [None, "private", "state", "foreign"]
AREAS = [None, "320214", "320281", "320282", "310115"]
BRIDGE = [None, "maturing", "committed"]


def _day(offset: int) -> date:
    return ON + timedelta(days=offset)


days = st.integers(-800, 800).map(_day)
held = st.builds(
    Held,
    code=st.sampled_from(QUALIFICATIONS),
    issued=days,
    expires=st.none() | st.integers(-3, 3).map(_day) | days,
)
enterprise = st.builds(
    EnterpriseFacts,
    id=st.just(0),
    cluster=st.sampled_from(CLUSTERS),
    tier=st.sampled_from(TIERS),
    size_class=st.sampled_from(SIZES),
    qualifications=st.lists(held, max_size=4).map(tuple),
    established=st.none()
    | st.sampled_from(
        [ON, _day(-365), _day(-366), _day(-730), _day(-731), _day(1), date(2000, 2, 29)]
    )
    | st.dates(date(1980, 1, 1), date(2027, 12, 31)),
    revenue_fen=st.none() | st.sampled_from(REVENUES),
    credit_grade=st.sampled_from(GRADES),
    district=st.sampled_from(DISTRICTS),
    registered_in_wuxi=st.booleans(),
    industry_code=st.sampled_from(INDUSTRIES),
    ownership=st.sampled_from(OWNERSHIP),
    area_code=st.sampled_from(AREAS),
    in_service_area=st.sampled_from([True, True, False]),
    bridge=st.sampled_from(BRIDGE),
)


def _subset(items: list) -> st.SearchStrategy:
    return st.lists(st.sampled_from(items), max_size=3).map(frozenset)


product = st.builds(
    ProductRules,
    id=st.just(0),
    code=st.just("p"),
    bank_code=st.just("b"),
    active=st.sampled_from([True, True, True, False]),
    clusters_included=_subset([c for c in CLUSTERS if c] + ["ghost"]),
    clusters_excluded=_subset([c for c in CLUSTERS if c]),
    tiers=_subset(["landmark", "advantage", "future"]),
    size_classes=_subset(["large", "medium", "small", "micro"]),
    qualifications_any=_subset([*QUALIFICATIONS, "ghost"]),
    qualifications_all=st.sampled_from(
        [frozenset(), frozenset({"high_tech"}), frozenset({"ghost"})]
    ),
    min_years_in_business=st.sampled_from([None, 0, 1, 2, 3, -1, 40]),
    revenue_min_fen=st.none() | st.sampled_from(REVENUES),
    revenue_max_fen=st.none() | st.sampled_from(REVENUES),
    min_credit_grade=st.sampled_from([None, "", "B-", "BBB", "A", "AA+", "b-"]),
    districts=_subset([d for d in DISTRICTS if d]),
    registered_in_wuxi=st.sampled_from([None, True, False]),
    industries_excluded=st.lists(
        st.sampled_from(["K", "C25", "C3110", "B", "3973", "I65", "C31"]), max_size=2
    ).map(tuple),
    industries_included=st.lists(st.sampled_from(["C", "I65", "B06"]), max_size=2).map(tuple),
    industries_targeted=st.lists(st.sampled_from(["C", "I", "C39"]), max_size=2).map(tuple),
    regions=_subset(["32", "3202", "320281", "31"]),
    ownership_types=_subset(["private", "state", "collective"]),
    category=st.sampled_from(["credit", "equipment", "bridge_fund"]),
    scheme=st.sampled_from(["own", "xikedai", "bridge_fund"]),
    amount_min_fen=st.none() | st.sampled_from([0, 10_000_000, 100_000_000]),
    amount_max_fen=st.none() | st.sampled_from([0, 100_000_000, 1_000_000_000, 3_000_000_000]),
    term_unit=st.sampled_from(["month", "day"]),
    term_min=st.none() | st.integers(1, 30),
    term_max=st.none() | st.integers(1, 120),
    collateral_types=_subset(["none", "guarantee", "gov_guarantee", "property", "ip"]),
    purposes=_subset(["working_capital", "rnd", "equipment", "project"]),
    effective_from=st.none() | st.integers(-3, 3).map(_day),
    effective_to=st.none() | st.integers(-3, 3).map(_day),
    rate_base=st.sampled_from(["LPR1Y", "LPR5Y", "FIXED", "NONE"]),
    spread_bp=st.none() | st.integers(-60, 300),
    fixed_rate_bp=st.none() | st.integers(200, 600),
    annual_fee_bp=st.sampled_from([0, 50, 150]),
    daily_fee_bp=st.sampled_from([0, 2]),
)
need = st.builds(
    NeedFacts,
    amount_fen=st.sampled_from([1, 10_000_000, 100_000_000, 100_000_001, 3_000_000_000]),
    term_months=st.integers(1, 130),
    purpose=st.sampled_from(["working_capital", "rnd", "equipment", "trade", "project"]),
    collateral=_subset(["none", "guarantee", "gov_guarantee", "property", "ip", "receivables"]),
    purpose_ancestors=st.sampled_from([frozenset(), frozenset({"project"})]),
)


def _numbered(items: list, start: int, step: int) -> list:
    return [replace(item, id=start + step * i) for i, item in enumerate(items)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    enterprises=st.lists(enterprise, min_size=1, max_size=10),
    products=st.lists(product, min_size=1, max_size=6),
    weights=st.sampled_from(WEIGHTS),
    k_e=st.integers(0, 4),
    k_p=st.integers(0, 5),
)
def test_engine_equals_scoring_on_edge_cases(enterprises, products, weights, k_e, k_p) -> None:
    enterprises = _numbered(enterprises, 5, 3)
    products = _numbered(products, 1, 2)[::-1]
    config = ScoringConfig(1, weights, top_per_enterprise=k_e, top_per_product=k_p)
    arrays = EnterpriseArrays.from_facts(enterprises, ON)
    expected = _brute(enterprises, products, config)
    assert np.array_equal(score_matrix(arrays, products, config), expected)
    matches = match_all(arrays, products, config)
    for i, e in enumerate(enterprises):
        ranked = scoring.rank([scoring.score(e, None, p, ON, config) for p in products])[:k_e]
        got = [int(matches.product_ids[j]) for j in matches.top_products[i] if j >= 0]
        assert got == [r.product_id for r in ranked]
    for k, p in enumerate(sorted(products, key=lambda p: p.id)):
        j = products.index(p)
        best = sorted(
            (i for i in range(len(enterprises)) if expected[i, j] >= 0),
            key=lambda i: (-expected[i, j], enterprises[i].id),
        )[:k_p]
        assert matches.prospects[k][0].tolist() == best


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    e=enterprise,
    products=st.lists(product, min_size=1, max_size=8),
    need=st.none() | need,
    near=st.integers(0, 3),
)
def test_one_enterprise_path_equals_plain_loop_on_edge_cases(e, products, need, near) -> None:
    products = _numbered(products, 1, 1)
    config = ScoringConfig(1, WEIGHTS[0], near_miss_max_failures=near)
    catalogue = ProductArrays(products)
    plain = score_plain(e, need, products, ON, config)
    assert catalogue.failure_counts(e, need, ON).tolist() == [len(r.failures) for r in plain]
    assert score_one(e, need, catalogue, ON, config) == [
        r for r in plain if len(r.failures) <= near
    ]

"""Properties of the pure scoring, with generated enterprises, needs and products."""

import dataclasses
import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.matching import scoring
from service.taxonomy.grades import CREDIT_GRADES

ON = date(2026, 11, 25)
CLUSTERS = ["iot", "ic", "biomed", "software", "hi_equip", "textile", "auto", "semi3"]
TIER = {
    "iot": "landmark",
    "ic": "landmark",
    "biomed": "landmark",
    "software": "landmark",
    "hi_equip": "advantage",
    "textile": "advantage",
    "auto": "advantage",
    "semi3": "future",
}
QUALS = ["high_tech", "tech_sme", "srdi_sme", "little_giant", "innovative_sme"]
SIZES = ["large", "medium", "small", "micro"]
DISTRICTS = ["xinwu", "jiangyin", "yixing", "liangxi"]
PURPOSES = ["working_capital", "equipment", "tech_transformation", "rnd", "project", "renewal"]
COLLATERAL = ["none", "guarantee", "gov_guarantee", "property", "equipment", "ip", "receivables"]
OWNERSHIP = ["private", "collective", "state", "foreign", "hmt", "other"]
AREAS = ["320214", "320281", "320282", "320100", "310115", "440300"]
CONFIG = scoring.ScoringConfig(
    1,
    {
        "sector": 30,
        "industry": 0,
        "size": 15,
        "need": 25,
        "qualification": 15,
        "cost": 15,
        "policy": 0,
    },
)
# What a near miss may ask of the enterprise: things it can change soon.
ACTIONABLE = {
    "qualifications_any",
    "qualifications_all",
    "amount_max",
    "term_min",
    "term_max",
    "purpose",
    "collateral",
    "renewal_committed",
}
WAN = 1_000_000

days = st.integers(min_value=-3000, max_value=1500).map(lambda d: ON + timedelta(days=d))


@st.composite
def held(draw) -> scoring.Held:
    issued = draw(days)
    expires = draw(st.one_of(st.none(), days.filter(lambda d: d >= issued)))
    return scoring.Held(draw(st.sampled_from(QUALS)), issued, expires)


@st.composite
def enterprises(draw) -> scoring.EnterpriseFacts:
    cluster = draw(st.one_of(st.none(), st.sampled_from(CLUSTERS)))
    return scoring.EnterpriseFacts(
        id=draw(st.integers(1, 10_000)),
        cluster=cluster,
        tier=TIER.get(cluster or ""),
        size_class=draw(st.one_of(st.none(), st.sampled_from(SIZES))),
        qualifications=tuple(draw(st.lists(held(), max_size=4))),
        established=draw(st.one_of(st.none(), days)),
        revenue_fen=draw(st.one_of(st.none(), st.integers(0, 100_000 * WAN))),
        credit_grade=draw(st.one_of(st.none(), st.sampled_from(CREDIT_GRADES))),
        district=draw(st.one_of(st.none(), st.sampled_from(DISTRICTS))),
        registered_in_wuxi=draw(st.booleans()),
        industry_code=draw(st.sampled_from(["C3973", "C3670", "I6513", "K7010", "C1711"])),
        ownership=draw(st.one_of(st.none(), st.sampled_from(OWNERSHIP))),
        area_code=draw(st.one_of(st.none(), st.sampled_from(AREAS))),
        in_service_area=draw(st.booleans()),
        bridge=draw(st.sampled_from([None, scoring.BRIDGE_MATURING, scoring.BRIDGE_COMMITTED])),
    )


@st.composite
def needs(draw) -> scoring.NeedFacts:
    purpose = draw(st.sampled_from(PURPOSES))
    return scoring.NeedFacts(
        amount_fen=draw(st.integers(1, 10_000 * WAN)),
        term_months=draw(st.integers(1, 120)),
        purpose=purpose,
        collateral=draw(st.frozensets(st.sampled_from(COLLATERAL), min_size=1)),
        purpose_ancestors=CONFIG.purpose_ancestors(purpose),
    )


def subset(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), max_size=3)


@st.composite
def products(draw, product_id: int | None = None) -> scoring.ProductRules:
    low = draw(st.one_of(st.none(), st.integers(1, 100 * WAN)))
    high = draw(st.one_of(st.none(), st.integers(low or 1, 20_000 * WAN)))
    term_low = draw(st.one_of(st.none(), st.integers(1, 12)))
    term_high = draw(st.one_of(st.none(), st.integers(term_low or 1, 120)))
    base = draw(st.sampled_from(["LPR1Y", "LPR5Y", "FIXED", "NONE"]))
    return scoring.ProductRules(
        id=product_id if product_id is not None else draw(st.integers(1, 1000)),
        code="p",
        bank_code="b",
        clusters_included=draw(subset(CLUSTERS)),
        clusters_excluded=draw(subset(CLUSTERS)),
        tiers=draw(subset(["landmark", "advantage", "future"])),
        size_classes=draw(subset(SIZES)),
        qualifications_any=draw(subset(QUALS)),
        qualifications_all=draw(st.frozensets(st.sampled_from(QUALS), max_size=1)),
        min_years_in_business=draw(st.one_of(st.none(), st.integers(0, 10))),
        revenue_min_fen=draw(st.one_of(st.none(), st.integers(0, 1000 * WAN))),
        revenue_max_fen=draw(st.one_of(st.none(), st.integers(1000 * WAN, 100_000 * WAN))),
        min_credit_grade=draw(st.one_of(st.none(), st.sampled_from(CREDIT_GRADES))),
        districts=draw(subset(DISTRICTS)),
        registered_in_wuxi=draw(st.one_of(st.none(), st.booleans())),
        industries_excluded=tuple(draw(st.lists(st.sampled_from(["K70", "C17", "J"]), max_size=2))),
        industries_included=tuple(draw(st.lists(st.sampled_from(["C", "I65", "C39"]), max_size=2))),
        industries_targeted=tuple(draw(st.lists(st.sampled_from(["C", "I", "M"]), max_size=2))),
        regions=draw(subset(["32", "3202", "320281", "31"])),
        ownership_types=draw(subset(OWNERSHIP)),
        category=draw(st.sampled_from(["credit", "credit", "bridge_fund"])),
        scheme=draw(st.sampled_from(["own", "xikedai", "bridge_fund"])),
        amount_min_fen=low,
        amount_max_fen=high,
        term_unit=draw(st.sampled_from(["month", "day"])),
        term_min=term_low,
        term_max=term_high,
        collateral_types=draw(subset(COLLATERAL)),
        purposes=draw(subset(PURPOSES)),
        effective_from=draw(st.one_of(st.none(), days)),
        effective_to=None,
        rate_base=base,
        spread_bp=draw(st.integers(-100, 300)) if base.startswith("LPR") else None,
        fixed_rate_bp=draw(st.integers(200, 900)) if base == "FIXED" else None,
        annual_fee_bp=draw(st.sampled_from([0, 0, 100])),
        daily_fee_bp=draw(st.sampled_from([0, 4])),
    )


@settings(max_examples=120, deadline=None)
@given(enterprises(), st.one_of(st.none(), needs()), products())
def test_score_bounds_and_contributions_add_up(e, need, p) -> None:
    result = scoring.score(e, need, p, ON, CONFIG)
    if not result.eligible:
        assert result.failures and result.factors == () and result.score == 0
        assert all(f.reason and f.remedy and f.remedy != f.reason for f in result.failures)
        # Only what the enterprise can change soon is ever called actionable.
        assert {f.gate for f in result.failures if f.actionable} <= ACTIONABLE
        assert result.near_miss == all(f.actionable for f in result.failures)
        return
    assert 0 <= result.score <= 100
    assert sum(f.contribution_centi for f in result.factors) == result.score_centi
    assert sum(f.weight for f in result.factors) == 100
    assert [f.name for f in result.factors] == list(scoring.FACTORS)
    for factor in result.factors:
        assert 0 <= factor.contribution_centi <= factor.weight * 100
        assert factor.reason


@settings(max_examples=60, deadline=None)
@given(
    enterprises(),
    st.one_of(st.none(), needs()),
    st.lists(products(), min_size=1, max_size=12),
    st.randoms(),
)
def test_ranking_is_deterministic_and_never_holds_an_ineligible_pair(
    e, need, catalogue, rnd: random.Random
) -> None:
    catalogue = [dataclasses.replace(p, id=i) for i, p in enumerate(catalogue)]
    first = scoring.rank([scoring.score(e, need, p, ON, CONFIG) for p in catalogue])
    shuffled = catalogue[:]
    rnd.shuffle(shuffled)
    again = scoring.rank([scoring.score(e, need, p, ON, CONFIG) for p in shuffled])
    assert [(r.product_id, r.score_centi) for r in first] == [
        (r.product_id, r.score_centi) for r in again
    ]
    for result in first:
        assert result.eligible
        assert not scoring.gates(e, need, catalogue[result.product_id], ON, config=CONFIG)


@settings(max_examples=120, deadline=None)
@given(enterprises(), st.one_of(st.none(), needs()), products(), st.sampled_from(QUALS))
def test_a_new_valid_qualification_never_lowers_a_score(e, need, p, code) -> None:
    before = scoring.score(e, need, p, ON, CONFIG)
    richer = dataclasses.replace(
        e,
        qualifications=e.qualifications
        + (scoring.Held(code, ON - timedelta(days=10), ON + timedelta(days=300)),),
    )
    after = scoring.score(richer, need, p, ON, CONFIG)
    assert after.score_centi >= before.score_centi
    assert not (before.eligible and not after.eligible)


def _tighten(p: scoring.ProductRules, how: str, rnd: random.Random) -> scoring.ProductRules:
    if how == "cluster":
        return dataclasses.replace(
            p, clusters_included=p.clusters_included or frozenset(rnd.sample(CLUSTERS, 3))
        )
    if how == "exclude":
        return dataclasses.replace(
            p, clusters_excluded=p.clusters_excluded | {rnd.choice(CLUSTERS)}
        )
    if how == "size":
        allowed = p.size_classes or frozenset(SIZES)
        return dataclasses.replace(
            p,
            size_classes=frozenset(list(allowed)[:-1] or ["large"])
            if len(allowed) > 1
            else allowed,
        )
    if how == "qualification":
        return dataclasses.replace(p, qualifications_all=p.qualifications_all | {rnd.choice(QUALS)})
    if how == "amount":
        cap = p.amount_max_fen if p.amount_max_fen is not None else 10_000 * WAN
        return dataclasses.replace(p, amount_max_fen=max(cap // 2, p.amount_min_fen or 0))
    if how == "years":
        return dataclasses.replace(p, min_years_in_business=(p.min_years_in_business or 0) + 2)
    if how == "grade":
        current = CREDIT_GRADES.index(p.min_credit_grade) if p.min_credit_grade else 19
        return dataclasses.replace(p, min_credit_grade=CREDIT_GRADES[max(0, current - 3)])
    if how == "district":
        return dataclasses.replace(p, districts=p.districts or frozenset(DISTRICTS[:2]))
    if how == "wuxi":
        return dataclasses.replace(p, registered_in_wuxi=True)
    if how == "purpose":
        return dataclasses.replace(p, purposes=p.purposes or frozenset(PURPOSES[:2]))
    if how == "region":
        return dataclasses.replace(p, regions=p.regions or frozenset({"320281"}))
    if how == "ownership":
        return dataclasses.replace(p, ownership_types=p.ownership_types or frozenset({"private"}))
    if how == "industry":
        return dataclasses.replace(p, industries_included=p.industries_included or ("C",))
    if how == "collateral":
        return dataclasses.replace(
            p, collateral_types=(p.collateral_types - {"none"}) or frozenset({"property"})
        )
    raise AssertionError(how)


@settings(max_examples=200, deadline=None)
@given(
    enterprises(),
    st.one_of(st.none(), needs()),
    products(),
    st.sampled_from(
        [
            "cluster",
            "exclude",
            "size",
            "qualification",
            "amount",
            "years",
            "grade",
            "district",
            "wuxi",
            "purpose",
            "region",
            "ownership",
            "industry",
            "collateral",
        ]
    ),
    st.randoms(),
)
def test_tightening_a_rule_never_adds_a_match(e, need, p, how, rnd) -> None:
    tighter = _tighten(p, how, rnd)
    if scoring.score(e, need, tighter, ON, CONFIG).eligible:
        assert scoring.score(e, need, p, ON, CONFIG).eligible


def test_a_hand_checked_pair() -> None:
    e = scoring.EnterpriseFacts(
        1,
        cluster="ic",
        tier="landmark",
        size_class="small",
        qualifications=(scoring.Held("high_tech", date(2024, 1, 1), date(2026, 12, 31)),),
        established=date(2015, 1, 1),
        revenue_fen=5_000 * WAN,
        credit_grade="A",
        district="xinwu",
    )
    p = scoring.ProductRules(
        1,
        "x",
        "b",
        clusters_included=frozenset({"ic"}),
        collateral_types=frozenset({"none"}),
        size_classes=frozenset({"small"}),
        qualifications_any=frozenset({"high_tech"}),
        amount_max_fen=300 * WAN,
        spread_bp=45,
        purposes=frozenset({"working_capital"}),
    )
    result = scoring.score(e, scoring.NeedFacts(200 * WAN, 12, "working_capital"), p, ON, CONFIG)
    contributions = {f.name: f.contribution for f in result.factors}
    # sector: targeted (1.0) × 0.6 + landmark (1.0) × 0.4 = 1.0 → 30
    # size: restricted (0.5 + 0.5 × small 1.0) = 1.0 → 15
    # need: amount 67% of cap 1.0, no term cap 0.8, purpose 1.0, credit 1.0 → 0.95 → 23.75
    # qualification: targeted 0.5 + one of three 0.5/3 → 0.6667 → 10.00
    # cost: LPR1Y 300 + 45: (200 − 45) / 230 = 0.6739 → 10.11
    assert contributions == {
        "sector": 30.0,
        "industry": 0.0,
        "size": 15.0,
        "need": 23.75,
        "qualification": 10.0,
        "cost": 10.11,
        "policy": 0.0,
    }
    assert result.score == 88.86 and result.rate_bp == 345
    worse = scoring.score(e, scoring.NeedFacts(500 * WAN, 12, "rnd"), p, ON, CONFIG)
    assert [(f.gate, f.remedy, f.actionable) for f in worse.failures] == [
        ("amount_max", "金额降至 300 万元以内", True),
        ("purpose", "用于流动资金的资金需求可申请", True),
    ]
    # Halving what it asked for is no near miss: the enterprise needs another product.
    far = scoring.score(e, scoring.NeedFacts(800 * WAN, 12, "working_capital"), p, ON, CONFIG)
    assert [(f.gate, f.actionable) for f in far.failures] == [("amount_max", False)]
    assert not far.near_miss


@pytest.mark.parametrize(
    "changes",
    [
        {"weights": {**CONFIG.weights, "cost": CONFIG.weights["cost"] + 1}},
        {"weights": {k: v for k, v in CONFIG.weights.items() if k != "cost"}},
        {"spread_best_bp": 100, "spread_worst_bp": 100},
        {"spread_best_bp": 150, "spread_worst_bp": 100},
        {"top_per_product": -1},
    ],
)
def test_a_configuration_that_cannot_score_is_refused(changes: dict) -> None:
    from dataclasses import asdict

    with pytest.raises(ValueError):
        scoring.ScoringConfig(**{**asdict(CONFIG), **changes})


@settings(max_examples=200, deadline=None)
@given(
    enterprises(),
    needs(),
    products(),
    st.frozensets(st.sampled_from(COLLATERAL), min_size=1),
)
def test_offering_more_collateral_never_removes_an_eligible_product(e, need, p, more) -> None:
    richer = dataclasses.replace(need, collateral=need.collateral | more)
    if scoring.score(e, need, p, ON, CONFIG).eligible:
        assert scoring.score(e, richer, p, ON, CONFIG).eligible


@settings(max_examples=200, deadline=None)
@given(enterprises(), needs(), products())
def test_a_product_without_a_collateral_requirement_is_never_refused_for_collateral(
    e, need, p
) -> None:
    for credit in (
        dataclasses.replace(p, collateral_types=frozenset()),
        dataclasses.replace(p, collateral_types=p.collateral_types | {"none"}),
    ):
        gates = {f.gate for f in scoring.gates(e, need, credit, ON, config=CONFIG)}
        assert "collateral" not in gates


@settings(max_examples=200, deadline=None)
@given(enterprises(), st.one_of(st.none(), needs()), products())
def test_an_enterprise_outside_the_service_area_is_eligible_for_nothing(e, need, p) -> None:
    outside = dataclasses.replace(e, in_service_area=False)
    result = scoring.score(outside, need, p, ON, CONFIG)
    assert not result.eligible and not result.near_miss
    assert result.failures[0].gate == "service_area"


@settings(max_examples=200, deadline=None)
@given(enterprises(), needs(), products(), st.sampled_from(["equipment", "tech_transformation"]))
def test_a_product_accepting_a_purpose_accepts_its_children(e, need, p, child) -> None:
    parent_product = dataclasses.replace(p, purposes=frozenset({"project"}))
    child_need = dataclasses.replace(
        need, purpose=child, purpose_ancestors=CONFIG.purpose_ancestors(child)
    )
    gates = {f.gate for f in scoring.gates(e, child_need, parent_product, ON, config=CONFIG)}
    assert "purpose" not in gates
    # …but not the other way round: an equipment product does not fund a whole project.
    project_need = dataclasses.replace(need, purpose="project", purpose_ancestors=frozenset())
    narrow = dataclasses.replace(p, purposes=frozenset({child}))
    assert "purpose" in {f.gate for f in scoring.gates(e, project_need, narrow, ON, config=CONFIG)}


def test_a_government_guarantee_counts_as_a_guarantee() -> None:
    e = scoring.EnterpriseFacts(1)
    p = scoring.ProductRules(1, "g", "b", collateral_types=frozenset({"guarantee"}))
    need = scoring.NeedFacts(100 * WAN, 12, "working_capital", frozenset({"gov_guarantee"}))
    assert scoring.score(e, need, p, ON, CONFIG).eligible
    only_gov = dataclasses.replace(p, collateral_types=frozenset({"gov_guarantee"}))
    plain = dataclasses.replace(need, collateral=frozenset({"guarantee"}))
    refused = scoring.score(e, plain, only_gov, ON, CONFIG)
    assert [(f.gate, f.remedy) for f in refused.failures] == [
        ("collateral", "提供政府性融资担保即可申请")
    ]


def test_an_expired_qualification_is_named_with_its_date_and_a_prerequisite_is_respected() -> None:
    lapsed = scoring.Held("high_tech", date(2023, 10, 27), date(2026, 10, 26))
    e = scoring.EnterpriseFacts(1, qualifications=(lapsed,))
    p = scoring.ProductRules(1, "k", "b", qualifications_any=frozenset({"high_tech"}))
    (failure,) = scoring.gates(e, None, p, ON, {"high_tech": "高新技术企业"}, CONFIG)
    assert failure.actionable
    assert failure.remedy == "高新技术企业资质已于 2026-10-26 到期，续期后可申请"
    # 小巨人 needs the provincial 专精特新 first: not reachable soon without it.
    giant = scoring.ProductRules(2, "z", "b", qualifications_any=frozenset({"little_giant"}))
    (far,) = scoring.gates(e, None, giant, ON, config=CONFIG)
    assert not far.actionable
    srdi = scoring.Held("srdi_sme", date(2025, 1, 1), date(2027, 12, 31))
    near = dataclasses.replace(e, qualifications=(srdi,))
    (close,) = scoring.gates(near, None, giant, ON, {"little_giant": "小巨人"}, CONFIG)
    assert close.actionable and close.remedy == "取得小巨人认定（可申报）"

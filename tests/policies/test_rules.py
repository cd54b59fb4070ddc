"""The policy rules of the city's plans, evaluated by hand: every tier boundary and cap of the
technology-transformation support, the once-only awards on first award and re-examination,
and the interest-subsidy arithmetic."""

from datetime import date

import pytest

from service.policies.rules import (
    WAN,
    Award,
    Facts,
    Granted,
    Held,
    LoanFact,
    ProjectFact,
    Rule,
    Scheme,
    Tier,
    effective_rate_bp,
    evaluate,
    interest_in_year,
)

START = date(2024, 1, 29)  # the plans' date
AS_OF = date(2026, 6, 30)

TECH = Rule(
    "tech-transformation",
    1,
    "技术改造项目支持",
    Scheme.tech_transformation,
    START,
    project_kinds=frozenset({"tech_transformation"}),
    min_base_fen=1000 * WAN,
    tiers=(Tier(1000 * WAN, 500), Tier(3000 * WAN, 600), Tier(10_000 * WAN, 700)),
    cap_per_year_fen=1000 * WAN,
    max_years=3,
    once=False,
)


def firm(**more) -> Facts:
    return Facts(enterprise_id=1, private=True, in_area=True, size_class="medium", **more)


def project(
    investment_wan: float | None, year: int = 2025, kind: str = "tech_transformation", pid: int = 1
) -> ProjectFact:
    fen = None if investment_wan is None else round(investment_wan * WAN)
    return ProjectFact(pid, f"项目{pid}", kind, year, fen)


@pytest.mark.parametrize(
    ("investment_wan", "amount_wan"),
    [
        (999.99, None),  # below 1000万: nothing
        (1000, 50),  # 1000万 exactly (含): 5%
        (2999.99, 149.9995),  # just below 3000万: still 5%
        (3000, 180),  # 3000万 exactly: 6% of the whole
        (9999.99, 599.9994),  # just below 1亿: 6%
        (10_000, 700),  # 1亿 exactly: 7%
        (14_285.71, 999.9997),  # 7% just under the cap
        (20_000, 1000),  # 7% would be 1400万: the yearly cap of 1000万
    ],
)
def test_every_tier_boundary_and_the_cap(investment_wan: float, amount_wan: float | None) -> None:
    result = evaluate(TECH, firm(projects=(project(investment_wan),)), AS_OF)
    if amount_wan is None:
        assert not result.eligible and "1,000万元" in result.missing[0]
        return
    assert result.eligible and result.period == "2026"
    assert result.amount_fen == round(amount_wan * WAN)


def test_the_yearly_cap_is_per_enterprise_over_its_projects() -> None:
    projects = (project(8000, pid=1), project(9000, pid=2))  # 480万 + 540万 = 1020万
    result = evaluate(TECH, firm(projects=projects), AS_OF)
    assert [line.amount_fen for line in result.lines] == [480 * WAN, 540 * WAN]
    assert result.amount_fen == 1000 * WAN and "单个企业每年最高1,000万元" in result.notes
    partly = evaluate(
        TECH,
        firm(projects=projects, granted=(Granted("tech-transformation", "2026", 300 * WAN),)),
        AS_OF,
    )
    assert partly.amount_fen == 700 * WAN


def test_only_the_previous_years_technical_transformation_projects_count() -> None:
    others = (
        project(5000, year=2026),
        project(5000, year=2024, pid=2),
        project(5000, kind="new_build", pid=3),
        project(None, pid=4),
    )
    assert not evaluate(TECH, firm(projects=others), AS_OF).eligible


def test_at_most_three_years_of_support() -> None:
    done = tuple(Granted("tech-transformation", y, 100 * WAN) for y in ("2023", "2024", "2025"))
    third = evaluate(TECH, firm(projects=(project(5000),), granted=done[:2]), AS_OF)
    assert third.eligible  # the third year
    fourth = evaluate(TECH, firm(projects=(project(5000),), granted=done), AS_OF)
    assert not fourth.eligible and "最长支持 3 年" in fourth.missing[0]
    # a year already supported may still take what is left of its cap
    same_year = done[1:] + (Granted("tech-transformation", "2026", 100 * WAN),)
    assert (
        evaluate(TECH, firm(projects=(project(5000),), granted=same_year), AS_OF).amount_fen
        == 200 * WAN
    )


def test_only_private_enterprises_in_the_area() -> None:
    facts = firm(projects=(project(5000),))
    assert not evaluate(
        TECH, Facts(1, False, True, "medium", projects=facts.projects), AS_OF
    ).eligible
    unknown = evaluate(TECH, Facts(1, None, True, "medium", projects=facts.projects), AS_OF)
    assert "未登记控股情况" in unknown.missing[0]
    assert not evaluate(
        TECH, Facts(1, True, False, "medium", projects=facts.projects), AS_OF
    ).eligible


def award(code: str, types: set[str], how: Award, wan: int) -> Rule:
    return Rule(
        code,
        1,
        code,
        Scheme.qualification_award,
        START,
        qualification_types=frozenset(types),
        award=how,
        amount_fen=wan * WAN,
    )


GIANT_FIRST = award("little-giant-first", {"little_giant"}, Award.first, 50)
GIANT_RENEWAL = award("little-giant-renewal", {"little_giant"}, Award.renewal, 30)
GREEN = award(
    "green-national", {"green_factory_national", "green_supply_chain_national"}, Award.any, 80
)


def test_first_award_and_re_examination_once_each() -> None:
    first = Held("little_giant", date(2024, 7, 1))
    again = Held("little_giant", date(2027, 7, 1))
    assert evaluate(GIANT_FIRST, firm(qualifications=(first,)), AS_OF).amount_fen == 50 * WAN
    assert not evaluate(GIANT_RENEWAL, firm(qualifications=(first,)), AS_OF).eligible
    later = date(2027, 8, 1)
    assert (
        evaluate(GIANT_RENEWAL, firm(qualifications=(first, again)), later).amount_fen == 30 * WAN
    )
    paid = (Granted("little-giant-first", "once", 50 * WAN),)
    assert not evaluate(
        GIANT_FIRST, firm(qualifications=(first, again), granted=paid), later
    ).eligible


def test_a_first_award_before_the_policy_is_not_a_first_award_under_it() -> None:
    old = Held("little_giant", date(2021, 7, 1))
    assert not evaluate(GIANT_FIRST, firm(qualifications=(old,)), AS_OF).eligible
    renewed = Held("little_giant", date(2024, 7, 1))
    assert (
        evaluate(GIANT_RENEWAL, firm(qualifications=(old, renewed)), AS_OF).amount_fen == 30 * WAN
    )


def test_either_green_title_gives_the_award_once() -> None:
    chain = Held("green_supply_chain_national", date(2025, 3, 1))
    factory = Held("green_factory_national", date(2025, 9, 1))
    result = evaluate(GREEN, firm(qualifications=(chain, factory)), AS_OF)
    assert result.amount_fen == 80 * WAN and len(result.lines) == 1


SUBSIDY = Rule(
    "sci-tech-loan-subsidy",
    1,
    "科技贷款贴息",
    Scheme.interest_subsidy,
    date(2026, 1, 1),
    share_bp=5000,
    cap_per_loan_fen=50 * WAN,
    cap_per_year_fen=80 * WAN,
    loan_schemes=frozenset({"xikedai"}),
    once=False,
)


def loan(
    lid: int, principal_wan: int, rate_bp: int, start: date, end: date, scheme: str = "xikedai"
) -> LoanFact:
    return LoanFact(
        lid, f"C-{lid}", "p", scheme, "working_capital", principal_wan * WAN, rate_bp, start, end
    )


def test_interest_by_hand() -> None:
    # 1000万 at 3.45% for the 181 days from 2026-01-01 to 2026-06-30 inclusive:
    # 10,000,000 元 × 3.45% × 181 / 360 = 173,458.333… 元 → 17,345,833 fen (down to the fen)
    one = loan(1, 1000, 345, date(2026, 1, 1), date(2027, 1, 1))
    assert interest_in_year(one, 2026, until=date(2026, 6, 30)) == 17_345_833
    # the whole year: 365 days → 349,791.666… 元
    assert interest_in_year(one, 2026) == 34_979_166
    # disbursed mid-year and matured before the end: 2026-03-10 to 2026-09-10 = 184 days
    short = loan(2, 500, 400, date(2026, 3, 10), date(2026, 9, 10))
    assert interest_in_year(short, 2026) == 500 * WAN * 400 * 184 // (10_000 * 360)


def test_the_subsidy_halves_the_interest_with_its_caps() -> None:
    one = loan(1, 1000, 345, date(2026, 1, 1), date(2027, 1, 1))
    result = evaluate(SUBSIDY, firm(loans=(one,)), AS_OF)
    assert result.amount_fen == 17_345_833 // 2 == 8_672_916
    assert effective_rate_bp(345, 5000) == 172  # 3.45% → 1.725%, shown down to the bp
    big = loan(2, 5000, 400, date(2026, 1, 1), date(2027, 1, 1))  # half its interest: 101.4万
    two = evaluate(SUBSIDY, firm(loans=(one, big)), date(2026, 12, 31))
    per_loan = [line.amount_fen for line in two.lines]
    assert per_loan == [34_979_166 // 2, 50 * WAN]  # the second capped at 50万 a loan
    assert two.amount_fen == 17_489_583 + 50 * WAN  # 67.49万: under the 80万 a year
    more = loan(3, 5000, 400, date(2026, 1, 1), date(2027, 1, 1))
    three = evaluate(SUBSIDY, firm(loans=(one, big, more)), date(2026, 12, 31))
    assert three.amount_fen == 80 * WAN  # 117.49万 capped at 80万 a year


def test_loans_the_scheme_does_not_cover() -> None:
    other = loan(1, 1000, 345, date(2026, 1, 1), date(2027, 1, 1), scheme="own")
    before = loan(2, 1000, 345, date(2025, 6, 1), date(2026, 6, 1))  # disbursed before the scheme
    result = evaluate(SUBSIDY, firm(loans=(other, before)), AS_OF)
    assert not result.eligible and result.missing == ("没有本贴息方案覆盖的贷款",)


def test_the_citys_policies_as_data_become_these_rules() -> None:
    import json
    from pathlib import Path

    from service.policies.parameters import Parameters, to_rule

    path = Path(__file__).resolve().parents[2] / "seed" / "reference" / "policies.json"
    rules = {}
    for policy in json.loads(path.read_text(encoding="utf-8")):
        for v in policy["versions"]:
            rules[policy["code"]] = to_rule(
                policy["code"],
                v["version"],
                policy["name"],
                date.fromisoformat(v["effective_from"]),
                None,
                Parameters.model_validate(v["parameters"]),
            )
    tech = rules["tech-transformation"]
    assert (tech.tiers, tech.cap_per_year_fen, tech.max_years, tech.min_base_fen) == (
        TECH.tiers,
        TECH.cap_per_year_fen,
        TECH.max_years,
        TECH.min_base_fen,
    )
    amounts = {code: rule.amount_fen for code, rule in rules.items() if rule.amount_fen}
    assert amounts == {
        "green-national": 80 * WAN,
        "green-provincial": 50 * WAN,
        "green-design": 50 * WAN,
        "little-giant-first": 50 * WAN,
        "little-giant-renewal": 30 * WAN,
        "srdi-first": 30 * WAN,
        "srdi-renewal": 20 * WAN,
        "key-lab": 200 * WAN,
    }
    assert rules["key-lab"].discretionary and rules["little-giant-renewal"].award == Award.renewal


@pytest.mark.parametrize(
    "parameters",
    [
        {"scheme": "qualification_award", "amount_fen": 1},
        {"scheme": "qualification_award", "qualification_types": ["x"]},
        {
            "scheme": "qualification_award",
            "qualification_types": ["x"],
            "amount_fen": 1,
            "once": False,
        },
        {"scheme": "tech_transformation", "project_kinds": ["x"], "once": False},
        {
            "scheme": "tech_transformation",
            "project_kinds": ["x"],
            "once": False,
            "tiers": [{"from_fen": 2, "rate_bp": 1}, {"from_fen": 1, "rate_bp": 2}],
        },
        {"scheme": "interest_subsidy", "once": False},
        {"scheme": "interest_subsidy", "share_bp": 10_001, "once": False},
        {"scheme": "qualification_award", "qualification_types": ["x"], "amount_fen": 10**14},
        {"scheme": "nonsense"},
        {"scheme": "interest_subsidy", "share_bp": 5000, "once": False, "formula": "=1+1"},
    ],
)
def test_incomplete_or_wrong_parameters_are_refused(parameters: dict) -> None:
    from pydantic import ValidationError

    from service.policies.parameters import Parameters

    with pytest.raises(ValidationError):
        Parameters.model_validate(parameters)

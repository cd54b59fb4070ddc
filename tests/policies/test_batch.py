"""The whole-library evaluation equals the rule evaluated one enterprise at a time, on random
libraries (qualifications awarded and re-examined, projects across years and tiers, loans in
and out of a scheme, grants already recorded) for every rule of the city's plans and a set of
interest subsidies, as of several dates."""

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from service.policies.batch import columns_of, evaluate_all, evaluate_policy_all
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
    evaluate,
    evaluate_policy,
)
from tests.policies.test_rules import GIANT_FIRST, GIANT_RENEWAL, GREEN, SUBSIDY, TECH

TYPES = [
    "little_giant",
    "srdi_sme",
    "green_factory_national",
    "green_supply_chain_national",
    "high_tech",
]
KINDS = ["tech_transformation", "new_build", "rnd"]
SCHEMES = ["xikedai", "xixindai", "own", None]


def random_library(seed: int, size: int = 400) -> list[Facts]:
    rng = random.Random(seed)
    out = []
    for i in range(size):
        quals = tuple(
            Held(rng.choice(TYPES), date(2019, 1, 1) + timedelta(days=rng.randrange(3000)))
            for _ in range(rng.choice([0, 0, 1, 2, 3]))
        )
        projects = tuple(
            ProjectFact(
                i * 10 + j,
                f"p{j}",
                rng.choice(KINDS),
                rng.choice([2024, 2025, 2026]),
                rng.choice(
                    [
                        None,
                        rng.randrange(0, 30_000) * WAN,
                        1000 * WAN,
                        3000 * WAN,
                        10_000 * WAN,
                        999 * WAN + 99,
                    ]
                ),
            )
            for j in range(rng.choice([0, 1, 1, 2, 4]))
        )
        loans = []
        for j in range(rng.choice([0, 0, 1, 2])):
            start = date(2025, 6, 1) + timedelta(days=rng.randrange(500))
            end = start + timedelta(days=rng.choice([90, 180, 365, 730]))
            closed = start + timedelta(days=rng.randrange(1, 400)) if rng.random() < 0.2 else None
            loans.append(
                LoanFact(
                    i * 10 + j,
                    f"C{i}-{j}",
                    rng.choice(["p1", "p2", None]),
                    rng.choice(SCHEMES),
                    rng.choice(["working_capital", "equipment"]),
                    rng.randrange(1, 20_000) * WAN,
                    rng.randrange(200, 600),
                    start,
                    end,
                    closed,
                )
            )
        granted = tuple(
            Granted(
                rng.choice(
                    [
                        "tech-transformation",
                        "little-giant-first",
                        "green-national",
                        "sci-tech-loan-subsidy",
                    ]
                ),
                rng.choice(["once", "2023", "2024", "2025", "2026"]),
                rng.randrange(1, 500) * WAN,
            )
            for _ in range(rng.choice([0, 0, 0, 1, 3]))
        )
        out.append(
            Facts(
                i + 1,
                rng.choice([True, True, True, False, None]),
                rng.random() < 0.9,
                rng.choice(["micro", "small", "medium", "large", None]),
                quals,
                projects,
                tuple(loans),
                granted,
            )
        )
    return out


RULES = [
    TECH,
    GIANT_FIRST,
    GIANT_RENEWAL,
    GREEN,
    SUBSIDY,
    Rule(
        "small-only",
        2,
        "x",
        Scheme.qualification_award,
        date(2025, 1, 1),
        date(2026, 9, 30),
        size_classes=frozenset({"small", "micro"}),
        qualification_types=frozenset({"high_tech"}),
        award=Award.any,
        amount_fen=10 * WAN,
        private_only=False,
    ),
    Rule(
        "purpose-subsidy",
        1,
        "x",
        Scheme.interest_subsidy,
        date(2025, 9, 1),
        share_bp=3000,
        loan_purposes=frozenset({"equipment"}),
        loan_qualifications=frozenset({"srdi_sme", "little_giant"}),
        cap_per_year_fen=20 * WAN,
        once=False,
        in_area_only=False,
    ),
    Rule(
        "tiers-no-floor",
        1,
        "x",
        Scheme.tech_transformation,
        date(2024, 1, 1),
        project_kinds=frozenset({"tech_transformation", "rnd"}),
        tiers=(Tier(0, 100), Tier(500 * WAN, 300)),
        max_years=1,
        once=False,
    ),
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "as_of", [date(2026, 6, 30), date(2026, 12, 31), date(2025, 3, 1), date(2024, 1, 10)]
)
def test_the_batch_equals_the_rule(seed: int, as_of: date) -> None:
    library = random_library(seed)
    columns = columns_of(library)
    for rule in RULES:
        batch = evaluate_all(rule, columns, as_of)
        got = {
            int(columns.enterprise_ids[r]): int(a)
            for r, a in zip(batch.rows, batch.amounts, strict=True)
        }
        expected = {}
        for facts in library:
            one = evaluate(rule, facts, as_of)
            if one.eligible and one.amount_fen > 0:
                expected[facts.enterprise_id] = one.amount_fen
                assert one.period == batch.period
        assert got == expected, rule.policy_code


def test_an_empty_library() -> None:
    columns = columns_of([])
    for rule in RULES:
        assert len(evaluate_all(rule, columns, date(2026, 6, 30)).rows) == 0


def _versions(rule: Rule, from_: date, **changes: object) -> tuple[Rule, ...]:
    """The rule as version 1 and a changed version 2 from ``from_``, newest first, each with
    its own days and the policy's, as the store builds them."""
    first = replace(rule, effective_to=from_ - timedelta(days=1), policy_from=rule.effective_from)
    second = replace(rule, version=2, effective_from=from_, policy_from=rule.effective_from)
    return (replace(second, **changes), first)  # type: ignore[arg-type]


VERSIONED = [
    _versions(GIANT_FIRST, date(2025, 7, 1), amount_fen=60 * WAN),
    _versions(GIANT_RENEWAL, date(2025, 7, 1), amount_fen=35 * WAN),
    _versions(GREEN, date(2025, 1, 1), amount_fen=100 * WAN),
    _versions(SUBSIDY, date(2026, 3, 1), share_bp=2000),
    _versions(TECH, date(2026, 1, 1), cap_per_year_fen=500 * WAN),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("as_of", [date(2026, 6, 30), date(2025, 8, 1), date(2024, 1, 10)])
def test_a_policy_over_its_versions_equals_the_rules(seed: int, as_of: date) -> None:
    """An award is paid under the version in force on its day, a yearly scheme under the one
    in force on the day evaluated: the batch and the rules agree on who and how much."""
    library = random_library(seed + 100)
    columns = columns_of(library)
    for rules in VERSIONED:
        batch = evaluate_policy_all(rules, columns, as_of)
        got = {
            int(columns.enterprise_ids[r]): int(a)
            for r, a in zip(batch.rows, batch.amounts, strict=True)
        }
        expected = {}
        for facts in library:
            one = evaluate_policy(rules, facts, as_of)
            if one.eligible and one.amount_fen > 0:
                expected[facts.enterprise_id] = one.amount_fen
        assert got == expected, rules[0].policy_code

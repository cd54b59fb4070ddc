"""Every labelled case of the expert evaluation set holds (see tests/matching/expert.py)."""

import pytest

from tests.matching.expert import CASES, catalogue, evaluate


@pytest.fixture(scope="module")
def cat():
    return catalogue()


def test_the_set_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_expert_case(case, cat) -> None:
    outcome = evaluate(case, cat)
    failed = [(kind, what) for kind, what, ok in outcome.checks if not ok]
    shown = [(i.product_code, i.score) for i in outcome.items[:5]]
    misses = [(m.product_code, [f.remedy for f in m.failures]) for m in outcome.near_misses]
    assert not failed, f"{case.title}\n top: {shown}\n near misses: {misses}"

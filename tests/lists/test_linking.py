"""Name linking, pure: normalisation and places, blocking, scoring and the three outcomes,
and the labelled pairs (hard cases) measured at the automatic threshold."""

import csv
from pathlib import Path

import pytest

from service.lists.linking import AUTO, LinkIndex, link
from service.taxonomy.names import (
    is_branch,
    name_places,
    normalize_company_name,
    places_conflict,
)

PAIRS = Path(__file__).parent / "data" / "name_pairs.csv"
DISTRACTORS = [
    "无锡市华润微电子有限公司",
    "江苏长电科技股份有限公司",
    "无锡先导智能装备股份有限公司",
    "无锡药明康德新药开发股份有限公司",
    "无锡新洁能股份有限公司",
    "江阴兴澄特种钢铁有限公司",
    "宜兴市环保科技工业园有限公司",
    "无锡小天鹅电器有限公司",
]


def _index(names: list[str], districts: list[str | None] | None = None) -> LinkIndex:
    return LinkIndex(
        list(range(1, len(names) + 1)),
        names,
        [normalize_company_name(n) for n in names],
        districts or [None] * len(names),
    )


@pytest.mark.parametrize(
    ("name", "core", "places"),
    [
        ("无锡华光电子股份有限公司", "华光电子", {"无锡"}),
        ("华光电子（无锡）有限公司", "华光电子", {"无锡"}),
        ("江苏省无锡市华光电子有限公司", "华光电子", {"无锡"}),
        ("江阴市华光电子有限公司", "华光电子", {"无锡"}),  # 江阴 is in Wuxi
        ("华光电子(苏州)有限公司", "华光电子", {"苏州"}),
        ("浙江华光电子有限公司", "华光电子", {"浙江"}),
        ("上海市华光电子有限公司", "华光电子", {"上海"}),
        ("华光电子集团有限公司", "华光电子", set()),
        ("华光电子有限公司无锡分公司", "华光电子", {"无锡"}),
        ("ＨＧ华光 电子有限公司", "hg华光电子", set()),
    ],
)
def test_names_normalise_and_carry_their_places(name, core, places) -> None:
    assert normalize_company_name(name) == core
    assert name_places(name) == frozenset(places)


def test_places_and_branches() -> None:
    assert places_conflict(frozenset({"苏州"}), frozenset({"无锡"}))
    assert not places_conflict(frozenset({"无锡"}), frozenset({"无锡"}))
    assert not places_conflict(frozenset({"江苏"}), frozenset({"无锡"}))  # province vs city
    assert places_conflict(frozenset({"浙江"}), frozenset({"江苏"}))
    assert not places_conflict(frozenset(), frozenset({"无锡"}))
    assert is_branch("华光电子有限公司无锡分公司") and not is_branch("华光电子有限公司")


def test_the_three_outcomes() -> None:
    index = _index(["无锡华光电子有限公司", "无锡恒瑞电气有限公司", *DISTRACTORS])
    sure = link(index, "华光电子（无锡）股份有限公司")
    assert sure.outcome == "auto" and sure.best.enterprise_id == 1 and sure.best.score == 100
    maybe = link(index, "无锡华光电子科技有限公司")
    assert maybe.outcome == "review" and maybe.best.enterprise_id == 1
    assert AUTO > maybe.best.score >= 75
    unknown = link(index, "无锡卓越生物医药有限公司")
    assert unknown.outcome == "new"


def test_ambiguous_and_conflicting_names_go_to_a_person() -> None:
    twins = _index(["无锡华光电子有限公司", "江阴华光电子股份有限公司"])
    assert link(twins, "华光电子有限公司").outcome == "review"  # two equally good
    elsewhere = _index(["苏州华光电子有限公司"])
    verdict = link(elsewhere, "无锡华光电子有限公司")
    assert verdict.outcome == "review" and "地名不同" in verdict.best.reasons[0]
    branch = _index(["华光电子有限公司"])
    assert link(branch, "华光电子有限公司无锡分公司").outcome != "auto"
    district = _index(["无锡华光电子有限公司"], ["xinwu"])
    assert link(district, "无锡华光电子有限公司", "jiangyin").outcome == "review"
    assert link(district, "无锡华光电子有限公司", "xinwu").outcome == "auto"


def test_blocking_reads_few_names() -> None:
    names = [
        f"无锡{chr(0x4E00 + i % 3000)}{chr(0x4E00 + i // 3000 + 100)}电子有限公司"
        for i in range(20000)
    ]
    index = _index(names)
    candidates = index.candidates(normalize_company_name(names[12345]))
    assert len(candidates) <= 41 and 12345 in candidates


def _pairs() -> list[dict[str, str]]:
    with PAIRS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_labelled_pairs_hold_precision_at_the_automatic_threshold() -> None:
    rows = _pairs()
    assert len(rows) >= 300
    assert {r["category"] for r in rows} >= {
        "shared_trade_name",
        "other_city",
        "reordered_place",
        "abbreviation",
        "legal_form",
        "branch",
        "long_name",
    }
    true_pos = false_pos = positives = 0
    for row in rows:
        index = _index([row["library_name"], *DISTRACTORS])
        verdict = link(index, row["list_name"])
        linked = verdict.outcome == "auto" and verdict.best.enterprise_id == 1
        same = row["same"] == "1"
        positives += same
        true_pos += linked and same
        false_pos += linked and not same
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / positives
    assert precision >= 0.99, (precision, recall)
    assert recall >= 0.6, recall  # the rest goes to review, where a person links it

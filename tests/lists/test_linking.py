"""Name linking, pure: normalisation and places, blocking, scoring and the three outcomes,
and the labelled pairs (hard cases) measured at the automatic threshold."""

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.lists.linking import AUTO, LinkIndex, link
from service.lists.models import Match
from service.lists.parsing import ListRow
from service.lists.service import _link_row
from service.taxonomy.names import (
    is_branch,
    name_places,
    normalize_company_name,
    places_conflict,
)
from tests.factories import credit_code

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


# --- expert cases: what the financial office's data clerk expects ------------------------
#
# Each case is a row of a government list (a name, sometimes a credit code or a district), the
# library it is linked against, and the outcome the clerk expects: "auto" (linked without a
# person; by credit code or by name), "review" (a person decides, the expected enterprise
# proposed first) or "new" (proposed as a new library entry). They run through the row
# decision that preview_import applies (credit code first, then the name).


@dataclass(frozen=True)
class Case:
    label: str
    listed: str  # the name as the list writes it
    library: tuple[str, ...]
    expected: str  # auto | review | new
    target: str | None = None  # the library name linked, or proposed first for review
    code_of: str | None = None  # the list gives the credit code of this library name
    unknown_code: bool = False  # the list gives a credit code the library does not hold
    district: str | None = None  # the list's district
    library_district: str | None = None  # every library enterprise's district


CHANGJIANG = "江苏长电科技股份有限公司"
CHANGJIANG_PACKAGING = "江阴长电先进封装有限公司"

EXPERT_CASES = [
    # A short name (简称) with no legal form is the trade name's: when the library holds two
    # enterprises of that trade name, the list may mean either.
    Case(
        "short name, another enterprise of its trade name: review",
        "长电科技",
        (CHANGJIANG, CHANGJIANG_PACKAGING),
        "review",
        CHANGJIANG,
    ),
    Case(
        "short name, trade name namesake elsewhere in Jiangsu: review",
        "华光电子",
        ("无锡华光电子有限公司", "苏州华光机械有限公司"),
        "review",
        "无锡华光电子有限公司",
    ),
    Case(
        "short name, no other enterprise of its trade name: auto",
        "长电科技",
        (CHANGJIANG, "无锡华光电子有限公司"),
        "auto",
        CHANGJIANG,
    ),
    Case(
        "short name, a longer trade name beginning alike (新洁能) is not a namesake: auto",
        "新洁新能源",
        ("无锡新洁新能源有限公司", "无锡新洁能股份有限公司"),
        "auto",
        "无锡新洁新能源有限公司",
    ),
    Case(
        "full registered name, namesake in the library: auto",
        CHANGJIANG,
        (CHANGJIANG, CHANGJIANG_PACKAGING),
        "auto",
        CHANGJIANG,
    ),
    Case(
        "registered name without its province, legal form written: auto",
        "长电科技股份有限公司",
        (CHANGJIANG, CHANGJIANG_PACKAGING),
        "auto",
        CHANGJIANG,
    ),
    Case(
        "place in brackets and another legal form: auto",
        "华光电子（无锡）股份有限公司",
        ("无锡华光电子有限公司", "无锡宏达精密机械有限公司"),
        "auto",
        "无锡华光电子有限公司",
    ),
    # Industry words (新材料, 智能装备, 新能源汽车零部件 …) are shared by many companies: two
    # different trade names are two companies, however long the words they share.
    Case(
        "different trade names, shared 新材料: new",
        "无锡宏达新材料",
        ("无锡华光新材料有限公司",),
        "new",
    ),
    Case(
        "different trade names, shared 新能源汽车零部件: new",
        "无锡宏达新能源汽车零部件有限公司",
        ("无锡华光新能源汽车零部件有限公司",),
        "new",
    ),
    Case(
        "different trade names, shared 智能装备科技: new",
        "无锡华光智能装备科技有限公司",
        ("无锡宏达智能装备科技有限公司",),
        "new",
    ),
    Case(
        "different trade names, shared 电子: new",
        "无锡万邦电子有限公司",
        ("无锡海澜电子有限公司",),
        "new",
    ),
    Case(
        "same trade name, one more industry word: review",
        "无锡华光新材料科技有限公司",
        ("无锡华光新材料有限公司",),
        "review",
        "无锡华光新材料有限公司",
    ),
    Case(
        "one character more in the trade name: review",
        "无锡恒瑞德集成电路有限公司",
        ("无锡瑞德集成电路有限公司",),
        "review",
        "无锡瑞德集成电路有限公司",
    ),
    # The credit code decides when the library holds it, whatever the name says.
    Case(
        "credit code of a renamed enterprise wins over an exact name: auto by code",
        "无锡华光电子有限公司",
        ("无锡华光电子有限公司", "无锡宏达精密机械有限公司"),
        "auto",
        "无锡宏达精密机械有限公司",
        code_of="无锡宏达精密机械有限公司",
    ),
    Case(
        "exact name but a credit code the library does not hold: review",
        "无锡华光电子有限公司",
        ("无锡华光电子有限公司",),
        "review",
        "无锡华光电子有限公司",
        unknown_code=True,
    ),
    # Branches, other cities, other districts and twins are lowered to review.
    Case(
        "a branch of a library company: review",
        "华光电子有限公司无锡分公司",
        ("无锡华光电子有限公司",),
        "review",
        "无锡华光电子有限公司",
    ),
    Case(
        "the same name in another city: review",
        "苏州华光电子有限公司",
        ("无锡华光电子有限公司",),
        "review",
        "无锡华光电子有限公司",
    ),
    Case(
        "the list's district is not the library's: review",
        "无锡华光电子有限公司",
        ("无锡华光电子有限公司",),
        "review",
        "无锡华光电子有限公司",
        district="江阴市",
        library_district="xinwu",
    ),
    Case(
        "two library companies of the same name: review",
        "华光电子有限公司",
        ("无锡华光电子有限公司", "江阴华光电子股份有限公司"),
        "review",
    ),
]


def _decide(case: Case) -> tuple[str, str | None, list[str]]:
    """The outcome of one list row (auto, review or new), the enterprise it is linked to or
    proposed first, and the names shown to the office."""
    codes = {name: credit_code() for name in case.library}
    index = _index(list(case.library), [case.library_district] * len(case.library))
    by_code = {codes[name]: i for i, name in enumerate(case.library, start=1)}
    code = codes[case.code_of] if case.code_of else credit_code() if case.unknown_code else None
    row = ListRow(line=2, name=case.listed, credit_code=code, district=case.district)
    entry = _link_row(1, row, {"江阴市": "jiangyin", "新吴区": "xinwu"}, by_code, index)
    outcome = {Match.code: "auto", Match.auto: "auto"}.get(entry["match"], str(entry["match"]))
    linked = entry["enterprise_id"] or (
        entry["candidates"][0]["enterprise_id"] if entry["candidates"] else None
    )
    name = case.library[linked - 1] if linked else None
    return outcome, name, [c["name"] for c in entry["candidates"]]


def test_there_are_enough_expert_cases_of_every_outcome() -> None:
    outcomes = [c.expected for c in EXPERT_CASES]
    assert len(EXPERT_CASES) >= 12
    assert {o: outcomes.count(o) >= 3 for o in ("auto", "review", "new")} == {
        "auto": True,
        "review": True,
        "new": True,
    }


@pytest.mark.parametrize("case", EXPERT_CASES, ids=[c.label for c in EXPERT_CASES])
def test_expert_case(case: Case) -> None:
    outcome, first, shown = _decide(case)
    assert outcome == case.expected, (outcome, shown)
    if case.target:
        assert first == case.target


def test_a_short_name_in_review_shows_its_namesake_and_why() -> None:
    index = _index([CHANGJIANG, CHANGJIANG_PACKAGING, "无锡华光电子有限公司"])
    verdict = link(index, "长电科技")
    assert verdict.outcome == "review"
    assert [c.name for c in verdict.candidates[:2]] == [CHANGJIANG, CHANGJIANG_PACKAGING]
    assert verdict.best.score == 100
    assert any("同字号" in r and CHANGJIANG_PACKAGING in r for r in verdict.best.reasons)


def test_different_trade_names_are_shown_with_the_reason_but_not_reviewed() -> None:
    index = _index(["无锡华光新能源汽车零部件有限公司"])
    verdict = link(index, "无锡宏达新能源汽车零部件有限公司")
    assert verdict.outcome == "new"
    assert verdict.best is not None and verdict.best.score < 75
    assert "字号不同：宏达 / 华光" in verdict.best.reasons


def test_namesakes_are_found_beyond_the_blocking_candidates() -> None:
    """In a large library the blocking may not read the namesake (it shares only the trade
    name's pair with the short name); the short name still goes to review."""
    crowd = [f"无锡{chr(0x4E00 + i)}电科技有限公司" for i in range(200)]  # "X电科技": two pairs
    index = _index([CHANGJIANG, *crowd, CHANGJIANG_PACKAGING])
    assert len(index) - 1 not in index.candidates("长电科技")
    assert link(index, "长电科技").outcome == "review"


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

"""Enterprise size classification against every row of the size table (统计上大中小微型企业划分办法
2017), at the boundaries, with the table read from seed/reference/size_standards.json."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.taxonomy.sizing import (
    FEN_PER_WAN,
    Figures,
    SizeRow,
    Threshold,
    classify,
    find_row,
)

SIZE_TABLE = Path(__file__).resolve().parents[2] / "seed" / "reference" / "size_standards.json"
CLASSES = ("large", "medium", "small")
RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}
NEXT_DOWN = {"large": "medium", "medium": "small", "small": "micro"}
UNIT = {"employees": 1, "revenue": 1, "assets": 1}  # one employee, one fen


def load_rows() -> list[SizeRow]:
    data = json.loads(SIZE_TABLE.read_text(encoding="utf-8"))
    return [
        SizeRow(
            key=row["key"],
            name=row["name"],
            gbt_scope=tuple(row["gbt_scope"]),
            indicators=tuple(row["indicators"]),
            thresholds=tuple(
                Threshold(size_class, t["employees_min"], t["revenue_min_wan"], t["assets_min_wan"])
                for size_class, t in row["thresholds"].items()
            ),
        )
        for row in sorted(data, key=lambda r: r["sort_order"])
    ]


ROWS = load_rows()
ROW = {row.key: row for row in ROWS}

# One real GB/T 4754-2017 class code per row.
SAMPLE_CODE = {
    "agriculture": "A0111",  # 稻谷种植
    "industry": "C3973",  # 集成电路制造
    "construction": "E4710",  # 住宅房屋建筑
    "wholesale": "F5171",  # 农业机械批发
    "retail": "F5211",  # 百货零售
    "transport": "G5431",  # 普通货物道路运输
    "warehousing": "G5920",  # 通用仓储
    "postal": "G6010",  # 邮政基本服务
    "accommodation_catering": "H6110",  # 旅游饭店
    "telecom_broadcast": "I6311",  # 固定电信服务
    "software_it": "I6513",  # 应用软件开发
    "real_estate_dev": "K7010",  # 房地产开发经营
    "property_mgmt": "K7020",  # 物业管理
    "leasing_business": "L7211",  # 企业总部管理
    "other": "M7320",  # 工程和技术研究和试验发展
}


def bound(row: SizeRow, size_class: str, indicator: str) -> int:
    """The class's lower bound in the unit of Figures (persons or fen)."""
    threshold = next(t for t in row.thresholds if t.size_class == size_class)
    if indicator == "employees":
        value = threshold.employees_min
    else:
        wan = threshold.revenue_min_wan if indicator == "revenue" else threshold.assets_min_wan
        value = None if wan is None else wan * FEN_PER_WAN
    assert value is not None, f"{row.key}/{size_class} has no {indicator} bound"
    return value


def figures_at(row: SizeRow, size_class: str, **override: int) -> Figures:
    """Every indicator of the row exactly at the class's lower bound; indicators the row does not
    use are set to 0, which would pull the class down if they were wrongly consulted."""
    values = {
        i: bound(row, size_class, i) if i in row.indicators else 0
        for i in ("employees", "revenue", "assets")
    }
    values.update(override)
    return Figures(values["employees"], values["revenue"], values["assets"])


def size_of(code: str, figures: Figures) -> str | None:
    return classify(code, figures, ROWS).size_class


# --- the table itself --------------------------------------------------------------------


def test_every_row_has_a_sample_code_and_all_three_classes() -> None:
    assert set(SAMPLE_CODE) == set(ROW)
    for row in ROWS:
        assert sorted(t.size_class for t in row.thresholds) == sorted(CLASSES)
        for indicator in row.indicators:
            bounds = [bound(row, c, indicator) for c in CLASSES]
            assert bounds == sorted(bounds, reverse=True) and len(set(bounds)) == 3, row.key


# The rows of the 2017 standard (国统字〔2017〕213号, its table and notes): the GB/T 4754-2017
# scope of each row, its indicators, and the lower bounds of large / medium / small (persons;
# 万元). The notes define the combined rows: 工业 is B, C, D; 交通运输业 is 54–58 and 装卸搬运
# (591), not railways (53); 仓储业 is the rest of 59; 信息传输业 is 63 and 64; 其他未列明行业 is
# M, N, O, 社会工作 (85, not 卫生 84), R, 房地产中介服务 (703) and 其他房地产业 (709), not
# own-property leasing (704). Finance (J), education (P), 卫生 (84), S and T are outside it.
OFFICIAL_2017 = {
    "agriculture": ({"A"}, {"revenue": (20000, 500, 50)}),
    "industry": ({"B", "C", "D"}, {"employees": (1000, 300, 20), "revenue": (40000, 2000, 300)}),
    "construction": ({"E"}, {"revenue": (80000, 6000, 300), "assets": (80000, 5000, 300)}),
    "wholesale": ({"51"}, {"employees": (200, 20, 5), "revenue": (40000, 5000, 1000)}),
    "retail": ({"52"}, {"employees": (300, 50, 10), "revenue": (20000, 500, 100)}),
    "transport": (
        {"54", "55", "56", "57", "58", "591"},
        {"employees": (1000, 300, 20), "revenue": (30000, 3000, 200)},
    ),
    "warehousing": ({"59"}, {"employees": (200, 100, 20), "revenue": (30000, 1000, 100)}),
    "postal": ({"60"}, {"employees": (1000, 300, 20), "revenue": (30000, 2000, 100)}),
    "accommodation_catering": (
        {"61", "62"},
        {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)},
    ),
    "telecom_broadcast": (
        {"63", "64"},
        {"employees": (2000, 100, 10), "revenue": (100000, 1000, 100)},
    ),
    "software_it": ({"65"}, {"employees": (300, 100, 10), "revenue": (10000, 1000, 50)}),
    "real_estate_dev": ({"701"}, {"revenue": (200000, 1000, 100), "assets": (10000, 5000, 2000)}),
    "property_mgmt": ({"702"}, {"employees": (1000, 300, 100), "revenue": (5000, 1000, 500)}),
    "leasing_business": ({"L"}, {"employees": (300, 100, 10), "assets": (120000, 8000, 100)}),
    "other": ({"M", "N", "O", "85", "R", "703", "709"}, {"employees": (300, 100, 10)}),
}


@pytest.mark.parametrize("key", sorted(OFFICIAL_2017))
def test_each_row_is_the_2017_standards_row(key: str) -> None:
    scope, bounds = OFFICIAL_2017[key]
    row = ROW[key]
    assert set(row.gbt_scope) == scope
    assert set(row.indicators) == set(bounds)
    for indicator, expected in bounds.items():
        wan = 1 if indicator == "employees" else FEN_PER_WAN
        assert tuple(bound(row, c, indicator) for c in CLASSES) == tuple(
            b * wan for b in expected
        ), (key, indicator)


def test_the_table_has_exactly_the_2017_rows() -> None:
    assert set(ROW) == set(OFFICIAL_2017)


def test_a_hospital_is_not_classified_and_the_reason_says_why() -> None:
    """Q84 卫生 is outside the standard: only 社会工作 (85) of section Q is classified."""
    result = classify("Q8411", Figures(2000, 10**13, 10**13), ROWS)
    assert (result.size_class, result.industry_key) == (None, None)
    assert "Q8411" in result.reason and "大类 84" in result.reason
    assert "不划型" in result.reason
    assert "85（按其他未列明行业）" in result.reason  # what of section Q is classified


def test_social_work_is_classified_by_employees_alone() -> None:
    """Q85 社会工作 (an elderly-care home, 8514) is 其他未列明行业: employees only."""
    for employees, expected in [(300, "large"), (100, "medium"), (99, "small"), (9, "micro")]:
        result = classify("Q8514", Figures(employees, None, None), ROWS)
        assert (result.size_class, result.industry_key) == (expected, "other")


def test_loading_and_unloading_is_transport_not_warehousing() -> None:
    """装卸搬运 (591) is in 交通运输业 by the 2017 notes; the rest of 59 is 仓储业."""
    # 250 employees and 2000万 revenue: small as transport, medium as warehousing would say.
    figures = Figures(250, 2000 * FEN_PER_WAN, None)
    assert classify("G5910", figures, ROWS).size_class == "small"
    assert classify("G5920", figures, ROWS).size_class == "medium"


def test_a_code_outside_the_table_names_what_its_section_covers() -> None:
    rail = classify("G5311", Figures(5000, 10**13, None), ROWS).reason
    assert "591（按交通运输业）" in rail and "59（按仓储业）" in rail
    leasing = classify("K7040", Figures(5000, 10**13, 10**13), ROWS).reason
    assert "701（按房地产开发经营）" in leasing and "703、709（按其他未列明行业）" in leasing
    finance = classify("J6621", Figures(5000, 10**13, 10**13), ROWS).reason
    assert "金融业" in finance and "只有" not in finance


@pytest.mark.parametrize(("key", "code"), sorted(SAMPLE_CODE.items()))
def test_sample_code_finds_its_row(key: str, code: str) -> None:
    assert find_row(code, ROWS) is ROW[key]


# A real GB/T 4754-2017 code under each scope the table uses.
SCOPE_CODE = {
    "A": "A0111",
    "B": "B0610",
    "C": "C3973",
    "D": "D4411",
    "E": "E4710",
    "51": "F5171",
    "52": "F5211",
    "54": "G5411",
    "55": "G5511",
    "56": "G5611",
    "57": "G5710",
    "58": "G5810",
    "591": "G5910",  # 装卸搬运
    "59": "G5920",
    "60": "G6010",
    "61": "H6110",
    "62": "H6210",
    "63": "I6311",
    "64": "I6421",
    "65": "I6513",
    "7010": "K7010",
    "702": "K7020",
    "L": "L7111",
    "M": "M7320",
    "N": "N7721",
    "O": "O8010",
    "85": "Q8514",  # 老年人、残疾人养护服务
    "R": "R8610",
    "703": "K7030",
    "709": "K7090",
    "701": "K7010",  # in case the seed scope becomes the group "701" (see the K701 test)
}
SCOPE_CASES = [(row.key, scope) for row in ROWS for scope in row.gbt_scope]


def test_every_scope_has_a_sample_code() -> None:
    assert {scope for _, scope in SCOPE_CASES} <= set(SCOPE_CODE)


@pytest.mark.parametrize(("key", "scope"), SCOPE_CASES, ids=[f"{k}-{s}" for k, s in SCOPE_CASES])
def test_every_scope_of_every_row_leads_to_that_row(key: str, scope: str) -> None:
    assert find_row(SCOPE_CODE[scope], ROWS) is ROW[key]


# --- every row, every class, at its boundaries ----------------------------------------

BOUNDARY_CASES = [(row.key, c) for row in ROWS for c in CLASSES]


@pytest.mark.parametrize(
    ("key", "size_class"), BOUNDARY_CASES, ids=[f"{k}-{c}-at-bounds" for k, c in BOUNDARY_CASES]
)
def test_exactly_at_every_lower_bound_is_that_class(key: str, size_class: str) -> None:
    row = ROW[key]
    result = classify(SAMPLE_CODE[key], figures_at(row, size_class), ROWS)
    assert (result.size_class, result.industry_key) == (size_class, key)
    assert result.reason


ONE_BELOW_CASES = [(row.key, c, i) for row in ROWS for c in CLASSES for i in row.indicators]


@pytest.mark.parametrize(
    ("key", "size_class", "indicator"),
    ONE_BELOW_CASES,
    ids=[f"{k}-{c}-{i}-one-below" for k, c, i in ONE_BELOW_CASES],
)
def test_one_unit_below_on_one_indicator_is_the_next_class_down(
    key: str, size_class: str, indicator: str
) -> None:
    row = ROW[key]
    short = bound(row, size_class, indicator) - UNIT[indicator]
    figures = figures_at(row, size_class, **{indicator: short})
    assert size_of(SAMPLE_CODE[key], figures) == NEXT_DOWN[size_class]
    # However high the other indicators, they do not make up for the short one.
    others_high = {i: 10**15 for i in row.indicators if i != indicator}
    figures = figures_at(row, size_class, **others_high, **{indicator: short})
    assert size_of(SAMPLE_CODE[key], figures) == NEXT_DOWN[size_class]


MICRO_CASES = [(row.key, i) for row in ROWS for i in row.indicators]


@pytest.mark.parametrize(
    ("key", "indicator"), MICRO_CASES, ids=[f"{k}-{i}-micro" for k, i in MICRO_CASES]
)
def test_micro_needs_only_one_indicator_below_the_small_line(key: str, indicator: str) -> None:
    row = ROW[key]
    figures = figures_at(row, "large", **{indicator: bound(row, "small", indicator) - 1})
    assert size_of(SAMPLE_CODE[key], figures) == "micro"
    zero = figures_at(row, "large", **{indicator: 0})
    assert size_of(SAMPLE_CODE[key], zero) == "micro"


def test_money_is_in_fen() -> None:
    industry = ROW["industry"]
    assert FEN_PER_WAN == 1_000_000
    # 300 employees and 2000万元 revenue is medium; 1 fen less is small.
    assert size_of("C3973", Figures(300, 2_000_000_000, None)) == "medium"
    assert size_of("C3973", Figures(300, 1_999_999_999, None)) == "small"
    assert bound(industry, "medium", "revenue") == 2_000_000_000


# --- indicators a row does not use, missing figures, codes outside the table -----------


@pytest.mark.parametrize(("revenue", "assets"), [(None, None), (0, 0), (10**15, 10**15)])
def test_unused_indicators_are_ignored(revenue: int | None, assets: int | None) -> None:
    # "other" uses employees only.
    for employees, expected in [
        (300, "large"),
        (299, "medium"),
        (100, "medium"),
        (10, "small"),
        (9, "micro"),
    ]:
        assert size_of("M7320", Figures(employees, revenue, assets)) == expected
    # Agriculture uses revenue only; construction revenue and assets; leasing employees/assets.
    assert size_of("A0111", Figures(None, 500 * FEN_PER_WAN, None)) == "medium"
    assert size_of("A0111", Figures(0, 500 * FEN_PER_WAN, 0)) == "medium"
    assert size_of("E4710", Figures(None, 6000 * FEN_PER_WAN, 5000 * FEN_PER_WAN)) == "medium"
    assert size_of("L7211", Figures(100, None, 8000 * FEN_PER_WAN)) == "medium"
    assert size_of("L7211", Figures(100, 0, 8000 * FEN_PER_WAN)) == "medium"


@pytest.mark.parametrize(
    ("code", "figures", "named"),
    [
        ("C3973", Figures(None, 300 * FEN_PER_WAN, None), ["从业人员"]),
        ("C3973", Figures(20, None, None), ["营业收入"]),
        ("C3973", Figures(None, None, None), ["从业人员", "营业收入"]),
        ("E4710", Figures(10**6, 300 * FEN_PER_WAN, None), ["资产总额"]),
        ("L7211", Figures(10, 10**12, None), ["资产总额"]),
        ("M7320", Figures(None, 10**12, 10**12), ["从业人员"]),
        ("A0111", Figures(500, None, 10**12), ["营业收入"]),
    ],
    ids=[
        "industry-employees",
        "industry-revenue",
        "industry-both",
        "construction-assets",
        "leasing-assets",
        "other-employees",
        "agriculture-revenue",
    ],
)
def test_missing_figures_give_no_class_and_say_which(
    code: str, figures: Figures, named: list[str]
) -> None:
    result = classify(code, figures, ROWS)
    assert result.size_class is None
    assert result.industry_key == find_row(code, ROWS).key
    for label in named:
        assert label in result.reason
    for label in {"从业人员", "营业收入", "资产总额"} - set(named):
        assert label not in result.reason


@pytest.mark.parametrize("code", [None, ""])
def test_no_industry_code(code: str | None) -> None:
    result = classify(code, Figures(1000, 10**12, 10**12), ROWS)
    assert (result.size_class, result.industry_key) == (None, None)
    assert "行业" in result.reason


@pytest.mark.parametrize(
    "code",
    [
        "J6621",  # 货币金融服务 (finance)
        "J6811",  # 人身保险
        "P8331",  # 普通小学教育 (education)
        "G5311",  # 高速铁路旅客运输: railway is not "transport"
        "G5320",  # 铁路货物运输
        "K7040",  # 房地产租赁经营: the standard excludes own-property leasing
        "S9221",  # 公共管理
        "T9700",  # 国际组织
        "Q8411",  # 综合医院: 卫生 (84) is not 社会工作 (85)
        "Q8415",  # 专科医院
        "Q8421",  # 社区卫生服务中心
        "Q84",
    ],
)
def test_industries_outside_the_table_have_no_class(code: str) -> None:
    result = classify(code, Figures(10**6, 10**15, 10**15), ROWS)
    assert (result.size_class, result.industry_key) == (None, None)
    assert code in result.reason


# --- the most specific scope wins --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("K7010", "real_estate_dev"),
        ("K7020", "property_mgmt"),
        ("K702", "property_mgmt"),
        ("K7030", "other"),
        ("K703", "other"),
        ("K7090", "other"),
        ("F5171", "wholesale"),
        ("F51", "wholesale"),
        ("F5211", "retail"),
        ("F52", "retail"),
        ("G5431", "transport"),
        ("G5920", "warehousing"),
        ("G6010", "postal"),
        ("I6311", "telecom_broadcast"),
        ("I6421", "telecom_broadcast"),
        ("I6513", "software_it"),
        ("I65", "software_it"),
        ("B0610", "industry"),
        ("C3973", "industry"),
        ("C13", "industry"),
        ("C43", "industry"),
        ("D4411", "industry"),
        ("N7721", "other"),
        ("Q8514", "other"),
        ("Q8521", "other"),
        ("Q85", "other"),
        ("G5910", "transport"),  # 装卸搬运: 591 beats 59
        ("G591", "transport"),
        ("G5930", "warehousing"),
        ("G5990", "warehousing"),
    ],
)
def test_most_specific_scope_wins(code: str, key: str) -> None:
    assert classify(code, Figures(0, 0, 0), ROWS).industry_key == key


def test_row_order_does_not_decide_specificity() -> None:
    for rows in (ROWS, list(reversed(ROWS))):
        assert find_row("K7010", rows).key == "real_estate_dev"
        assert find_row("K7020", rows).key == "property_mgmt"
        assert find_row("K7030", rows).key == "other"


def test_group_level_real_estate_development_code_finds_its_row() -> None:
    """GB/T 4754-2017 group 701 has the single class 7010, so "K701" is real-estate development,
    just as "K702" is property management. The seed scope "7010" misses the 3-digit form."""
    assert find_row("K701", ROWS) is ROW["real_estate_dev"]


# --- properties ----------------------------------------------------------------------------


def near_bounds(indicator: str) -> st.SearchStrategy[int]:
    bounds = sorted(
        {bound(row, c, indicator) for row in ROWS for c in CLASSES if indicator in row.indicators}
    )
    near = st.builds(
        lambda b, d: max(0, b + d), st.sampled_from(bounds), st.integers(min_value=-2, max_value=2)
    )
    return st.one_of(near, st.integers(min_value=0, max_value=max(bounds) * 2))


FIGURES = st.builds(
    Figures, near_bounds("employees"), near_bounds("revenue"), near_bounds("assets")
)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(SAMPLE_CODE)),
    FIGURES,
    st.sampled_from(["employees", "revenue", "assets"]),
    st.integers(min_value=1, max_value=10**13),
)
def test_raising_a_figure_never_lowers_the_class(
    key: str, figures: Figures, indicator: str, raise_by: int
) -> None:
    code = SAMPLE_CODE[key]
    before = size_of(code, figures)
    field = {"employees": "employees", "revenue": "revenue_fen", "assets": "assets_fen"}[indicator]
    raised = replace(figures, **{field: getattr(figures, field) + raise_by})
    after = size_of(code, raised)
    assert before is not None and after is not None
    assert RANK[after] >= RANK[before]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SAMPLE_CODE)), FIGURES)
def test_class_is_the_highest_whose_every_bound_is_reached(key: str, figures: Figures) -> None:
    row = ROW[key]
    value = {
        "employees": figures.employees,
        "revenue": figures.revenue_fen,
        "assets": figures.assets_fen,
    }
    expected = next(
        (c for c in CLASSES if all(value[i] >= bound(row, c, i) for i in row.indicators)), "micro"
    )
    assert size_of(SAMPLE_CODE[key], figures) == expected
    below_small = any(value[i] < bound(row, "small", i) for i in row.indicators)
    assert (expected == "micro") is below_small

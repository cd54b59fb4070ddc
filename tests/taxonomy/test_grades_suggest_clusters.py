"""Credit grades, "did you mean" suggestions and the free-text cluster matcher, with the cluster
keyword lists read from seed/reference/clusters.json."""

import json
from pathlib import Path

import pytest

from service.taxonomy.clusters import ClusterKeywords, match_clusters
from service.taxonomy.grades import CREDIT_GRADES, grade_at_least, normalize_grade
from service.taxonomy.suggest import closest

CLUSTERS_JSON = Path(__file__).resolve().parents[2] / "seed" / "reference" / "clusters.json"
CLUSTER_DATA = json.loads(CLUSTERS_JSON.read_text(encoding="utf-8"))
CLUSTERS = [ClusterKeywords(c["code"], c["name"], tuple(c["keywords"])) for c in CLUSTER_DATA]
CLUSTER_OPTIONS = [(c["code"], c["name"]) for c in CLUSTER_DATA]

# --- grades ---------------------------------------------------------------------------------

BEST_FIRST = [
    "AAA",
    "AA+",
    "AA",
    "AA-",
    "A+",
    "A",
    "A-",
    "BBB+",
    "BBB",
    "BBB-",
    "BB+",
    "BB",
    "BB-",
    "B+",
    "B",
    "B-",
    "CCC",
    "CC",
    "C",
    "D",
]


def test_scale_is_best_first() -> None:
    assert list(CREDIT_GRADES) == BEST_FIRST


@pytest.mark.parametrize("grade", BEST_FIRST)
def test_grade_at_least_follows_the_scale(grade: str) -> None:
    position = BEST_FIRST.index(grade)
    for i, minimum in enumerate(BEST_FIRST):
        assert grade_at_least(grade, minimum) is (position <= i), (grade, minimum)


@pytest.mark.parametrize(
    ("grade", "minimum", "expected"),
    [
        ("AAA", "D", True),
        ("D", "AAA", False),
        ("B-", "B-", True),  # the bridge fund's floor: B- itself qualifies
        ("B", "B-", True),
        ("B+", "B-", True),
        ("CCC", "B-", False),
        ("D", "B-", False),
        ("AA-", "AA", False),
        ("AA", "AA-", True),
        ("BBB-", "BB+", True),
    ],
)
def test_grade_at_least(grade: str, minimum: str, expected: bool) -> None:
    assert grade_at_least(grade, minimum) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AAA", "AAA"),
        ("aa+", "AA+"),
        ("b-", "B-"),
        (" bbb- ", "BBB-"),
        ("AA＋", "AA+"),  # full-width plus
        ("B－", "B-"),  # full-width minus
        ("aa＋", "AA+"),
        ("ccc", "CCC"),
        ("d", "D"),
    ],
)
def test_normalize_grade(raw: str, expected: str) -> None:
    assert normalize_grade(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ＡＡ＋", "AA+"), ("ｂ－", "B-"), ("ＢＢＢ", "BBB")],
    ids=["full-width-AA+", "full-width-b-", "full-width-BBB"],
)
def test_normalize_grade_full_width_letters(raw: str, expected: str) -> None:
    """Typing with a full-width input method gives full-width letters together with the
    full-width ＋/－ the function already accepts."""
    assert normalize_grade(raw) == expected


@pytest.mark.parametrize("raw", ["", "A++", "AAAA", "E", "B--", "BB B", "优", "A 级"])
def test_normalize_grade_rejects_what_is_not_on_the_scale(raw: str) -> None:
    assert normalize_grade(raw) is None


def test_every_normalised_grade_can_be_compared() -> None:
    for grade in BEST_FIRST:
        normal = normalize_grade(grade.lower())
        assert normal == grade
        assert grade_at_least(normal, "D")


# --- suggestions -------------------------------------------------------------------------


def test_near_typo_of_a_code_suggests_it_first() -> None:
    suggestions = closest("iott", CLUSTER_OPTIONS)
    assert suggestions[0]["value"] == "iot"
    assert suggestions[0]["label"] == "物联网"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("iott", "iot"),
        ("hydrgen", "hydrogen"),
        ("semi", "semi3"),
        ("textil", "textile"),
        ("物联", "iot"),
        ("集成", "ic"),
        ("生物医", "biomed"),
        ("汽车", "auto"),
    ],
)
def test_code_or_label_suggests_the_cluster_first(value: str, code: str) -> None:
    assert closest(value, CLUSTER_OPTIONS)[0]["value"] == code


def test_suggestion_shape_and_order() -> None:
    suggestions = closest("物联", CLUSTER_OPTIONS)
    assert {"value", "label", "score"} == set(suggestions[0])
    labels = dict(CLUSTER_OPTIONS)
    for s in suggestions:
        assert s["label"] == labels[s["value"]]
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert len({s["value"] for s in suggestions}) == len(suggestions)


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_limit(limit: int) -> None:
    options = [
        ("iot1", "物联网一"),
        ("iot2", "物联网二"),
        ("iot3", "物联网三"),
        ("iot4", "物联网四"),
    ]
    assert len(closest("iot", options, limit=limit)) == limit
    assert len(closest("物联网", options, limit=limit)) == limit


def test_at_most_three_by_default() -> None:
    for value in ["iott", "物联", "i", "新", "装备"]:
        assert len(closest(value, CLUSTER_OPTIONS)) <= 3


def test_no_options_no_suggestions() -> None:
    assert closest("iot", []) == []


def test_nothing_alike_suggests_nothing() -> None:
    """A 422 that says "did you mean biomed, ic, iot?" for "zzzz" misleads: suggestions with a
    similarity of 0 should not be offered."""
    assert closest("zzzz", CLUSTER_OPTIONS) == []
    assert all(s["score"] > 0 for s in closest("物联", CLUSTER_OPTIONS))


# --- clusters -------------------------------------------------------------------------------


def test_cluster_data_is_complete() -> None:
    assert len(CLUSTERS) == 15  # 4 landmark + 6 advantage + 5 future industries
    assert len({c.code for c in CLUSTERS}) == 15
    assert all(c.keywords for c in CLUSTERS)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("汽车零部件", "auto"),
        ("纺织面料印染", "textile"),
        ("物联网传感器研发", "iot"),
        ("集成电路设计与封测", "ic"),
        ("创新药及医疗器械", "biomed"),
        ("工业软件开发", "software"),
        ("数控机床制造", "hi_equip"),
        ("污水处理与固废处置", "eco_env"),
        ("碳纤维复合材料", "new_material"),
        ("光伏逆变器", "new_energy"),
        ("大模型与计算机视觉", "ai_meta"),
        ("量子通信设备", "quantum"),
        ("氮化镓外延片", "semi3"),
        ("燃料电池与制氢", "hydrogen"),
        ("海工装备与潜水器", "deep_sea"),
    ],
)
def test_description_maps_to_its_cluster(text: str, first: str) -> None:
    assert match_clusters(text, CLUSTERS)[0].code == first


def test_silicon_carbide_power_devices_are_third_generation_semiconductors() -> None:
    """The API's own example text. Silicon-carbide power devices are the core product of the
    third-generation-semiconductor cluster; integrated circuits may follow, but not lead."""
    for text in ["碳化硅功率器件的研发", "碳化硅功率器件的研发、生产和销售"]:
        hits = match_clusters(text, CLUSTERS)
        assert hits[0].code == "semi3", [(h.code, h.score, h.matched) for h in hits]
        assert "碳化硅" in hits[0].matched


def test_nested_keyword_is_not_counted_twice() -> None:
    (hit,) = match_clusters("汽车零部件", CLUSTERS)
    assert hit.matched == ["汽车零部件"]  # not also "汽车" and "零部件"
    assert hit.score == len("汽车零部件")


def test_separate_keywords_add_up() -> None:
    (hit,) = match_clusters("纺织面料印染", CLUSTERS)
    assert sorted(hit.matched) == sorted(["纺织", "面料", "印染"])
    assert hit.score == 6


def test_naming_the_cluster_adds_a_bonus() -> None:
    hits = {h.code: h for h in match_clusters("物联网", CLUSTERS)}
    assert hits["iot"].score == len("物联网") + 2


@pytest.mark.parametrize("text", ["餐饮服务", "住宿和餐饮", "房屋租赁", "", "会计代理记账"])
def test_no_cluster_for_unrelated_text(text: str) -> None:
    assert match_clusters(text, CLUSTERS) == []


def test_matching_ignores_latin_case() -> None:
    assert match_clusters("rfid 标签", CLUSTERS)[0].code == "iot"
    assert match_clusters("SIC mosfet", CLUSTERS)[0].code == "semi3"


@pytest.mark.parametrize(
    "text",
    [
        "有机食品 organic food 贸易",  # "GaN" inside "organic"
        "email 营销服务",  # "AI" inside "email"
        "Microsoft 产品代理销售",  # "CRO" inside "Microsoft"
        "basic 餐饮服务",  # "SiC" inside "basic"
        "smart 家居零售",
    ],  # "AR" inside "smart"
    ids=["organic", "email", "microsoft", "basic", "smart"],
)
def test_latin_keywords_match_whole_words_only(text: str) -> None:
    """Short Latin keywords (AI, AR, VR, GaN, SiC, CRO) must not match inside English words."""
    assert match_clusters(text, CLUSTERS) == [], [
        (h.code, h.matched) for h in match_clusters(text, CLUSTERS)
    ]


def test_latin_keyword_next_to_chinese_still_matches() -> None:
    assert match_clusters("SiC功率模块", CLUSTERS)[0].code == "semi3"
    assert match_clusters("AI芯片", CLUSTERS)  # both ai_meta and ic apply
    assert {h.code for h in match_clusters("AI芯片", CLUSTERS)} >= {"ai_meta", "ic"}


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_limit_and_order(limit: int) -> None:
    text = "汽车电子芯片与传感器、工业软件和锂电池"
    hits = match_clusters(text, CLUSTERS, limit=limit)
    assert len(hits) == min(limit, len(match_clusters(text, CLUSTERS, limit=15)))
    keys = [(-h.score, h.code) for h in hits]
    assert keys == sorted(keys)

"""Company-name normalisation and fuzzy scoring, as used to link list rows to enterprises."""

import pytest

from service.taxonomy.names import (
    INDUSTRY_WORDS,
    has_legal_form,
    name_score,
    normalize_company_name,
    trade_name,
)


@pytest.mark.parametrize(
    "name",
    [
        "华光电子",
        "华光电子有限公司",
        "华光电子股份有限公司",
        "华光电子有限责任公司",
        "华光电子集团有限公司",
        "华光电子集团股份有限公司",
        "华光电子厂",
        "无锡市华光电子股份有限公司",
        "无锡华光电子有限公司",
        "江苏华光电子集团有限公司",
        "江苏省华光电子有限公司",
        "江苏省无锡市华光电子有限公司",  # province and city both stripped
        "江苏无锡华光电子有限公司",
        "中国华光电子集团公司",
        "江阴市华光电子有限公司",
        "宜兴华光电子有限公司",
        "新吴区华光电子有限公司",
        "无锡经济开发区华光电子有限公司",
        "华光电子(无锡)有限公司",
        "华光电子（无锡）有限公司",  # full-width brackets
        "华光电子【无锡】有限公司",
        "华光电子〔无锡〕有限公司",
        "华光（无锡）电子有限公司",  # bracketed place in the middle
        "无锡 华光 电子 有限公司",
        "华光电子（有限合伙）",
        "  华光电子有限公司\n",
    ],
)
def test_legal_form_and_place_are_removed(name: str) -> None:
    assert normalize_company_name(name) == "华光电子"


def test_full_width_letters_and_digits_become_half_width_lower_case() -> None:
    assert normalize_company_name("华光电子ＡＢＣ１２３（无锡）有限公司") == "华光电子abc123"
    assert (
        normalize_company_name("无锡ＡＢＣ科技有限公司")
        == normalize_company_name("无锡abc科技有限公司")
        == "abc科技"
    )


def test_idempotent() -> None:
    for name in [
        "无锡市华光电子股份有限公司",
        "江苏华光电子集团有限公司",
        "华光电子ＡＢＣ（无锡）有限公司",
    ]:
        once = normalize_company_name(name)
        assert normalize_company_name(once) == once


def test_trade_names_are_kept_apart() -> None:
    names = {
        normalize_company_name(n)
        for n in [
            "无锡华光电子有限公司",
            "无锡华光机械有限公司",
            "无锡光华电子有限公司",
            "无锡华光电子科技有限公司",
        ]
    }
    assert names == {"华光电子", "华光机械", "光华电子", "华光电子科技"}


@pytest.mark.parametrize(
    "name",
    [
        "有限公司",
        "股份有限公司",
        "公司",
        "集团",
        "无锡市",
        "无锡",
        "江苏省",
        "中国",
        "无锡市有限公司",
        "江苏省无锡市",
        "（无锡）有限公司",
    ],
)
def test_a_name_of_only_legal_form_or_place_is_not_reduced_to_empty(name: str) -> None:
    assert normalize_company_name(name) != ""


# --- trade names and short names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "trade"),
    [
        ("无锡华光新材料有限公司", "华光"),
        ("无锡宏达新材料", "宏达"),
        ("江苏长电科技股份有限公司", "长电"),
        ("江阴长电先进封装有限公司", "长电"),
        ("无锡市华润微电子有限公司", "华润"),  # 微电子 read before 电子
        ("无锡先导智能装备股份有限公司", "先导"),
        ("无锡小天鹅电器有限公司", "小天鹅"),
        ("无锡法尔胜新能源汽车零部件有限公司", "法尔胜"),
        ("无锡华光电子有限公司", "华光"),  # not 光电: the trade name has at least two characters
        ("无锡中科技术有限公司", "中科"),
        ("无锡新洁能股份有限公司", "新洁能"),  # no industry word: the whole name
        ("华光", "华光"),
    ],
)
def test_trade_name_is_what_comes_before_the_industry_words(name: str, trade: str) -> None:
    assert trade_name(normalize_company_name(name)) == trade


def test_industry_words_are_read_longest_first() -> None:
    assert all(len(w) >= 2 for w in INDUSTRY_WORDS)
    assert [len(w) for w in INDUSTRY_WORDS] == sorted(
        (len(w) for w in INDUSTRY_WORDS), reverse=True
    )
    assert len(set(INDUSTRY_WORDS)) == len(INDUSTRY_WORDS)
    assert {"科技", "能源", "电子", "新材料", "智能", "装备", "半导体", "汽车部件"} <= set(
        INDUSTRY_WORDS
    )


@pytest.mark.parametrize(
    ("name", "legal_form"),
    [
        ("江苏长电科技股份有限公司", True),
        ("华光电子（无锡）有限公司", True),
        ("华光电子有限公司无锡分公司", True),
        ("华光电子（有限合伙）", True),
        ("无锡华光电子厂", True),
        ("华光电子有限公司 ", True),
        ("长电科技", False),
        ("无锡凯瑞电子", False),
        ("华光电子（无锡）", False),
    ],
)
def test_a_name_without_legal_form_is_a_short_name(name: str, legal_form: bool) -> None:
    assert has_legal_form(name) is legal_form


# --- scoring -------------------------------------------------------------------------------


def score(query: str, name: str) -> float:
    return name_score(normalize_company_name(query), normalize_company_name(name))


def test_exact_normalised_match_scores_100() -> None:
    assert score("华光电子", "无锡市华光电子股份有限公司") == 100.0
    assert score("江苏华光电子集团有限公司", "华光电子（无锡）有限公司") == 100.0


@pytest.mark.parametrize(("query", "name"), [("", "华光电子"), ("华光电子", ""), ("", "")])
def test_empty_scores_zero(query: str, name: str) -> None:
    assert name_score(query, name) == 0.0


def test_only_an_exact_match_scores_100() -> None:
    for query, name in [
        ("华光", "华光电子"),
        ("华光电子", "华光电子科技"),
        ("华光电子科技", "华光电子"),
        ("华光电子", "光华电子"),
    ]:
        assert 0 < name_score(query, name) < 100, (query, name)


def test_part_of_the_name_beats_a_company_sharing_one_character() -> None:
    assert name_score("华光", "华光电子") > name_score("华光", "华电科技")
    assert name_score("华光", "华光电子") > name_score("华光", "光明乳业")


def test_a_different_industry_word_scores_below_the_exact_company() -> None:
    assert name_score("华光电子", "华光电子") > name_score("华光电子", "华光机械")
    assert name_score("华光电子", "华光电子") > name_score("华光电子", "华光电子科技")


def test_ranking_on_a_small_list() -> None:
    library = [
        "无锡华光电子有限公司",
        "无锡华光机械制造有限公司",
        "江阴华电科技有限公司",
        "宜兴光明陶瓷有限公司",
        "无锡华光电子科技股份有限公司",
        "无锡远景能源有限公司",
    ]

    def ranked(query: str) -> list[str]:
        return sorted(library, key=lambda n: score(query, n), reverse=True)

    assert ranked("华光电子有限公司")[0] == "无锡华光电子有限公司"
    assert ranked("华光电子有限公司")[1] == "无锡华光电子科技股份有限公司"
    assert ranked("华光电子")[-1] in {"宜兴光明陶瓷有限公司", "无锡远景能源有限公司"}
    top_three = set(ranked("华光")[:3])
    assert {"无锡华光电子有限公司", "无锡华光机械制造有限公司"} <= top_three
    assert ranked("远景能源")[0] == "无锡远景能源有限公司"


def test_score_is_between_0_and_100() -> None:
    names = ["华光电子", "华光", "光华电子", "远景能源", "a", "abc科技", "华光电子科技"]
    for a in names:
        for b in names:
            assert 0 <= name_score(a, b) <= 100


def test_best_matches_ranks_and_cuts() -> None:
    from service.taxonomy.names import best_matches

    names = ["华光电子", "华光纺织", "新锐传感科技", "华光"]
    got = best_matches("华光电子", [10, 11, 12, 13], names, 60)
    assert got[0] == (100.0, 10)
    assert 12 not in [i for _, i in got]
    assert [s for s, _ in got] == sorted((s for s, _ in got), reverse=True)

"""Unified social credit codes (GB 32100-2015): real vectors, every error path, the area code,
and the property that the mod-31 check character catches every single substitution."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.taxonomy.credit_code import (
    CreditCode,
    CreditCodeError,
    parse_credit_code,
    with_check_character,
)

# The code alphabet: digits and capitals without I, O, Z, S, V.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DIGITS = "0123456789"

# Real codes, each with where it was published.
REAL_CODES = {
    # DOMAIN.md §2
    "91320200134757148J": "320200",
    "914403001922038216": "440300",
    # python-stdnum: the module's own doctest, and its list of codes found online
    "91110000600037341L": "110000",
    "91320214745555318W": "320214",  # 新吴区
    "913205056082348768": "320505",  # 苏州
    "91310115MA1K3BTP2B": "310115",  # 上海浦东
    "9144030071526726XG": "440300",
    "91620105L015101280": "620105",  # a letter among the organisation code's digits
    # Listed companies (the same code in many public records; organisation code as shown)
    "9144030010001686XA": "440300",  # 招商银行股份有限公司 (also the serialNumber of its EV cert)
    "91440300192317458F": "440300",  # 比亚迪股份有限公司 (organisation code 19231745-8)
    "91440300192181490G": "440300",  # 万科企业股份有限公司
    "91330100716105852F": "330100",  # 阿里巴巴（中国）网络技术有限公司
}
VALID = "91320200134757148J"


def error_code(raw: str) -> str:
    with pytest.raises(CreditCodeError) as info:
        parse_credit_code(raw)
    assert info.value.message  # a reason a person can read
    return info.value.code


# --- valid codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "area"), sorted(REAL_CODES.items()))
def test_real_codes_are_valid(code: str, area: str) -> None:
    assert parse_credit_code(code) == CreditCode(code)
    assert parse_credit_code(code).area_code == area  # positions 3-8
    assert with_check_character(code[:17]) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91320200134757148j", "91320200134757148J"),  # lower-case check letter
        ("91310115ma1k3btp2b", "91310115MA1K3BTP2B"),  # lower-case organisation code
        (" 91320200134757148J ", "91320200134757148J"),
        ("9132 0200 1347 5714 8J", "91320200134757148J"),
        ("9132-0200-134757148-J", "91320200134757148J"),
        ("\t91320200134757148J\n", "91320200134757148J"),
        ("９１３２０２００134757148J", "91320200134757148J"),  # python-stdnum maps these digits
    ],
    ids=[
        "lower-check",
        "lower-org",
        "outer-spaces",
        "inner-spaces",
        "hyphens",
        "tab-newline",
        "full-width-digits",
    ],
)
def test_lenient_input_is_canonicalised(raw: str, expected: str) -> None:
    assert parse_credit_code(raw).value == expected


# --- invalid codes and their error codes ---------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "9132020013475714",
        "91320200134757148",
        "91320200134757148JX",
        "913202001347571\t48J",
        "12345",
        " ",
    ],
    ids=["empty", "16", "17", "19", "inner-tab", "5", "blank"],
)
def test_wrong_length(raw: str) -> None:
    assert error_code(raw) == "invalid_credit_code_length"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_outside_the_alphabet_are_a_format_error(letter: str) -> None:
    # In the organisation code, where letters are otherwise allowed.
    assert error_code(VALID[:10] + letter + VALID[11:]) == "invalid_credit_code_format"
    # As the check character.
    assert error_code(VALID[:17] + letter) == "invalid_credit_code_format"


@pytest.mark.parametrize("position", range(8))
def test_a_letter_in_the_first_eight_is_a_format_error(position: int) -> None:
    # Positions 1-2 (authority, entity type) and 3-8 (area code) must be digits.
    assert error_code(VALID[:position] + "A" + VALID[position + 1 :]) == (
        "invalid_credit_code_format"
    )


@pytest.mark.parametrize(
    "raw", ["A1110000600037341L", "9132O200134757148J", "91320200#34757148J", "91320200134757148!"]
)
def test_other_format_errors(raw: str) -> None:
    assert error_code(raw) == "invalid_credit_code_format"


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_every_other_check_character_fails_the_checksum(code: str) -> None:
    wrong = [c for c in ALPHABET if c != code[-1]]
    assert len(wrong) == 30
    for check in wrong:
        assert error_code(code[:17] + check) == "invalid_credit_code_checksum"


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_every_single_substitution_fails_the_checksum(code: str) -> None:
    for position in range(18):
        allowed = DIGITS if position < 8 else ALPHABET
        for replacement in allowed:
            if replacement == code[position]:
                continue
            altered = code[:position] + replacement + code[position + 1 :]
            assert error_code(altered) == "invalid_credit_code_checksum", altered


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_every_adjacent_transposition_fails(code: str) -> None:
    for i in range(17):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        # A letter moved into the first eight is a format error; anything else the checksum.
        assert error_code(swapped) in {
            "invalid_credit_code_checksum",
            "invalid_credit_code_format",
        }, swapped


def test_known_transposition_is_a_checksum_error() -> None:
    assert error_code("91320200134757184J") == "invalid_credit_code_checksum"


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_credit_code("91320200134757148K")


# --- where the enterprise is registered ----------------------------------------------------


@pytest.mark.parametrize(
    ("area", "in_wuxi"),
    [
        ("320200", True),  # 无锡市
        ("320213", True),  # 梁溪区
        ("320205", True),  # 锡山区
        ("320206", True),  # 惠山区
        ("320211", True),  # 滨湖区
        ("320214", True),  # 新吴区
        ("320281", True),  # 江阴市
        ("320282", True),  # 宜兴市
        ("320500", False),  # 苏州市
        ("320505", False),  # 苏州 虎丘区
        ("320100", False),  # 南京市
        ("320000", False),  # 江苏省
        ("310115", False),  # 上海 浦东新区
        ("440300", False),  # 深圳市
        ("110000", False),  # 北京市
        ("132020", False),  # "3202" elsewhere than at the start of the area code
    ],
)
def test_registered_in_wuxi(area: str, in_wuxi: bool) -> None:
    code = parse_credit_code(with_check_character("91" + area + "MA1XXXXX4"))
    assert code.area_code == area
    assert code.registered_in_wuxi is in_wuxi


@pytest.mark.parametrize(
    ("code", "in_wuxi"),
    [
        ("91320200134757148J", True),
        ("91320214745555318W", True),
        ("913205056082348768", False),
        ("91310115MA1K3BTP2B", False),
        ("914403001922038216", False),
    ],
)
def test_registered_in_wuxi_for_real_codes(code: str, in_wuxi: bool) -> None:
    assert parse_credit_code(code).registered_in_wuxi is in_wuxi


# --- properties ----------------------------------------------------------------------------

first17 = st.builds(
    lambda head, tail: head + tail,
    st.text(alphabet=DIGITS, min_size=8, max_size=8),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)


@settings(max_examples=200, deadline=None)
@given(first17)
def test_any_seventeen_valid_characters_complete_to_a_valid_code(head: str) -> None:
    code = with_check_character(head)
    assert len(code) == 18 and code[-1] in ALPHABET
    parsed = parse_credit_code(code)
    assert parsed.value == code
    assert parsed.area_code == head[2:8]
    assert parsed.registered_in_wuxi is head[2:8].startswith("3202")


@settings(max_examples=200, deadline=None)
@given(first17, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_changing_any_one_character_breaks_the_code(head: str, position: int, shift: int) -> None:
    code = with_check_character(head)
    allowed = DIGITS if position < 8 else ALPHABET
    replacement = allowed[(allowed.index(code[position]) + shift) % len(allowed)]
    if replacement == code[position]:  # a full turn of the ten digits
        replacement = allowed[(allowed.index(code[position]) + 1) % len(allowed)]
    altered = code[:position] + replacement + code[position + 1 :]
    assert error_code(altered) == "invalid_credit_code_checksum"

"""GB/T 4754-2017 industry codes: canonical form, section of each division, scope matching."""

import pytest

from service.taxonomy.industry import (
    IndustryCodeError,
    code_matches,
    normalize_industry_code,
    section_of_division,
)

# GB/T 4754-2017: the first and last division of each section (divisions 01-97, no gaps).
SECTION_RANGES = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}
DIVISION_SECTION = {
    d: letter for letter, (low, high) in SECTION_RANGES.items() for d in range(low, high + 1)
}


def test_the_reference_ranges_cover_01_to_97_without_gaps() -> None:
    assert sorted(DIVISION_SECTION) == list(range(1, 98))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3973", "C3973"),
        ("c3973", "C3973"),
        ("C3973", "C3973"),
        (" C3973 ", "C3973"),
        ("C 3973", "C3973"),
        ("C39", "C39"),
        ("39", "C39"),
        ("C397", "C397"),
        ("I6513", "I6513"),
        ("6513", "I6513"),
        ("0111", "A0111"),
        ("01", "A01"),
        ("K7010", "K7010"),
        ("7010", "K7010"),
        ("5211", "F5211"),
        ("9700", "T9700"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_industry_code(raw) == expected


@pytest.mark.parametrize("section", sorted(SECTION_RANGES))
def test_every_division_gets_its_section(section: str) -> None:
    low, high = SECTION_RANGES[section]
    for division in range(low, high + 1):
        assert section_of_division(division) == section
        assert normalize_industry_code(f"{division:02d}") == f"{section}{division:02d}"
        assert normalize_industry_code(f"{division:02d}10") == f"{section}{division:02d}10"
        assert normalize_industry_code(f"{section}{division:02d}10") == f"{section}{division:02d}10"


@pytest.mark.parametrize("division", [1, 13, 43, 53, 60, 70, 97])
def test_a_wrong_section_letter_is_rejected(division: int) -> None:
    right = DIVISION_SECTION[division]
    for letter in "ABCDEFGHIJKLMNOPQRST":
        if letter == right:
            continue
        with pytest.raises(IndustryCodeError, match=f"门类应为 {right}"):
            normalize_industry_code(f"{letter}{division:02d}11")


def test_d3973_is_rejected_with_the_right_section() -> None:
    with pytest.raises(IndustryCodeError, match="门类应为 C"):
        normalize_industry_code("D3973")


@pytest.mark.parametrize("raw", ["00", "0011", "A00", "98", "99", "9810", "9999", "T98"])
def test_divisions_outside_01_to_97_are_rejected(raw: str) -> None:
    with pytest.raises(IndustryCodeError, match="不存在"):
        normalize_industry_code(raw)


@pytest.mark.parametrize("division", [0, 98, 99])
def test_section_of_unknown_division(division: int) -> None:
    assert section_of_division(division) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "C",
        "3",
        "C3",
        "ABC",
        "C39731",
        "397311",
        "C39A3",
        "C-3973",
        "U3973",
        "Z39",
        "CC3973",
        "3973C",
        "C.3973",
    ],
)
def test_bad_formats_are_rejected(raw: str) -> None:
    with pytest.raises(IndustryCodeError, match="格式不对"):
        normalize_industry_code(raw)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalize_industry_code("D3973")


@pytest.mark.parametrize(
    "raw",
    ["３９７３", "C３９７３", "٣٩٧٣"],
    ids=["full-width", "letter-and-full-width", "arabic-indic"],
)
def test_non_ascii_digits_never_make_a_non_ascii_canonical_code(raw: str) -> None:
    """Python's \\d matches any Unicode digit, so "３９７３" came back as "C３９７３": a
    'canonical' code that no scope prefix ("39", "C39") matches. Either read them as ASCII
    digits or reject them."""
    try:
        code = normalize_industry_code(raw)
    except IndustryCodeError:
        return
    assert code == "C3973"


@pytest.mark.parametrize(
    ("code", "scope", "expected"),
    [
        ("C3973", "C", True),
        ("C3973", "D", False),
        ("B0610", "B", True),
        ("C3973", "39", True),
        ("C3973", "C39", True),
        ("C3973", "397", True),
        ("C3973", "C397", True),
        ("C3973", "3973", True),
        ("C3973", "C3973", True),
        ("C3973", "3972", False),
        ("C3973", "40", False),
        ("C3973", "3", True),  # a digit prefix, not a section letter
        ("C39", "C3973", False),  # a coarser code is not inside a finer scope
        ("K7010", "7010", True),
        ("K7010", "70", True),
        ("K7010", "K", True),
        ("K7020", "7010", False),
        ("K7020", "702", True),
        ("K7030", "702", False),
        ("F5123", "51", True),
        ("F5123", "52", False),
        ("F5211", "F", True),
        ("G5311", "54", False),
        ("I6513", "I65", True),
        ("I6513", "65", True),
        ("I6513", "I", True),
    ],
)
def test_code_matches(code: str, scope: str, expected: bool) -> None:
    assert code_matches(code, scope) is expected

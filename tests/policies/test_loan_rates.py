"""A loan under an interest subsidy, computed by hand: the rate after the subsidy, this year's
interest and subsidy so far, the cap per loan, and loans or enterprises it does not cover."""

from dataclasses import replace
from datetime import date

from service.policies.loan_rates import loan_subsidy, qualifies, subsidies
from service.policies.rules import WAN, Facts, Held, LoanFact, Rule, Scheme

AS_OF = date(2026, 6, 30)

XIKEDAI = Rule(
    "xikedai-subsidy",
    1,
    "锡科贷贴息",
    Scheme.interest_subsidy,
    date(2026, 1, 1),
    share_bp=5000,
    cap_per_loan_fen=20 * WAN,
    loan_schemes=frozenset({"xikedai"}),
    once=False,
)


def loan(
    principal_wan: int = 1000,
    rate_bp: int = 360,
    disbursed: date = date(2026, 3, 1),
    scheme: str | None = "xikedai",
    loan_id: int = 7,
) -> LoanFact:
    return LoanFact(
        loan_id,
        f"XKD-{loan_id}",
        "xkd-product",
        scheme,
        "working_capital",
        principal_wan * WAN,
        rate_bp,
        disbursed,
        date(2027, 2, 28),
    )


def firm(**more) -> Facts:
    return Facts(enterprise_id=1, private=True, in_area=True, size_class="small", **more)


def test_half_the_interest_of_a_covered_loan_halves_its_rate() -> None:
    got = loan_subsidy(XIKEDAI, loan(), set(), AS_OF)
    assert got is not None
    assert got.effective_rate_bp == 180  # 3.60% × (1 − 50%)
    # 1000万 × 3.60% / 360 × 122 days (1 March – 30 June) = 122,000.00 元; half of it.
    assert got.interest_fen == 12_200_000
    assert got.subsidy_fen == 6_100_000  # 61,000.00 元
    assert not got.capped and got.year == 2026
    assert got.text == "贴息后实际利率 1.80%（锡科贷贴息，按已付利息的50%，单笔最高20万元）"


def test_the_subsidy_of_a_loan_stops_at_its_cap() -> None:
    big = loan(principal_wan=3000, disbursed=date(2025, 7, 1))
    got = loan_subsidy(replace(XIKEDAI, policy_from=date(2025, 1, 1)), big, set(), AS_OF)
    assert got is not None
    # 3000万 × 3.60% / 360 × 181 days (1 January – 30 June) = 543,000.00 元; half is
    # 271,500.00 元, above the cap of 20万元 a loan.
    assert got.interest_fen == 54_300_000
    assert got.subsidy_fen == 20 * WAN and got.capped
    assert got.effective_rate_bp == 180


def test_every_step_is_rounded_down_to_the_fen_and_the_rate_to_the_basis_point() -> None:
    small = loan(principal_wan=100, rate_bp=345, disbursed=date(2026, 6, 21))
    got = loan_subsidy(XIKEDAI, small, set(), AS_OF)
    assert got is not None
    # 100万 × 3.45% / 360 × 10 days = 958.3333… 元 → 958.33 元; half 479.165 → 479.16 元.
    assert got.interest_fen == 95_833
    assert got.subsidy_fen == 47_916
    assert got.effective_rate_bp == 172  # 1.725% rounded down
    assert got.text.startswith("贴息后实际利率 1.72%")


def test_a_loan_the_scheme_does_not_cover_has_no_subsidy() -> None:
    assert loan_subsidy(XIKEDAI, loan(scheme="other"), set(), AS_OF) is None
    assert loan_subsidy(XIKEDAI, loan(scheme=None), set(), AS_OF) is None
    # Disbursed before the policy was in force.
    assert loan_subsidy(XIKEDAI, loan(disbursed=date(2025, 12, 31)), set(), AS_OF) is None
    # A qualification the rule asks for and the enterprise does not hold.
    wants = replace(XIKEDAI, loan_qualifications=frozenset({"little_giant"}))
    assert loan_subsidy(wants, loan(), set(), AS_OF) is None
    assert loan_subsidy(wants, loan(), {"little_giant"}, AS_OF) is not None


def test_an_award_is_no_interest_subsidy() -> None:
    award = replace(XIKEDAI, scheme=Scheme.qualification_award, amount_fen=50 * WAN)
    assert loan_subsidy(award, loan(), set(), AS_OF) is None


def test_an_enterprises_loans_and_whether_it_qualifies_itself() -> None:
    loans = (loan(loan_id=1), loan(loan_id=2, scheme="other"))
    wants = replace(XIKEDAI, loan_qualifications=frozenset({"little_giant"}))
    held = firm(loans=loans, qualifications=(Held("little_giant", date(2026, 3, 1)),))
    got = subsidies([XIKEDAI, wants], held, AS_OF)
    assert list(got) == [1]
    assert [s.subsidy_fen for s in got[1]] == [6_100_000, 6_100_000]
    state_owned = replace(held, private=False)
    assert not qualifies(XIKEDAI, state_owned) and subsidies([XIKEDAI], state_owned, AS_OF) == {}
    outside = replace(held, in_area=False)
    assert subsidies([XIKEDAI], outside, AS_OF) == {}
    sized = replace(XIKEDAI, size_classes=frozenset({"medium"}))
    assert subsidies([sized], held, AS_OF) == {}

"""Pure rules: the renewal case's state machine, renewal without repaying principal, the
bridge fund's eligibility (every reason at once) and its fee, against hand-computed cases."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.loans import bridge
from service.loans.renewal import (
    ALLOWED,
    FINAL,
    CaseStatus,
    CaseTransitionNotAllowed,
    check_transition,
    no_principal_renewal,
)


def test_the_case_state_machine() -> None:
    path = [
        CaseStatus.open,
        CaseStatus.contacted,
        CaseStatus.committed,
        CaseStatus.bridge_needed,
        CaseStatus.bridged,
        CaseStatus.renewed,
    ]
    for current, to in zip(path, path[1:], strict=False):
        check_transition(current, to)
    check_transition(CaseStatus.committed, CaseStatus.renewed)
    check_transition(CaseStatus.contacted, CaseStatus.repaid)
    for final in FINAL:
        assert ALLOWED[final] == frozenset()
    with pytest.raises(CaseTransitionNotAllowed) as caught:
        check_transition(CaseStatus.open, CaseStatus.bridge_needed)  # not committed yet
    assert caught.value.status == 409
    assert caught.value.extra["allowed"] == ["contacted", "committed", "repaid", "failed"]
    with pytest.raises(CaseTransitionNotAllowed):
        check_transition(CaseStatus.renewed, CaseStatus.failed)
    # every open state can fail; none goes back to open
    for status in CaseStatus:
        if status not in FINAL:
            assert CaseStatus.failed in ALLOWED[status]
        assert CaseStatus.open not in ALLOWED[status]


@pytest.mark.parametrize(
    ("size", "kind", "maturity", "eligible", "codes"),
    [
        ("small", "working_capital", "2030-01-01", True, set()),
        ("micro", "working_capital", "2026-12-01", True, set()),
        ("medium", "working_capital", "2027-09-30", True, set()),  # 前 includes the day
        ("medium", "working_capital", "2027-10-01", False, {"medium_after_deadline"}),
        ("large", "working_capital", "2026-12-01", False, {"large_enterprise"}),
        ("small", "project", "2026-12-01", False, {"not_working_capital"}),
        (None, "project", "2026-12-01", False, {"not_working_capital", "size_unknown"}),
    ],
)
def test_renewal_without_repaying_principal(size, kind, maturity, eligible, codes) -> None:
    verdict = no_principal_renewal(size, kind, date.fromisoformat(maturity))
    assert verdict.eligible is eligible
    assert {r.code for r in verdict.reasons} == codes
    assert bool(verdict.basis) is eligible


@pytest.mark.parametrize(
    ("amount_fen", "days", "fee_fen"),
    [
        (450_000_000, 1, 90_000),  # 4,500,000 yuan x 0.2‰ = 900 yuan
        (450_000_000, 2, 180_000),
        (450_000_000, 3, 360_000),  # 0.4‰ + 0.4‰ = 0.8‰ = 3,600 yuan
        (450_000_000, 5, 720_000),  # 0.4‰ + 1.2‰ = 1.6‰
        (450_000_000, 10, 1_620_000),  # 0.4‰ + 3.2‰ = 3.6‰
        (100_000_000, 10, 360_000),
        (3_125, 3, 3),  # 2.5 fen: half up
        (3_124, 3, 2),  # 2.4992 fen
        (123_457, 3, 99),  # 98.7656 fen
    ],
)
def test_bridge_fees_by_hand(amount_fen: int, days: int, fee_fen: int) -> None:
    assert bridge.fee(amount_fen, days).fee_fen == fee_fen


@given(st.integers(min_value=1, max_value=10**13), st.integers(min_value=1, max_value=10))
def test_the_fee_is_exact_before_one_rounding(amount_fen: int, days: int) -> None:
    fee = bridge.fee(amount_fen, days)
    per_ten_thousand = 2 * min(days, 2) + 4 * max(days - 2, 0)  # in units of 0.1‰
    assert fee.exact_fen == Decimal(amount_fen * per_ten_thousand) / 10_000
    assert abs(fee.fee_fen - fee.exact_fen) <= Decimal("0.5")


def _applicant(**overrides) -> bridge.Applicant:
    fields = {
        "size_class": "small",
        "registered_in_wuxi": True,
        "credit_grade": "B-",
        "bank_partner": True,
        "bank_name": "测试银行",
        "case_status": "committed",
        "committed_fen": 1_000_000_000,
        **overrides,
    }
    return bridge.Applicant(**fields)


def test_bridge_eligibility_at_its_edges() -> None:
    assert bridge.check(_applicant(), 900_000_000, 10).eligible  # exactly 90%, 10 days, B-
    assert bridge.check(_applicant(size_class="medium"), 1, 1).eligible
    assert bridge.check(_applicant(case_status="bridge_needed"), 1, 1).eligible
    over = bridge.check(_applicant(), 900_000_001, 11)
    assert {r.code for r in over.reasons} == {"amount_over_cap", "days_over_cap"}
    assert bridge.max_amount_fen(1_000_000_001) == 900_000_000  # down to the fen


def test_an_ineligible_applicant_gets_every_reason() -> None:
    verdict = bridge.check(
        _applicant(
            size_class="large",
            registered_in_wuxi=False,
            credit_grade="CCC",
            bank_partner=False,
            case_status="contacted",
            committed_fen=None,
        ),
        5,
        0,
    )
    assert not verdict.eligible
    assert [r.code for r in verdict.reasons] == [
        "size_not_eligible",
        "not_registered_in_wuxi",
        "credit_grade_too_low",
        "bank_not_partner",
        "renewal_not_committed",
        "days_not_positive",
    ]
    assert all(r.message for r in verdict.reasons)
    missing = bridge.check(_applicant(credit_grade=None, size_class=None), 1, 1)
    assert {r.code for r in missing.reasons} == {"credit_grade_missing", "size_not_eligible"}

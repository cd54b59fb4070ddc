"""Pure rules: the renewal case's state machine, renewal without repaying principal, the
bridge fund's eligibility (every reason at once), its cap, its fee and the dates the office
records, against hand-computed cases labelled as a credit officer would reason them."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.loans import bridge
from service.loans.exceptions import CaseTransitionNotAllowed
from service.loans.renewal import (
    ALLOWED,
    FINAL,
    CaseStatus,
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
        "principal_fen": 1_000_000_000,
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


# --- the cap: 90% of the committed renewal, and never more than the loan it repays ----------

WAN = 1_000_000  # 1万元 in fen


@pytest.mark.parametrize(
    ("case", "principal", "committed", "amount", "max_fen", "basis", "codes"),
    [
        # 500万 loan renewed at 500万: 90% is 450万, below the principal; 450万 is the cap.
        ("renewed at the same amount", 500, 500, 450, 450 * WAN, "committed_share", set()),
        (
            "one yuan over 90%",
            500,
            500,
            450.0001,
            450 * WAN,
            "committed_share",
            {"amount_over_cap"},
        ),
        # 300万 loan, the bank commits 500万 (it raises the line): 90% is 450万, but the
        # bridge only repays the 300万 that falls due.
        ("renewal raised above the loan", 300, 500, 300, 300 * WAN, "maturing_principal", set()),
        (
            "bridge larger than the loan it repays",
            300,
            500,
            400,
            300 * WAN,
            "maturing_principal",
            {"amount_over_principal"},
        ),
        # over both: each rule broken is said, with its own figures
        (
            "over the principal and over 90%",
            300,
            320,
            310,
            288 * WAN,
            "committed_share",
            {"amount_over_cap", "amount_over_principal"},
        ),
        # the two caps meet: 90% of 1000万 is exactly the 900万 principal
        ("caps equal", 900, 1000, 900, 900 * WAN, "committed_share", set()),
    ],
)
def test_the_bridge_never_exceeds_the_loan_it_repays(
    case: str, principal, committed, amount, max_fen, basis, codes
) -> None:
    applicant = _applicant(committed_fen=committed * WAN, principal_fen=principal * WAN)
    verdict = bridge.check(applicant, round(amount * WAN), 5)
    assert {r.code for r in verdict.reasons} == codes, case
    assert verdict.eligible is (not codes)
    cap = bridge.cap(committed * WAN, principal * WAN)
    assert (cap.amount_fen, cap.basis) == (max_fen, basis), case


def test_the_principal_reason_names_both_figures() -> None:
    verdict = bridge.check(
        _applicant(committed_fen=500 * WAN, principal_fen=300 * WAN), 400 * WAN, 5
    )
    (reason,) = verdict.reasons
    assert reason.code == "amount_over_principal"
    assert "4,000,000.00" in reason.message and "3,000,000.00" in reason.message
    cap = bridge.cap(500 * WAN, 300 * WAN)
    assert "4,500,000.00" in cap.explanation and "3,000,000.00" in cap.explanation
    assert "到期贷款本金" in cap.explanation


def test_the_principal_cap_holds_before_any_commitment() -> None:
    # not committed yet: that is a reason, and so is a request above the principal
    verdict = bridge.check(
        _applicant(case_status="contacted", committed_fen=None, principal_fen=100 * WAN),
        200 * WAN,
        3,
    )
    assert {r.code for r in verdict.reasons} == {"renewal_not_committed", "amount_over_principal"}


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=10**12),
)
def test_within_the_cap_exactly_when_eligible_on_amount(committed, principal, amount) -> None:
    verdict = bridge.check(_applicant(committed_fen=committed, principal_fen=principal), amount, 5)
    cap = bridge.cap(committed, principal)
    assert cap.amount_fen == min(committed * 9 // 10, principal)
    assert verdict.eligible is (amount <= cap.amount_fen)


# --- the dates the office records ------------------------------------------------------------

D = date.fromisoformat
APPLIED = D("2026-12-10")
MATURITY = D("2026-12-18")  # a Friday


@pytest.mark.parametrize(
    ("case", "on", "approved", "today", "codes"),
    [
        ("on the maturity day", "2026-12-18", "2026-12-11", "2026-12-18", []),
        ("a day before maturity", "2026-12-17", "2026-12-11", "2026-12-20", []),
        ("the day it was approved", "2026-12-11", "2026-12-11", "2026-12-11", []),
        ("approval date unknown (before dates were kept)", "2026-12-15", None, "2026-12-20", []),
        ("recorded ahead of time", "2026-12-18", "2026-12-11", "2026-12-16", ["date_in_future"]),
        (
            "before the application was made",
            "2026-12-09",
            None,
            "2026-12-20",
            ["disbursed_before_application"],
        ),
        (
            "before it was approved",
            "2026-12-10",
            "2026-12-11",
            "2026-12-20",
            ["disbursed_before_approval"],
        ),
        (
            "after maturity: the loan is already overdue",
            "2026-12-21",
            "2026-12-11",
            "2026-12-22",
            ["disbursed_after_maturity"],
        ),
        (
            "a year early (the typo the issue found)",
            "2025-12-18",
            "2026-12-11",
            "2026-12-20",
            ["disbursed_before_application", "disbursed_before_approval"],
        ),
        (
            "a year late, and ahead of today",
            "2027-12-18",
            "2026-12-11",
            "2026-12-20",
            ["date_in_future", "disbursed_after_maturity"],
        ),
    ],
)
def test_disbursement_dates(case: str, on: str, approved: str | None, today: str, codes) -> None:
    reasons = bridge.check_disbursement(
        D(on), APPLIED, D(approved) if approved else None, MATURITY, D(today)
    )
    assert [r.code for r in reasons] == codes, case
    assert all(on in r.message for r in reasons)


@pytest.mark.parametrize(
    ("case", "on", "today", "codes"),
    [
        ("the day it was applied for", "2026-12-10", "2026-12-10", []),
        ("before the application", "2026-12-09", "2026-12-10", ["approved_before_application"]),
        ("ahead of today", "2026-12-12", "2026-12-11", ["date_in_future"]),
    ],
)
def test_approval_dates(case: str, on: str, today: str, codes) -> None:
    assert [r.code for r in bridge.check_approval(D(on), APPLIED, D(today))] == codes, case


DISBURSED = D("2026-12-18")


@pytest.mark.parametrize(
    ("case", "on", "today", "codes", "days_used", "overdue_days"),
    [
        # 5 days applied for, disbursed Fri 12-18
        ("the same day: one day's use", "2026-12-18", "2026-12-18", [], 1, 0),
        ("in time, on the 5th day", "2026-12-23", "2026-12-30", [], 5, 0),
        ("early", "2026-12-21", "2026-12-30", [], 3, 0),
        # late, still inside the fund's 10 days: recorded, 2 days over the term
        ("two days past the term", "2026-12-25", "2026-12-30", [], 7, 2),
        # beyond the fund's 10 days: still what happened, recorded and flagged
        ("beyond the fund's 10 days", "2027-01-04", "2027-01-05", [], 17, 12),
        (
            "before the disbursement",
            "2026-12-17",
            "2026-12-30",
            ["repaid_before_disbursement"],
            None,
            None,
        ),
        ("ahead of today", "2026-12-23", "2026-12-22", ["date_in_future"], None, None),
    ],
)
def test_repayment_dates(case: str, on: str, today: str, codes, days_used, overdue_days) -> None:
    reasons = bridge.check_repayment(D(on), DISBURSED, D(today))
    assert [r.code for r in reasons] == codes, case
    if not codes:
        used = bridge.use(DISBURSED, D(on), 5, D(today))
        assert (used.days_used, used.overdue_days) == (days_used, overdue_days), case
        assert used.beyond_fund_limit is (days_used > bridge.MAX_DAYS)


def test_a_bridge_still_out_counts_its_days_to_today() -> None:
    used = bridge.use(DISBURSED, None, 3, D("2026-12-24"))
    assert (used.days_used, used.overdue_days) == (6, 3)


@pytest.mark.parametrize(
    ("case", "start", "today", "codes"),
    [
        ("on the maturity day", "2026-12-18", "2026-12-10", []),
        ("two days before maturity", "2026-12-16", "2026-12-10", []),
        ("after maturity", "2026-12-19", "2026-12-10", ["start_after_maturity"]),
        ("a year after maturity", "2027-12-18", "2026-12-10", ["start_after_maturity"]),
        ("in the past", "2026-12-09", "2026-12-10", ["start_in_past"]),
        ("a loan already overdue", "2026-12-18", "2026-12-19", ["start_in_past"]),
    ],
)
def test_the_planned_start(case: str, start: str, today: str, codes) -> None:
    assert [r.code for r in bridge.check_start(D(start), MATURITY, D(today))] == codes, case

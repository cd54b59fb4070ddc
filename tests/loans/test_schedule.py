"""Reminder dates on China's calendar: hand-checked dates around the 2026 Spring Festival,
National Day and their make-up working days, the one-month rule for the first stage, which
maturities are due on a run day, which dates are provisional (found on a year without its
official holiday notice), and properties over generated dates."""

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from service.loans.schedule import (
    InvalidStages,
    Stage,
    due_maturities,
    parse_stages,
    reminder_dates,
    reminder_stages,
    stage,
    stage_date,
)
from service.taxonomy.workdays import is_working_day, official_years_as

STAGES = (30, 15, 7)


@pytest.mark.parametrize(
    ("maturity", "expected"),
    [
        # Spring Festival 2026 (off 02-15..02-23; Sat 02-14 and Sat 02-28 are worked):
        # 30 days before Mon 03-09 is Sat 02-07 -> Fri 02-06; 15 days before is Sun 02-22,
        # in the holiday -> back past the holiday to the make-up Saturday 02-14.
        ("2026-03-09", ["2026-02-06", "2026-02-14", "2026-03-02"]),
        # 30 days before Mon 03-30 is the make-up Saturday 02-28 itself: it stays.
        ("2026-03-30", ["2026-02-28", "2026-03-13", "2026-03-23"]),
        # 15 days before Wed 02-25 is Tue 02-10, a plain working day; 7 days before is Wed
        # 02-18, in the holiday -> the make-up Saturday 02-14 again.
        ("2026-02-25", ["2026-01-23", "2026-02-10", "2026-02-14"]),
        # National Day 2026 (off 10-01..10-07; Sun 09-20 and Sat 10-10 are worked): 15 days
        # before Thu 10-22 is Wed 10-07 -> back to Wed 09-30.
        ("2026-10-22", ["2026-09-22", "2026-09-30", "2026-10-15"]),
        # 7 days before Sat 10-17 is Sat 10-10, a make-up working day.
        ("2026-10-17", ["2026-09-17", "2026-09-30", "2026-10-10"]),
        # New Year 2026 (off 01-01..01-03; Sun 01-04 worked): 7 days before 01-08 is Thu 01-01
        # -> Wed 2025-12-31. The first stage: 30 days before is Tue 12-09, but a calendar
        # month before is Mon 12-08, which is earlier.
        ("2026-01-08", ["2025-12-08", "2025-12-24", "2025-12-31"]),
    ],
)
def test_stage_dates_move_to_the_working_day_before(maturity: str, expected: list[str]) -> None:
    got = reminder_dates(date.fromisoformat(maturity), STAGES)
    assert [(d, on.isoformat()) for d, on in got] == list(zip(STAGES, expected, strict=True))


def test_the_first_stage_is_at_least_a_calendar_month_ahead() -> None:
    # 30 days before 07-31 is 07-01, a day short of a month: the first reminder comes 06-30
    assert stage_date(date(2026, 7, 31), 30, first=True) == date(2026, 6, 30)
    assert stage_date(date(2026, 7, 31), 30, first=False) == date(2026, 7, 1)
    # in a 30-day month the two agree
    assert stage_date(date(2026, 6, 30), 30, first=True) == date(2026, 5, 29)  # 05-31 is Sun


def test_due_maturities_are_the_loans_whose_stage_has_come() -> None:
    # On Sat 02-14 (a make-up working day): for the 15-day stage, maturities from 02-14 on
    # whose reminder date is on or before 02-14: up to 03-10, whose 15 days before is Mon
    # 02-23, the holiday's last day (02-15 .. 02-23 are off)
    due = due_maturities(date(2026, 2, 14), 15, first=False)
    assert max(due) == date(2026, 3, 10) and min(due) == date(2026, 2, 14)
    assert due[date(2026, 3, 10)] == date(2026, 2, 14)
    assert due[date(2026, 3, 1)] == date(2026, 2, 14)  # 02-14 + 15 = 03-01
    assert all(on <= date(2026, 2, 14) for on in due.values())
    assert stage_date(date(2026, 3, 11), 15, first=False) == date(2026, 2, 24)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("30,15,7", (30, 15, 7)), ("7, 30 ,15", (30, 15, 7)), ("45，20", (45, 20)), ([31], (31,))],
)
def test_stage_settings(raw, expected) -> None:
    assert parse_stages(raw) == expected


@pytest.mark.parametrize("raw", ["", "15,7", "30,30,7", "30,x", "30,0", "400,30"])
def test_bad_stage_settings_are_refused(raw) -> None:
    with pytest.raises(InvalidStages):
        parse_stages(raw)


maturities = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


@given(maturities, st.integers(min_value=1, max_value=120), st.booleans())
def test_a_stage_date_is_the_latest_working_day_not_after_its_target(
    maturity: date, days: int, first: bool
) -> None:
    on = stage_date(maturity, days, first)
    target = maturity - timedelta(days=days)
    if first:
        target = min(target, maturity - relativedelta(months=1))
    assert is_working_day(on) and on <= target
    assert all(not is_working_day(on + timedelta(days=k)) for k in range(1, (target - on).days + 1))


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 1)), st.sampled_from(STAGES))
def test_due_maturities_are_exactly_those_due(as_of: date, days: int) -> None:
    first = days == STAGES[0]
    due = due_maturities(as_of, days, first)
    for offset in range(0, 80):
        maturity = as_of + timedelta(days=offset)
        is_due = stage_date(maturity, days, first) <= as_of
        assert (maturity in due) == is_due


# --- provisional dates ----------------------------------------------------------------------

BEFORE_2026_NOTICE = range(2001, 2026)  # a calendar from before November 2025
WITH_2026_NOTICE = range(2001, 2027)


def test_a_date_on_an_estimated_year_is_provisional_until_the_notice() -> None:
    # Maturity Mon 2026-03-09, 15 days before is Sun 02-22. Without the 2026 notice the
    # package estimates the Spring Festival as 02-16 .. 02-19: the reminder would come Fri
    # 02-20, provisionally. The notice made 02-20 and 02-23 days off and Sat 02-14 a working
    # day: the reminder comes 02-14, final.
    with official_years_as(BEFORE_2026_NOTICE):
        assert stage(date(2026, 3, 9), 15, first=False) == Stage(15, date(2026, 2, 20), True)
        assert [s.provisional for s in reminder_stages(date(2026, 3, 9), STAGES)] == [True] * 3
    with official_years_as(WITH_2026_NOTICE):
        assert stage(date(2026, 3, 9), 15, first=False) == Stage(15, date(2026, 2, 14), False)
        assert [s.provisional for s in reminder_stages(date(2026, 3, 9), STAGES)] == [False] * 3


@pytest.mark.parametrize(
    ("case", "maturity", "days", "first", "expected", "provisional"),
    [
        # a working Thursday of a known year: final
        ("known year", "2026-12-31", 7, False, "2026-12-24", False),
        # first stage of a loan maturing Wed 2027-01-27: a month before is Sun 2026-12-27; Sat
        # 12-26 and Sun 12-27 could become working days for New Year 2027 (as 2001-12-29 was
        # for 2002), so Fri 12-25 waits for the 2027 notice
        ("a late-December weekend passed over", "2027-01-27", 30, True, "2026-12-25", True),
        # a Friday at the end of December is a working day whatever 2027's notice says
        ("a late-December weekday", "2027-01-25", 30, True, "2026-12-25", False),
        # every day of 2027 waits for its notice
        ("a date in 2027", "2027-03-01", 15, False, "2027-02-12", True),
    ],
)
def test_which_dates_wait_for_a_notice(
    case: str, maturity: str, days: int, first: bool, expected: str, provisional: bool
) -> None:
    with official_years_as(WITH_2026_NOTICE):
        got = stage(date.fromisoformat(maturity), days, first)
    assert (got.remind_date.isoformat(), got.provisional) == (expected, provisional), case


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 24)),
    st.integers(min_value=1, max_value=120),
    st.booleans(),
)
def test_a_stage_is_its_stage_date(maturity: date, days: int, first: bool) -> None:
    got = stage(maturity, days, first)
    assert got.remind_date == stage_date(maturity, days, first)
    # 2023 to 2026 are official in the calendar the project requires, and these dates never
    # reach the last weekend of 2026, which waits for the 2027 notice
    assert got.provisional is False

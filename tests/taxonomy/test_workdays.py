"""Working days on China's calendar: hand-checked dates around 2026's holidays, and properties
over generated dates."""

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.leads.sla import contact_due_date, is_breached
from service.taxonomy.workdays import (
    add_working_days,
    is_settled,
    is_working_day,
    official_years,
    official_years_as,
    previous_working_day,
    settled,
    working_days_between,
)

# The 2026 calendar (State Council notice of November 2025, as carried by holidays 0.109):
# - New Year: off Thu 01-01 .. Sat 01-03; Sun 01-04 is a make-up working day.
# - Spring Festival: off Sun 02-15 .. Mon 02-23 (nine days);
#   Sat 02-14 and Sat 02-28 are make-up working days.
# - Mid-Autumn: off Fri 09-25 (a weekend follows; no make-up day).
# - National Day: off Thu 10-01 .. Wed 10-07;
#   Sun 09-20 and Sat 10-10 are make-up working days.
SPRING_FESTIVAL_OFF = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
MAKE_UP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]
NATIONAL_DAY_OFF = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]

dates = st.dates(min_value=date(2001, 1, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=0, max_value=60)


# --- the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize("day", SPRING_FESTIVAL_OFF + NATIONAL_DAY_OFF)
def test_holidays_are_not_working_days(day: date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize("day", MAKE_UP_2026)
def test_make_up_weekends_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert is_working_day(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 2), False),  # Friday, off in exchange for Sunday 01-04
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 24), True),  # first weekday back
        (date(2026, 2, 21), False),  # Saturday inside the break
        (date(2026, 3, 1), False),  # ordinary Sunday
        (date(2026, 9, 25), False),  # Mid-Autumn Festival
        (date(2026, 10, 8), True),  # Thursday after National Day
        (date(2026, 10, 11), False),  # ordinary Sunday
    ],
)
def test_is_working_day_around_2026_holidays(day: date, working: bool) -> None:
    assert is_working_day(day) is working


# --- hand-checked arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Friday 02-13: Sat 02-14 is worked (1), 02-15..02-23 off, Tue 02-24 (2), Wed 02-25 (3).
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 2, 13), 3, date(2026, 2, 25)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 2, 20), 2, date(2026, 2, 25)),  # created on a day off
        # Thu 02-26: Fri 02-27 (1), Sat 02-28 worked (2).
        (date(2026, 2, 26), 2, date(2026, 2, 28)),
        (date(2026, 2, 14), 0, date(2026, 2, 14)),  # a make-up Saturday counts as itself
        (date(2026, 2, 15), 0, date(2026, 2, 24)),  # n == 0 on a day off: the next working day
        (date(2026, 2, 24), 0, date(2026, 2, 24)),
        # Wed 2025-12-31: 01-01..01-03 off, Sun 01-04 worked.
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        (date(2025, 12, 31), 2, date(2026, 1, 5)),
        # Fri 09-18: Sat 09-19 off, Sun 09-20 worked.
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # over Mid-Autumn and a weekend
        # Wed 09-30: 10-01..10-07 off, Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 worked (3).
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert add_working_days(start, n) == expected
    assert contact_due_date(start, n) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 23), date(2026, 2, 14)),  # last day of the break: back to the make-up day
        (date(2026, 2, 15), date(2026, 2, 14)),
        (date(2026, 2, 14), date(2026, 2, 14)),
        (date(2026, 3, 1), date(2026, 2, 28)),  # Sunday after a worked Saturday
        (date(2026, 10, 7), date(2026, 9, 30)),
        (date(2026, 1, 3), date(2025, 12, 31)),
        (date(2026, 9, 27), date(2026, 9, 24)),  # Sunday after Mid-Autumn Friday
    ],
)
def test_previous_working_day(day: date, expected: date) -> None:
    assert previous_working_day(day) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 2, 13), date(2026, 2, 28), 6),  # 02-14, 02-24..02-28
        (date(2026, 2, 12), date(2026, 2, 24), 3),  # 02-13, 02-14, 02-24
        (date(2026, 2, 14), date(2026, 2, 23), 0),
        (date(2026, 9, 30), date(2026, 10, 10), 3),
        (date(2026, 9, 1), date(2026, 9, 30), 21),  # 21 weekdays, less 09-25, plus Sun 09-20
        (date(2026, 2, 24), date(2026, 2, 24), 0),
        (date(2026, 2, 25), date(2026, 2, 24), 0),  # end before start
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


def test_new_year_2027() -> None:
    if date(2027, 1, 1) not in holidays.China(years=2027):
        pytest.skip("the installed holidays package does not know 2027 yet")
    # Fri 2027-01-01 is New Year's Day and the weekend follows, so whatever the 2027 notice
    # says about make-up days, the next working day after Thu 2026-12-31 is Mon 2027-01-04.
    assert not is_working_day(date(2027, 1, 1))
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert previous_working_day(date(2027, 1, 3)) == date(2026, 12, 31)


# --- official and estimated years -----------------------------------------------------------


def test_the_required_calendar_carries_the_2026_notice() -> None:
    # pyproject.toml asks for holidays>=0.85, the first release with the notice of November
    # 2025; an older one would compute 2026 from estimates without a word
    years = official_years()
    assert set(range(2001, 2027)) <= years
    assert all(is_settled(day) for day in SPRING_FESTIVAL_OFF + MAKE_UP_2026)


def test_a_year_without_its_notice_is_the_packages_estimate() -> None:
    with official_years_as(range(2001, 2026)):
        assert 2026 not in official_years()
        # the festivals are estimated (Spring Festival eve to its third day, 02-16 .. 02-19)…
        assert not is_working_day(date(2026, 2, 17))
        # …but the days the notice moved are not: no make-up weekends, no extra days off
        assert not is_working_day(date(2026, 1, 4)) and not is_working_day(date(2026, 2, 14))
        assert is_working_day(date(2026, 1, 2)) and is_working_day(date(2026, 2, 20))
        assert previous_working_day(date(2026, 2, 22)) == date(2026, 2, 20)
        assert not is_settled(date(2026, 2, 20)) and is_settled(date(2025, 12, 31))
    # the calendar is back to the installed package's
    assert 2026 in official_years()
    assert is_working_day(date(2026, 2, 14)) and not is_working_day(date(2026, 2, 20))
    assert previous_working_day(date(2026, 2, 22)) == date(2026, 2, 14)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 24), True),  # Thursday
        (date(2026, 12, 25), True),  # Friday: a weekday stays a working day
        (date(2026, 12, 26), False),  # Saturday: the 2027 notice may make it a working day
        (date(2026, 12, 27), False),
        (date(2026, 12, 20), True),  # Sunday, too early for New Year make-up days
        (date(2027, 1, 4), False),  # 2027 itself
    ],
)
def test_the_last_weekend_of_a_year_waits_for_the_next_notice(day: date, expected: bool) -> None:
    with official_years_as(range(2001, 2027)):
        assert is_settled(day) is expected
    with official_years_as(range(2001, 2028)):
        assert is_settled(day)


def test_settled_ranges() -> None:
    with official_years_as(range(2001, 2027)):
        assert settled(date(2026, 12, 21), date(2026, 12, 25))
        assert not settled(date(2026, 12, 25), date(2026, 12, 27))
        assert settled(date(2026, 12, 25), date(2026, 12, 24))  # empty


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 2, 13), -1)
    with pytest.raises(ValueError):
        contact_due_date(date(2026, 2, 13), -1)


# --- SLA breach -----------------------------------------------------------------------------

DUE = date(2026, 2, 25)  # a lead created Fri 2026-02-13 with three working days


@pytest.mark.parametrize(
    ("first_contact_on", "today", "breached"),
    [
        (None, date(2026, 2, 24), False),
        (None, DUE, False),  # the whole due day is still in time
        (None, date(2026, 2, 26), True),
        (date(2026, 2, 14), date(2026, 3, 10), False),
        (date(2026, 2, 20), date(2026, 3, 10), False),  # contact on a holiday still counts
        (DUE, date(2026, 3, 10), False),
        (date(2026, 2, 26), date(2026, 3, 10), True),
        (date(2026, 2, 26), date(2026, 2, 26), True),
    ],
)
def test_is_breached(first_contact_on: date | None, today: date, breached: bool) -> None:
    assert contact_due_date(date(2026, 2, 13), 3) == DUE
    assert is_breached(DUE, first_contact_on, today) is breached


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(dates)
def test_agrees_with_the_package(day: date) -> None:
    assert is_working_day(day) == holidays.China(years=day.year).is_working_day(day)


@settings(max_examples=200, deadline=None)
@given(dates, counts)
def test_add_working_days_lands_on_a_working_day(start: date, n: int) -> None:
    due = add_working_days(start, n)
    assert is_working_day(due)
    assert due >= start
    if n >= 1:
        assert due > start
        assert working_days_between(start, due) == n
    elif is_working_day(start):
        assert due == start


@settings(max_examples=200, deadline=None)
@given(dates, counts)
def test_add_working_days_is_strictly_increasing(start: date, n: int) -> None:
    if n >= 1:
        assert add_working_days(start, n + 1) > add_working_days(start, n)
    else:
        # From a day off, 0 and 1 both name the next working day.
        same = add_working_days(start, 1) == add_working_days(start, 0)
        assert same is not is_working_day(start)


@settings(max_examples=200, deadline=None)
@given(dates, counts, counts)
def test_add_working_days_composes(start: date, m: int, n: int) -> None:
    # From a day off, n == 0 already moves to the next working day, so 0 + n is not n there.
    assume(m >= 1 or is_working_day(start))
    assert add_working_days(add_working_days(start, m), n) == add_working_days(start, m + n)


@settings(max_examples=300, deadline=None)
@given(dates)
def test_previous_working_day_is_the_nearest_earlier(day: date) -> None:
    before = previous_working_day(day)
    assert before <= day
    assert is_working_day(before)
    assert working_days_between(before, day) == 0


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(0, 120), st.integers(0, 120))
def test_working_days_between_adds_up(start: date, a: int, b: int) -> None:
    middle = start + timedelta(days=a)
    end = middle + timedelta(days=b)
    total = working_days_between(start, end)
    assert total == working_days_between(start, middle) + working_days_between(middle, end)
    assert 0 <= total <= a + b


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(0, 10), st.one_of(st.none(), st.integers(0, 40)), st.integers(0, 40))
def test_breached_exactly_when_contact_comes_after_due(
    created: date, n: int, contact_after: int | None, today_after: int
) -> None:
    due = contact_due_date(created, n)
    contact = None if contact_after is None else created + timedelta(days=contact_after)
    today = created + timedelta(days=today_after)
    expected = contact > due if contact is not None else today > due
    assert is_breached(due, contact, today) is expected

"""Working days on mainland China's calendar (first-contact deadlines, reminder dates). Pure:
no database, no I/O (the calendar is data inside the ``holidays`` package).

A working day is Monday to Friday unless it is a public holiday or a day off moved by the
State Council's 调休 notice, plus the weekend days that notice turns into working days. The
notice for a year comes out around November of the year before; until the installed
``holidays`` release carries it, that year's festivals are the package's estimate and it has
no make-up weekends, so keep the package current. Outside the years the package covers
(1950-2100) only weekends are days off. All dates are Asia/Shanghai calendar dates.

Which years are official: the package files each notice's moved days off and make-up working
days under the notice's year (``special_public_holidays`` of its China calendar; every notice
since 2001 moves some day). The years from the first to the last it carries are official
(``official_years``); any later year is the package's estimate, and a date computed from it is
provisional (``settled`` says whether a range of days rests on notices only). Tests pretend
the package knows fewer years with ``official_years_as``, which also drops those years'
notices from the calendar, as an older release would.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

_DAY = timedelta(days=1)
# A New Year notice may make the last weekend of the year before a working one (2001-12-29
# and 12-30 for 2002, 2005-12-31 for 2006, 2011-12-31 for 2012): from this day of December
# on, a weekend day also waits for the next year's notice.
_NEXT_NOTICE_FROM_DAY = 25

_assumed_official: frozenset[int] | None = None  # set by official_years_as


def _notices() -> dict[int, Any]:
    """The package's State Council notices by year: moved days off and make-up days."""
    return dict(getattr(holidays.China(), "special_public_holidays", None) or {})


@lru_cache(maxsize=1)
def _package_official_years() -> frozenset[int]:
    years = [year for year, moved in _notices().items() if moved]
    return frozenset(range(min(years), max(years) + 1)) if years else frozenset()


def official_years() -> frozenset[int]:
    """The years whose State Council notice the installed calendar carries."""
    if _assumed_official is not None:
        return _assumed_official
    return _package_official_years()


@contextmanager
def official_years_as(years: Iterable[int]) -> Iterator[None]:
    """Compute as if the installed package carried only these years' notices (a release from
    before a notice came out, and the upgrade after it): the other years are the package's
    estimate, without their moved days off and make-up days, and are not official."""
    global _assumed_official
    before = _assumed_official
    _assumed_official = frozenset(years)
    _calendar.cache_clear()
    try:
        yield
    finally:
        _assumed_official = before
        _calendar.cache_clear()


@lru_cache(maxsize=64)
def _calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off on weekdays or weekends, make-up working weekend days) of one year, frozen so
    the cached value cannot be changed by a caller."""
    # Next year too: a late-December weekend can be worked to lengthen the next New Year
    # (2001-12-29 for 2002), and the package files it under the holiday's year.
    china = holidays.China(years=(year, year + 1))
    days_off = {d for d in china if d.year == year}
    make_up = {d for d in china.weekend_workdays if d.year == year}
    if _assumed_official is not None:
        _drop_unknown_notices(days_off, make_up, (year, year + 1))
    return frozenset(days_off), frozenset(make_up)


def _drop_unknown_notices(days_off: set[date], make_up: set[date], years: Iterable[int]) -> None:
    """Take out what the notices of years assumed unknown moved: a day off it added (month,
    day, name) or moved (month, day, from month, from day[, from year]) and the weekend day it
    made a working day."""
    notices = _notices()
    for year in years:
        if year in official_years():
            continue
        moved = notices.get(year) or ()
        for entry in (moved,) if moved and isinstance(moved[0], int) else moved:
            days_off.discard(date(year, entry[0], entry[1]))
            if len(entry) >= 4 and isinstance(entry[2], int):
                make_up.discard(date(entry[4] if len(entry) > 4 else year, entry[2], entry[3]))


def is_settled(d: date) -> bool:
    """Whether ``d`` is a working day or not by a published notice, not by the package's
    estimate: its year is official, and, for a weekend day at the end of December, the next
    year is too."""
    known = official_years()
    if d.year not in known:
        return False
    return not (
        d.month == 12
        and d.day >= _NEXT_NOTICE_FROM_DAY
        and d.weekday() >= 5
        and d.year + 1 not in known
    )


def settled(start: date, end: date) -> bool:
    """Whether every day from ``start`` to ``end`` (both included) is settled: a date found by
    looking at those days is final, else provisional until the package learns the year."""
    day = start
    while day <= end:
        if not is_settled(day):
            return False
        day += _DAY
    return True


def is_working_day(d: date) -> bool:
    days_off, make_up = _calendar(d.year)
    if d.weekday() >= 5:
        return d in make_up
    return d not in days_off


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself does not count). For n == 0:
    ``start`` if it is a working day, else the next one (the same day n == 1 gives)."""
    _check_count(n)
    day = start
    if n == 0:
        while not is_working_day(day):
            day += _DAY
        return day
    while n:
        day += _DAY
        if is_working_day(day):
            n -= 1
    return day


def previous_working_day(d: date) -> date:
    """``d`` if it is a working day, else the nearest earlier one: a reminder moved off a
    holiday must come early, never late."""
    while not is_working_day(d):
        d -= _DAY
    return d


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; 0 when end is not after start."""
    count = 0
    day = start + _DAY
    while day <= end:
        count += is_working_day(day)
        day += _DAY
    return count


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"working-day count must be >= 0, got {n}")

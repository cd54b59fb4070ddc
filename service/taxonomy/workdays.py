"""Working days on mainland China's calendar (first-contact deadlines, reminder dates). Pure:
no database, no I/O (the calendar is data inside the ``holidays`` package).

A working day is Monday to Friday unless it is a public holiday or a day off moved by the
State Council's 调休 notice, plus the weekend days that notice turns into working days. The
notice for a year comes out around November of the year before; until the installed
``holidays`` release carries it, that year's festivals are the package's estimate and it has
no make-up weekends, so keep the package current. Outside the years the package covers
(1950-2100) only weekends are days off. All dates are Asia/Shanghai calendar dates.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays

_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off on weekdays or weekends, make-up working weekend days) of one year, frozen so
    the cached value cannot be changed by a caller."""
    # Next year too: a late-December weekend can be worked to lengthen the next New Year
    # (2001-12-29 for 2002), and the package files it under the holiday's year.
    china = holidays.China(years=(year, year + 1))
    days_off = frozenset(d for d in china if d.year == year)
    make_up = frozenset(d for d in china.weekend_workdays if d.year == year)
    return days_off, make_up


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

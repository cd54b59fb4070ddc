"""When renewal reminders fall due. Pure: no database, no I/O.

A loan is reminded of at each stage (by default 30, 15 and 7 days before it matures). A stage
date that is not a working day in China moves to the working day before it, never after.
The policy asks banks to contact borrowers at least one month ahead, so the first stage is
also never later than one calendar month before maturity: in a month that follows a 31-day
month, "30 days before" would be a day short of that (maturity 08-31: 30 days before is
08-01, one month before is 07-31).

A stage date is provisional when finding it looked at a day of a year whose State Council
holiday notice the installed calendar does not carry yet (``workdays.settled``): the notice
may move a holiday or add a make-up working day there, and the date with it. The reminder
run recomputes such dates once the calendar learns the year."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from service.taxonomy.workdays import previous_working_day, settled

DEFAULT_STAGES: tuple[int, ...] = (30, 15, 7)
FIRST_STAGE_MIN_DAYS = 30  # "at least one month ahead"
STAGE_MAX_DAYS = 365


class InvalidStages(ValueError):
    pass


def parse_stages(value: str | Iterable[int]) -> tuple[int, ...]:
    """Stages as days before maturity, earliest first: distinct whole days, the first at
    least 30 (a month), none over a year. Accepts "30,15,7" or a sequence of ints."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        try:
            days = [int(p) for p in parts]
        except ValueError:
            raise InvalidStages(f"提醒节点须为逗号分隔的天数，如 30,15,7；收到 {value!r}") from None
    else:
        days = [int(d) for d in value]
    if not days:
        raise InvalidStages("至少须有一个提醒节点")
    if len(set(days)) != len(days):
        raise InvalidStages(f"提醒节点不能重复：{days}")
    if any(d < 1 or d > STAGE_MAX_DAYS for d in days):
        raise InvalidStages(f"提醒节点须在 1 至 {STAGE_MAX_DAYS} 天之间：{days}")
    stages = tuple(sorted(days, reverse=True))
    if stages[0] < FIRST_STAGE_MIN_DAYS:
        raise InvalidStages(
            f"第一个提醒须至少提前一个月（{FIRST_STAGE_MIN_DAYS} 天），现为 {stages[0]} 天"
        )
    return stages


def _target(maturity: date, days: int, first: bool) -> date:
    target = maturity - timedelta(days=days)
    if first:
        target = min(target, maturity - relativedelta(months=1))
    return target


def stage_date(maturity: date, days: int, first: bool) -> date:
    """The reminder date of one stage: ``days`` before maturity (for the first stage, one
    calendar month before if that is earlier), moved back to a working day."""
    return previous_working_day(_target(maturity, days, first))


@dataclass(frozen=True)
class Stage:
    days: int
    remind_date: date
    provisional: bool  # found on a calendar year without its official notice yet


def stage(maturity: date, days: int, first: bool) -> Stage:
    target = _target(maturity, days, first)
    on = previous_working_day(target)
    return Stage(days, on, not settled(on, target))


def is_first(days: int, stages: Sequence[int]) -> bool:
    """Whether ``days`` is the first (earliest) stage of a plan."""
    return days == max(stages)


def reminder_stages(maturity: date, stages: Sequence[int]) -> list[Stage]:
    """Each stage's date and whether it is provisional, earliest first."""
    return [stage(maturity, days, i == 0) for i, days in enumerate(stages)]


def reminder_dates(maturity: date, stages: Sequence[int]) -> list[tuple[int, date]]:
    """(stage, date) for each stage, earliest first."""
    return [(days, stage_date(maturity, days, i == 0)) for i, days in enumerate(stages)]


def due_maturities(as_of: date, days: int, first: bool) -> dict[date, date]:
    """For one stage: every maturity date, from ``as_of`` on, whose reminder is due by
    ``as_of``, with its reminder date. A stage date never decreases as maturity moves later,
    so the dates form a run that stops at the first whose reminder is still ahead; loans
    that already matured get no more reminders."""
    out: dict[date, date] = {}
    maturity = as_of
    while True:
        remind = stage_date(maturity, days, first)
        if remind > as_of:
            return out
        out[maturity] = remind
        maturity += timedelta(days=1)

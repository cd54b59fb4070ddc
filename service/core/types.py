"""Input types that take only what they say. Pydantic's lax mode reads JSON `false`, `1.0`
and `"5"` as integers, a number as a date (`0`: 1970-01-01) and `0.5` as a timestamp; money,
dates and counts must not be guessed. Every request field of those kinds uses one of these:

- ``BodyInt``: in a JSON body, a JSON integer only (not a boolean, a float or a string);
- ``Digits``: in a query string or path, an int written in decimal digits only (an optional
  minus): ``Annotated[int, Query(ge=1), Digits]``. It goes last, after the bounds: a bound
  given after a validator would be published in OpenAPI as ``ge``, not ``minimum``;
- ``IsoDate``: a calendar date written ``YYYY-MM-DD`` (a date object from Python code);
- ``Timestamp``: an RFC 3339 instant with its offset (``Z`` or ``+08:00``); a naive time
  is refused rather than guessed to be UTC or Asia/Shanghai.

A refusal is a 422 naming the field, its ``type`` one of ``int_type`` (a JSON value that is
not an integer), ``decimal_integer``, ``iso_date``, ``rfc3339_timestamp`` or
``naive_timestamp``. The OpenAPI types are those of int, date and datetime (integer,
string/date, string/date-time)."""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Strict
from pydantic_core import PydanticCustomError

_DIGITS = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 date-time; a space may stand for the T
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")


def decimal_digits(value: Any) -> Any:
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise PydanticCustomError("decimal_integer", "应为十进制整数（只含数字，如 42）")
    return value


def iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise PydanticCustomError("iso_date", "应为 YYYY-MM-DD 格式的日期（如 2026-01-31）")


def rfc3339(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return value
    if isinstance(value, datetime) or (isinstance(value, str) and _NAIVE.fullmatch(value)):
        raise PydanticCustomError(
            "naive_timestamp",
            "时间须带时区（如 2026-01-31T08:00:00+08:00 或 2026-01-31T00:00:00Z）；"
            "没有时区的时间不知是哪一刻，不予猜测",
        )
    raise PydanticCustomError(
        "rfc3339_timestamp",
        "应为带时区的 RFC 3339 时间（如 2026-01-31T08:00:00+08:00 或 2026-01-31T00:00:00Z；"
        "查询参数中的 + 须写作 %2B）",
    )


BodyInt = Annotated[int, Strict()]
Digits = BeforeValidator(decimal_digits)
IsoDate = Annotated[date, BeforeValidator(iso_date)]
Timestamp = Annotated[datetime, BeforeValidator(rfc3339)]

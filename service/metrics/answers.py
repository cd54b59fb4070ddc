"""The office's three questions as use cases: which banks convert, where leads stall, which
clusters and districts are underserved. Each checks who asks first (the office only), checks
the period (``from`` after ``to`` is a 422 ``invalid_period``) and hands the rows it reads to
the pure figures of ``conversion``, ``stalls`` and ``areas``."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.errors import Unprocessable
from service.core.models import today_local
from service.core.settings import get_settings
from service.metrics.answer_schemas import AnswerScope, AreaReport, ConversionReport, StallReport
from service.metrics.areas import AREA_GROUPS, area_report
from service.metrics.conversion import Period, bank_counts, contact_days, conversion
from service.metrics.schemas import ReportQuery
from service.metrics.stalls import stall_report


def _period(query: ReportQuery) -> tuple[Period, AnswerScope]:
    if query.from_date and query.to_date and query.from_date > query.to_date:
        raise Unprocessable(
            f"起始日期 {query.from_date} 晚于截止日期 {query.to_date}。",
            code="invalid_period",
            field="from",
        )
    tz = ZoneInfo(get_settings().timezone)
    start = query.from_date
    end = query.to_date + timedelta(days=1) if query.to_date else None
    period = Period(
        created_from=datetime.combine(start, time(), tzinfo=tz) if start else None,
        created_before=datetime.combine(end, time(), tzinfo=tz) if end else None,
        private=query.private,
    )
    scope = AnswerScope(
        from_date=query.from_date, to=query.to_date, private=query.private, as_of=today_local()
    )
    return period, scope


def conversion_report(
    session: Session, principal: Principal, query: ReportQuery
) -> ConversionReport:
    """Banks by name, ranked by contact rate over the leads made in the period."""
    require(principal, Role.office)
    period, scope = _period(query)
    return conversion(bank_counts(session, period), contact_days(session, period), scope)


def stalls_report(session: Session, principal: Principal) -> StallReport:
    """Open leads per stage and bank, and open needs that reached no bank, now."""
    require(principal, Role.office)
    return stall_report(session, today_local(), ZoneInfo(get_settings().timezone))


def areas_report(
    session: Session, principal: Principal, query: ReportQuery, group_by: str
) -> AreaReport:
    """Per district or cluster: library, needs, needs with no bank, amount disbursed."""
    require(principal, Role.office)
    if group_by not in AREA_GROUPS:
        raise Unprocessable(
            f"分组须为 {'、'.join(AREA_GROUPS)}。", code="invalid_group", field="group_by"
        )
    period, scope = _period(query)
    return area_report(session, group_by, period, scope)

"""The office's reports as use cases: check the query (a period that ends before it starts is
a 422 ``invalid_period``, an unknown bank or product a 404, an ownership type by code or name),
read the rows it covers (``queries``) and hand them to the pure figures (``lead_figures``,
``loan_figures``). Leads are covered by their creation date, loans by their maturity date, both
as dates in Asia/Shanghai. The reports are the office's: each use case checks who asks before
anything else (``require``)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.errors import Unprocessable
from service.core.models import today_local
from service.core.settings import get_settings
from service.loans.reminders import stages as reminder_stages
from service.metrics import queries
from service.metrics.lead_figures import amounts, decline_reasons, funnel, response_times
from service.metrics.loan_figures import maturities, renewals
from service.metrics.queries import LeadFilter, LeadRow
from service.metrics.schemas import (
    AmountGroup,
    AmountReport,
    DeclineGroup,
    DeclineReport,
    FunnelGroup,
    FunnelReport,
    MaturityReport,
    MaturityScope,
    RenewalReport,
    ReportQuery,
    ReportScope,
    ResponseTimeReport,
)
from service.products.service import get_bank, get_product
from service.taxonomy.ownership import UNKNOWN
from service.taxonomy.service import Vocabulary


@dataclass(frozen=True)
class _Context:
    scope: ReportScope
    rows: list[LeadRow]
    tz: tzinfo


def _check_period(query: ReportQuery) -> None:
    if query.from_date and query.to_date and query.from_date > query.to_date:
        raise Unprocessable(
            f"起始日期 {query.from_date} 晚于截止日期 {query.to_date}。",
            code="invalid_period",
            field="from",
        )


def _ownership(session: Session, query: ReportQuery) -> str | None:
    """The ownership filter as a code (a name is accepted too), or ``unknown``."""
    if query.ownership is None or query.ownership == UNKNOWN:
        return query.ownership
    return Vocabulary(session).ownership(query.ownership)


def _read(session: Session, query: ReportQuery) -> _Context:
    """Check the query and read the leads it covers."""
    _check_period(query)
    tz = ZoneInfo(get_settings().timezone)
    product_id = _product_id(session, query)
    ownership = _ownership(session, query)
    where = LeadFilter(
        created_from=_start_of(query.from_date, tz),
        created_before=_start_of(query.to_date + timedelta(days=1), tz) if query.to_date else None,
        bank_code=query.bank,
        product_id=product_id,
        ownership=ownership,
        private=query.private,
    )
    scope = ReportScope(
        from_date=query.from_date,
        to=query.to_date,
        bank=query.bank,
        product=query.product,
        ownership=ownership,
        private=query.private,
        as_of=today_local(),
    )
    return _Context(scope=scope, rows=list(queries.lead_rows(session, where)), tz=tz)


def _start_of(day: date | None, tz: tzinfo) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=tz)


class LeadReports:
    """The lead reports of one query from one read of its leads, for a page that shows
    several of them."""

    def __init__(self, session: Session, principal: Principal, query: ReportQuery) -> None:
        require(principal, Role.office)
        self._session = session
        self._ctx = _read(session, query)

    def funnel(self, by: FunnelGroup) -> FunnelReport:
        ctx = self._ctx
        groups, total = funnel(ctx.rows, by, ctx.tz)
        return FunnelReport(scope=ctx.scope, group_by=by, groups=groups, total=total)

    def response_times(self) -> ResponseTimeReport:
        ctx = self._ctx
        groups, total = response_times(ctx.rows, ctx.tz, ctx.scope.as_of)
        return ResponseTimeReport(scope=ctx.scope, groups=groups, total=total)

    def amounts(self, by: AmountGroup) -> AmountReport:
        ctx = self._ctx
        groups, total = amounts(ctx.rows, by, ctx.tz, queries.lpr_1y_history(self._session))
        return AmountReport(scope=ctx.scope, group_by=by, groups=groups, total=total)

    def declines(self, by: DeclineGroup) -> DeclineReport:
        ctx = self._ctx
        groups, total = decline_reasons(ctx.rows, by, ctx.tz)
        return DeclineReport(scope=ctx.scope, group_by=by, groups=groups, total=total)


def funnel_report(
    session: Session, principal: Principal, query: ReportQuery, by: FunnelGroup
) -> FunnelReport:
    return LeadReports(session, principal, query).funnel(by)


def response_time_report(
    session: Session, principal: Principal, query: ReportQuery
) -> ResponseTimeReport:
    return LeadReports(session, principal, query).response_times()


def amount_report(
    session: Session, principal: Principal, query: ReportQuery, by: AmountGroup
) -> AmountReport:
    return LeadReports(session, principal, query).amounts(by)


def decline_report(
    session: Session, principal: Principal, query: ReportQuery, by: DeclineGroup
) -> DeclineReport:
    return LeadReports(session, principal, query).declines(by)


def _maturity_scope(
    session: Session, query: ReportQuery, default_from: date | None = None
) -> MaturityScope:
    _check_period(query)
    return MaturityScope(
        from_date=query.from_date or default_from,
        to=query.to_date,
        bank=query.bank,
        product=query.product,
        ownership=_ownership(session, query),
        private=query.private,
        as_of=today_local(),
    )


def _product_id(session: Session, query: ReportQuery) -> int | None:
    if query.bank is not None:
        get_bank(session, query.bank)
    return get_product(session, query.product).id if query.product is not None else None


def renewal_report(session: Session, principal: Principal, query: ReportQuery) -> RenewalReport:
    require(principal, Role.office)
    product_id = _product_id(session, query)
    scope = _maturity_scope(session, query)
    rows = queries.loan_rows(
        session,
        scope.from_date,
        scope.to,
        scope.bank,
        product_id=product_id,
        ownership=scope.ownership,
        private=scope.private,
    )
    groups, total = renewals(rows, scope.as_of, max(reminder_stages()))
    return RenewalReport(scope=scope, groups=groups, total=total)


def maturity_report(session: Session, principal: Principal, query: ReportQuery) -> MaturityReport:
    """Active loans by month of maturity, from today unless ``from`` says otherwise."""
    require(principal, Role.office)
    product_id = _product_id(session, query)
    scope = _maturity_scope(session, query, default_from=today_local())
    rows = queries.loan_rows(
        session,
        scope.from_date,
        scope.to,
        scope.bank,
        active_only=True,
        product_id=product_id,
        ownership=scope.ownership,
        private=scope.private,
    )
    groups, total = maturities(rows)
    return MaturityReport(scope=scope, groups=groups, total=total)

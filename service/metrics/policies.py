"""The office's figures on support policies (政策直达) for a year: per policy, per district and
per industrial cluster, the current entitlements and the awards recorded for them.

Definitions (a person can recount each from the 企业明细 sheet and the award list):
- the year's periods: a yearly policy's period is the year itself; a one-off award (period
  ``once``) counts in the year its entitlement was found (``found_at``, Asia/Shanghai), and
  an award recorded with no entitlement in the year it was applied for;
- entitled: current entitlements (lapsed ones are left out) and their amounts, the most the
  rules allow; estimated: those of them with no award approved or paid yet; awaiting: those
  applied for and not decided yet;
- applied: awards recorded in the year's periods, whatever became of them; approved: those
  approved or paid, with the amount approved; paid: those paid, with the amount paid;
  rejected: those refused;
- budget: the version in force on the year's budget day (today in the current year, 31
  December of a past one, 1 January of a later one); a yearly policy's budget is drawn on by
  the year's approvals, a one-off award's (a budget in all) by every year's; left is the
  budget less that.

Every figure is a grouped count or sum in SQL (policy × district × cluster × award status),
folded here, so a library of any size is read as a few rows per group."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, and_, cast, func, or_, select
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals.models import Department
from service.core.errors import Unprocessable
from service.core.models import today_local
from service.core.settings import get_settings
from service.enterprises.models import Enterprise
from service.matching.texts import TIER_LABEL
from service.metrics.numbers import ratio
from service.metrics.policy_schemas import (
    EntitlementLine,
    Figures,
    GroupRow,
    GroupTable,
    PolicyReport,
    PolicyRow,
    PolicyScope,
)
from service.policies import store
from service.policies.grants import STATUS_LABEL
from service.policies.models import (
    Entitlement,
    EntitlementStatus,
    GrantStatus,
    Policy,
    PolicyGrant,
    PolicyVersion,
)
from service.taxonomy.models import Cluster, District

YEARS = (2000, 2100)
UNSET = "未填写"
TOTAL = "合计"
NOT_APPLIED = "未申报"
COUNTED = (GrantStatus.approved, GrantStatus.paid)


# --- the year ---------------------------------------------------------------------------------


def check_year(year: int | None, today: date) -> int:
    if year is None:
        return today.year
    if not YEARS[0] <= year <= YEARS[1]:
        raise Unprocessable(
            f"年份应在 {YEARS[0]} 到 {YEARS[1]} 之间。", code="invalid_year", field="year"
        )
    return year


def budget_day(year: int, today: date) -> date:
    if year == today.year:
        return today
    return date(year, 12, 31) if year < today.year else date(year, 1, 1)


def year_window(year: int) -> tuple[datetime, datetime]:
    tz = ZoneInfo(get_settings().timezone)
    return (
        datetime.combine(date(year, 1, 1), time(), tzinfo=tz),
        datetime.combine(date(year + 1, 1, 1), time(), tzinfo=tz),
    )


def entitlement_in_year(year: int) -> ColumnElement[bool]:
    start, end = year_window(year)
    e = Entitlement
    return or_(
        col(e.period) == str(year),
        and_(col(e.period) == "once", col(e.found_at) >= start, col(e.found_at) < end),
    )


def grant_in_year(year: int) -> ColumnElement[bool]:
    """Of a grant outer-joined to its entitlement (see ``_grant_join``)."""
    start, end = year_window(year)
    found_in_year = and_(col(Entitlement.found_at) >= start, col(Entitlement.found_at) < end)
    applied_in_year = and_(
        col(PolicyGrant.applied_date) >= date(year, 1, 1),
        col(PolicyGrant.applied_date) <= date(year, 12, 31),
    )
    return or_(
        col(PolicyGrant.period) == str(year),
        and_(
            col(PolicyGrant.period) == "once",
            or_(
                and_(col(Entitlement.id).is_not(None), found_in_year),
                and_(col(Entitlement.id).is_(None), applied_in_year),
            ),
        ),
    )


def _same_key() -> ColumnElement[bool]:
    return and_(
        col(PolicyGrant.enterprise_id) == col(Entitlement.enterprise_id),
        col(PolicyGrant.policy_code) == col(Entitlement.policy_code),
        col(PolicyGrant.period) == col(Entitlement.period),
    )


# --- folding ----------------------------------------------------------------------------------


@dataclass
class Tally:
    entitled: int = 0
    entitled_fen: int = 0
    enterprises: int = 0
    estimated: int = 0
    estimated_fen: int = 0
    applied: int = 0
    awaiting: int = 0
    awaiting_fen: int = 0
    approved: int = 0
    approved_fen: int = 0
    paid: int = 0
    paid_fen: int = 0
    rejected: int = 0

    def entitlements(self, grant_status: str | None, n: int, fen: int) -> None:
        self.entitled += n
        self.entitled_fen += fen
        if grant_status not in COUNTED:
            self.estimated += n
            self.estimated_fen += fen
        if grant_status == GrantStatus.applied:
            self.awaiting += n
            self.awaiting_fen += fen

    def grants(self, status: str, n: int, approved_fen: int, paid_fen: int) -> None:
        self.applied += n
        if status in COUNTED:
            self.approved += n
            self.approved_fen += approved_fen
        if status == GrantStatus.paid:
            self.paid += n
            self.paid_fen += paid_fen
        if status == GrantStatus.rejected:
            self.rejected += n

    def figures(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Tallies:
    """The year's figures folded per policy, district, cluster and in total."""

    policy: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    district: dict[str | None, Tally] = field(default_factory=lambda: defaultdict(Tally))
    cluster: dict[str | None, Tally] = field(default_factory=lambda: defaultdict(Tally))
    total: Tally = field(default_factory=Tally)

    def of(self, policy: str, district: str | None, cluster: str | None) -> Iterable[Tally]:
        return (self.policy[policy], self.district[district], self.cluster[cluster], self.total)


def tallies(session: Session, year: int) -> Tallies:
    out = Tallies()
    e, g, firm = Entitlement, PolicyGrant, Enterprise
    where = (col(e.status) == EntitlementStatus.current, entitlement_in_year(year))
    keys = (col(e.policy_code), col(firm.district_code), col(firm.cluster_code))
    entitled = (
        select(
            *keys,
            col(g.status),
            func.count(),
            cast(func.coalesce(func.sum(col(e.amount_fen)), 0), BigInteger),
        )
        .join(firm, col(firm.id) == col(e.enterprise_id))
        .outerjoin(g, _same_key())
        .where(*where)
        .group_by(*keys, col(g.status))
    )
    for policy, district, cluster, status, n, fen in session.execute(entitled):
        for tally in out.of(policy, district, cluster):
            tally.entitlements(status, n, fen)
    granted = (
        select(
            col(g.policy_code),
            col(firm.district_code),
            col(firm.cluster_code),
            col(g.status),
            func.count(),
            cast(func.coalesce(func.sum(col(g.approved_fen)), 0), BigInteger),
            cast(func.coalesce(func.sum(col(g.paid_fen)), 0), BigInteger),
        )
        .join(firm, col(firm.id) == col(g.enterprise_id))
        .outerjoin(e, _same_key())
        .where(grant_in_year(year))
        .group_by(
            col(g.policy_code), col(firm.district_code), col(firm.cluster_code), col(g.status)
        )
    )
    for policy, district, cluster, status, n, approved, paid in session.execute(granted):
        for tally in out.of(policy, district, cluster):
            tally.grants(status, n, approved, paid)
    # Enterprises are counted once however many policies entitle them.
    distinct = func.count(func.distinct(col(e.enterprise_id)))
    base = select(distinct).join(firm, col(firm.id) == col(e.enterprise_id)).where(*where)
    out.total.enterprises = int(session.execute(base).scalar_one())
    for column, target in ((firm.district_code, out.district), (firm.cluster_code, out.cluster)):
        grouped = base.add_columns(col(column)).group_by(col(column))
        for n, code in session.execute(grouped):
            target[code].enterprises = n
    for code, n in session.execute(
        select(col(e.policy_code), distinct).where(*where).group_by(col(e.policy_code))
    ):
        out.policy[code].enterprises = n
    return out


# --- rows -------------------------------------------------------------------------------------


def _versions(session: Session) -> dict[str, list[PolicyVersion]]:
    out: dict[str, list[PolicyVersion]] = defaultdict(list)
    for v in session.scalars(select(PolicyVersion).order_by(col(PolicyVersion.version))):
        out[v.policy_code].append(v)
    return out


def _once_approved(session: Session) -> dict[str, int]:
    """Every year's approvals of one-off awards, per policy (what a budget in all is drawn on)."""
    g = PolicyGrant
    stmt = (
        select(
            col(g.policy_code), cast(func.coalesce(func.sum(col(g.approved_fen)), 0), BigInteger)
        )
        .where(col(g.period) == "once", col(g.status).in_(COUNTED))
        .group_by(col(g.policy_code))
    )
    return {code: int(amount) for code, amount in session.execute(stmt)}


def policy_rows(session: Session, counted: Tallies, day: date) -> list[PolicyRow]:
    """Every active policy, and an inactive one with figures in the year; by code."""
    versions = _versions(session)
    once_approved = _once_approved(session)
    departments = dict(session.execute(select(col(Department.code), col(Department.name))).all())
    rows = []
    for policy in session.scalars(select(Policy).order_by(col(Policy.code))):
        if not policy.active and policy.code not in counted.policy:
            continue
        mine = versions.get(policy.code, [])
        in_force = store.version_in_force(mine, day)
        latest = in_force or max(mine, key=lambda v: (v.effective_from, v.version), default=None)
        yearly = latest is not None and not store.rule_of(policy, latest, mine).once
        tally = counted.policy.get(policy.code, Tally())
        budget = in_force.budget_fen if in_force else None
        drawn = tally.approved_fen if yearly else once_approved.get(policy.code, 0)
        rows.append(
            PolicyRow(
                policy_code=policy.code,
                policy_name=policy.name,
                yearly=yearly,
                department_name=departments.get(policy.department_code or ""),
                budget_fen=budget,
                budget_approved_fen=drawn,
                left_fen=None if budget is None else budget - drawn,
                used_share=None if budget is None else ratio(drawn, budget),
                **tally.figures(),
            )
        )
    return rows


def district_names(session: Session) -> list[tuple[str, str, str | None]]:
    stmt = select(col(District.code), col(District.name)).order_by(
        col(District.sort_order), col(District.code)
    )
    return [(c, n, None) for c, n in session.execute(stmt)]


def cluster_names(session: Session) -> list[tuple[str, str, str | None]]:
    stmt = select(col(Cluster.code), col(Cluster.name), col(Cluster.tier)).order_by(
        col(Cluster.tier_rank), col(Cluster.priority_rank), col(Cluster.code)
    )
    return [(c, n, TIER_LABEL.get(str(t), str(t))) for c, n, t in session.execute(stmt)]


def group_table(
    counted: dict[str | None, Tally], names: list[tuple[str, str, str | None]], total: Tally
) -> GroupTable:
    """Every named group (zeros included), an unknown code under itself, then none recorded."""
    known = {code for code, _, _ in names}
    rows = [
        GroupRow(key=c, label=n, tier=t, **counted.get(c, Tally()).figures()) for c, n, t in names
    ]
    rows += [
        GroupRow(key=c, label=c, **tally.figures())
        for c, tally in sorted(counted.items(), key=lambda i: str(i[0]))
        if c is not None and c not in known
    ]
    if None in counted:
        rows.append(GroupRow(key=None, label=UNSET, **counted[None].figures()))
    return GroupTable(rows=rows, total=GroupRow(key=None, label=TOTAL, **total.figures()))


# --- use cases --------------------------------------------------------------------------------


def policy_report(session: Session, principal: Principal, year: int | None = None) -> PolicyReport:
    require(principal, Role.office)
    today = today_local()
    return build_report(session, check_year(year, today), today)


def build_report(session: Session, year: int, today: date) -> PolicyReport:
    counted = tallies(session, year)
    day = budget_day(year, today)
    return PolicyReport(
        scope=PolicyScope(year=year, as_of=today, budget_on=day),
        policies=policy_rows(session, counted, day),
        total=Figures(**counted.total.figures()),
        by_district=group_table(counted.district, district_names(session), counted.total),
        by_cluster=group_table(counted.cluster, cluster_names(session), counted.total),
    )


@dataclass(frozen=True)
class LineFilter:
    policy_code: str | None = None
    district_code: str | None = None
    offset: int = 0
    limit: int | None = None
    lapsed: bool = False  # those a later evaluation no longer found, instead of current ones


def _line_conditions(year: int, wanted: LineFilter) -> list[Any]:
    """The year's entitlements under the filter's policy and district, whatever their status."""
    e = Entitlement
    conditions: list[Any] = [entitlement_in_year(year)]
    if wanted.policy_code is not None:
        conditions.append(col(e.policy_code) == wanted.policy_code)
    if wanted.district_code is not None:
        conditions.append(col(Enterprise.district_code) == wanted.district_code)
    return conditions


def _with_status(lapsed: bool) -> ColumnElement[bool]:
    status = EntitlementStatus.lapsed if lapsed else EntitlementStatus.current
    return col(Entitlement.status) == status


def line_counts(
    session: Session, principal: Principal, year: int, wanted: LineFilter = LineFilter()
) -> dict[str, int]:
    """How many of the year's entitlements under the filter are current and how many lapsed
    (the policy page's two lists): one count grouped by status."""
    require(principal, Role.office)
    e, firm = Entitlement, Enterprise
    stmt = (
        select(col(e.status), func.count())
        .select_from(e)
        .join(firm, col(firm.id) == col(e.enterprise_id))
        .where(*_line_conditions(year, wanted))
        .group_by(col(e.status))
    )
    counted = {str(status): int(n) for status, n in session.execute(stmt)}
    return {
        "current": counted.get(str(EntitlementStatus.current), 0),
        "lapsed": counted.get(str(EntitlementStatus.lapsed), 0),
    }


def entitlement_lines(
    session: Session, principal: Principal, year: int, wanted: LineFilter = LineFilter()
) -> tuple[list[EntitlementLine], int]:
    """The year's current entitlements (or, with ``lapsed``, the lapsed ones) with their
    awards, first found first (a page of them with ``limit``), and how many there are in
    all."""
    require(principal, Role.office)
    e, g, firm = Entitlement, PolicyGrant, Enterprise
    conditions = [_with_status(wanted.lapsed), *_line_conditions(year, wanted)]
    joined = select(func.count()).select_from(e).join(firm, col(firm.id) == col(e.enterprise_id))
    total = int(session.execute(joined.where(*conditions)).scalar_one())
    stmt = (
        select(
            e,
            col(firm.name),
            col(firm.credit_code),
            col(firm.district_code),
            col(firm.cluster_code),
            col(Policy.name),
            g,
        )
        .join(firm, col(firm.id) == col(e.enterprise_id))
        .join(Policy, col(Policy.code) == col(e.policy_code))
        .outerjoin(g, _same_key())
        .where(*conditions)
        .order_by(col(e.found_at), col(e.id))
        .offset(wanted.offset)
    )
    if wanted.limit is not None:
        stmt = stmt.limit(wanted.limit)
    districts = {c: n for c, n, _ in district_names(session)}
    clusters = {c: n for c, n, _ in cluster_names(session)}
    tz = ZoneInfo(get_settings().timezone)
    lines = []
    for row, name, credit, district, cluster, policy_name, grant in session.execute(stmt):
        lines.append(
            EntitlementLine(
                entitlement_id=row.id,
                enterprise_id=row.enterprise_id,
                enterprise_name=name,
                credit_code=credit,
                district_name=districts.get(district, district),
                cluster_name=clusters.get(cluster, cluster),
                policy_code=row.policy_code,
                policy_name=policy_name,
                period=row.period,
                amount_fen=row.amount_fen,
                found_date=row.found_at.astimezone(tz).date(),
                lapsed_date=row.lapsed_at.astimezone(tz).date() if row.lapsed_at else None,
                grant_id=grant.id if grant else None,
                grant_status=str(grant.status) if grant else None,
                grant_status_label=STATUS_LABEL[GrantStatus(grant.status)]
                if grant
                else NOT_APPLIED,
                grant_version=grant.version if grant else None,
                applied_date=grant.applied_date if grant else None,
                approved_fen=grant.approved_fen if grant else None,
                paid_fen=grant.paid_fen if grant else None,
            )
        )
    return lines, total

"""Awards the office records under a policy: applied for, then approved with an amount (or
not), then paid. One per enterprise, policy and period, by a unique constraint.

An approved amount is at most what the rule allows the enterprise for that period (its
entitlement as evaluated, which already counts the caps and what was awarded before), and a
paid one at most the approved one: so "once", the yearly cap and the years of support hold
whatever the office types. Approving or paying re-evaluates the enterprise."""

from datetime import date

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.concurrency import check_version
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Enterprise
from service.policies import store
from service.policies.exceptions import (
    GrantExists,
    GrantNotFound,
    GrantStepNotAllowed,
    InvalidGrant,
)
from service.policies.jobs import queue
from service.policies.models import (
    Entitlement,
    EntitlementStatus,
    GrantStatus,
    Policy,
    PolicyGrant,
    PolicyVersion,
)
from service.policies.rules import Rule, evaluate_policy, yuan_words
from service.policies.schemas import GrantCreate, GrantPublic, GrantStep, PolicyTotals

STATUS_LABEL = {
    GrantStatus.applied: "已申报",
    GrantStatus.approved: "已核定",
    GrantStatus.paid: "已拨付",
    GrantStatus.rejected: "未获批",
}
NEXT = {
    GrantStatus.applied: {"approve", "reject"},
    GrantStatus.approved: {"pay"},
    GrantStatus.paid: set(),
    GrantStatus.rejected: set(),
}
COUNTED = (GrantStatus.approved, GrantStatus.paid)


def grant_public(
    session: Session,
    grant: PolicyGrant,
    enterprise_name: str | None = None,
    policy_name: str | None = None,
) -> GrantPublic:
    if enterprise_name is None:
        enterprise = session.get(Enterprise, grant.enterprise_id)
        enterprise_name = enterprise.name if enterprise else ""
    if policy_name is None:
        policy = session.get(Policy, grant.policy_code)
        policy_name = policy.name if policy else grant.policy_code
    return GrantPublic(
        id=grant.id or 0,
        enterprise_id=grant.enterprise_id,
        enterprise_name=enterprise_name,
        policy_code=grant.policy_code,
        policy_name=policy_name,
        period=grant.period,
        status=grant.status,
        status_label=STATUS_LABEL[grant.status],
        applied_date=grant.applied_date,
        approved_fen=grant.approved_fen,
        approved_date=grant.approved_date,
        paid_fen=grant.paid_fen,
        paid_date=grant.paid_date,
        note=grant.note,
        version=grant.version,
        created_at=grant.created_at,
        updated_at=grant.updated_at,
    )


def _rules_for(session: Session, policy: Policy, on: date) -> tuple[Rule, ...]:
    """Every version's rule, newest first; refused when none is in force on ``on``."""
    versions = list(
        session.scalars(select(PolicyVersion).where(col(PolicyVersion.policy_code) == policy.code))
    )
    if store.version_in_force(versions, on) is None:
        raise InvalidGrant(f"{on.isoformat()} 该政策没有有效版本。", code="no_version_in_force")
    return store.rules_of(policy, versions)


def _evaluation_day(period: str) -> date:
    """The day a period is judged on: today, or the last day of a past year."""
    today = today_local()
    if period == "once" or int(period) >= today.year:
        return today
    return date(int(period), 12, 31)


def record_grant(session: Session, principal: Principal, data: GrantCreate) -> PolicyGrant:
    require(principal, Role.office)
    enterprise = session.get(Enterprise, data.enterprise_id)
    if enterprise is None:
        raise InvalidGrant(f"企业 {data.enterprise_id} 不在企业库中。", field="enterprise_id")
    policy = session.get(Policy, data.policy_code)
    if policy is None:
        raise InvalidGrant(f"没有代码为 {data.policy_code} 的政策。", field="policy_code")
    if data.applied_date > today_local():
        raise InvalidGrant("申报日期不能晚于今天。", field="applied_date")
    rules = _rules_for(session, policy, _evaluation_day(data.period))
    if rules[0].once != (data.period == "once"):
        wanted = "once（一次性）" if rules[0].once else "年度（如 2026）"
        raise InvalidGrant(f"该政策的期间应为{wanted}。", field="period")
    grant = PolicyGrant(
        enterprise_id=data.enterprise_id,
        policy_code=data.policy_code,
        period=data.period,
        applied_date=data.applied_date,
        note=data.note,
        recorded_by=principal.ref,
    )
    session.add(grant)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise GrantExists(
            f"{enterprise.name}在“{policy.name}”下（{data.period}）已有申报记录。"
        ) from exc
    session.commit()
    return grant


def _grant(session: Session, grant_id: int, for_update: bool = False) -> PolicyGrant:
    query = select(PolicyGrant).where(col(PolicyGrant.id) == grant_id)
    if for_update:
        query = query.with_for_update()
    grant = session.scalars(query).first()
    if grant is None:
        raise GrantNotFound(f"没有编号为 {grant_id} 的奖补记录。")
    return grant


def read_grant(session: Session, principal: Principal, grant_id: int) -> PolicyGrant:
    require(principal, Role.office, Role.enterprise)
    grant = _grant(session, grant_id)
    if principal.role == Role.enterprise and grant.enterprise_id != principal.enterprise_id:
        raise GrantNotFound(f"没有编号为 {grant_id} 的奖补记录。")
    return grant


def allowance(session: Session, grant: PolicyGrant) -> int:
    """The most that may be approved for this grant: the rule's amount for the enterprise and
    period, as evaluated now (with every other award counted)."""
    policy = session.get(Policy, grant.policy_code)
    assert policy is not None and grant.id is not None
    on = _evaluation_day(grant.period)
    rules = _rules_for(session, policy, on)
    enterprise = session.get(Enterprise, grant.enterprise_id)
    assert enterprise is not None
    facts = store.facts_of(session, enterprise)
    evaluation = evaluate_policy(rules, facts, on)
    if not evaluation.eligible or evaluation.period != grant.period:
        return 0
    return evaluation.amount_fen


def take_step(
    session: Session, principal: Principal, grant_id: int, step: GrantStep, expected: int | None
) -> PolicyGrant:
    require(principal, Role.office)
    grant = _grant(session, grant_id, for_update=True)
    check_version(expected, grant.version, "该奖补记录")
    if step.action not in NEXT[grant.status]:
        raise GrantStepNotAllowed(
            f"奖补记录{STATUS_LABEL[grant.status]}，不能{ {'approve': '核定', 'pay': '拨付', 'reject': '驳回'}[step.action] }。"
        )
    on = step.on or today_local()
    if on > today_local():
        raise InvalidGrant("日期不能晚于今天。", field="on")
    if on < grant.applied_date:
        raise InvalidGrant("日期不能早于申报日期。", field="on")
    if step.action == "approve":
        if step.amount_fen is None or step.amount_fen <= 0:
            raise InvalidGrant("核定须给出金额（amount_fen，大于 0）。", field="amount_fen")
        most = allowance(session, grant)
        if step.amount_fen > most:
            raise InvalidGrant(
                f"核定金额超过政策上限：按政策本期最多可核定{yuan_words(most)}。",
                code="above_entitlement",
                field="amount_fen",
                most_fen=most,
            )
        grant.status, grant.approved_fen, grant.approved_date = (
            GrantStatus.approved,
            step.amount_fen,
            on,
        )
    elif step.action == "pay":
        assert grant.approved_fen is not None and grant.approved_date is not None
        amount = grant.approved_fen if step.amount_fen is None else step.amount_fen
        if amount > grant.approved_fen:
            raise InvalidGrant(
                f"拨付金额不能超过核定金额{yuan_words(grant.approved_fen)}。",
                code="above_approved",
                field="amount_fen",
            )
        if on < grant.approved_date:
            raise InvalidGrant("拨付日期不能早于核定日期。", field="on")
        grant.status, grant.paid_fen, grant.paid_date = GrantStatus.paid, amount, on
    else:
        grant.status = GrantStatus.rejected
    if step.note is not None:
        grant.note = step.note
    grant.version += 1
    grant.updated_at = utcnow()
    session.add(grant)
    session.flush()
    queue(session, "policies.grant", [grant.enterprise_id])
    session.commit()
    return grant


def list_grants(
    session: Session,
    principal: Principal,
    page: PageParams,
    policy_code: str | None = None,
    status: GrantStatus | None = None,
    enterprise_id: int | None = None,
) -> Page[GrantPublic]:
    require(principal, Role.office, Role.enterprise)
    if principal.role == Role.enterprise:
        enterprise_id = principal.enterprise_id
    key = cursor_key(page, 1, (int,))
    query = (
        select(PolicyGrant, col(Enterprise.name), col(Policy.name))
        .join(Enterprise, col(Enterprise.id) == col(PolicyGrant.enterprise_id))
        .join(Policy, col(Policy.code) == col(PolicyGrant.policy_code))
        .order_by(col(PolicyGrant.id).desc())
        .limit(page.limit + 1)
    )
    if policy_code is not None:
        query = query.where(col(PolicyGrant.policy_code) == policy_code)
    if status is not None:
        query = query.where(col(PolicyGrant.status) == status)
    if enterprise_id is not None:
        query = query.where(col(PolicyGrant.enterprise_id) == enterprise_id)
    if key is not None:
        query = query.where(col(PolicyGrant.id) < key[0])
    rows = list(session.execute(query).all())
    items = [grant_public(session, g, e, p) for g, e, p in rows]
    return make_page(rows, page.limit, lambda r: [r[0].id], items)


def totals(session: Session, principal: Principal, year: int | None = None) -> list[PolicyTotals]:
    """Per policy: its budget (the version in force), the enterprises currently entitled and
    the amount not yet awarded, and what was applied for, approved and paid. With ``year``,
    the yearly policies' figures are that year's (one-off awards count in every year)."""
    require(principal, Role.office)
    on = today_local()
    periods = None if year is None else ["once", str(year)]
    entitled = select(
        col(Entitlement.policy_code),
        func.count(),
        cast(func.coalesce(func.sum(col(Entitlement.amount_fen)), 0), BigInteger),
    ).where(col(Entitlement.status) == EntitlementStatus.current)
    grants = select(
        col(PolicyGrant.policy_code),
        col(PolicyGrant.status),
        func.count(),
        cast(func.coalesce(func.sum(col(PolicyGrant.approved_fen)), 0), BigInteger),
        cast(func.coalesce(func.sum(col(PolicyGrant.paid_fen)), 0), BigInteger),
    )
    if periods is not None:
        entitled = entitled.where(col(Entitlement.period).in_(periods))
        grants = grants.where(col(PolicyGrant.period).in_(periods))
    # An entitlement already approved or paid is not an estimate any more.
    awarded = select(col(PolicyGrant.id)).where(
        col(PolicyGrant.enterprise_id) == col(Entitlement.enterprise_id),
        col(PolicyGrant.policy_code) == col(Entitlement.policy_code),
        col(PolicyGrant.period) == col(Entitlement.period),
        col(PolicyGrant.status).in_(COUNTED),
    )
    entitled = entitled.where(~awarded.exists()).group_by(col(Entitlement.policy_code))
    estimate = {code: (n, amount) for code, n, amount in session.execute(entitled)}
    by_status: dict[str, dict[str, tuple[int, int, int]]] = {}
    for code, status, n, approved, paid in session.execute(
        grants.group_by(col(PolicyGrant.policy_code), col(PolicyGrant.status))
    ):
        by_status.setdefault(code, {})[status] = (n, approved, paid)
    out = []
    for policy in session.scalars(select(Policy).order_by(col(Policy.code))):
        versions = list(
            session.scalars(
                select(PolicyVersion).where(col(PolicyVersion.policy_code) == policy.code)
            )
        )
        version = store.version_in_force(versions, on)
        budget = version.budget_fen if version else None
        counts = by_status.get(policy.code, {})
        approved = sum(v[1] for s, v in counts.items() if s in COUNTED)
        paid = counts.get(GrantStatus.paid, (0, 0, 0))[2]
        n, amount = estimate.get(policy.code, (0, 0))
        out.append(
            PolicyTotals(
                policy_code=policy.code,
                policy_name=policy.name,
                budget_fen=budget,
                entitled=n,
                estimated_fen=amount,
                applied=sum(v[0] for v in counts.values()),
                approved_fen=approved,
                paid_fen=paid,
                left_fen=None if budget is None else budget - approved,
            )
        )
    return out

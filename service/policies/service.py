"""Use cases of support policies: the catalogue of policies and their versions (the office
writes them; everyone reads them), what an enterprise is entitled to with the reasons, the
evaluation of one policy for one enterprise, and the notices that told enterprises.

Who sees what: policies are public to every caller; an enterprise's entitlements, evaluations
and notices rest on its loans and awards, so the office sees every enterprise's and an
enterprise its own; a bank none (403)."""

from dataclasses import asdict
from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals.models import Department
from service.core.concurrency import check_version
from service.core.models import today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Enterprise
from service.policies import store
from service.policies.exceptions import InvalidPolicy, PolicyExists, PolicyNotFound
from service.policies.jobs import on_version_added, reevaluate
from service.policies.models import Entitlement, Policy, PolicyGrant, PolicyNotice, PolicyVersion
from service.policies.parameters import Parameters
from service.policies.rules import Award, Evaluation, Rule, Scheme, evaluate_policy, yuan_words
from service.policies.schemas import (
    EntitlementPublic,
    EvaluationPublic,
    LinePublic,
    NoticePublic,
    PolicyCreate,
    PolicyPublic,
    PolicyUpdate,
    VersionCreate,
    VersionPublic,
)
from service.taxonomy.models import QualificationType

SCHEME_LABEL = {
    Scheme.qualification_award: "资质奖励",
    Scheme.tech_transformation: "技术改造支持",
    Scheme.interest_subsidy: "贷款贴息",
}
TRIGGER_LABEL = {
    "qualification": "获得资质",
    "project": "项目入库",
    "loan": "贷款发放",
    "grant": "奖补登记",
    "policy": "政策发布或调整",
    "daily": "每日更新",
}
AWARD_WORDS = {Award.first: "首次获评", Award.renewal: "通过复审的", Award.any: "获评"}
PURPOSE_WORDS = {"working_capital": "流动资金贷款", "project": "项目贷款"}


def _policy(session: Session, code: str, for_update: bool = False) -> Policy:
    query = select(Policy).where(col(Policy.code) == code)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise PolicyNotFound(f"没有代码为 {code} 的政策。")
    return row


def _versions(session: Session, code: str) -> list[PolicyVersion]:
    return list(
        session.scalars(
            select(PolicyVersion)
            .where(col(PolicyVersion.policy_code) == code)
            .order_by(col(PolicyVersion.version))
        )
    )


def version_public(v: PolicyVersion) -> VersionPublic:
    return VersionPublic(
        version=v.version,
        effective_from=v.effective_from,
        effective_to=v.effective_to,
        budget_fen=v.budget_fen,
        parameters=v.parameters,
        note=v.note,
        created_at=v.created_at,
    )


def _type_names(session: Session) -> dict[str, str]:
    rows = session.execute(select(col(QualificationType.code), col(QualificationType.name)))
    return {code: name for code, name in rows}


def summary(rule: Rule, type_names: dict[str, str]) -> str:
    """Who may receive how much, as the office would put it in a notice."""
    cap = f"，每家企业每年最高{yuan_words(rule.cap_per_year_fen)}" if rule.cap_per_year_fen else ""
    if rule.scheme == Scheme.qualification_award:
        names = "或".join(type_names.get(t, t) for t in sorted(rule.qualification_types))
        once = "一次性" if rule.once else ""
        return f"{AWARD_WORDS[rule.award]}{names}的企业，{once}奖励最高{yuan_words(rule.amount_fen or 0)}"
    if rule.scheme == Scheme.tech_transformation:
        tiers = "、".join(
            f"{t.rate_bp / 100:g}%" for t in sorted(rule.tiers, key=lambda t: t.from_fen)
        )
        years = f"，最长支持{rule.max_years}年" if rule.max_years else ""
        return (
            f"上年度技术和设备投资达到{yuan_words(rule.min_base_fen)}的技术改造项目，"
            f"按投资额分档支持（{tiers}）{cap}{years}"
        )
    covered = [
        *(sorted(rule.loan_schemes)),
        *(sorted(rule.loan_products)),
        *(PURPOSE_WORDS.get(p, p) for p in sorted(rule.loan_purposes)),
    ]
    what = "、".join(covered) + "贷款" if covered else "贷款"
    per_loan = f"，单笔最高{yuan_words(rule.cap_per_loan_fen)}" if rule.cap_per_loan_fen else ""
    cap = f"，每户每年最高{yuan_words(rule.cap_per_year_fen)}" if rule.cap_per_year_fen else ""
    return f"{what}按已付利息的{rule.share_bp / 100:g}%贴息{per_loan}{cap}"


def _public(
    session: Session,
    policy: Policy,
    versions: list[PolicyVersion],
    on: date,
    with_versions: bool = False,
    names: dict[str, str] | None = None,
) -> PolicyPublic:
    current = store.version_in_force(versions, on)
    rule = store.rule_of(policy, current, versions) if current is not None else None
    department = session.get(Department, policy.department_code) if policy.department_code else None
    return PolicyPublic(
        code=policy.code,
        name=policy.name,
        scheme=rule.scheme if rule else None,
        scheme_label=SCHEME_LABEL[rule.scheme] if rule else None,
        department_code=policy.department_code,
        department_name=department.name if department else None,
        source=policy.source,
        active=policy.active,
        version=policy.version,
        in_force=version_public(current) if current else None,
        summary=summary(rule, names if names is not None else _type_names(session))
        if rule
        else "当前没有有效版本",
        versions=[version_public(v) for v in versions] if with_versions else None,
    )


def list_policies(session: Session, include_inactive: bool = False) -> list[PolicyPublic]:
    on = today_local()
    names = _type_names(session)
    query = select(Policy).order_by(col(Policy.code))
    if not include_inactive:
        query = query.where(col(Policy.active))
    policies = list(session.scalars(query))
    versions: dict[str, list[PolicyVersion]] = {}
    for v in session.scalars(select(PolicyVersion).order_by(col(PolicyVersion.version))):
        versions.setdefault(v.policy_code, []).append(v)
    return [_public(session, p, versions.get(p.code, []), on, names=names) for p in policies]


def get_policy(session: Session, code: str) -> tuple[Policy, PolicyPublic]:
    policy = _policy(session, code)
    return policy, _public(session, policy, _versions(session, code), today_local(), True)


def _check_department(session: Session, code: str | None) -> None:
    if code is not None and session.get(Department, code) is None:
        raise InvalidPolicy(f"没有代码为 {code} 的部门。", field="department_code")


def _check_version(data: VersionCreate) -> None:
    if data.effective_to is not None and data.effective_to < data.effective_from:
        raise InvalidPolicy("失效日期不能早于生效日期。", field="effective_to")


def _add_version(
    session: Session, principal: Principal, code: str, number: int, data: VersionCreate
) -> PolicyVersion:
    _check_version(data)
    row = PolicyVersion(
        policy_code=code,
        version=number,
        effective_from=data.effective_from,
        effective_to=data.effective_to,
        budget_fen=data.budget_fen,
        parameters=data.parameters.model_dump(mode="json", exclude_defaults=True)
        | {"scheme": data.parameters.scheme.value},
        note=data.note,
        created_by=principal.ref,
    )
    session.add(row)
    return row


def create_policy(session: Session, principal: Principal, data: PolicyCreate) -> Policy:
    require(principal, Role.office)
    if session.get(Policy, data.code) is not None:
        raise PolicyExists(f"代码 {data.code} 已有政策使用。", field="code")
    _check_department(session, data.department_code)
    policy = Policy(
        code=data.code, name=data.name, department_code=data.department_code, source=data.source
    )
    session.add(policy)
    session.flush()
    _add_version(session, principal, data.code, 1, data.first_version)
    session.flush()
    on_version_added(session, data.code)
    session.commit()
    return policy


def add_version(
    session: Session, principal: Principal, code: str, data: VersionCreate
) -> PolicyVersion:
    """A new version; the versions before it are kept as they were (the rule of a past day
    stays what it was, unless the new version begins earlier)."""
    require(principal, Role.office)
    _policy(session, code, for_update=True)
    number = (
        session.scalar(
            select(func.max(col(PolicyVersion.version))).where(
                col(PolicyVersion.policy_code) == code
            )
        )
        or 0
    ) + 1
    row = _add_version(session, principal, code, number, data)
    session.flush()
    on_version_added(session, code)
    session.commit()
    return row


def update_policy(
    session: Session, principal: Principal, code: str, data: PolicyUpdate, expected: int | None
) -> Policy:
    require(principal, Role.office)
    policy = _policy(session, code, for_update=True)
    check_version(expected, policy.version, "该政策")
    fields = data.model_dump(exclude_unset=True)
    for name in ("name", "active"):
        if name in fields and fields[name] is None:
            raise InvalidPolicy(f"{name} 不能为空。", field=name)
    if "department_code" in fields:
        _check_department(session, fields["department_code"])
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.version += 1
    policy.updated_at = utcnow()
    session.add(policy)
    if "active" in fields:
        on_version_added(session, code)
    session.commit()
    return policy


def _may_see(principal: Principal, enterprise_id: int) -> None:
    require(principal, Role.office, Role.enterprise)
    if principal.role == Role.enterprise and principal.enterprise_id != enterprise_id:
        raise PolicyNotFound("没有这家企业的政策信息。", code="enterprise_not_found")


def _enterprise(session: Session, principal: Principal, enterprise_id: int) -> Enterprise:
    _may_see(principal, enterprise_id)
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise PolicyNotFound(f"企业 {enterprise_id} 不在企业库中。", code="enterprise_not_found")
    return enterprise


def _evaluation_public(
    evaluation: Evaluation, policy: Policy, enterprise_id: int, as_of: date, department: str | None
) -> EvaluationPublic:
    return EvaluationPublic(
        policy_code=policy.code,
        policy_name=policy.name,
        policy_version=evaluation.version,
        enterprise_id=enterprise_id,
        as_of=as_of,
        eligible=evaluation.eligible,
        period=evaluation.period,
        amount_fen=evaluation.amount_fen,
        lines=[LinePublic(**asdict(line)) for line in evaluation.lines],
        reasons=list(evaluation.reasons),
        missing=list(evaluation.missing),
        notes=list(evaluation.notes),
        documents=list(evaluation.documents),
        discretionary=evaluation.discretionary,
        department_name=department,
    )


def _departments(session: Session) -> dict[str, str]:
    rows = session.execute(select(col(Department.code), col(Department.name)))
    return {code: name for code, name in rows}


def evaluate_one(
    session: Session, principal: Principal, code: str, enterprise_id: int, as_of: date | None
) -> EvaluationPublic:
    """One policy for one enterprise on a day, with its reasons (or what is missing)."""
    enterprise = _enterprise(session, principal, enterprise_id)
    on = as_of or today_local()
    policy = _policy(session, code)
    versions = _versions(session, code)
    if store.version_in_force(versions, on) is None:
        raise InvalidPolicy(f"{on.isoformat()} 该政策没有有效版本。", code="no_version_in_force")
    facts = store.facts_of(session, enterprise)
    evaluation = evaluate_policy(store.rules_of(policy, versions), facts, on)
    department = _departments(session).get(policy.department_code or "")
    return _evaluation_public(evaluation, policy, enterprise_id, on, department)


def entitlements(
    session: Session,
    principal: Principal,
    enterprise_id: int,
    as_of: date | None = None,
    include_ineligible: bool = False,
) -> list[EntitlementPublic]:
    """Each policy in force evaluated for the enterprise now (the amount, its lines and what to
    prepare), with what was recorded of it: when it was found and notified, and the award.
    Eligible ones first, the largest amount first."""
    from service.policies.grants import grant_public  # grants build on this module

    enterprise = _enterprise(session, principal, enterprise_id)
    on = as_of or today_local()
    facts = store.facts_of(session, enterprise)
    departments = _departments(session)
    recorded = {
        (e.policy_code, e.period): e
        for e in session.scalars(
            select(Entitlement).where(col(Entitlement.enterprise_id) == enterprise_id)
        )
    }
    notified = {
        (n.policy_code, n.period): n.created_at
        for n in session.scalars(
            select(PolicyNotice).where(col(PolicyNotice.enterprise_id) == enterprise_id)
        )
    }
    grants = {
        (g.policy_code, g.period): g
        for g in session.scalars(
            select(PolicyGrant).where(col(PolicyGrant.enterprise_id) == enterprise_id)
        )
    }
    out = []
    for rules in store.rules_in_force(session, on):
        policy = rules.policy
        evaluation = evaluate_policy(rules.rules, facts, on)
        key = (policy.code, evaluation.period or "")
        grant = grants.get(key)
        if not evaluation.eligible and not include_ineligible and grant is None:
            continue
        row = recorded.get(key)
        base = _evaluation_public(
            evaluation, policy, enterprise_id, on, departments.get(policy.department_code or "")
        )
        out.append(
            EntitlementPublic(
                **base.model_dump(),
                status=row.status if row else None,
                found_at=row.found_at if row else None,
                notified_at=notified.get(key),
                grant=grant_public(session, grant, enterprise.name, policy.name) if grant else None,
            )
        )
    out.sort(key=lambda e: (not e.eligible, -e.amount_fen, e.policy_code))
    return out


def list_notices(
    session: Session,
    principal: Principal,
    page: PageParams,
    enterprise_id: int | None = None,
    unseen: bool = False,
) -> Page[NoticePublic]:
    """Newest first: the enterprise its own, the office every enterprise's (or one's)."""
    require(principal, Role.office, Role.enterprise)
    if principal.role == Role.enterprise:
        enterprise_id = principal.enterprise_id
    key = cursor_key(page, 1, (int,))
    query = (
        select(PolicyNotice, col(Enterprise.name), col(Policy.name))
        .join(Enterprise, col(Enterprise.id) == col(PolicyNotice.enterprise_id))
        .join(Policy, col(Policy.code) == col(PolicyNotice.policy_code))
        .order_by(col(PolicyNotice.id).desc())
        .limit(page.limit + 1)
    )
    if enterprise_id is not None:
        query = query.where(col(PolicyNotice.enterprise_id) == enterprise_id)
    if unseen:
        query = query.where(col(PolicyNotice.seen_at).is_(None))
    if key is not None:
        query = query.where(col(PolicyNotice.id) < key[0])
    rows = list(session.execute(query).all())
    items = [
        NoticePublic(
            id=n.id or 0,
            enterprise_id=n.enterprise_id,
            enterprise_name=enterprise_name,
            policy_code=n.policy_code,
            policy_name=policy_name,
            period=n.period,
            amount_fen=n.amount_fen,
            trigger=n.trigger,
            trigger_label=TRIGGER_LABEL.get(n.trigger, n.trigger),
            created_at=n.created_at,
            seen_at=n.seen_at,
        )
        for n, enterprise_name, policy_name in rows
    ]
    return make_page(rows, page.limit, lambda r: [r[0].id], items)


def mark_seen(session: Session, principal: Principal, up_to_id: int) -> int:
    """The enterprise has seen its notices up to this one; returns how many were marked."""
    require(principal, Role.enterprise)
    result = session.execute(
        update(PolicyNotice)
        .where(
            col(PolicyNotice.enterprise_id) == principal.enterprise_id,
            col(PolicyNotice.id) <= up_to_id,
            col(PolicyNotice.seen_at).is_(None),
        )
        .values(seen_at=utcnow())
    )
    session.commit()
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


def reevaluate_now(session: Session, principal: Principal) -> dict[str, object]:
    """The office re-evaluates the whole library at once."""
    require(principal, Role.office)
    result = reevaluate(session, None, trigger="policy", as_of=today_local())
    session.commit()
    return result


def parameters_of(version: PolicyVersion) -> Parameters:
    return Parameters.model_validate(version.parameters)

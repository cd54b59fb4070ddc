"""The demo's support policies: every policy has demo enterprises entitled to it, and the office
has recorded awards in each state.

The demo library already holds first awards of 专精特新 and green-factory lists, and
technology-transformation projects. What it lacks for a policy is added to 民营 demo
enterprises registered in Wuxi, through the same use cases the office uses: a qualification
(a first award two months ago; for a re-examination, the first one three years before that), a
technology-transformation project of last year, a loan under a subsidised product. The demo
enterprise itself gets a first provincial 专精特新 award and such a loan, so that its pages
show an entitlement and the rate after the subsidy. A loan interest subsidy (a demo scheme of
the 市财政局, the plans fix none) is published for the city's policy products. Then the
library is evaluated once (the enterprises are told), and awards are recorded: applied,
approved, paid and rejected. Once: a second seed adds nothing."""

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.access.audit import SYSTEM
from service.access.models import ApiKey, Role
from service.core.models import today_local
from service.enterprises import service as enterprises
from service.enterprises.models import Enterprise, ProjectKind, ProjectStatus, Qualification
from service.enterprises.projects import create_project
from service.enterprises.schemas import ProjectCreate, QualificationCreate
from service.loans.schemas import LoanCreate
from service.loans.service import create_loan
from service.policies import grants, jobs, service, store
from service.policies.models import Entitlement, EntitlementStatus, Policy, PolicyGrant
from service.policies.parameters import Parameters
from service.policies.rules import WAN, Award, Scheme
from service.policies.schemas import GrantCreate, GrantStep, PolicyCreate, VersionCreate
from service.products.models import Product, ProductVersion
from service.taxonomy.models import OwnershipType

SUBSIDY_CODE = "tech-loan-subsidy"
SUBSIDISED_SCHEMES = ["xikedai", "zhuanjingtexin", "xixindai"]


def _subsidy(today: date) -> PolicyCreate:
    return PolicyCreate(
        code=SUBSIDY_CODE,
        name="科技贷款贴息（示范）",
        department_code="wx-czj",
        source="演示数据：市财政局对锡科贷、专精特新贷、锡信贷的贷款贴息",
        first_version=VersionCreate(
            effective_from=date(today.year, 1, 1),
            budget_fen=2_000 * WAN,
            parameters=Parameters(
                scheme=Scheme.interest_subsidy,
                loan_schemes=SUBSIDISED_SCHEMES,
                share_bp=3000,
                cap_per_loan_fen=20 * WAN,
                cap_per_year_fen=50 * WAN,
                once=False,
                documents=["借款合同", "银行付息凭证", "贴息申请表"],
            ),
            note="演示：按已付利息的30%贴息",
        ),
    )


def _candidates(session: Session) -> list[Enterprise]:
    """民营 demo enterprises registered in Wuxi, by id."""
    private = [
        code
        for code, is_private in session.execute(
            select(col(OwnershipType.code), col(OwnershipType.private))
        )
        if is_private
    ]
    return list(
        session.exec(
            select(Enterprise)
            .where(
                col(Enterprise.ownership).in_(private),
                col(Enterprise.registered_area_code).startswith("3202"),
            )
            .order_by(col(Enterprise.id))
        ).all()
    )


def _has(session: Session, enterprise_id: int, type_code: str) -> bool:
    return (
        session.exec(
            select(Qualification).where(
                Qualification.enterprise_id == enterprise_id, Qualification.type_code == type_code
            )
        ).first()
        is not None
    )


def _entitled(session: Session) -> set[str]:
    return set(
        session.exec(
            select(Entitlement.policy_code)
            .where(Entitlement.status == EntitlementStatus.current)
            .distinct()
        ).all()
    )


def _qualify(session: Session, enterprise: Enterprise, type_code: str, on: date) -> None:
    assert enterprise.id is not None
    enterprises.add_qualification(
        session, enterprise.id, QualificationCreate(type_code=type_code, issued_date=on), SYSTEM
    )


def _subsidised_product(session: Session) -> Product | None:
    return session.exec(
        select(Product)
        .join(
            ProductVersion,
            (col(ProductVersion.product_id) == col(Product.id))
            & (col(ProductVersion.version) == col(Product.current_version)),
        )
        .where(col(ProductVersion.scheme).in_(SUBSIDISED_SCHEMES))
        .order_by(col(Product.id))
    ).first()


def _loan(session: Session, enterprise: Enterprise, number: int, today: date) -> bool:
    product = _subsidised_product(session)
    if product is None:
        return False
    disbursed = max(date(today.year, 1, 2), today - timedelta(days=120))
    create_loan(
        session,
        SYSTEM,
        LoanCreate(
            contract_no=f"XKD-SHOW-{number:03d}",
            enterprise_id=enterprise.id,
            bank_code=product.bank_code,
            product_code=product.code,
            principal_fen=500 * WAN,
            rate_bp=345,
            disbursed_date=disbursed,
            maturity_date=disbursed + timedelta(days=365),
        ),
    )
    return True


def _demo_enterprise(session: Session) -> Enterprise | None:
    key = session.exec(
        select(ApiKey).where(ApiKey.role == Role.enterprise, col(ApiKey.enterprise_id).is_not(None))
    ).first()
    return session.get(Enterprise, key.enterprise_id) if key and key.enterprise_id else None


def seed_demo_policies(session: Session) -> Counter:
    counts: Counter = Counter()
    if session.exec(select(func.count()).select_from(PolicyGrant)).one():
        counts["policy_grant.unchanged"] += 1
        return counts
    today = today_local()
    recent = today - timedelta(days=60)
    if session.get(Policy, SUBSIDY_CODE) is None:
        service.create_policy(session, SYSTEM, _subsidy(today))
        counts["policy.created"] += 1
    candidates = _candidates(session)
    demo = _demo_enterprise(session)
    pool = [e for e in candidates if demo is None or e.id != demo.id]
    if demo is not None:
        if demo in candidates and not _has(session, demo.id or 0, "srdi_sme"):
            _qualify(session, demo, "srdi_sme", recent)
            counts["qualification.created"] += 1
        if _loan(session, demo, 1, today):
            counts["loan.created"] += 1
    jobs.reevaluate(session, None, trigger="policy", as_of=today)
    session.commit()
    entitled = _entitled(session)
    spare = iter(pool[len(pool) // 2 :])  # away from the enterprises the demo activity uses
    for rules in store.rules_in_force(session, today):
        code = rules.policy.code
        if code in entitled:
            continue
        rule = rules.current
        enterprise = next(spare)
        if rule.scheme == Scheme.qualification_award:
            type_code = sorted(rule.qualification_types)[0]
            if rule.award == Award.renewal:
                _qualify(session, enterprise, type_code, recent - timedelta(days=3 * 365))
            _qualify(session, enterprise, type_code, recent)
            counts["qualification.created"] += 1
        elif rule.scheme == Scheme.tech_transformation:
            create_project(
                session,
                ProjectCreate(
                    enterprise_id=enterprise.id or 0,
                    name="智能产线技术改造项目",
                    kind=ProjectKind.tech_transformation,
                    total_investment_fen=6_000 * WAN,
                    equipment_investment_fen=3_500 * WAN,
                    year=today.year - 1,
                    status=ProjectStatus.completed,
                    description="演示数据：上年度完成的技术改造项目，技术和设备投资3500万元。",
                ),
            )
            counts["project.created"] += 1
        elif _loan(session, enterprise, 2, today):
            counts["loan.created"] += 1
    jobs.reevaluate(session, None, trigger="policy", as_of=today)
    session.commit()
    counts.update(_record_awards(session, today))
    return counts


def _record_awards(session: Session, today: date) -> Counter:
    """Awards in each state, on the largest entitlements of four policies."""
    counts: Counter = Counter()
    plan = [
        ("little-giant-first", ("approve", "pay")),
        ("srdi-first", ("approve",)),
        ("green-provincial", ()),
        ("tech-transformation", ("reject",)),
    ]
    for code, steps in plan:
        row = session.exec(
            select(Entitlement)
            .where(Entitlement.policy_code == code, Entitlement.status == EntitlementStatus.current)
            .order_by(col(Entitlement.amount_fen).desc(), col(Entitlement.id))
        ).first()
        if row is None:
            continue
        grant = grants.record_grant(
            session,
            SYSTEM,
            GrantCreate(
                enterprise_id=row.enterprise_id,
                policy_code=code,
                period=row.period,
                applied_date=today - timedelta(days=30),
                note="演示数据",
            ),
        )
        counts["policy_grant.created"] += 1
        for i, action in enumerate(steps):
            amount = row.amount_fen if action == "approve" else None
            grants.take_step(
                session,
                SYSTEM,
                grant.id or 0,
                GrantStep(action=action, amount_fen=amount, on=today - timedelta(days=20 - 10 * i)),
                None,
            )
    jobs.reevaluate(session, None, trigger="grant", as_of=today)
    session.commit()
    return counts

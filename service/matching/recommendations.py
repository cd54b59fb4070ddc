"""Use cases of recommendations and explanations. Recommendations: every eligible product for a
need, or for an enterprise's profile and its library projects (each project's financing need,
``basis``), best first with each factor; then near misses (only failures the enterprise can act
on soon, fewest first, policy schemes first, one per scheme and remedy, none of a scheme it can
already have); then notices (outside the service area; a lapsed qualification and what renewing
it opens). An explanation: one product against a need or a profile, every failed gate with its
remedy or the score with each factor. For the office and the enterprise itself."""

from dataclasses import replace

from sqlmodel import Session

from service.access.audit import SYSTEM
from service.access.models import Role
from service.access.policy import (
    Principal,
    ensure_sees_enterprise,
    require,
)
from service.core.errors import NotFound, Unprocessable
from service.core.models import today_local
from service.enterprises.models import Enterprise
from service.matching import facts, queries, scoring
from service.matching.catalogue import Catalogue, Offer, offer_ref
from service.matching.exceptions import (
    NeedClosed,
)
from service.matching.results import Result
from service.matching.schemas import (
    FACTOR_LABEL,
    Explanation,
    FactorOut,
    GateOut,
    NearMiss,
    Notice,
    Recommendation,
    Recommendations,
)
from service.matching.service import CLOSED, read_need, status_label
from service.products.models import Bank
from service.products.queries import version_of
from service.products.service import get_product
from service.taxonomy.areas import province_of

PROJECT_PURPOSE = {
    "tech_transformation": "tech_transformation",
    "intelligent_digital": "tech_transformation",
    "rnd": "rnd",
    "capacity_expansion": "project",
    "green_upgrade": "tech_transformation",
    "new_build": "project",
    "other": "project",
}
PROJECT_TERM_MONTHS = 36
ANY_COLLATERAL = frozenset(
    {"none", "guarantee", "gov_guarantee", "property", "equipment", "ip", "receivables"}
)


def _factors(result: Result) -> list[FactorOut]:
    return [
        FactorOut(
            name=f.name,
            label=FACTOR_LABEL[f.name],
            weight=f.weight,
            value=f.value,
            contribution=f.contribution,
            reason=f.reason,
        )
        for f in result.factors
    ]


def _gates(result: Result) -> list[GateOut]:
    return [
        GateOut(gate=g.gate, reason=g.reason, remedy=g.remedy, actionable=g.actionable)
        for g in result.failures
    ]


# --- recommendations and explanations -------------------------------------------------------


def _project_needs(
    session: Session, enterprise_id: int, config: scoring.ScoringConfig
) -> list[tuple[str, scoring.NeedFacts]]:
    out = []
    for p in queries.projects_with_need(session, enterprise_id):
        purpose = PROJECT_PURPOSE.get(str(p.kind), "project")
        out.append(
            (
                f"project:{p.id}",
                scoring.NeedFacts(
                    amount_fen=p.financing_need_fen or 0,
                    term_months=PROJECT_TERM_MONTHS,
                    purpose=purpose,
                    collateral=ANY_COLLATERAL,
                    purpose_ancestors=config.purpose_ancestors(purpose),
                ),
            )
        )
    return out


Bases = list[tuple[str, scoring.NeedFacts | None]]


def _recommend(
    catalogue: Catalogue, enterprise: scoring.EnterpriseFacts, bases: Bases
) -> tuple[list[Recommendation], list[NearMiss], list[Notice]]:
    """Eligible products best first; near misses: the products the enterprise misses only for
    reasons it can change soon, fewest failures first, then the city's policy products, then
    the smallest change; at most ``near_miss_limit``, one per scheme and remedy (the other
    banks offering the same named beside it), none of a scheme it can already have; and
    notices."""
    best: dict[int, tuple[Result, str]] = {}
    near: dict[int, Result] = {}
    for basis, need in bases:
        for result in catalogue.score_all(enterprise, need):
            pid = result.product_id
            if result.eligible:
                if pid not in best or result.score_centi > best[pid][0].score_centi:
                    best[pid] = (result, basis)
            elif (
                result.near_miss
                and len(result.failures) <= catalogue.config.near_miss_max_failures
                and (pid not in near or len(result.failures) < len(near[pid].failures))
            ):
                near[pid] = result
    ranked = sorted(best.values(), key=lambda rb: (-rb[0].score_centi, rb[0].product_id))
    items = [
        Recommendation(
            **catalogue.ref_of(r.product_id),
            score=r.score,
            rate_bp=r.rate_bp,
            basis=basis,
            factors=_factors(r),
        )
        for r, basis in ranked
    ]
    policy = set(catalogue.config.policy_schemes)
    # A scheme the enterprise can already have from another bank is no near miss.
    offered = {catalogue.ref_of(pid)["scheme"] for pid in best} - {"own"}
    closest = sorted(
        (
            r
            for r in near.values()
            if r.product_id not in best and catalogue.ref_of(r.product_id)["scheme"] not in offered
        ),
        key=lambda r: (
            len(r.failures),
            catalogue.ref_of(r.product_id)["scheme"] not in policy,
            round(r.gap, 6),
            r.product_id,
        ),
    )
    misses: list[NearMiss] = []
    seen: dict[tuple, NearMiss] = {}
    for r in closest:
        ref = catalogue.ref_of(r.product_id)
        same = (
            ref["scheme"] if ref["scheme"] != "own" else ref["product_code"],
            tuple((g.gate, g.remedy) for g in r.failures),
        )
        if same in seen:
            seen[same].also_offered_by.append(ref["bank_name"] or ref["bank_code"])
            continue
        if len(misses) == catalogue.config.near_miss_limit:
            continue
        seen[same] = NearMiss(**ref, failures=_gates(r))
        misses.append(seen[same])
    return items, misses, _notices(catalogue, enterprise, bases, set(best))


def _notices(
    catalogue: Catalogue, enterprise: scoring.EnterpriseFacts, bases: Bases, eligible: set[int]
) -> list[Notice]:
    if not enterprise.in_service_area:
        served = "、".join(
            catalogue.config.region_name(p, catalogue.names) for p in facts.service_area()
        )
        return [
            Notice(
                code="out_of_service_area",
                message=f"企业注册地（{_area_name(catalogue, enterprise.area_code)}）不在本平台"
                f"服务区域（{served}）内：平台不推荐产品，也不向银行推送该企业的融资需求。"
                "请通过注册地的融资服务平台对接。",
            )
        ]
    out = []
    on = catalogue.on
    for code in sorted({q.code for q in enterprise.qualifications}):
        expired = enterprise.expired_on(code, on)
        if expired is None:
            continue
        renewed = replace(
            enterprise, qualifications=(*enterprise.qualifications, scoring.Held(code, on, None))
        )
        gained = {
            r.product_id
            for _, need in bases
            for r in catalogue.score_all(renewed, need)
            if r.eligible and r.product_id not in eligible
        }
        name = catalogue.names.get(code, code)
        tail = f"，续期后可申请 {len(gained)} 个产品" if gained else "，请及时办理续期或复核"
        out.append(
            Notice(code="qualification_expired", message=f"{name}资质已于 {expired} 到期{tail}")
        )
    return out


def _area_name(catalogue: Catalogue, area_code: str | None) -> str:
    """The finest name the configuration's regions (or the province table) give, with the
    code beside a name that is coarser than it: 江阴市, 江苏省（320100）, 上海市（310115）."""
    if not area_code:
        return "未知"
    for length in (6, 4):
        name = catalogue.config.regions.get(area_code[:length])
        if name:
            return name if length == len(area_code) else f"{name}（{area_code}）"
    province = catalogue.config.regions.get(area_code[:2]) or province_of(area_code)
    return f"{province}（{area_code}）" if province else f"行政区划代码 {area_code}"


def recommend_for_need(
    session: Session, need_id: int, principal: Principal = SYSTEM
) -> Recommendations:
    need = read_need(session, need_id, principal)
    if need.status in CLOSED:
        raise NeedClosed(f"融资需求 {need_id} 已{status_label(need.status)}。")
    enterprise = session.get(Enterprise, need.enterprise_id)
    assert enterprise is not None
    catalogue = Catalogue.load(session)
    facts_ = catalogue.enterprise_facts(session, enterprise)
    items, misses, notices = _recommend(
        catalogue, facts_, [("need", facts.need_facts(need, catalogue.config))]
    )
    return Recommendations(
        enterprise_id=enterprise.id,
        need_id=need.id,
        as_of=catalogue.on,
        config_version=catalogue.config.version,
        items=items,
        near_misses=misses,
        notices=notices,
    )


def recommend_for_enterprise(
    session: Session, enterprise_id: int, principal: Principal
) -> Recommendations:
    """From the enterprise's profile and its library projects, without a posted need."""
    ensure_sees_enterprise(principal, enterprise_id)
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(f"企业 {enterprise_id} 不存在。", code="enterprise_not_found")
    catalogue = Catalogue.load(session)
    facts_ = catalogue.enterprise_facts(session, enterprise)
    bases: Bases = [("profile", None)]
    bases += _project_needs(session, enterprise_id, catalogue.config)
    items, misses, notices = _recommend(catalogue, facts_, bases)
    return Recommendations(
        enterprise_id=enterprise.id,
        as_of=catalogue.on,
        config_version=catalogue.config.version,
        items=items,
        near_misses=misses,
        notices=notices,
    )


def explain(
    session: Session,
    product_code: str,
    enterprise_id: int | None = None,
    need_id: int | None = None,
    principal: Principal = SYSTEM,
) -> Explanation:
    """Why a product fits an enterprise's profile or a need, or not (the office, or the
    enterprise about itself)."""
    require(principal, Role.office, Role.enterprise)
    need = read_need(session, need_id, principal) if need_id is not None else None
    if enterprise_id is not None:
        ensure_sees_enterprise(principal, enterprise_id)
    if enterprise_id is None and need_id is None:
        raise Unprocessable("请给出 enterprise_id 或 need_id。", code="missing_subject")
    if need is not None and enterprise_id is not None and need.enterprise_id != enterprise_id:
        raise Unprocessable(
            f"融资需求 {need_id} 不属于企业 {enterprise_id}。",
            code="need_not_of_enterprise",
            field="need_id",
        )
    subject_id = need.enterprise_id if need is not None else enterprise_id
    enterprise = session.get(Enterprise, subject_id)
    if enterprise is None:
        raise NotFound(f"企业 {subject_id} 不存在。", code="enterprise_not_found")
    product = get_product(session, product_code)
    assert product.id is not None
    version = version_of(session, product.id, product.current_version)
    assert version is not None  # a product has its current version
    rules = facts.product_rules(product, version)
    bank = session.get(Bank, product.bank_code)
    catalogue = Catalogue(
        [Offer(offer_ref(product, version, bank.name if bank else None), rules)],
        facts.names(session),
        facts.current_config(session, today_local()),
        today_local(),
    )
    facts_ = catalogue.enterprise_facts(session, enterprise)
    result = scoring.score(
        facts_,
        facts.need_facts(need, catalogue.config) if need else None,
        rules,
        catalogue.on,
        catalogue.config,
        catalogue.names,
    )
    return Explanation(
        **catalogue.offers[0].ref,
        enterprise_id=enterprise.id,
        need_id=need.id if need else None,
        as_of=catalogue.on,
        config_version=catalogue.config.version,
        eligible=result.eligible,
        score=result.score if result.eligible else None,
        rate_bp=result.rate_bp,
        factors=_factors(result),
        failures=_gates(result),
    )

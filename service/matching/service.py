"""Use cases of matching: financing needs, recommendations, explanations, prospects, and
keeping stored matches current when enterprises, needs or products change."""

from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlmodel import Session

from service.access.audit import SYSTEM
from service.access.models import Role
from service.access.policy import (
    Principal,
    blank_private,
    check_sees_bank,
    ensure_sees_enterprise,
    enterprise_scope,
    private_facts_shared,
    require,
)
from service.core.concurrency import bump_version, check_version
from service.core.database import ROW_LOCK, serialize
from service.core.errors import NotFound, Unprocessable
from service.core.events import emit
from service.core.models import refuse_nulls, row_dict, today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, encode_cursor, make_page
from service.enterprises.models import Enterprise, Project
from service.enterprises.queries import enterprises_by_ids, valid_qualification_codes
from service.jobs.service import enqueue
from service.matching import facts, queries, scoring, upkeep
from service.matching.exceptions import (
    InvalidNeed,
    InvalidScoringConfig,
    NeedClosed,
    NeedNotFound,
    ScoringConfigNotFound,
)
from service.matching.models import (
    FinancingNeed,
    NeedCreate,
    NeedMatch,
    NeedPublic,
    NeedStatus,
    NeedUpdate,
    ScoringConfigCreate,
    ScoringConfigPublic,
    ScoringConfigRow,
    ScoringSettings,
)
from service.matching.product_arrays import ProductArrays, score_one
from service.matching.queries import config_version_in_force
from service.matching.schemas import (
    FACTOR_LABEL,
    Explanation,
    FactorOut,
    GateOut,
    NearMiss,
    Notice,
    Prospect,
    ProspectNeed,
    PurposeOut,
    Recommendation,
    Recommendations,
)
from service.products.models import Bank, Product, ProductVersion
from service.products.queries import bank_names, version_of
from service.products.service import get_product
from service.taxonomy.areas import province_of

CLOSED = (NeedStatus.withdrawn, NeedStatus.fulfilled, NeedStatus.expired)
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


@dataclass(frozen=True)
class Offer:
    """A product at its current version, as the answers show it, with its rules."""

    ref: dict
    rules: scoring.ProductRules

    @property
    def version(self) -> int:
        return int(self.ref["product_version"])


@dataclass
class Catalogue:
    """The active products at their current versions, with what the answers need."""

    offers: list[Offer]
    names: dict[str, str]
    config: scoring.ScoringConfig
    on: date
    arrays: ProductArrays | None = None

    @classmethod
    def load(cls, session: Session, on: date | None = None) -> "Catalogue":
        """The catalogue in force, from a per-process copy that a cheap stamp query (the
        newest product, bank and configuration changes, and row counts) keeps current."""
        on = on or today_local()
        bind = session.get_bind()
        key = getattr(bind, "engine", bind).url.render_as_string(hide_password=True)
        stamp = (on, *queries.catalogue_stamp(session))
        cached = _catalogues.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        banks = dict(bank_names(session))
        offers = [
            Offer(_ref(product, version, banks.get(product.bank_code)), rules)
            for product, version, rules in facts.catalogue(session)
        ]
        catalogue = cls(
            offers,
            facts.names(session),
            facts.current_config(session, on),
            on,
            ProductArrays([offer.rules for offer in offers]),
        )
        _catalogues[key] = (stamp, catalogue)
        return catalogue

    def score_all(
        self, enterprise: scoring.EnterpriseFacts, need: scoring.NeedFacts | None
    ) -> list[scoring.Result]:
        """The results of every product that is eligible or a near miss (the vectorised gates
        leave out the rest without scoring them)."""
        if self.arrays is None:
            return [
                scoring.score(enterprise, need, offer.rules, self.on, self.config, self.names)
                for offer in self.offers
            ]
        return score_one(enterprise, need, self.arrays, self.on, self.config, self.names)

    def enterprise_facts(self, session: Session, enterprise: Enterprise) -> scoring.EnterpriseFacts:
        (out,) = facts.enterprise_facts(
            session, [enterprise], on=self.on, window_days=self.config.bridge_window_days
        )
        return out

    def ref_of(self, product_id: int) -> dict:
        if not hasattr(self, "_by_id"):
            self._by_id = {offer.rules.id: offer.ref for offer in self.offers}
        return self._by_id[product_id]


def _ref(product: Product, version: ProductVersion, bank_name: str | None) -> dict:
    return {
        "product_code": product.code,
        "product_name": version.name,
        "product_version": version.version,
        "bank_code": product.bank_code,
        "bank_name": bank_name,
        "scheme": version.scheme,
        "category": str(version.category),
    }


_catalogues: dict[str, tuple[tuple, Catalogue]] = {}


def _factors(result: scoring.Result) -> list[FactorOut]:
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


def _gates(result: scoring.Result) -> list[GateOut]:
    return [
        GateOut(gate=g.gate, reason=g.reason, remedy=g.remedy, actionable=g.actionable)
        for g in result.failures
    ]


# --- needs ----------------------------------------------------------------------------------


def get_need(session: Session, need_id: int, for_update: bool = False) -> FinancingNeed:
    need = session.get(
        FinancingNeed,
        need_id,
        with_for_update=ROW_LOCK if for_update else None,
        populate_existing=for_update,
    )
    if need is None:
        raise NeedNotFound(f"融资需求 {need_id} 不存在。")
    return need


def read_need(session: Session, need_id: int, principal: Principal) -> FinancingNeed:
    """A need, for the office or its enterprise (to anyone else it does not exist)."""
    need = get_need(session, need_id)
    ensure_sees_enterprise(principal, need.enterprise_id, "融资需求")
    return need


def _check_project(session: Session, enterprise_id: int, project_id: int | None) -> None:
    if project_id is None:
        return
    project = session.get(Project, project_id)
    if project is None:
        raise InvalidNeed(f"项目 {project_id} 不存在。", code="unknown_project", field="project_id")
    if project.enterprise_id != enterprise_id:
        raise InvalidNeed(
            f"项目 {project_id} 不属于企业 {enterprise_id}。",
            code="project_not_of_enterprise",
            field="project_id",
        )


def _check_wanted_by(value: date | None) -> None:
    if value is not None and value < today_local():
        raise InvalidNeed(
            "期望到位日期不能早于今天。", code="invalid_wanted_by_date", field="wanted_by_date"
        )


def _check_banks(session: Session, codes: list[str] | None) -> None:
    if not codes:
        return
    known = queries.known_bank_codes(session, codes)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidNeed(
            f"未知的银行代码：{'、'.join(unknown)}。", code="unknown_bank", field="bank_codes"
        )


def create_need(session: Session, data: NeedCreate, principal: Principal = SYSTEM) -> FinancingNeed:
    """Post a need (its enterprise, or the office for it) and match it at once."""
    enterprise_scope(principal, data.enterprise_id)
    enterprise = session.get(Enterprise, data.enterprise_id)
    if enterprise is None:
        raise InvalidNeed(
            f"企业 {data.enterprise_id} 不存在。", code="unknown_enterprise", field="enterprise_id"
        )
    _check_project(session, enterprise.id, data.project_id)
    _check_wanted_by(data.wanted_by_date)
    _check_banks(session, data.bank_codes)
    need = FinancingNeed(**{**data.model_dump(), "collateral": [str(c) for c in data.collateral]})
    session.add(need)
    session.flush()
    rematch_need(session, need)
    emit(session, "need.posted", need_id=need.id)
    session.commit()
    session.refresh(need)
    return need


def update_need(
    session: Session,
    need_id: int,
    data: NeedUpdate,
    expected_version: int | None = None,
    principal: Principal = SYSTEM,
) -> FinancingNeed:
    """Change the fields sent and match the need again (its enterprise, or the office)."""
    need = get_need(session, need_id, for_update=True)
    ensure_sees_enterprise(principal, need.enterprise_id, "融资需求")
    check_version(expected_version, need.version, "融资需求")
    if need.status in CLOSED:
        raise NeedClosed(f"融资需求 {need_id} 已{_status_label(need.status)}，不能再修改。")
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(FinancingNeed, changes)
    for field in (
        "amount_fen",
        "term_months",
        "purpose",
        "collateral",
        "consent_share_details",
        "max_banks",
    ):
        if field in changes and changes[field] is None:
            raise InvalidNeed(f"{field} 不能为空。", code="missing_field", field=field)
    if "project_id" in changes:
        _check_project(session, need.enterprise_id, changes["project_id"])
    if "wanted_by_date" in changes:
        _check_wanted_by(changes["wanted_by_date"])
    if "bank_codes" in changes:
        _check_banks(session, changes["bank_codes"])
    if "collateral" in changes:
        changes["collateral"] = [str(c) for c in changes["collateral"]]
    for field, value in changes.items():
        setattr(need, field, value)
    bump_version(session, FinancingNeed, need, "融资需求")
    rematch_need(session, need)
    emit(session, "need.changed", need_id=need.id)
    session.commit()
    session.refresh(need)
    return need


def withdraw_need(
    session: Session, need_id: int, expected_version: int | None = None
) -> FinancingNeed:
    need = get_need(session, need_id, for_update=True)
    check_version(expected_version, need.version, "融资需求")
    if need.status == NeedStatus.withdrawn:
        return need  # withdrawing twice is the same as once
    if need.status in CLOSED:
        raise NeedClosed(f"融资需求 {need_id} 已{_status_label(need.status)}，不能撤回。")
    need.status = NeedStatus.withdrawn
    bump_version(session, FinancingNeed, need, "融资需求")
    queries.delete_need_matches(session, need.id)
    emit(session, "need.withdrawn", need_id=need.id)
    session.commit()
    session.refresh(need)
    return need


def _status_label(status: str) -> str:
    return {"withdrawn": "撤回", "fulfilled": "完成", "expired": "过期"}.get(str(status), "关闭")


def need_public(need: FinancingNeed) -> NeedPublic:
    return NeedPublic.model_validate(row_dict(need))


def list_needs(
    session: Session, page: PageParams, enterprise_id: int | None = None, status: str | None = None
) -> Page[NeedPublic]:
    key = cursor_key(page, 1, (int,))
    rows = queries.need_page(session, enterprise_id, status, key[0] if key else None, page.limit)
    result = make_page(rows, page.limit, lambda n: [n.id])
    result.items = [need_public(n) for n in result.items]
    return result


# --- stored matches -------------------------------------------------------------------------


def rematch_need(session: Session, need: FinancingNeed, catalogue: Catalogue | None = None) -> int:
    """Replace the need's stored matches with its current top products. No commit."""
    queries.delete_need_matches(session, need.id)
    if need.status in CLOSED:
        return 0
    catalogue = catalogue or Catalogue.load(session)
    enterprise = session.get(Enterprise, need.enterprise_id)
    assert enterprise is not None
    facts_ = catalogue.enterprise_facts(session, enterprise)
    results = catalogue.score_all(facts_, facts.need_facts(need, catalogue.config))
    ranked = scoring.rank(results)[: catalogue.config.top_per_enterprise]
    versions = {offer.rules.id: offer.version for offer in catalogue.offers}
    now = utcnow()
    for rank, result in enumerate(ranked, start=1):
        session.add(
            NeedMatch(
                need_id=need.id,
                enterprise_id=need.enterprise_id,
                product_id=result.product_id,
                product_version=versions[result.product_id],
                config_version=result.config_version,
                score_centi=result.score_centi,
                need_rank=rank,
                computed_at=now,
            )
        )
    session.flush()
    return len(ranked)


def rematch_open_needs(session: Session, enterprise_id: int | None = None) -> int:
    needs = queries.open_needs_for_update(
        session, None if enterprise_id is None else [enterprise_id]
    )
    if not needs:
        return 0
    catalogue = Catalogue.load(session)
    for need in needs:
        rematch_need(session, need, catalogue)
    return len(needs)


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
    best: dict[int, tuple[scoring.Result, str]] = {}
    near: dict[int, scoring.Result] = {}
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
        raise NeedClosed(f"融资需求 {need_id} 已{_status_label(need.status)}。")
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


def recommend_for_enterprise(session: Session, enterprise_id: int) -> Recommendations:
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
    version = version_of(session, product.id, product.current_version)
    assert version is not None  # a product has its current version
    rules = facts.product_rules(product, version)
    bank = session.get(Bank, product.bank_code)
    catalogue = Catalogue(
        [Offer(_ref(product, version, bank.name if bank else None), rules)],
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


# --- prospects ------------------------------------------------------------------------------


def prospects(
    session: Session, product_code: str, page: PageParams, principal: Principal
) -> Page[Prospect]:
    """The product's kept prospects, for the office and the product's bank: enterprises whose
    posted needs fit it, then library enterprises whose profile fits it; best first. Public
    facts always; private facts with the enterprise's consent to the product's bank; a need
    without consent anonymously."""
    product = get_product(session, product_code)
    check_sees_bank(principal, product.bank_code)
    need_rows = queries.need_prospects(session, product.id)
    profile_rows = queries.profile_prospects(session, product.id)
    entries = [(-m.score_centi, 0, m.id, "need", m.enterprise_id, m, need) for m, need in need_rows]
    entries += [
        (-m.score_centi, 1, m.id, "profile", m.enterprise_id, m, None) for m in profile_rows
    ]
    entries.sort(key=lambda e: e[:3])
    key = cursor_key(page, 3, (int, int, int))
    start = 0
    if key:
        start = bisect_right([e[:3] for e in entries], (int(key[0]), int(key[1]), int(key[2])))
    window = entries[start : start + page.limit + 1]
    shown = window[: page.limit]
    ids = [e[4] for e in shown]
    enterprises = enterprises_by_ids(session, ids)
    quals = valid_qualification_codes(session, ids, today_local())
    # What the product's bank may see, whoever asks (the office sees the bank's view).
    sharing = private_facts_shared(
        Principal(Role.bank, bank_code=product.bank_code),
        ids,
        lambda wanted, bank_code: facts.consenting(session, wanted, bank_code),
    )
    items = []
    for position, (neg, _, match_id, basis, enterprise_id, _, need) in enumerate(shown, 1):
        enterprise = enterprises[enterprise_id]
        private = enterprise_id in sharing
        # Who the enterprise is and what it wants to borrow together reveal its need: a need
        # shared by neither the need's own consent nor the enterprise's stays anonymous.
        anonymous = need is not None and not (need.consent_share_details or private)
        items.append(
            Prospect(
                prospect_id=f"{basis}-{match_id}",
                basis=basis,
                score=-neg / 100,
                rank=start + position,
                consented=private or bool(need is not None and need.consent_share_details),
                anonymous=anonymous,
                cluster_code=enterprise.cluster_code,
                district_code=enterprise.district_code,
                size_class=enterprise.size_class,
                qualification_codes=quals.get(enterprise_id, []),
                registered_in_wuxi=enterprise.registered_in_wuxi,
                need=ProspectNeed(
                    amount_fen=need.amount_fen,
                    term_months=need.term_months,
                    purpose=str(need.purpose),
                    collateral=list(need.collateral),
                    wanted_by_date=need.wanted_by_date,
                )
                if need
                else None,
                enterprise_id=None if anonymous else enterprise.id,
                enterprise_name=None if anonymous else enterprise.name,
                credit_code=None if anonymous else enterprise.credit_code,
                industry_code=None if anonymous else enterprise.industry_code,
                **_figures(enterprise, private),
            )
        )
    next_cursor = (
        encode_cursor(list(window[page.limit - 1][:3])) if len(window) > page.limit else None
    )
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


def _figures(enterprise: Enterprise, private: bool) -> dict[str, Any]:
    """A prospect's figures and grade: private facts, blanked without consent."""
    figures = {
        "employees": enterprise.employees,
        "revenue_fen": enterprise.revenue_fen,
        "total_assets_fen": enterprise.total_assets_fen,
        "credit_grade": enterprise.credit_grade,
    }
    return figures if private else blank_private("enterprise", figures)


# --- scoring configuration -------------------------------------------------------------------

TIERS = ("landmark", "advantage", "future", "none")
SIZES = ("micro", "small", "medium", "large", "unknown")


def _config_public(row: ScoringConfigRow, in_force: int | None) -> ScoringConfigPublic:
    return ScoringConfigPublic(
        version=row.version,
        config=row.config,
        note=row.note,
        created_at=row.created_at,
        in_force=row.version == in_force,
    )


def purposes(session: Session) -> list[PurposeOut]:
    """The purpose tree of the configuration in force, parents before their children."""
    config = facts.current_config(session, today_local())
    out = [
        PurposeOut(
            code=code,
            name=name,
            parent=parent,
            accepted_by=[code, *sorted(config.purpose_ancestors(code))],
        )
        for code, (name, parent) in config.purposes.items()
    ]
    depth = {p.code: len(p.accepted_by) for p in out}
    return sorted(out, key=lambda p: (depth[p.code], list(config.purposes).index(p.code)))


def scoring_config(session: Session, version: int | None = None) -> ScoringConfigPublic:
    """A version of the scoring configuration; the one in force (the newest) by default."""
    in_force = config_version_in_force(session)
    wanted = in_force if version is None else version
    row = session.get(ScoringConfigRow, wanted) if wanted is not None else None
    if row is None:
        raise ScoringConfigNotFound(f"评分配置版本 {version} 不存在。")
    return _config_public(row, in_force)


def list_scoring_configs(session: Session, page: PageParams) -> Page[ScoringConfigPublic]:
    """Newest first."""
    key = cursor_key(page, 1, (int,))
    rows = queries.config_page(session, key[0] if key else None, page.limit)
    in_force = config_version_in_force(session)
    result = make_page(rows, page.limit, lambda r: [r.version])
    result.items = [_config_public(r, in_force) for r in result.items]
    return result


def _check_settings(settings: ScoringSettings) -> dict:
    data = settings.model_dump()
    problems = []
    if sorted(data["weights"]) != sorted(scoring.FACTORS):
        problems.append(("weights", f"权重须且只须包含 {', '.join(scoring.FACTORS)}。"))
    elif min(data["weights"].values()) < 0 or sum(data["weights"].values()) != 100:
        problems.append(("weights", "各项权重不能为负，且合计须为 100。"))
    for field, names in (("tier_value", TIERS), ("size_value", SIZES)):
        values = data[field]
        if sorted(values) != sorted(names):
            problems.append((field, f"{field} 须且只须包含 {', '.join(names)}。"))
        elif not all(0 <= v <= 1 for v in values.values()):
            problems.append((field, f"{field} 的取值须在 0 到 1 之间。"))
    if data["spread_best_bp"] >= data["spread_worst_bp"]:
        problems.append(("spread_best_bp", "spread_best_bp 须小于 spread_worst_bp。"))
    for code in data["policy_schemes"]:
        if not code or len(code) > 32:
            problems.append(("policy_schemes", f"政策优先方案代码 '{code}' 无效。"))
    purposes = data["purposes"]
    for code, node in purposes.items():
        parent = node["parent"]
        if parent is not None and parent not in purposes:
            problems.append(("purposes", f"用途 {code} 的上级 {parent} 不在用途表中。"))
    if not problems:
        try:
            facts.config_from_dict(0, data, {})
        except ValueError as exc:
            problems.append(("purposes", f"用途表有误：{exc}。"))
    for prefix in data["regions"]:
        if not (prefix.isascii() and prefix.isdigit() and 2 <= len(prefix) <= 6):
            problems.append(("regions", f"地区 '{prefix}' 应为行政区划代码的前 2–6 位数字。"))
    if problems:
        field, message = problems[0]
        raise InvalidScoringConfig(
            message,
            field=field,
            errors=[{"field": f, "message": m} for f, m in problems],
        )
    return data


def create_scoring_config(
    session: Session, data: ScoringConfigCreate, principal: Principal
) -> ScoringConfigPublic:
    """Put a new version in force (the office); every stored match is recomputed with it by a
    job."""
    require(principal, Role.office)
    config = _check_settings(data.config)
    serialize(session, "matching.scoring_config")  # two creates get consecutive versions
    version = (config_version_in_force(session) or 0) + 1
    row = ScoringConfigRow(version=version, config=config, note=data.note)
    session.add(row)
    session.flush()
    enqueue(session, CONFIG_CHANGED, {"version": version}, key="all")
    session.commit()
    return _config_public(row, version)


# --- keeping matches current ----------------------------------------------------------------

ENTERPRISE_CHANGED = "matching.enterprise_changed"
PRODUCT_CHANGED = "matching.product_changed"
CONFIG_CHANGED = "matching.config_changed"
ENTERPRISE_BATCH = 2_000


def on_enterprise_changed(session: Session, enterprise_id: int) -> None:
    """In the change's transaction: its open needs (cheap, and what banks' leads follow);
    after commit, as a job: its profile matches (reads other enterprises' lists)."""
    rematch_open_needs(session, enterprise_id)
    enqueue(session, ENTERPRISE_CHANGED, {"enterprise_id": enterprise_id}, key=str(enterprise_id))


def on_product_changed(session: Session, product_id: int) -> None:
    """After commit, as a job: the product against the whole library, and every open need."""
    enqueue(session, PRODUCT_CHANGED, {"product_id": product_id}, key=str(product_id))


def run_enterprise_rematch(session: Session, payloads: list[dict]) -> dict:
    """Job: the stored profile matches of a batch of changed enterprises."""
    serialize(session, upkeep.STORED_MATCHES_LOCK)
    ids = sorted({int(p["enterprise_id"]) for p in payloads})
    return {"enterprises": len(ids), **upkeep.rematch_enterprises(session, ids)}


def run_product_rematch(session: Session, product_id: int) -> dict:
    """Job: the stored matches a product change affects, and the open needs' matches."""
    serialize(session, upkeep.STORED_MATCHES_LOCK)
    stats = upkeep.rematch_product(session, product_id)
    stats["needs"] = rematch_open_needs(session)
    return stats


def run_full_rematch(session: Session, version: int | None = None) -> dict:
    """Job: every stored match, with the configuration in force (after a new version)."""
    stats = upkeep.rematch_all(session.connection())
    stats["needs"] = rematch_open_needs(session)
    return stats

"""From rows to the pure scoring inputs: enterprises, needs, products, the config in force."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from service.enterprises.models import Enterprise, Qualification
from service.matching.models import FinancingNeed, ScoringConfigRow
from service.matching.scoring import EnterpriseFacts, Held, NeedFacts, ProductRules, ScoringConfig
from service.products.models import Product, ProductStatus, ProductVersion
from service.taxonomy.models import Cluster, District, LprRate, QualificationType


class ConfigMissing(RuntimeError):
    pass


def config_from_dict(version: int, data: dict[str, Any], lpr_bp: dict[str, int]) -> ScoringConfig:
    fields = {
        k: data[k]
        for k in (
            "top_per_enterprise",
            "top_per_product",
            "near_miss_max_failures",
            "tier_value",
            "size_value",
            "spread_best_bp",
            "spread_worst_bp",
        )
        if k in data
    }
    return ScoringConfig(version=version, weights=dict(data["weights"]), lpr_bp=lpr_bp, **fields)


def lpr_on(session: Session, on: date) -> dict[str, int]:
    out: dict[str, int] = {}
    for tenor in ("1Y", "5Y"):
        rate = session.scalars(
            select(LprRate.rate_bp)
            .where(LprRate.tenor == tenor, LprRate.effective_date <= on)
            .order_by(LprRate.effective_date.desc())
            .limit(1)
        ).first()
        if rate is not None:
            out[f"LPR{tenor}"] = rate
    return out


def current_config(session: Session, on: date) -> ScoringConfig:
    row = session.scalars(
        select(ScoringConfigRow).order_by(ScoringConfigRow.version.desc()).limit(1)
    ).first()
    if row is None:
        raise ConfigMissing("no scoring configuration: run `finmatch seed`")
    return config_from_dict(
        row.version, row.config, lpr_on(session, on) or {"LPR1Y": 300, "LPR5Y": 350}
    )


def names(session: Session) -> dict[str, str]:
    """Chinese names of clusters, districts and qualification types, by code."""
    out: dict[str, str] = {}
    for model in (Cluster, District, QualificationType):
        out.update({code: name for code, name in session.execute(select(model.code, model.name))})
    return out


def tiers(session: Session) -> dict[str, str]:
    return {code: str(tier) for code, tier in session.execute(select(Cluster.code, Cluster.tier))}


def enterprise_facts(
    session: Session, enterprises: Sequence[Enterprise], cluster_tiers: dict[str, str] | None = None
) -> list[EnterpriseFacts]:
    tier_of = cluster_tiers if cluster_tiers is not None else tiers(session)
    ids = [e.id for e in enterprises]
    held: dict[int, list[Held]] = {}
    if ids:
        for q in session.scalars(select(Qualification).where(Qualification.enterprise_id.in_(ids))):
            held.setdefault(q.enterprise_id, []).append(
                Held(q.type_code, q.issued_date, q.expires_date)
            )
    return [
        EnterpriseFacts(
            id=e.id,
            cluster=e.cluster_code,
            tier=tier_of.get(e.cluster_code or ""),
            size_class=e.size_class,
            qualifications=tuple(held.get(e.id, ())),
            established=e.established_date,
            revenue_fen=e.revenue_fen,
            credit_grade=e.credit_grade,
            district=e.district_code,
            registered_in_wuxi=e.registered_in_wuxi,
            industry_code=e.industry_code,
        )
        for e in enterprises
    ]


def need_facts(need: FinancingNeed) -> NeedFacts:
    return NeedFacts(
        amount_fen=need.amount_fen,
        term_months=need.term_months,
        purpose=str(need.purpose),
        collateral=frozenset(str(c) for c in need.collateral),
    )


def product_rules(product: Product, version: ProductVersion) -> ProductRules:
    e = (
        version.eligibility
        if isinstance(version.eligibility, dict)
        else version.eligibility.model_dump()
    )
    rate = version.rate if isinstance(version.rate, dict) else version.rate.model_dump()
    fees = [f if isinstance(f, dict) else f.model_dump() for f in version.fees]
    annual = sum(int(f.get("bp") or 0) for f in fees if f.get("basis") == "bp_per_year")
    daily = max(
        (
            int(t["bp_per_day"])
            for f in fees
            if f.get("basis") == "bp_per_day"
            for t in f.get("tiers") or []
        ),
        default=0,
    )
    return ProductRules(
        id=product.id,
        code=product.code,
        bank_code=product.bank_code,
        name=version.name,
        scheme=version.scheme,
        category=str(version.category),
        active=product.status == ProductStatus.active,
        clusters_included=frozenset(e.get("clusters_included") or ()),
        clusters_excluded=frozenset(e.get("clusters_excluded") or ()),
        tiers=frozenset(e.get("tiers") or ()),
        size_classes=frozenset(e.get("size_classes") or ()),
        qualifications_any=frozenset(e.get("qualifications_any") or ()),
        qualifications_all=frozenset(e.get("qualifications_all") or ()),
        min_years_in_business=e.get("min_years_in_business"),
        revenue_min_fen=e.get("revenue_min_fen"),
        revenue_max_fen=e.get("revenue_max_fen"),
        min_credit_grade=e.get("min_credit_grade"),
        districts=frozenset(e.get("districts") or ()),
        registered_in_wuxi=e.get("registered_in_wuxi"),
        industries_excluded=tuple(e.get("industries_excluded") or ()),
        amount_min_fen=version.amount_min_fen,
        amount_max_fen=version.amount_max_fen,
        term_unit=str(version.term_unit),
        term_min=version.term_min,
        term_max=version.term_max,
        collateral_types=frozenset(str(c) for c in version.collateral_types),
        purposes=frozenset(str(p) for p in version.purposes),
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        rate_base=str(rate.get("base")),
        spread_bp=rate.get("spread_bp"),
        fixed_rate_bp=rate.get("fixed_rate_bp"),
        rate_tiers=tuple(
            (
                t.get("amount_min_fen"),
                t.get("amount_max_fen"),
                t.get("term_min_months"),
                t.get("term_max_months"),
                t["spread_bp"],
            )
            for t in rate.get("tiers") or ()
        ),
        annual_fee_bp=annual,
        daily_fee_bp=daily,
    )


def catalogue(session: Session) -> list[tuple[Product, ProductVersion, ProductRules]]:
    """Every active product at its current version."""
    rows = session.execute(
        select(Product, ProductVersion)
        .join(
            ProductVersion,
            (ProductVersion.product_id == Product.id)
            & (ProductVersion.version == Product.current_version),
        )
        .where(Product.status == ProductStatus.active)
        .order_by(Product.id)
    ).all()
    return [(p, v, product_rules(p, v)) for p, v in rows]


def count_enterprises(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Enterprise)) or 0

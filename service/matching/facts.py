"""From rows to the pure scoring inputs: enterprises, needs, products, the config in force, and
the whole library as the batch engine's arrays (``load_enterprise_arrays``). The I/O side of
matching's pure modules; also the providers higher domains register (bridge-fund states, lead
consents) and the consent lookup behind prospects."""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, select
from sqlmodel import Session, col

from service.core.models import today_local
from service.core.settings import get_settings
from service.enterprises.models import Enterprise, Qualification
from service.matching import library_copy
from service.matching.enterprise_arrays import Columns, EnterpriseArrays
from service.matching.exceptions import ConfigMissing
from service.matching.models import FinancingNeed, ScoringConfigRow
from service.matching.scoring import (
    FACTORS,
    EnterpriseFacts,
    Held,
    NeedFacts,
    ProductRules,
    ScoringConfig,
    in_service_area,
)
from service.products.models import Product, ProductStatus, ProductVersion
from service.taxonomy.models import Cluster, District, LprRate, OwnershipType, QualificationType


def config_from_dict(version: int, data: dict[str, Any], lpr_bp: dict[str, int]) -> ScoringConfig:
    """A stored configuration as the scorer takes it. A version written before a factor
    existed gives that factor no weight, so it scores as it did."""
    fields: dict[str, Any] = {
        k: data[k]
        for k in (
            "top_per_enterprise",
            "top_per_product",
            "near_miss_max_failures",
            "near_miss_limit",
            "tier_value",
            "size_value",
            "spread_best_bp",
            "spread_worst_bp",
            "regions",
            "bridge_window_days",
        )
        if k in data
    }
    if "policy_schemes" in data:
        fields["policy_schemes"] = tuple(data["policy_schemes"])
    if "purposes" in data:
        fields["purposes"] = {
            code: (item["name"], item.get("parent")) for code, item in data["purposes"].items()
        }
    if "obtainable" in data:
        fields["obtainable"] = {code: tuple(needs) for code, needs in data["obtainable"].items()}
    weights = {name: 0 for name in FACTORS} | dict(data["weights"])
    return ScoringConfig(version=version, weights=weights, lpr_bp=lpr_bp, **fields)


# Loans are a higher domain than matching: they tell it, through the function they register,
# which enterprises have a loan about to mature (and whether its renewal is committed).
BridgeStates = Callable[[Connection, Sequence[int] | None, date, int], dict[int, str]]
_bridge_states: list[BridgeStates] = []


def provide_bridge_states(fn: BridgeStates) -> None:
    _bridge_states[:] = [fn]


def bridge_states(
    conn: Connection, enterprise_ids: Sequence[int] | None, on: date, window_days: int
) -> dict[int, str]:
    """Enterprise id → scoring.BRIDGE_COMMITTED or BRIDGE_MATURING (None: every enterprise)."""
    if not _bridge_states:
        return {}
    return _bridge_states[0](conn, enterprise_ids, on, window_days)


LeadConsents = Callable[[Session, set[int], str], set[int]]
_lead_consents: list[LeadConsents] = []


def provide_lead_consents(fn: LeadConsents) -> None:
    """Leads tell matching which enterprises consented to a bank through a lead."""
    _lead_consents[:] = [fn]


def consenting(session: Session, enterprise_ids: set[int], bank_code: str) -> set[int]:
    """Of these enterprises, those that share their private facts with the bank: all banks
    (``share_with_banks``) or this one through a lead that carries their consent."""
    if not enterprise_ids:
        return set()
    rows = session.scalars(
        select(col(Enterprise.id)).where(
            col(Enterprise.id).in_(enterprise_ids), col(Enterprise.share_with_banks).is_(True)
        )
    )
    shared = {enterprise_id for enterprise_id in rows if enterprise_id is not None}
    if _lead_consents:
        shared |= _lead_consents[0](session, enterprise_ids - shared, bank_code)
    return shared


def service_area() -> tuple[str, ...]:
    return get_settings().service_area_prefixes


def lpr_on(session: Session, on: date) -> dict[str, int]:
    out: dict[str, int] = {}
    for tenor in ("1Y", "5Y"):
        rate = session.scalars(
            select(col(LprRate.rate_bp))
            .where(col(LprRate.tenor) == tenor, col(LprRate.effective_date) <= on)
            .order_by(col(LprRate.effective_date).desc())
            .limit(1)
        ).first()
        if rate is not None:
            out[f"LPR{tenor}"] = rate
    return out


def current_config(session: Session, on: date) -> ScoringConfig:
    row = session.scalars(
        select(ScoringConfigRow).order_by(col(ScoringConfigRow.version).desc()).limit(1)
    ).first()
    if row is None:
        raise ConfigMissing("no scoring configuration: run `finmatch seed`")
    return config_from_dict(
        row.version, row.config, lpr_on(session, on) or {"LPR1Y": 300, "LPR5Y": 350}
    )


def names(session: Session) -> dict[str, str]:
    """Chinese names of clusters, districts and qualification types by code, and of
    ownership types as ``ownership:<code>``."""
    out: dict[str, str] = {}
    for model in (Cluster, District, QualificationType):
        rows = session.execute(select(col(model.code), col(model.name)))
        out.update({code: name for code, name in rows})
    rows = session.execute(select(col(OwnershipType.code), col(OwnershipType.name)))
    out.update({f"ownership:{code}": name for code, name in rows})
    return out


def tiers(session: Session) -> dict[str, str]:
    rows = session.execute(select(col(Cluster.code), col(Cluster.tier)))
    return {code: str(tier) for code, tier in rows}


def enterprise_facts(
    session: Session,
    enterprises: Sequence[Enterprise],
    cluster_tiers: dict[str, str] | None = None,
    on: date | None = None,
    window_days: int = 30,
) -> list[EnterpriseFacts]:
    tier_of = cluster_tiers if cluster_tiers is not None else tiers(session)
    ids: list[int] = []
    for e in enterprises:
        assert e.id is not None  # rows of the library
        ids.append(e.id)
    area = service_area()
    bridge = (
        bridge_states(session.connection(), ids, on or today_local(), window_days) if ids else {}
    )
    held: dict[int, list[Held]] = {}
    if ids:
        stmt = select(Qualification).where(col(Qualification.enterprise_id).in_(ids))
        for q in session.scalars(stmt):
            held.setdefault(q.enterprise_id, []).append(
                Held(q.type_code, q.issued_date, q.expires_date)
            )
    return [
        EnterpriseFacts(
            id=id_,
            cluster=e.cluster_code,
            tier=tier_of.get(e.cluster_code or ""),
            size_class=e.size_class,
            qualifications=tuple(held.get(id_, ())),
            established=e.established_date,
            revenue_fen=e.revenue_fen,
            credit_grade=e.credit_grade,
            district=e.district_code,
            registered_in_wuxi=e.registered_in_wuxi,
            industry_code=e.industry_code,
            ownership=e.ownership,
            area_code=e.registered_area_code,
            in_service_area=in_service_area(e.registered_area_code, area),
            bridge=bridge.get(id_),
        )
        for e, id_ in zip(enterprises, ids, strict=True)
    ]


def need_facts(need: FinancingNeed, config: ScoringConfig | None = None) -> NeedFacts:
    purpose = str(need.purpose)
    return NeedFacts(
        amount_fen=need.amount_fen,
        term_months=need.term_months,
        purpose=purpose,
        collateral=frozenset(str(c) for c in need.collateral),
        purpose_ancestors=config.purpose_ancestors(purpose) if config else frozenset(),
    )


def product_rules(product: Product, version: ProductVersion) -> ProductRules:
    assert product.id is not None  # a stored product
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
        industries_included=tuple(e.get("industries_included") or ()),
        industries_targeted=tuple(e.get("industries_targeted") or ()),
        regions=frozenset(e.get("regions") or ()),
        ownership_types=frozenset(e.get("ownership_types") or ()),
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
            and_(
                col(ProductVersion.product_id) == col(Product.id),
                col(ProductVersion.version) == col(Product.current_version),
            ),
        )
        .where(col(Product.status) == ProductStatus.active)
        .order_by(col(Product.id))
    ).all()
    return [(p, v, product_rules(p, v)) for p, v in rows]


def load_enterprise_arrays(
    conn: Connection,
    on: date,
    *,
    service_area: Sequence[str],
    bridge: Mapping[int, str] | None = None,
    chunk_size: int = 50_000,
) -> EnterpriseArrays:
    """Every enterprise of the library, with its qualifications valid on ``on`` and its
    cluster's tier; ``service_area`` is the area-code prefixes served, ``bridge`` the
    enterprises' bridge-fund states. Same result as
    ``EnterpriseArrays.from_facts(facts.enterprise_facts(...), on, codes)`` with the codes of
    the qualification_type table. On PostgreSQL one binary COPY with no Python per enterprise
    (``library_copy``); elsewhere, or if the library changed under that read,
    ``read_enterprise_arrays``."""
    if conn.dialect.name == "postgresql":
        tier_of, codes = _tiers_and_codes(conn)
        driver = conn.connection.driver_connection
        arrays = library_copy.read(
            driver,
            on,
            codes=codes,
            tier_of=tier_of,
            service_area=service_area,
            bridge=bridge or {},
        )
        if arrays is not None:
            return arrays
    return read_enterprise_arrays(
        conn, on, service_area=service_area, bridge=bridge, chunk_size=chunk_size
    )


def _tiers_and_codes(conn: Connection) -> tuple[dict[str, str], list[str]]:
    """Each cluster's tier, and the qualification types in bit order."""
    clusters = conn.execute(select(col(Cluster.code), col(Cluster.tier)))
    tier_of = {code: str(tier) for code, tier in clusters}
    codes = list(
        conn.execute(
            select(col(QualificationType.code)).order_by(
                col(QualificationType.sort_order), col(QualificationType.code)
            )
        ).scalars()
    )
    return tier_of, codes


def read_enterprise_arrays(
    conn: Connection,
    on: date,
    *,
    service_area: Sequence[str],
    bridge: Mapping[int, str] | None = None,
    chunk_size: int = 50_000,
) -> EnterpriseArrays:
    """``load_enterprise_arrays`` on any database: the library read column by column in keyset
    chunks (no ORM objects), the rows turned into arrays in Python."""
    tier_of, codes = _tiers_and_codes(conn)
    columns = Columns(on, codes)
    e = Enterprise.__table__.c  # type: ignore[attr-defined]
    q = Qualification.__table__.c  # type: ignore[attr-defined]
    page = (
        select(
            e.id,
            e.cluster_code,
            e.size_class,
            e.district_code,
            e.industry_code,
            e.ownership,
            e.registered_area_code,
            e.registered_in_wuxi,
            e.established_date,
            e.revenue_fen,
            e.credit_grade,
        )
        .order_by(e.id)
        .limit(chunk_size)
    )
    valid = select(q.enterprise_id, q.type_code).where(
        q.issued_date <= on, (q.expires_date.is_(None)) | (q.expires_date >= on)
    )
    last: int | None = None
    while True:
        # Keyset pages: one round trip per chunk, memory bounded by the chunk.
        rows = conn.execute(page if last is None else page.where(e.id > last)).all()
        if not rows:
            break
        (
            ids,
            cluster,
            size,
            district,
            industry,
            ownership,
            area,
            wuxi,
            established,
            revenue,
            grade,
        ) = zip(*rows, strict=True)
        states = bridge or {}
        masks = np.zeros(len(ids), dtype=np.uint64)
        held = conn.execute(
            valid.where(q.enterprise_id >= ids[0], q.enterprise_id <= ids[-1])
        ).all()
        if held:
            holders, type_codes = zip(*held, strict=True)
            columns.bits(set(type_codes))  # a code outside the table gets a bit too
            bits = np.array([columns.bit[c] for c in type_codes], dtype=np.uint64)
            at = np.searchsorted(np.array(ids, dtype=np.int64), np.array(holders, np.int64))
            np.bitwise_or.at(masks, at, bits)
        columns.extend(
            ids,
            cluster,
            [tier_of.get(c or "") for c in cluster],
            size,
            district,
            industry,
            ownership,
            area,
            [states.get(i) for i in ids],
            wuxi,
            [in_service_area(a, service_area) for a in area],
            masks,
            established,
            revenue,
            grade,
        )
        last = ids[-1]
    return columns.build()

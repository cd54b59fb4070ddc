"""Financing needs (融资需求), versioned scoring configuration and stored matches."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.core.models import BigId, JSONType, UTCDateTime, utcnow
from service.core.types import BodyInt, IsoDate
from service.matching.defaults import (
    DEFAULT_OBTAINABLE,
    DEFAULT_POLICY_SCHEMES,
    DEFAULT_PURPOSES,
    DEFAULT_REGIONS,
)


class NeedPurpose(StrEnum):
    working_capital = "working_capital"  # 流动资金
    equipment = "equipment"  # 设备购置
    tech_transformation = "tech_transformation"  # 技术改造
    rnd = "rnd"  # 研发
    project = "project"  # 固定资产投资/项目建设
    renewal = "renewal"  # 续贷
    trade = "trade"  # 贸易融资
    bridge = "bridge"  # 转贷（到期还贷周转）


class CollateralOffer(StrEnum):
    none = "none"
    guarantee = "guarantee"
    gov_guarantee = "gov_guarantee"  # 政府性融资担保机构的保证
    property = "property"
    equipment = "equipment"
    ip = "ip"
    receivables = "receivables"


# 64-bit ids on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY (64-bit anyway).


class NeedStatus(StrEnum):
    open = "open"
    matched = "matched"  # leads were made (set by the lead workflow)
    fulfilled = "fulfilled"
    withdrawn = "withdrawn"
    expired = "expired"


class NeedBase(SQLModel):
    amount_fen: BodyInt = Field(gt=0, sa_type=BigInteger, schema_extra={"examples": [300_000_000]})
    term_months: BodyInt = Field(ge=1, le=360, schema_extra={"examples": [12]})
    purpose: NeedPurpose = Field(sa_type=String(32))
    collateral: list[CollateralOffer] = Field(
        default_factory=lambda: [CollateralOffer.none],
        sa_column=Column(JSONType, nullable=False),
        description="What the enterprise can offer; `none` means a credit loan is wanted",
    )
    wanted_by_date: IsoDate | None = Field(default=None, schema_extra={"examples": ["2027-01-31"]})
    project_id: BodyInt | None = Field(default=None, foreign_key="project.id", ondelete="SET NULL")
    consent_share_details: bool = Field(
        default=False, description="Banks may see the enterprise's name and details"
    )
    max_banks: BodyInt = Field(default=3, ge=1, le=5, description="At most this many banks")
    bank_codes: list[str] | None = Field(
        default=None,
        sa_column=Column(JSONType, nullable=True),
        description="Only these banks may be offered the need (bank codes); null: any bank",
        schema_extra={"examples": [["jsbank-wx", "icbc-wx"]]},
    )
    note: str | None = Field(default=None, max_length=1000)


class FinancingNeed(NeedBase, table=True):
    __tablename__ = "financing_need"
    __table_args__ = (Index("ix_financing_need_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE", index=True)
    status: NeedStatus = Field(default=NeedStatus.open, sa_type=String(16))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _collateral(value: list[CollateralOffer] | None) -> list[CollateralOffer] | None:
    if value is not None and not value:
        raise ValueError("至少选择一种担保方式；不提供担保请选 none")
    return sorted(set(value), key=list(CollateralOffer).index) if value else value


def _bank_codes(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    codes = sorted({code.strip() for code in value})
    if not codes or "" in codes:
        raise ValueError("至少选择一家银行；不限银行请留空（null）")
    if len(codes) > 50:
        raise ValueError("最多选择 50 家银行")
    return codes


class NeedCreate(NeedBase):
    enterprise_id: BodyInt

    @field_validator("bank_codes")
    @classmethod
    def _check_banks(cls, value: list[str] | None) -> list[str] | None:
        return _bank_codes(value)

    @field_validator("collateral")
    @classmethod
    def _check_collateral(cls, value: list[CollateralOffer]) -> list[CollateralOffer]:
        return _collateral(value) or []


class NeedUpdate(SQLModel):
    amount_fen: BodyInt | None = Field(default=None, gt=0)
    term_months: BodyInt | None = Field(default=None, ge=1, le=360)
    purpose: NeedPurpose | None = None
    collateral: list[CollateralOffer] | None = None
    wanted_by_date: IsoDate | None = None
    project_id: BodyInt | None = None
    consent_share_details: bool | None = None
    max_banks: BodyInt | None = Field(default=None, ge=1, le=5)
    bank_codes: list[str] | None = Field(default=None, description="null: any bank")
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("collateral")
    @classmethod
    def _check_collateral(cls, value: list[CollateralOffer] | None) -> list[CollateralOffer] | None:
        return _collateral(value)

    @field_validator("bank_codes")
    @classmethod
    def _check_banks(cls, value: list[str] | None) -> list[str] | None:
        return _bank_codes(value)


class NeedPublic(NeedBase):
    id: int
    enterprise_id: int
    status: NeedStatus
    version: int
    created_at: datetime
    updated_at: datetime


class ScoringConfigRow(SQLModel, table=True):
    """A version of the weights and thresholds; the highest version is in force."""

    __tablename__ = "scoring_config"

    version: int = Field(primary_key=True)
    config: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EnterpriseMatch(SQLModel, table=True):
    """A stored match of an enterprise's profile (no need) with a product: the enterprise's
    top products and each product's top prospects.

    Derived data, rewritten whole by a full rematch (millions of rows): it has no foreign keys,
    whose per-row checks cost the COPY most of its time. Enterprises and products are never
    deleted (a product is withdrawn, and a withdrawn product's rows are removed by its
    rematch)."""

    __tablename__ = "enterprise_match"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "product_id"),
        Index("ix_enterprise_match_product_id_score", "product_id", "score_centi"),
        # A product's prospect list, without stepping over the rows kept only for enterprises.
        Index(
            "ix_enterprise_match_prospects",
            "product_id",
            "product_rank",
            sqlite_where=text("product_rank IS NOT NULL"),
            postgresql_where=text("product_rank IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    enterprise_id: int
    product_id: int
    product_version: int
    config_version: int
    score_centi: int
    enterprise_rank: int | None = None  # 1-based among the enterprise's kept products
    product_rank: int | None = None  # 1-based among the product's kept prospects
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NeedMatch(SQLModel, table=True):
    """A stored match of a financing need with a product."""

    __tablename__ = "need_match"
    __table_args__ = (
        UniqueConstraint("need_id", "product_id"),
        Index("ix_need_match_product_id_score", "product_id", "score_centi"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    need_id: int = Field(foreign_key="financing_need.id", ondelete="CASCADE")
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE", index=True)
    product_id: int = Field(foreign_key="product.id", ondelete="CASCADE")
    product_version: int
    config_version: int
    score_centi: int
    need_rank: int
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PurposeNode(SQLModel):
    name: str = Field(min_length=1, max_length=50)
    parent: str | None = Field(default=None, max_length=32)


class ScoringSettings(SQLModel):
    """Weights and thresholds of the scoring; a new version replaces the one in force."""

    weights: dict[str, BodyInt] = Field(
        description="Points per factor (sector, industry, size, need, qualification, cost, "
        "policy); they add up to 100.",
        schema_extra={
            "examples": [
                {
                    "sector": 20,
                    "industry": 10,
                    "size": 10,
                    "need": 20,
                    "qualification": 10,
                    "cost": 10,
                    "policy": 20,
                }
            ]
        },
    )
    top_per_enterprise: BodyInt = Field(default=10, ge=1, le=100)
    top_per_product: BodyInt = Field(default=200, ge=1, le=10_000)
    near_miss_max_failures: BodyInt = Field(default=2, ge=0, le=5)
    near_miss_limit: BodyInt = Field(default=5, ge=0, le=20, description="Near misses shown")
    tier_value: dict[str, float] = Field(
        default_factory=lambda: {"landmark": 1.0, "advantage": 0.8, "future": 0.85, "none": 0.4},
        description="Policy priority of each cluster tier, 0–1",
    )
    size_value: dict[str, float] = Field(
        default_factory=lambda: {
            "micro": 1.0,
            "small": 1.0,
            "medium": 0.8,
            "large": 0.5,
            "unknown": 0.3,
        },
        description="How much the policy favours each size class, 0–1",
    )
    spread_best_bp: BodyInt = Field(default=-30, ge=-1000, le=2000)
    spread_worst_bp: BodyInt = Field(default=200, ge=-1000, le=2000)
    policy_schemes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_POLICY_SCHEMES),
        max_length=20,
        description="Schemes the city's plans recommend first (the policy factor)",
    )
    purposes: dict[str, PurposeNode] = Field(
        default_factory=lambda: {
            code: PurposeNode(name=name, parent=parent)
            for code, (name, parent) in DEFAULT_PURPOSES.items()
        },
        description="The purpose tree: a product accepting a purpose accepts its children",
    )
    regions: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REGIONS),
        description="Names of area-code prefixes, for the region rules' messages",
    )
    obtainable: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_OBTAINABLE.items()},
        description="Qualifications an enterprise can apply for soon, each with those it must "
        "hold first; near misses suggest only these (or renewing an expired one)",
    )
    bridge_window_days: BodyInt = Field(
        default=30,
        ge=1,
        le=90,
        description="The bridge fund fits a loan maturing within this many days",
    )


class ScoringConfigCreate(SQLModel):
    config: ScoringSettings
    note: str | None = Field(default=None, max_length=500)


class ScoringConfigPublic(SQLModel):
    version: int
    config: dict[str, Any]
    note: str | None
    created_at: datetime
    in_force: bool = False

"""Financing needs (融资需求), versioned scoring configuration and stored matches."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.core.models import BigId, JSONType, UTCDateTime, utcnow
from service.core.types import BodyInt, IsoDate


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

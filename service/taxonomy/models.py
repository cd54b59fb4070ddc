"""Reference data: 465 clusters, districts, qualification types, ownership types, the size
table, LPR: the tables, their ``…Base`` classes and the enums of their values (tier, size
class, qualification level). The API's shapes are in ``schemas.py``."""

from datetime import date
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from service.core.models import JSONType


class Tier(StrEnum):
    landmark = "landmark"  # 地标产业
    advantage = "advantage"  # 优势产业
    future = "future"  # 未来产业


TIER_RANK = {Tier.landmark: 1, Tier.advantage: 2, Tier.future: 3}


class SizeClass(StrEnum):
    large = "large"
    medium = "medium"
    small = "small"
    micro = "micro"


class QualificationLevel(StrEnum):
    national = "national"
    provincial = "provincial"
    municipal = "municipal"


class ClusterBase(SQLModel):
    code: str = Field(primary_key=True, max_length=32, schema_extra={"examples": ["iot"]})
    name: str = Field(max_length=64, schema_extra={"examples": ["物联网"]})
    tier: Tier = Field(sa_type=String(16))
    tier_rank: int = Field(description="1 = landmark, 2 = advantage, 3 = future")
    priority_rank: int = Field(description="Policy priority within the tier, 1 first")
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    industry_codes: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONType, nullable=False),
        description="GB/T 4754 codes (prefixes) typical of the cluster",
    )
    description: str | None = None


class Cluster(ClusterBase, table=True):
    __tablename__ = "cluster"


class DistrictBase(SQLModel):
    code: str = Field(primary_key=True, max_length=32, schema_extra={"examples": ["xinwu"]})
    name: str = Field(max_length=32, schema_extra={"examples": ["新吴区"]})
    area_code: str | None = Field(
        default=None, max_length=6, description="GB/T 2260 area code; null for 无锡经济开发区"
    )
    kind: str = Field(max_length=16, description="district / county_city / zone")
    sort_order: int = 0


class District(DistrictBase, table=True):
    __tablename__ = "district"


class QualificationTypeBase(SQLModel):
    code: str = Field(primary_key=True, max_length=32, schema_extra={"examples": ["high_tech"]})
    name: str = Field(max_length=64, schema_extra={"examples": ["高新技术企业"]})
    level: QualificationLevel = Field(sa_type=String(16))
    category: str = Field(max_length=32, description="tech / specialised / growth / green / ...")
    term_months: int | None = Field(
        default=None, description="Term of validity in months; null when it does not lapse"
    )
    description: str | None = None
    sort_order: int = 0


class QualificationType(QualificationTypeBase, table=True):
    __tablename__ = "qualification_type"


class OwnershipTypeBase(SQLModel):
    """Ownership (控股情况) as the statistics classify it. Which types count as 民营企业 is the
    office's decision (``private``); the rest follows seed/reference/ownership_types.json."""

    code: str = Field(primary_key=True, max_length=16, schema_extra={"examples": ["private"]})
    name: str = Field(max_length=32, schema_extra={"examples": ["私人控股"]})
    stats_code: str | None = Field(
        default=None,
        max_length=2,
        description="控股情况代码 of the statistical reports (1 国有控股 … 5 外商控股, 9 其他)",
        schema_extra={"examples": ["3"]},
    )
    private: bool = Field(
        description="Counts as 民营企业 (private enterprise) in the office's figures and for "
        "products that restrict by it; the office may change it"
    )
    sort_order: int = 0
    description: str | None = None


class OwnershipType(OwnershipTypeBase, table=True):
    __tablename__ = "ownership_type"


class SizeIndustryBase(SQLModel):
    key: str = Field(primary_key=True, max_length=32, schema_extra={"examples": ["industry"]})
    name: str = Field(max_length=200)
    gbt_scope: list[str] = Field(
        sa_column=Column(JSONType, nullable=False),
        description="GB/T 4754 sections (letters) or code prefixes covered by this row",
    )
    indicators: list[str] = Field(
        sa_column=Column(JSONType, nullable=False),
        description="Which of employees / revenue / assets the row uses",
    )
    sort_order: int = 0


class SizeIndustry(SizeIndustryBase, table=True):
    __tablename__ = "size_industry"


class SizeThresholdBase(SQLModel):
    industry_key: str = Field(foreign_key="size_industry.key", primary_key=True, max_length=32)
    size_class: SizeClass = Field(sa_type=String(16), primary_key=True)
    employees_min: int | None = None
    revenue_min_wan: int | None = Field(default=None, description="营业收入下限 (万元)")
    assets_min_wan: int | None = Field(default=None, description="资产总额下限 (万元)")


class SizeThreshold(SizeThresholdBase, table=True):
    __tablename__ = "size_threshold"


class LprRateBase(SQLModel):
    effective_date: date = Field(primary_key=True)
    tenor: str = Field(primary_key=True, max_length=4, description="1Y or 5Y")
    rate_bp: int = Field(description="Rate in basis points (300 = 3.00%)")


class LprRate(LprRateBase, table=True):
    __tablename__ = "lpr_rate"

"""Banks and the versioned product catalogue, modelled on CDR / UK Open Banking product records:
the tables, the enums of their stored values, and the shapes of a product's content stored in
JSON columns (eligibility, rate, fees). The API's request and response shapes are in
``schemas``."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import JSONType, UTCDateTime, utcnow
from service.core.types import BodyInt, IsoDate


class BankKind(StrEnum):
    state_owned = "state_owned"  # 国有大型商业银行
    joint_stock = "joint_stock"  # 股份制商业银行
    city_commercial = "city_commercial"  # 城市商业银行
    rural_commercial = "rural_commercial"  # 农村商业银行
    policy = "policy"  # 政策性银行
    private = "private"  # 民营银行
    foreign = "foreign"  # 外资银行
    fund = "fund"  # 政府性资金或担保机构 (e.g. 转贷应急资金)


class ProductCategory(StrEnum):
    credit = "credit"  # 信用贷款
    guaranteed = "guaranteed"  # 保证/担保贷款
    mortgage_pledge = "mortgage_pledge"  # 抵押/质押贷款
    ip_pledge = "ip_pledge"  # 知识产权质押
    equipment = "equipment"  # 设备/技改贷款
    supply_chain = "supply_chain"  # 供应链融资
    risk_compensation = "risk_compensation"  # 风险补偿资金池贷款
    bridge_fund = "bridge_fund"  # 转贷应急资金


class ProductStatus(StrEnum):
    active = "active"
    withdrawn = "withdrawn"


class Collateral(StrEnum):
    none = "none"
    guarantee = "guarantee"
    gov_guarantee = "gov_guarantee"  # 政府性融资担保机构的保证 (also a guarantee)
    property = "property"
    equipment = "equipment"
    ip = "ip"
    receivables = "receivables"


class Purpose(StrEnum):
    """A product accepting a purpose accepts its children in the scoring configuration's tree
    (project: equipment, tech_transformation)."""

    working_capital = "working_capital"
    equipment = "equipment"  # 设备购置
    tech_transformation = "tech_transformation"  # 技术改造
    rnd = "rnd"
    project = "project"  # 固定资产投资/项目建设
    renewal = "renewal"
    bridge = "bridge"
    trade = "trade"


class RateBase(StrEnum):
    lpr_1y = "LPR1Y"
    lpr_5y = "LPR5Y"
    fixed = "FIXED"
    none = "NONE"  # fee-priced products such as the bridge fund


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Eligibility(StrictModel):
    """Structured eligibility; an empty list or null means no restriction."""

    clusters_included: list[str] = []
    clusters_excluded: list[str] = []
    tiers: list[str] = []
    size_classes: list[str] = []
    qualifications_any: list[str] = []
    qualifications_all: list[str] = []
    min_years_in_business: BodyInt | None = None
    revenue_min_fen: BodyInt | None = None
    revenue_max_fen: BodyInt | None = None
    min_credit_grade: str | None = None
    districts: list[str] = []
    registered_in_wuxi: bool | None = None
    industries_excluded: list[str] = []
    industries_included: list[str] = []  # only these industries (GB/T 4754 section or prefix)
    industries_targeted: list[str] = []  # made for these industries: weighs, does not exclude
    regions: list[str] = []  # registered under these area-code prefixes (32: 江苏省)
    ownership_types: list[str] = []  # codes of /reference/ownership-types
    other: list[str] = []


class RateTier(StrictModel):
    amount_min_fen: BodyInt | None = None
    amount_max_fen: BodyInt | None = None
    term_min_months: BodyInt | None = None
    term_max_months: BodyInt | None = None
    spread_bp: BodyInt


class RateSpec(StrictModel):
    base: RateBase
    spread_bp: BodyInt | None = None
    fixed_rate_bp: BodyInt | None = None
    tiers: list[RateTier] = []
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "RateSpec":
        if self.base == RateBase.fixed and self.fixed_rate_bp is None:
            raise ValueError("a FIXED rate needs fixed_rate_bp")
        if self.base in (RateBase.lpr_1y, RateBase.lpr_5y) and self.spread_bp is None:
            raise ValueError("an LPR-based rate needs spread_bp")
        return self


class FeeTier(StrictModel):
    from_day: BodyInt
    to_day: BodyInt | None = None
    bp_per_day: BodyInt


class Fee(StrictModel):
    code: str
    name: str
    basis: str  # flat_fen | bp_of_amount | bp_per_day | bp_per_year
    amount_fen: BodyInt | None = None
    bp: BodyInt | None = None
    tiers: list[FeeTier] = []
    note: str | None = None


class TermUnit(StrEnum):
    month = "month"
    day = "day"


# --- banks --------------------------------------------------------------------------------


class BankBase(SQLModel):
    name: str = Field(min_length=2, max_length=100, schema_extra={"examples": ["江苏银行无锡分行"]})
    short_name: str = Field(min_length=1, max_length=30, schema_extra={"examples": ["江苏银行"]})
    kind: BankKind = Field(sa_type=String(32))
    bridge_fund_partner: bool = Field(
        default=False, description="Has a cooperation agreement with the 转贷应急资金 fund"
    )
    address: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=200)


class Bank(BankBase, table=True):
    __tablename__ = "bank"

    code: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- products -----------------------------------------------------------------------------


class ProductSpec(SQLModel):
    """The content of one product version."""

    name: str = Field(min_length=2, max_length=100, schema_extra={"examples": ["锡科贷"]})
    category: ProductCategory = Field(sa_type=String(32))
    scheme: str = Field(
        max_length=32,
        description="xikedai / xixindai / zhuanjingtexin / sukedai / bridge_fund / own",
        schema_extra={"examples": ["xikedai"]},
    )
    description: str | None = Field(default=None, max_length=2000)
    eligibility: Eligibility = Field(
        default_factory=Eligibility, sa_column=Column(JSONType, nullable=False)
    )
    amount_min_fen: BodyInt | None = Field(default=None, ge=0, sa_type=BigInteger)
    amount_max_fen: BodyInt | None = Field(default=None, ge=0, sa_type=BigInteger)
    term_unit: TermUnit = Field(default=TermUnit.month, sa_type=String(8))
    term_min: BodyInt | None = Field(default=None, ge=1)
    term_max: BodyInt | None = Field(default=None, ge=1)
    rate: RateSpec = Field(sa_column=Column(JSONType, nullable=False))
    collateral_types: list[Collateral] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    purposes: list[Purpose] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    fees: list[Fee] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    effective_from: IsoDate | None = None
    effective_to: IsoDate | None = None
    is_sample: bool = Field(
        default=False, description="Terms are sample values, not published ones"
    )
    source: str | None = Field(default=None, max_length=300)


class Product(SQLModel, table=True):
    """A product's identity; its content lives in versions."""

    __tablename__ = "product"
    __table_args__ = (Index("ix_product_updated_at_id", "updated_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    bank_code: str = Field(foreign_key="bank.code", max_length=32, index=True)
    current_version: int = 1
    status: ProductStatus = Field(default=ProductStatus.active, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProductVersion(ProductSpec, table=True):
    __tablename__ = "product_version"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", ondelete="CASCADE")
    version: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

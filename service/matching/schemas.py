"""What the matching API reads and answers: a financing need (posted, changed, shown; its
collateral and bank codes normalised here), a scoring configuration (its settings with their
defaults and bounds, a new version as posted, a version as shown), recommendations with their
factors and near misses, explanations, prospects, and the purpose tree. The checks of a
configuration across fields are in ``configuration.py``."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlmodel import SQLModel

from service.core.types import BodyInt, IsoDate
from service.matching.defaults import (
    DEFAULT_OBTAINABLE,
    DEFAULT_POLICY_SCHEMES,
    DEFAULT_PURPOSES,
    DEFAULT_REGIONS,
)
from service.matching.models import CollateralOffer, NeedBase, NeedPurpose, NeedStatus

FACTOR_LABEL = {
    "sector": "产业契合",
    "industry": "行业契合",
    "size": "规模契合",
    "need": "需求契合",
    "qualification": "资质契合",
    "cost": "融资成本",
    "policy": "政策优先",
}


class FactorOut(BaseModel):
    name: str = Field(examples=["sector"])
    label: str = Field(examples=["产业契合"])
    weight: int = Field(description="Points this factor can give (weights add up to 100)")
    value: float = Field(description="0–1")
    contribution: float = Field(description="weight × value; contributions add up to the score")
    reason: str = Field(examples=["产品定向支持集成电路；集成电路属地标产业，政策优先"])


class GateOut(BaseModel):
    gate: str = Field(examples=["amount_max"])
    reason: str = Field(examples=["金额高于产品上限 500万"])
    remedy: str = Field(examples=["金额降至 500 万元以内"])
    actionable: bool = Field(
        default=False,
        description="The enterprise can change it soon (obtain a qualification, lower the "
        "amount, change the term, offer collateral, change the purpose, have its bank commit "
        "a renewal)",
    )


class ProductRef(BaseModel):
    product_code: str
    product_name: str
    product_version: int
    bank_code: str
    bank_name: str | None
    scheme: str
    category: str


class Recommendation(ProductRef):
    score: float = Field(description="0–100")
    rate_bp: int | None = Field(description="Indicative annual cost in basis points")
    basis: str = Field(description="profile, need, or project:<id>")
    factors: list[FactorOut]


class NearMiss(ProductRef):
    failures: list[GateOut] = Field(description="What fails, and what would make it eligible")
    also_offered_by: list[str] = Field(
        default_factory=list,
        description="Other banks offering the same scheme, missed for the same reasons",
    )


class Notice(BaseModel):
    code: str = Field(examples=["qualification_expired"])
    message: str = Field(examples=["高新技术企业资质已于 2026-10-26 到期，续期后可申请 3 个产品"])


class Recommendations(BaseModel):
    enterprise_id: int
    need_id: int | None = None
    as_of: date
    config_version: int
    items: list[Recommendation]
    near_misses: list[NearMiss] = Field(
        description="At most five products missed only for reasons the enterprise can change "
        "soon, closest first, each with what to do"
    )
    notices: list[Notice] = Field(
        default_factory=list,
        description="out_of_service_area (nothing is recommended and no lead is made), "
        "qualification_expired (and how many products renewing it opens)",
    )


class Explanation(ProductRef):
    enterprise_id: int
    need_id: int | None
    as_of: date
    config_version: int
    eligible: bool
    score: float | None
    rate_bp: int | None
    factors: list[FactorOut]
    failures: list[GateOut]


class ProspectNeed(BaseModel):
    amount_fen: int
    term_months: int
    purpose: str
    collateral: list[str]
    wanted_by_date: date | None


class Prospect(BaseModel):
    """A library enterprise that fits the product. Its public facts (who it is, where, what it
    does, its listed qualifications) always; its private facts (figures, credit grade) only with
    its consent to the product's bank. A posted need whose enterprise consented to neither is
    shown anonymously: the need without who it is."""

    prospect_id: str = Field(description="Stable reference for asking to contact the enterprise")
    basis: str = Field(description="need (a posted financing need) or profile")
    score: float
    rank: int
    consented: bool = Field(
        description="The bank may see the enterprise's private facts, or the need's details "
        "with who posted it"
    )
    anonymous: bool = Field(
        default=False,
        description="A need shown without who posted it (no consent): ask to contact it",
    )
    cluster_code: str | None
    district_code: str | None
    size_class: str | None
    qualification_codes: list[str]
    registered_in_wuxi: bool
    need: ProspectNeed | None = None
    enterprise_id: int | None = Field(default=None, description="Null when anonymous")
    enterprise_name: str | None = Field(default=None, description="Null when anonymous")
    credit_code: str | None = Field(default=None, description="Null when anonymous")
    industry_code: str | None = Field(default=None, description="Null when anonymous")
    employees: int | None = Field(default=None, description="Only with consent")
    revenue_fen: int | None = Field(default=None, description="Only with consent")
    total_assets_fen: int | None = Field(default=None, description="Only with consent")
    credit_grade: str | None = Field(default=None, description="Only with consent")


class PurposeOut(BaseModel):
    code: str = Field(examples=["equipment"])
    name: str = Field(examples=["设备购置"])
    parent: str | None = Field(examples=["project"])
    accepted_by: list[str] = Field(
        description="Products accepting any of these accept this purpose",
        examples=[["equipment", "project"]],
    )


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


class PurposeNode(SQLModel):
    name: str = Field(min_length=1, max_length=50)
    parent: str | None = Field(default=None, max_length=32)


class ScoringSettings(SQLModel):
    """Weights and thresholds of the scoring; a new version replaces the one in force."""

    weights: dict[str, BodyInt] = Field(
        description="Points per factor (sector, industry, size, need, qualification, cost, "
        "policy); they add up to 100.",
        examples=[
            {
                "sector": 20,
                "industry": 10,
                "size": 10,
                "need": 20,
                "qualification": 10,
                "cost": 10,
                "policy": 20,
            }
        ],
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

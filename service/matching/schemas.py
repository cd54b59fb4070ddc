"""What the matching API returns."""

from datetime import date

from pydantic import BaseModel, Field

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

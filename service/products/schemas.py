"""The catalogue's API shapes: what a bank or a product is created, changed and shown as.

The tables they mirror, and the stored shapes of a product's content (eligibility, rate,
fees), are in ``models``; the rules that check a product's content against the reference
data are in ``service``."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.types import BodyInt, IsoDate
from service.products.models import (
    BankBase,
    BankKind,
    Collateral,
    Eligibility,
    Fee,
    ProductCategory,
    ProductSpec,
    ProductStatus,
    Purpose,
    RateSpec,
    TermUnit,
)

# --- banks --------------------------------------------------------------------------------


class BankCreate(BankBase):
    code: str = Field(
        min_length=2,
        max_length=32,
        schema_extra={"pattern": r"^[a-z0-9][a-z0-9_-]*$", "examples": ["jsbank-wx"]},
    )


class BankUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=2, max_length=100)
    short_name: str | None = Field(default=None, min_length=1, max_length=30)
    kind: BankKind | None = None
    bridge_fund_partner: bool | None = None
    address: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=200)


class BankPublic(BankBase):
    code: str
    created_at: datetime
    updated_at: datetime


# --- products -----------------------------------------------------------------------------


class ProductCreate(ProductSpec):
    code: str = Field(
        min_length=2,
        max_length=64,
        schema_extra={"pattern": r"^[a-z0-9][a-z0-9_-]*$", "examples": ["jsbank-xikedai"]},
    )
    bank_code: str = Field(max_length=32, schema_extra={"examples": ["jsbank-wx"]})
    rate: RateSpec


class ProductUpdate(SQLModel):
    """Fields sent replace the current ones in a new version; `status` withdraws or restores."""

    name: str | None = Field(default=None, min_length=2, max_length=100)
    category: ProductCategory | None = None
    scheme: str | None = Field(default=None, max_length=32)
    description: str | None = Field(default=None, max_length=2000)
    eligibility: Eligibility | None = None
    amount_min_fen: BodyInt | None = Field(default=None, ge=0)
    amount_max_fen: BodyInt | None = Field(default=None, ge=0)
    term_unit: TermUnit | None = None
    term_min: BodyInt | None = Field(default=None, ge=1)
    term_max: BodyInt | None = Field(default=None, ge=1)
    rate: RateSpec | None = None
    collateral_types: list[Collateral] | None = None
    purposes: list[Purpose] | None = None
    fees: list[Fee] | None = None
    effective_from: IsoDate | None = None
    effective_to: IsoDate | None = None
    is_sample: bool | None = None
    source: str | None = Field(default=None, max_length=300)
    status: ProductStatus | None = None


class ProductPublic(ProductSpec):
    code: str
    bank_code: str
    bank_name: str | None = None
    version: int
    current_version: int
    status: ProductStatus
    rate: RateSpec
    created_at: datetime
    updated_at: datetime
    version_created_at: datetime

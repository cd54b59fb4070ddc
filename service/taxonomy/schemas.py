"""What the reference-data API reads and answers: clusters (and the clusters a free text
matches), districts, qualification types, ownership types (and the office's change of which
count as 民营), the size table (and a classification of figures by it) and LPR rates."""

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from service.taxonomy.models import (
    ClusterBase,
    DistrictBase,
    LprRateBase,
    OwnershipTypeBase,
    QualificationTypeBase,
    SizeIndustryBase,
    SizeThresholdBase,
)


class ClusterPublic(ClusterBase):
    pass


class ClusterMatch(BaseModel):  # a cluster a free text was matched to
    code: str
    name: str
    score: float
    matched_keywords: list[str]


class DistrictPublic(DistrictBase):
    pass


class QualificationTypePublic(QualificationTypeBase):
    pass


class OwnershipTypePublic(OwnershipTypeBase):
    pass


class OwnershipTypeUpdate(SQLModel):
    """Only whether the type counts as 民营; its name and order follow the reference file."""

    private: bool | None = Field(default=None, schema_extra={"examples": [True]})


class SizeClassification(BaseModel):  # figures classified by the size table
    industry_code: str
    size_class: str | None
    size_industry_key: str | None
    reason: str


class SizeStandardPublic(SizeIndustryBase):
    thresholds: list[SizeThresholdBase]


class LprRatePublic(LprRateBase):
    pass

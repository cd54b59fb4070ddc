"""What the lists and releases API reads and answers."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.core.types import BodyInt
from service.lists.models import Decision, ImportStatus, Match


class ImportPublic(BaseModel):
    id: int
    qualification_type: str
    title: str
    source: str | None
    batch: str | None
    issued_date: date | None
    expires_date: date | None
    filename: str | None
    checksum: str = Field(description="SHA-256 of the file; the same file is the same import")
    status: ImportStatus
    rows: int
    counts: dict[str, int] = Field(description="Entries by how they were linked")
    created_by: str
    created_at: datetime
    committed_by: str | None
    committed_at: datetime | None
    duplicate: bool = Field(
        default=False, description="This file had been imported before: nothing changed"
    )


class CandidatePublic(BaseModel):
    enterprise_id: int
    name: str
    normalized: str
    score: float
    reasons: list[str] = Field(default_factory=list, description="What lowered the score")


class EntryPublic(BaseModel):
    id: int
    import_id: int
    row: int
    raw_name: str | None
    normalized: str | None = Field(description="The name as compared")
    credit_code: str | None
    district_code: str | None
    batch: str | None
    issued_date: date | None
    expires_date: date | None
    match: Match
    score: float | None
    enterprise_id: int | None
    candidates: list[CandidatePublic]
    errors: list[dict[str, Any]]
    decision: Decision | None
    decided_by: str | None
    decided_at: datetime | None
    applied_qualification_id: int | None
    project_name: str | None = Field(description="Key-project lists: the project named")
    project_investment_fen: int | None
    project_year: int | None
    applied_project_id: int | None = Field(description="The project in the project library")
    version: int


class Confirmation(BaseModel):
    enterprise_id: BodyInt = Field(ge=1, le=2_147_483_647, description="Usually a candidate's")


class EntryCreate(BaseModel):
    credit_code: str | None = Field(default=None, max_length=40, description="If the list had none")
    name: str | None = Field(default=None, min_length=2, max_length=200)
    district_code: str | None = Field(default=None, max_length=32)
    cluster_code: str | None = Field(default=None, max_length=32)
    industry_code: str | None = Field(default=None, max_length=8)


class ReleaseCreate(BaseModel):
    note: str | None = Field(default=None, max_length=500)


WITHHELD = (
    "consent_withdrawn: the enterprise shared its private facts with banks when the release "
    "was published and has withdrawn that consent since, so they (and its projects that are "
    "on no key-project list) are no longer given to banks; delete what you hold of them. The "
    "public facts stay. They show again if the enterprise consents again. Null otherwise"
)


class TierPublic(BaseModel):
    """Which fields of each kind of item are public facts (every bank) and which private
    (a bank only with the enterprise's consent)."""

    public: dict[str, list[str]] = Field(
        examples=[{"enterprise": ["id", "credit_code", "name"], "project": ["id", "name"]}]
    )
    private: dict[str, list[str]] = Field(
        examples=[{"enterprise": ["revenue_fen", "contacts"], "project": ["description"]}]
    )


class ReleasePublic(BaseModel):
    number: int
    as_of: date
    enterprises: int = Field(
        description="Enterprises in the release: every bank gets the public facts of each"
    )
    projects: int = Field(
        description="What the caller gets: the office, all in the release; a bank, the listed "
        "projects (public facts) and those of consenting enterprises, less those withheld since"
    )
    shared_enterprises: int = Field(
        description="Enterprises that consented to share their private facts when published"
    )
    shared_projects: int = Field(description="Projects of those enterprises")
    consented_enterprises: int = Field(
        default=0, description="The same as shared_enterprises: how many consented"
    )
    public_projects: int = Field(
        default=0, description="Projects on a key-project list: their public facts reach banks"
    )
    private_projects: int = Field(
        default=0,
        description="Projects on no list, of consenting enterprises: banks get them by consent",
    )
    tiers: TierPublic | None = Field(
        default=None, description="Which fields every bank gets, and which only by consent"
    )
    checksum: str = Field(
        description="SHA-256 over the caller's view of the release as published, in order"
    )
    withheld_since_consent_withdrawn: int = Field(
        default=0,
        description="A bank: enterprises of the release whose consent to share with banks was "
        "withdrawn after publication, whose private facts it no longer gets (0 for the office)",
    )
    withheld_projects_since_consent_withdrawn: int = Field(
        default=0,
        description="A bank: those enterprises' projects without public facts, withheld whole",
    )
    withheld_note: str | None = Field(
        default=None, description="What was withheld and why, in Chinese (null: nothing)"
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="The office: what banks will not see in this release, and why",
    )
    note: str | None
    created_by: str
    created_at: datetime


class ReleaseItemPublic(BaseModel):
    kind: str = Field(description="enterprise | project")
    id: int
    data: dict[str, Any] | None = Field(
        description="The item as published, in the caller's tiers (a bank: the public facts, "
        "and the private ones with consent); null when a bank may see nothing of it"
    )
    withheld: Literal["consent_withdrawn"] | None = Field(default=None, description=WITHHELD)


class ChangePublic(BaseModel):
    kind: str
    id: int
    change: str = Field(description="added | removed | changed")
    fields: list[str] = Field(default_factory=list, description="changed: which fields")
    data: dict[str, Any] | None = Field(description="added and changed: the new item")
    withheld: Literal["consent_withdrawn"] | None = Field(
        default=None, description="removed: why, when it is " + WITHHELD
    )

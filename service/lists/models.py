"""Imported lists and their entries (how each name was linked, and who decided), and the
numbered, immutable releases of the libraries with their items."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import BigId, JSONType, UTCDateTime, utcnow


class ImportStatus(StrEnum):
    preview = "preview"  # linked and shown; nothing applied yet
    committed = "committed"  # qualifications applied to the linked enterprises


class Match(StrEnum):
    code = "code"  # the credit code is in the library
    auto = "auto"  # the name, above the automatic threshold and unambiguous
    review = "review"  # the name, between the thresholds (or ambiguous): the office decides
    new = "new"  # no library name close enough: proposed as a new entry
    invalid = "invalid"  # the row itself is unusable (no name, a bad credit code …)


class Decision(StrEnum):
    confirmed = "confirmed"  # the office linked it to an enterprise
    rejected = "rejected"  # the office said none of the candidates is it
    created = "created"  # added to the library from the list


class ListImport(SQLModel, table=True):
    __tablename__ = "list_import"
    __table_args__ = (
        # The same file for the same list is the same import: re-importing changes nothing.
        UniqueConstraint("qualification_type", "checksum"),
    )

    id: int | None = Field(default=None, primary_key=True)
    qualification_type: str = Field(foreign_key="qualification_type.code", max_length=32)
    title: str = Field(max_length=200)
    source: str | None = Field(default=None, max_length=200)
    batch: str | None = Field(default=None, max_length=100)
    issued_date: date | None = None
    expires_date: date | None = None
    filename: str | None = Field(default=None, max_length=200)
    checksum: str = Field(max_length=64)  # sha256 of the file
    status: ImportStatus = Field(default=ImportStatus.preview, sa_type=String(16))
    rows: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    committed_by: str | None = Field(default=None, max_length=64)
    committed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ListEntry(SQLModel, table=True):
    __tablename__ = "list_entry"
    __table_args__ = (
        UniqueConstraint("import_id", "row"),
        Index("ix_list_entry_match_decision", "match", "decision"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    import_id: int = Field(foreign_key="list_import.id", ondelete="CASCADE")
    row: int  # spreadsheet row number (the header is row 1)
    raw_name: str | None = Field(default=None, max_length=300)
    credit_code: str | None = Field(default=None, max_length=18)
    district_code: str | None = Field(default=None, max_length=32)
    batch: str | None = Field(default=None, max_length=100)
    issued_date: date | None = None
    expires_date: date | None = None
    normalized: str | None = Field(default=None, max_length=300)
    match: Match = Field(sa_type=String(16))
    score: float | None = None
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    candidates: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    decision: Decision | None = Field(default=None, sa_type=String(16))
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_qualification_id: int | None = Field(default=None, foreign_key="qualification.id")
    # key-project lists: the project the row names, added to the project library on apply
    project_name: str | None = Field(default=None, max_length=200)
    project_investment_fen: int | None = Field(default=None, sa_type=BigInteger)
    project_year: int | None = None
    applied_project_id: int | None = Field(default=None, foreign_key="project.id")
    version: int = 1


class LibraryRelease(SQLModel, table=True):
    """A published, immutable snapshot of the enterprise and project libraries."""

    __tablename__ = "library_release"

    number: int = Field(primary_key=True)
    as_of: date
    enterprises: int
    projects: int
    shared_enterprises: int  # consented to share their private facts with banks
    shared_projects: int  # of enterprises that consented
    public_projects: int = 0  # on a key-project list: every bank sees their public facts
    private_projects: int = 0  # shared, and not on a list: banks see them only by consent
    checksum: str = Field(max_length=64)  # sha256 over the items, in order
    shared_checksum: str = Field(max_length=64)  # the same over what banks saw at publication
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReleaseItem(SQLModel, table=True):
    __tablename__ = "release_item"
    __table_args__ = (UniqueConstraint("release_number", "kind", "item_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    release_number: int = Field(foreign_key="library_release.number", ondelete="CASCADE")
    kind: str = Field(max_length=16)  # enterprise | project
    item_id: int
    shared: bool  # the enterprise consented to share its private facts with banks
    digest: str = Field(max_length=64)  # of data: public and private facts
    # of the public facts alone; null: the item has none (a project on no key-project list)
    public_digest: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))

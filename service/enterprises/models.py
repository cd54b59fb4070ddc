"""The tables of the enterprise library (企业库), the project library (项目库) and their
bulk imports, with the enums of their stored values. The API's request and response shapes are
in ``schemas``; each ``XBase`` here holds the fields a table shares with its shapes."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import BigId, JSONType, UTCDateTime, utcnow
from service.core.types import BodyInt, IsoDate

# --- qualifications -----------------------------------------------------------------------


class QualificationBase(SQLModel):
    type_code: str = Field(
        foreign_key="qualification_type.code",
        max_length=32,
        schema_extra={"examples": ["high_tech"]},
    )
    issued_date: IsoDate = Field(schema_extra={"examples": ["2024-12-01"]})
    expires_date: IsoDate | None = Field(
        default=None, description="Defaults to issued_date + the type's term of validity"
    )
    source: str | None = Field(
        default=None,
        max_length=200,
        schema_extra={"examples": ["江苏省2024年第一批高新技术企业名单"]},
    )


class Qualification(QualificationBase, table=True):
    __tablename__ = "qualification"
    __table_args__ = (UniqueConstraint("enterprise_id", "type_code", "issued_date"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- contacts -----------------------------------------------------------------------------


class ContactBase(SQLModel):
    name: str = Field(min_length=1, max_length=50, schema_extra={"examples": ["王敏"]})
    title: str | None = Field(default=None, max_length=50, schema_extra={"examples": ["财务总监"]})
    phone: str | None = Field(
        default=None, max_length=30, schema_extra={"examples": ["0510-85212345"]}
    )
    email: str | None = Field(default=None, max_length=120)
    is_primary: bool = False


class Contact(ContactBase, table=True):
    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE", index=True)


# --- enterprises --------------------------------------------------------------------------


class ConsentSource(StrEnum):
    """Who recorded an enterprise's choice about sharing its private facts with banks."""

    enterprise = "enterprise"  # the enterprise itself, on its pages or with its API key
    office_form = "office_form"  # the office, from the enterprise's signed 入库申报 form


class EnterpriseBase(SQLModel):
    name: str = Field(
        min_length=2, max_length=200, schema_extra={"examples": ["无锡华光电子股份有限公司"]}
    )
    district_code: str | None = Field(
        default=None,
        foreign_key="district.code",
        max_length=32,
        schema_extra={"examples": ["xinwu"]},
    )
    industry_code: str | None = Field(
        default=None,
        max_length=5,
        description="GB/T 4754-2017 code, e.g. C3973",
        schema_extra={"examples": ["C3973"]},
    )
    cluster_code: str | None = Field(
        default=None, foreign_key="cluster.code", max_length=32, schema_extra={"examples": ["ic"]}
    )
    chain_tag: str | None = Field(
        default=None, max_length=64, description="Industrial chain tag kept by the office"
    )
    employees: BodyInt | None = Field(default=None, ge=0, schema_extra={"examples": [260]})
    revenue_fen: BodyInt | None = Field(
        default=None,
        ge=0,
        sa_type=BigInteger,
        description="Annual operating revenue in fen (分)",
        schema_extra={"examples": [18_500_000_000]},
    )
    total_assets_fen: BodyInt | None = Field(
        default=None,
        ge=0,
        sa_type=BigInteger,
        description="Total assets in fen (分)",
        schema_extra={"examples": [32_000_000_000]},
    )
    established_date: IsoDate | None = Field(
        default=None, schema_extra={"examples": ["2009-06-18"]}
    )
    credit_grade: str | None = Field(
        default=None,
        max_length=4,
        description="City credit rating, AAA … D",
        schema_extra={"examples": ["A"]},
    )
    ownership: str | None = Field(
        default=None,
        foreign_key="ownership_type.code",
        max_length=16,
        description="Ownership (控股情况), a code of /reference/ownership-types; null: unknown",
        schema_extra={"examples": ["private"]},
    )
    share_with_banks: bool = Field(
        default=False,
        description="The enterprise consents to banks seeing its private facts (figures, "
        "credit grade, contacts, financing needs) in the library releases and prospects. Its "
        "public facts (who it is, where, what it does, its listed qualifications) are shared "
        "without it. Recorded by the enterprise itself, or by the office from a signed "
        "入库申报 form (`consent_form_ref`); the enterprise's own later choice always wins",
    )


class Enterprise(EnterpriseBase, table=True):
    __tablename__ = "enterprise"
    __table_args__ = (
        Index("ix_enterprise_cluster_code_id", "cluster_code", "id"),
        Index("ix_enterprise_district_code_id", "district_code", "id"),
        Index("ix_enterprise_size_class_id", "size_class", "id"),
        Index("ix_enterprise_ownership_id", "ownership", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(max_length=18, unique=True)
    name_normalized: str = Field(max_length=200, index=True)
    registered_area_code: str = Field(max_length=6)
    registered_in_wuxi: bool
    size_class: str | None = Field(default=None, sa_type=String(16))
    size_industry_key: str | None = Field(default=None, max_length=32)
    # How the choice in share_with_banks was recorded (null: never recorded, not shared)
    consent_source: ConsentSource | None = Field(default=None, sa_type=String(16))
    consent_recorded_by: str | None = Field(default=None, max_length=64)
    consent_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_form_ref: str | None = Field(default=None, max_length=100)
    consent_form_signed_on: date | None = None
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# --- projects -----------------------------------------------------------------------------


class ProjectKind(StrEnum):
    tech_transformation = "tech_transformation"  # 技术改造
    intelligent_digital = "intelligent_digital"  # 智能化改造数字化转型
    rnd = "rnd"  # 研发
    capacity_expansion = "capacity_expansion"  # 扩产
    green_upgrade = "green_upgrade"  # 绿色化改造
    new_build = "new_build"  # 新建
    other = "other"


class ProjectStatus(StrEnum):
    planned = "planned"
    approved = "approved"  # 已备案/立项
    under_construction = "under_construction"
    completed = "completed"
    suspended = "suspended"


class ProjectBase(SQLModel):
    name: str = Field(
        min_length=2,
        max_length=200,
        schema_extra={"examples": ["12英寸功率器件产线智能化改造项目"]},
    )
    kind: ProjectKind = Field(sa_type=String(32))
    cluster_code: str | None = Field(
        default=None, foreign_key="cluster.code", max_length=32, schema_extra={"examples": ["ic"]}
    )
    total_investment_fen: BodyInt = Field(
        ge=0, sa_type=BigInteger, schema_extra={"examples": [120_000_000_000]}
    )
    equipment_investment_fen: BodyInt | None = Field(default=None, ge=0, sa_type=BigInteger)
    financing_need_fen: BodyInt | None = Field(
        default=None, ge=0, sa_type=BigInteger, schema_extra={"examples": [30_000_000_000]}
    )
    year: BodyInt = Field(ge=2000, le=2100, schema_extra={"examples": [2026]})
    status: ProjectStatus = Field(default=ProjectStatus.planned, sa_type=String(32))
    description: str | None = Field(default=None, max_length=2000)
    listed_in: str | None = Field(
        default=None,
        max_length=200,
        description="The government key-project list (重点项目名单) the project is on; a listed "
        "project's name, unit, year and investment are public facts, shared with every bank",
        schema_extra={"examples": ["2026年无锡市重大产业项目名单"]},
    )


class Project(ProjectBase, table=True):
    __tablename__ = "project"
    __table_args__ = (Index("ix_project_cluster_code_id", "cluster_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE", index=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- bulk imports -------------------------------------------------------------------------


class ImportKind(StrEnum):
    enterprise = "enterprise"  # rows of the enterprise library, by credit code
    project = "project"  # rows of the project library, by unit credit code and project name


class ImportStatus(StrEnum):
    preview = "preview"  # every row checked and compared; nothing applied yet
    committed = "committed"  # the good rows applied, in one transaction


class RowAction(StrEnum):
    create = "create"
    update = "update"
    unchanged = "unchanged"
    rejected = "rejected"


class LibraryImport(SQLModel, table=True):
    """A spreadsheet of the enterprise or project library, previewed, then committed."""

    __tablename__ = "library_import"

    id: int | None = Field(default=None, primary_key=True)
    kind: ImportKind = Field(sa_type=String(16))
    filename: str | None = Field(default=None, max_length=200)
    checksum: str = Field(max_length=64)  # sha256 of the file
    status: ImportStatus = Field(default=ImportStatus.preview, sa_type=String(16))
    rows: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    applied: dict[str, int] | None = Field(default=None, sa_column=Column(JSONType))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    committed_by: str | None = Field(default=None, max_length=64)
    committed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LibraryImportRow(SQLModel, table=True):
    """One data row of an import: what the file says (``values``), and what it does to the
    library (``action``, ``changes``), or why it cannot (``errors``). Written in bulk."""

    __tablename__ = "library_import_row"
    __table_args__ = (
        UniqueConstraint("import_id", "row"),
        Index("ix_library_import_row_import_id_action_id", "import_id", "action", "id"),
        Index("ix_library_import_row_import_id_key", "import_id", "key"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    import_id: int = Field(foreign_key="library_import.id", ondelete="CASCADE")
    row: int  # as the spreadsheet numbers it (the header is row 1)
    # what identifies the row's subject: the credit code (and ":" and the project's name)
    key: str | None = Field(default=None, max_length=240)
    credit_code: str | None = Field(default=None, max_length=40)  # as written when invalid
    label: str | None = Field(default=None, max_length=200)  # the enterprise's or project's name
    action: RowAction = Field(sa_type=String(16))
    # of the outcome (action, changes, errors, warnings): the commit rewrites a row only when
    # the library changed since the preview and the row's outcome with it
    digest: str = Field(max_length=40)
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    changes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )

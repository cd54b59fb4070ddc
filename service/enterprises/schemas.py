"""The API's shapes of the enterprise library (企业库), the project library (项目库) and their
bulk imports: what is sent to create or change an enterprise, a qualification, a contact or a
project, and what is answered. The tables are in ``models``. A shape checks what it can on its
own (lengths, ranges, the credit grade's spelling); the rules that need the reference data or
the library are in the use cases (``service``, ``projects``, ``consent``)."""

from datetime import date, datetime
from typing import Any

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from service.core.types import BodyInt, IsoDate
from service.enterprises.models import (
    ConsentSource,
    ContactBase,
    EnterpriseBase,
    ImportKind,
    ImportStatus,
    ProjectBase,
    ProjectKind,
    ProjectStatus,
    QualificationBase,
    RowAction,
)
from service.taxonomy.grades import normalize_grade

CREDIT_CODE_EXAMPLE = "91320200134757148J"


def _grade(value: str | None) -> str | None:
    if value is None:
        return None
    grade = normalize_grade(value)
    if grade is None:
        raise ValueError("信用等级应为 AAA、AA+、AA … B-、CCC、CC、C、D 之一")
    return grade


def _consent_form_ref() -> Any:
    """The field a consent recorded by the office comes with (on create and update alike)."""
    return Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Office: the reference of the signed 入库申报 form on which the enterprise "
        "gave (or withdrew) its consent; required when the office records consent",
        schema_extra={"examples": ["锡金融入库〔2026〕0123号"]},
    )


def _consent_form_signed_on() -> Any:
    return Field(
        default=None,
        description="Office: the date the form was signed; required with `consent_form_ref`",
        schema_extra={"examples": ["2026-11-20"]},
    )


# --- qualifications -----------------------------------------------------------------------


class QualificationCreate(QualificationBase):
    pass


class QualificationPublic(QualificationBase):
    id: int
    name: str | None = None
    valid_today: bool | None = None


# --- contacts -----------------------------------------------------------------------------


class ContactCreate(ContactBase):
    email: str | None = Field(
        default=None,
        max_length=120,
        schema_extra={
            "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            "examples": ["wangmin@example.com"],
        },
    )


class ContactPublic(ContactBase):
    id: int


# --- enterprises --------------------------------------------------------------------------


class EnterpriseCreate(EnterpriseBase):
    credit_code: str = Field(
        min_length=1, max_length=40, schema_extra={"examples": [CREDIT_CODE_EXAMPLE]}
    )
    registration_type: str | None = Field(
        default=None,
        max_length=100,
        description="企业登记注册类型 (e.g. 私营有限责任公司, 中外合资经营企业): read only when "
        "`ownership` is not sent, to derive it; not stored",
        schema_extra={"examples": ["私营有限责任公司"]},
    )
    consent_form_ref: str | None = _consent_form_ref()
    consent_form_signed_on: IsoDate | None = _consent_form_signed_on()
    qualifications: list[QualificationCreate] = Field(default_factory=list)
    contacts: list[ContactCreate] = Field(default_factory=list)

    @field_validator("credit_grade")
    @classmethod
    def _check_grade(cls, value: str | None) -> str | None:
        return _grade(value)


class EnterpriseUpdate(SQLModel):
    """Only the fields sent change; `qualifications` and `contacts`, when sent, replace the lists.
    The credit code identifies the enterprise and cannot change."""

    name: str | None = Field(default=None, min_length=2, max_length=200)
    district_code: str | None = Field(default=None, max_length=32)
    industry_code: str | None = Field(default=None, max_length=5)
    cluster_code: str | None = Field(default=None, max_length=32)
    chain_tag: str | None = Field(default=None, max_length=64)
    employees: BodyInt | None = Field(default=None, ge=0)
    revenue_fen: BodyInt | None = Field(default=None, ge=0)
    total_assets_fen: BodyInt | None = Field(default=None, ge=0)
    established_date: IsoDate | None = None
    credit_grade: str | None = Field(default=None, max_length=4)
    ownership: str | None = Field(default=None, max_length=16)
    registration_type: str | None = Field(
        default=None,
        max_length=100,
        description="企业登记注册类型: read only when `ownership` is not sent, to derive it",
    )
    qualifications: list[QualificationCreate] | None = None
    contacts: list[ContactCreate] | None = None
    share_with_banks: bool | None = None
    consent_form_ref: str | None = _consent_form_ref()
    consent_form_signed_on: IsoDate | None = _consent_form_signed_on()

    @field_validator("credit_grade")
    @classmethod
    def _check_grade(cls, value: str | None) -> str | None:
        return _grade(value)


class ConsentPublic(SQLModel):
    """How the enterprise's choice about sharing its private facts was recorded."""

    given: bool
    source: ConsentSource | None = Field(
        description="enterprise (its own choice) or office_form (recorded by the office from "
        "a signed 入库申报 form); null: never recorded"
    )
    recorded_by: str | None
    recorded_at: datetime | None
    form_ref: str | None
    form_signed_on: date | None


class EnterprisePublic(EnterpriseBase):
    id: int
    credit_code: str
    registered_area_code: str
    registered_in_wuxi: bool = Field(
        description="False flags an enterprise registered outside Wuxi"
    )
    size_class: str | None = Field(description="Derived from the size table and the figures")
    size_industry_key: str | None
    size_reason: str | None = None
    cluster_tier: str | None = None
    ownership_name: str | None = Field(
        default=None, description="The ownership type's name, e.g. 私人控股; null: unknown"
    )
    is_private: bool | None = Field(
        default=None,
        description="Counts as 民营企业 (by the office's mapping of ownership types); "
        "null when the ownership is unknown",
    )
    consent: ConsentPublic | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    qualifications: list[QualificationPublic] = Field(default_factory=list)
    contacts: list[ContactPublic] = Field(default_factory=list)


class EnterpriseSummary(SQLModel):
    """A list row: the figures without contacts."""

    id: int
    credit_code: str
    name: str
    district_code: str | None
    industry_code: str | None
    cluster_code: str | None
    chain_tag: str | None
    size_class: str | None
    registered_in_wuxi: bool
    credit_grade: str | None
    ownership: str | None = None
    qualification_codes: list[str] = Field(
        default_factory=list, description="Types valid on the filter date (today)"
    )
    match_score: float | None = Field(default=None, description="Name-search score, 0–100")
    updated_at: datetime


# --- projects -----------------------------------------------------------------------------


class ProjectCreate(ProjectBase):
    enterprise_id: BodyInt


class ProjectUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=2, max_length=200)
    kind: ProjectKind | None = None
    cluster_code: str | None = Field(default=None, max_length=32)
    total_investment_fen: BodyInt | None = Field(default=None, ge=0)
    equipment_investment_fen: BodyInt | None = Field(default=None, ge=0)
    financing_need_fen: BodyInt | None = Field(default=None, ge=0)
    year: BodyInt | None = Field(default=None, ge=2000, le=2100)
    status: ProjectStatus | None = None
    description: str | None = Field(default=None, max_length=2000)
    listed_in: str | None = Field(default=None, max_length=200)


class ProjectPublic(ProjectBase):
    id: int
    enterprise_id: int
    enterprise_name: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


# --- bulk imports -------------------------------------------------------------------------


class ImportProblem(SQLModel):
    field: str = Field(description="The column's field, e.g. credit_code, revenue_fen")
    code: str = Field(description="Machine-readable, e.g. invalid_credit_code_checksum")
    message: str = Field(description="In Chinese, with the row number as the spreadsheet shows it")


class FieldChange(SQLModel):
    field: str = Field(
        description="A library field (employees, revenue_fen …), or qualifications / contact"
    )
    old: Any = Field(description="Before (null: none); a qualification or contact as an object")
    new: Any


class ImportPublic(SQLModel):
    id: int
    kind: ImportKind
    filename: str | None
    checksum: str = Field(description="SHA-256 of the file")
    status: ImportStatus
    rows: int = Field(description="Data rows read (blank rows skipped)")
    counts: dict[str, int] = Field(
        description="The preview: rows by action (create, update, unchanged, rejected) and "
        "rows with warnings"
    )
    applied: dict[str, int] | None = Field(
        description="Once committed: rows by action as applied against the library then"
    )
    created_by: str
    created_at: datetime
    committed_by: str | None
    committed_at: datetime | None


class ImportRowPublic(SQLModel):
    id: int
    row: int = Field(description="The row's number as the spreadsheet shows it (header: 1)")
    credit_code: str | None
    label: str | None = Field(description="The enterprise's (or project's) name in the file")
    action: RowAction
    subject_id: int | None = Field(description="The enterprise (or project) in the library")
    changes: list[FieldChange] = Field(
        description="update: each field that differs, old → new; create: the values"
    )
    errors: list[ImportProblem] = Field(description="rejected: every reason")
    warnings: list[ImportProblem] = Field(
        description="Applied all the same, but a part was skipped (e.g. consent decided later "
        "by the enterprise itself)"
    )

"""The enterprise and project libraries as spreadsheets (CSV for Excel, XLSX).

The office's export of the live library has the columns and headers that the library import
reads, so that a file exported and imported again changes nothing: districts, clusters,
ownership types and qualifications by the names the reference data gives them, money in 万元
to the fen, the primary contact in the contact columns, qualifications as
"高新技术企业 2024-12-01；…", and a consent with the signed 入库申报 form it was recorded
from. Columns that the import does not read (企业规模, 资质有效期至, 其他联系人, 共享授权说明 …)
tell people the rest. The release exports (``lists.exports``) show the same fields through
the same columns.

Rows are read a batch at a time, each batch in a session of its own (``open_session``), so an
export of half a million enterprises holds one batch in memory, and no transaction (on
SQLite: the write lock) for longer than a batch takes."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.exports import Format, OpenSession, Spreadsheet, check_fits
from service.core.models import today_local
from service.core.settings import get_settings
from service.enterprises import import_columns, queries
from service.taxonomy import service as taxonomy
from service.taxonomy.industry import SECTION_NAMES
from service.taxonomy.sizing import SIZE_LABEL

Kind = Literal["enterprise", "project"]
BATCH = 1000
LIBRARY_NAME = {"enterprise": "企业库", "project": "项目库"}

# How the import names a project's kind and status (the first of the names it reads).
PROJECT_KIND_LABEL = {code: names[0] for code, names in import_columns.PROJECT_KINDS.items()}
PROJECT_STATUS_LABEL = {code: names[0] for code, names in import_columns.PROJECT_STATUSES.items()}


def header(key: str, unit: str = "", project: bool = False) -> str:
    """The import's name for a column (``import_columns.LABEL``), with its unit: 营业收入（万元）."""
    return (import_columns.PROJECT_LABEL if project else import_columns.LABEL)[key] + unit


# --- names ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """The names of the reference data, by code: what people read instead of codes."""

    district: Mapping[str, str] = field(default_factory=dict)
    cluster: Mapping[str, str] = field(default_factory=dict)
    ownership: Mapping[str, str] = field(default_factory=dict)
    qualification: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "Names":
        return cls(
            district={d.code: d.name for d in taxonomy.list_districts(session)},
            cluster={c.code: c.name for c in taxonomy.list_clusters(session)},
            ownership={o.code: o.name for o in taxonomy.list_ownership_types(session)},
            qualification={q.code: q.name for q in taxonomy.list_qualification_types(session)},
        )


def industry_section(code: str | None) -> str | None:
    """The GB/T 4754 section a code lies in, by name: "C3973" → 制造业."""
    return SECTION_NAMES.get(code[0]) if code else None


# --- cells ----------------------------------------------------------------------------------


def wan(fen: int | None) -> Decimal | None:
    """Fen as 万元, exactly (to the fen: six decimals at most, none that are not needed)."""
    if fen is None:
        return None
    value = (Decimal(fen) / 1_000_000).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _local_day(at: datetime | None) -> str:
    return at.astimezone(ZoneInfo(get_settings().timezone)).date().isoformat() if at else ""


def qualifications_text(items: Sequence[Mapping[str, Any]] | None, names: Names) -> str | None:
    """Each qualification by name with its issue date, as the import reads them:
    "高新技术企业 2024-12-01；江苏省专精特新中小企业 2025-03-01"."""
    if not items:
        return None
    return "；".join(
        f"{names.qualification.get(q['type_code'], q['type_code'])} {day(q['issued_date'])}"
        for q in items
    )


def qualifications_expiry_text(
    items: Sequence[Mapping[str, Any]] | None, names: Names
) -> str | None:
    """Until when each is valid, in the same order: "高新技术企业 2027-11-30；…" (长期 when
    the type has no term)."""
    if not items:
        return None
    return "；".join(
        f"{names.qualification.get(q['type_code'], q['type_code'])} "
        f"{day(q.get('expires_date')) or '长期'}"
        for q in items
    )


def contact_text(contact: Mapping[str, Any]) -> str:
    """李华（财务经理，0510-81234567，lihua@example.com）"""
    details = [contact.get(k) for k in ("title", "phone", "email")]
    shown = "，".join(str(d) for d in details if d)
    return f"{contact['name']}（{shown}）" if shown else str(contact["name"])


def contacts_text(contacts: Sequence[Mapping[str, Any]] | None) -> str | None:
    """Every contact, the primary one first, in one cell."""
    if not contacts:
        return None
    ordered = sorted(contacts, key=lambda c: not c.get("is_primary"))
    return "；".join(contact_text(c) for c in ordered)


def primary_contact(contacts: Sequence[Mapping[str, Any]] | None) -> Mapping[str, Any]:
    """The primary contact (else the first): the one the import's contact columns hold."""
    if not contacts:
        return {}
    return next((c for c in contacts if c.get("is_primary")), contacts[0])


def other_contacts(contacts: Sequence[Mapping[str, Any]] | None) -> str | None:
    primary = primary_contact(contacts)
    rest = [c for c in contacts or () if c is not primary]
    return "；".join(contact_text(c) for c in rest) or None


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("是" if value else "否")


def _consent_on_form(data: Mapping[str, Any]) -> bool:
    """Recorded by the office from a signed form: the import's consent columns hold it. A
    choice the enterprise made itself has no form, and a row that said 是 without one would
    be refused: it is told in 共享授权说明 only."""
    return data.get("consent_source") == "office_form" and bool(data.get("consent_form_ref"))


def consent_text(data: Mapping[str, Any]) -> str:
    given = "同意" if data.get("share_with_banks") else "不同意"
    source = data.get("consent_source")
    if source == "office_form":
        return (
            f"{given}（入库申报表 {data.get('consent_form_ref')}，"
            f"{data.get('consent_form_signed_on')} 签署，金融办登记）"
        )
    if source == "enterprise":
        return f"{given}（企业本人于 {_local_day(data.get('consent_recorded_at'))} 选择）"
    return "未登记（不向银行共享非公开信息）"


# --- columns --------------------------------------------------------------------------------

# kind → the XLSX number format of the column
NUMBER_FORMATS = {"int": "#,##0", "wan": "#,##0.00", "year": "0"}


@dataclass(frozen=True)
class Column:
    """A column of an export: its header, and its cell from an item (a dict with the fields of
    a release item, ``lists.releases``) and the reference names."""

    header: str
    value: Callable[[Mapping[str, Any], Names], Any]
    kind: str = "text"  # text | int | wan | year | date
    width: int | None = None
    field: str | None = None  # the library field shown (its tier decides who sees it)

    @property
    def number_format(self) -> str | None:
        return NUMBER_FORMATS.get(self.kind)


def _get(name: str) -> Callable[[Mapping[str, Any], Names], Any]:
    return lambda d, _: d.get(name)


def _named(name: str, of: str) -> Callable[[Mapping[str, Any], Names], Any]:
    def value(d: Mapping[str, Any], names: Names) -> Any:
        code = d.get(name)
        return getattr(names, of).get(code, code) if code else None

    return value


def _wan(name: str) -> Callable[[Mapping[str, Any], Names], Any]:
    return lambda d, _: wan(d.get(name))


def _contact_field(name: str) -> Callable[[Mapping[str, Any], Names], Any]:
    return lambda d, _: primary_contact(d.get("contacts")).get(name)


CREDIT_CODE = Column(header("credit_code"), _get("credit_code"), width=22, field="credit_code")
NAME = Column(header("name"), _get("name"), width=36, field="name")
DISTRICT = Column(header("district"), _named("district_code", "district"), field="district_code")
INDUSTRY_CODE = Column(header("industry_code"), _get("industry_code"), field="industry_code")
INDUSTRY = Column(
    "行业门类", lambda d, _: industry_section(d.get("industry_code")), field="industry_code"
)
CLUSTER = Column(
    header("cluster"), _named("cluster_code", "cluster"), width=20, field="cluster_code"
)
CHAIN = Column(header("chain_tag"), _get("chain_tag"), field="chain_tag")
OWNERSHIP = Column(header("ownership"), _named("ownership", "ownership"), field="ownership")
ESTABLISHED = Column(
    header("established_date"),
    lambda d, _: day(d.get("established_date")),
    "date",
    12,
    "established_date",
)
SIZE = Column(
    "企业规模", lambda d, _: SIZE_LABEL.get(d.get("size_class") or ""), field="size_class"
)
QUALIFICATIONS = Column(
    header("qualifications"),
    lambda d, n: qualifications_text(d.get("qualifications"), n),
    width=40,
    field="qualifications",
)
QUALIFICATIONS_EXPIRY = Column(
    "资质有效期至",
    lambda d, n: qualifications_expiry_text(d.get("qualifications"), n),
    width=40,
    field="qualifications",
)
EMPLOYEES = Column(header("employees", "（人）"), _get("employees"), "int", field="employees")
REVENUE = Column(header("revenue", "（万元）"), _wan("revenue_fen"), "wan", 16, "revenue_fen")
ASSETS = Column(
    header("total_assets", "（万元）"), _wan("total_assets_fen"), "wan", 16, "total_assets_fen"
)
GRADE = Column(header("credit_grade"), _get("credit_grade"), field="credit_grade")
CONTACTS = Column(
    "联系人", lambda d, _: contacts_text(d.get("contacts")), width=40, field="contacts"
)

# The columns the import reads, in its order, and what it leaves to people.
LIVE_ENTERPRISE_COLUMNS: tuple[Column, ...] = (
    CREDIT_CODE,
    NAME,
    DISTRICT,
    INDUSTRY_CODE,
    CLUSTER,
    CHAIN,
    OWNERSHIP,
    EMPLOYEES,
    REVENUE,
    ASSETS,
    ESTABLISHED,
    GRADE,
    Column(header("contact_name"), _contact_field("name"), field="contacts"),
    Column(header("contact_title"), _contact_field("title"), field="contacts"),
    Column(header("contact_phone"), _contact_field("phone"), width=16, field="contacts"),
    Column(header("contact_email"), _contact_field("email"), width=24, field="contacts"),
    QUALIFICATIONS,
    Column(
        header("consent"),
        lambda d, _: yes_no(d.get("share_with_banks")) if _consent_on_form(d) else None,
    ),
    Column(
        header("consent_form_ref"),
        lambda d, _: d.get("consent_form_ref") if _consent_on_form(d) else None,
        width=24,
    ),
    Column(
        header("consent_form_signed_on"),
        lambda d, _: day(d.get("consent_form_signed_on")) if _consent_on_form(d) else None,
        "date",
        14,
    ),
    INDUSTRY,
    SIZE,
    QUALIFICATIONS_EXPIRY,
    Column("其他联系人", lambda d, _: other_contacts(d.get("contacts")), width=40),
    Column("共享授权说明", lambda d, _: consent_text(d), width=36),
)

PROJECT_UNIT_CODE = Column(header("credit_code", project=True), _get("unit_credit_code"), width=22)
PROJECT_UNIT = Column(
    header("unit_name", project=True), _get("enterprise_name"), width=36, field="enterprise_name"
)
PROJECT_NAME = Column(header("name", project=True), _get("name"), width=36, field="name")
PROJECT_KIND = Column(
    header("kind", project=True),
    lambda d, _: PROJECT_KIND_LABEL.get(d.get("kind") or "", d.get("kind")),
    field="kind",
)
PROJECT_CLUSTER = Column(
    header("cluster", project=True),
    _named("cluster_code", "cluster"),
    width=20,
    field="cluster_code",
)
PROJECT_TOTAL = Column(
    header("total_investment", "（万元）", True),
    _wan("total_investment_fen"),
    "wan",
    16,
    "total_investment_fen",
)
PROJECT_EQUIPMENT = Column(
    header("equipment_investment", "（万元）", True),
    _wan("equipment_investment_fen"),
    "wan",
    16,
    "equipment_investment_fen",
)
PROJECT_NEED = Column(
    header("financing_need", "（万元）", True),
    _wan("financing_need_fen"),
    "wan",
    16,
    "financing_need_fen",
)
PROJECT_YEAR = Column(header("year", project=True), _get("year"), "year", field="year")
PROJECT_STATUS = Column(
    header("status", project=True),
    lambda d, _: PROJECT_STATUS_LABEL.get(d.get("status") or "", d.get("status")),
    field="status",
)
PROJECT_DESCRIPTION = Column(
    header("description", project=True), _get("description"), width=40, field="description"
)
PROJECT_LIST = Column(
    header("listed_in", project=True), _get("listed_in"), width=30, field="listed_in"
)

LIVE_PROJECT_COLUMNS: tuple[Column, ...] = (
    PROJECT_UNIT_CODE,
    PROJECT_UNIT,
    PROJECT_NAME,
    PROJECT_KIND,
    PROJECT_CLUSTER,
    PROJECT_TOTAL,
    PROJECT_EQUIPMENT,
    PROJECT_NEED,
    PROJECT_YEAR,
    PROJECT_STATUS,
    PROJECT_DESCRIPTION,
    PROJECT_LIST,
)


# --- exports --------------------------------------------------------------------------------


def spreadsheet(
    fmt: Format,
    filename: str,
    ascii_filename: str,
    title: str,
    columns: Sequence[Column],
    lines: Callable[[], Iterator[Sequence[Any]]],
) -> Spreadsheet:
    return Spreadsheet(
        fmt=fmt,
        filename=filename,
        ascii_filename=ascii_filename,
        title=title,
        header=[c.header for c in columns],
        lines=lines,
        number_formats=[c.number_format for c in columns],
        widths=[c.width for c in columns],
    )


def library_export(
    session: Session, principal: Principal, kind: Kind, fmt: Format, open_session: OpenSession
) -> Spreadsheet:
    """The live enterprise or project library, for the office, as the import reads it."""
    require(principal, Role.office)
    check_fits(fmt, queries.library_size(session, kind))
    names = Names.load(session)
    columns = LIVE_ENTERPRISE_COLUMNS if kind == "enterprise" else LIVE_PROJECT_COLUMNS
    read = _enterprise_batch if kind == "enterprise" else _project_batch

    def lines() -> Iterator[list[Any]]:
        for item in batches(open_session, read):
            yield [c.value(item, names) for c in columns]

    release_request_session(session)
    today = today_local().isoformat()
    english = "enterprises" if kind == "enterprise" else "projects"
    return spreadsheet(
        fmt,
        f"{LIBRARY_NAME[kind]}_{today}.{fmt}",
        f"finmatch-{english}-{today}.{fmt}",
        LIBRARY_NAME[kind],
        columns,
        lines,
    )


def release_request_session(session: Session) -> None:
    """The rows are read by sessions of their own while they are sent: the request's session
    ends its transaction first (on SQLite every transaction holds the write lock, and the
    request's is kept until the answer is sent)."""
    session.rollback()


def batches(
    open_session: OpenSession, read: Callable[[Session, int], list[dict[str, Any]]]
) -> Iterator[dict[str, Any]]:
    """Every item, by id, a batch at a time, each batch read in a session of its own."""
    after = 0
    while True:
        with open_session() as session:
            batch = read(session, after)
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1]["id"]


def _enterprise_batch(session: Session, after: int) -> list[dict[str, Any]]:
    rows = queries.enterprise_batch(session, after, BATCH)
    if not rows:
        return []
    ids = [r.id for r in rows]
    qualifications = queries.qualifications_by_enterprise(session, ids)
    contacts = queries.contacts_by_enterprise(session, ids)
    return [
        {
            **r._asdict(),
            "consent_source": str(r.consent_source) if r.consent_source else None,
            "qualifications": qualifications.get(r.id, []),
            "contacts": contacts.get(r.id, []),
        }
        for r in rows
    ]


def _project_batch(session: Session, after: int) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "enterprise_id": p.enterprise_id,
            "unit_credit_code": unit_credit_code,
            "enterprise_name": enterprise_name,
            "name": p.name,
            "kind": str(p.kind),
            "cluster_code": p.cluster_code,
            "total_investment_fen": p.total_investment_fen,
            "equipment_investment_fen": p.equipment_investment_fen,
            "financing_need_fen": p.financing_need_fen,
            "year": p.year,
            "status": str(p.status),
            "description": p.description,
            "listed_in": p.listed_in,
        }
        for p, enterprise_name, unit_credit_code in queries.projects_after(session, after, BATCH)
    ]

"""Reading the enterprise library and the project library from a spreadsheet (CSV or XLSX)
into rows of what the file says. Pure: no database; the reference data comes in as
``References``, and which column holds what is read from the header by ``import_columns``.

Amounts may carry their unit in the header or in the cell ("3000万", "1.2亿元"); an amount
with no unit at all is refused, never guessed. A blank cell says nothing: the row's ``values``
hold only what the file states. Every row is checked on its own and a rejected row carries
every reason, each message naming the row as the spreadsheet shows it, so one pass over the
report fixes the file. A consent comes with its signed 入库申报 form (number and date)."""

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from service.core import tables
from service.core.tables import (
    CellError,
    FileError,
    blank,
    cell_count,
    cell_date,
    cell_money_fen,
    cell_text,
    cell_word,
    cell_yes_no,
)
from service.enterprises.import_columns import (
    _KIND_ALIASES,
    _STATUS_ALIASES,
    LABEL,
    MONEY_FIELD,
    PROJECT_LABEL,
    Column,
    alias,
    map_headers,
)
from service.taxonomy.credit_code import CreditCodeError, parse_credit_code
from service.taxonomy.grades import normalize_grade
from service.taxonomy.industry import IndustryCodeError, normalize_industry_code
from service.taxonomy.ownership import ownership_from_registration_type
from service.taxonomy.sizing import SizeRow, find_row

MAX_ROWS = 100_000  # data rows of one file
# The reader's limits, with room for the header row above the data rows.
LIMITS = replace(tables.LIMITS, rows=MAX_ROWS + 1)
EMPLOYEES_MAX = 10_000_000


# --- reference data -------------------------------------------------------------------------


@dataclass(frozen=True)
class References:
    """The reference data a row is read against, by the forms a spreadsheet names them."""

    districts: Mapping[str, str]  # "新吴区", "新吴", "xinwu", "320214" -> xinwu
    district_of_area: Mapping[str, str]  # area code -> district code
    clusters: Mapping[str, str]  # alias -> code
    ownership: Mapping[str, str]  # alias -> code
    qualifications: Mapping[str, str]  # alias -> code
    qualification_names: Mapping[str, str]  # code -> name
    terms: Mapping[str, int | None]  # qualification code -> term in months
    size_rows: Sequence[SizeRow]
    today: date
    _size_rows_of: dict[str, Sequence[SizeRow]] = field(default_factory=dict, compare=False)

    def size_rows_for(self, industry_code: str | None) -> Sequence[SizeRow]:
        """The size table's row for the industry alone, or the whole table (which the size
        class's reason reads when the code is outside it): found once per code."""
        if not industry_code:
            return self.size_rows
        found = self._size_rows_of.get(industry_code)
        if found is None:
            row = find_row(industry_code, self.size_rows)
            found = self._size_rows_of[industry_code] = [row] if row else self.size_rows
        return found


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class Row:
    """One data row: what the file says about its subject (``values``, JSON-able, only the
    cells it fills), and every reason it cannot be used."""

    line: int  # as the spreadsheet numbers it (the header is row 1)
    project: bool = False  # a row of the project library
    credit_code: str | None = None  # valid and canonical
    written_code: str | None = None  # as written
    label: str | None = None  # the enterprise's or project's name, for people
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def reject(self, field_name: str, code: str, message: str) -> None:
        self.errors.append(Problem(field_name, code, f"第 {self.line} 行：{message}"))

    def warn(self, field_name: str, code: str, message: str) -> None:
        self.warnings.append(Problem(field_name, code, f"第 {self.line} 行：{message}"))

    @property
    def key(self) -> str | None:
        """What identifies the subject in the library: the credit code, and for a project
        ":" and its name (the code has a fixed length, so this never mistakes one for
        another)."""
        if self.credit_code is None:
            return None
        if not self.project:
            return self.credit_code
        name = self.values.get("name")
        return None if name is None else f"{self.credit_code}:{name}"


def read_rows(rows: Iterator[list[Any]], kind: str, refs: References) -> Iterator[Row]:
    """Every data row of a table whose first row is the header, read and checked."""
    try:
        header = next(rows)
    except StopIteration:
        raise FileError("empty_file", "文件是空的") from None
    yield from parse_rows(rows, map_headers(header, kind, refs), kind, refs)


def parse_rows(
    rows: Iterable[list[Any]], columns: Mapping[int, Column], kind: str, refs: References
) -> Iterator[Row]:
    """The data rows below the header (row 2 on; blank rows skipped), read and checked."""
    parse = parse_enterprise if kind == "enterprise" else parse_project
    units = {c.key: c.unit for c in columns.values()}
    wanted = sorted((i, c.key) for i, c in columns.items())
    for number, raw in enumerate(rows, start=2):
        width = len(raw)
        cells: dict[str, Any] = {}
        for i, key in wanted:
            if i >= width:
                break
            value = raw[i]
            if value is not None and (value.__class__ is not str or value.strip()):
                cells[key] = value
        if cells or not all(blank(v) for v in raw):
            yield parse(number, cells, units, refs)


class _Cells:
    """A row's filled cells by column key, read each with the reader that fits, a failure
    rejecting the row with the column's field."""

    def __init__(
        self,
        row: Row,
        cells: Mapping[str, Any],
        units: Mapping[str, str | None],
        labels: Mapping[str, str],
    ) -> None:
        self.row = row
        self.cells = cells
        self.units = units
        self.labels = labels

    def get(self, key: str) -> Any:
        return self.cells.get(key)

    def read(self, key: str, field_name: str, reader: Callable[[Any], Any]) -> Any:
        value = self.get(key)
        if value is None:
            return None
        try:
            return reader(value)
        except CellError as exc:
            label = self.labels.get(key, key)
            message = exc.message if exc.message.startswith(label) else f"{label}：{exc.message}"
            self.row.reject(field_name, exc.code, message)
        except ValueError as exc:  # a reader's own refusal, already in words
            self.row.reject(field_name, f"invalid_{field_name}", str(exc))
        return None

    def text(self, key: str, field_name: str, limit: int) -> str | None:
        return self.read(key, field_name, lambda v: cell_text(v, limit))

    def money(self, key: str) -> int | None:
        if key not in self.cells:
            return None
        unit, label = self.units.get(key), self.labels[key]
        return self.read(key, MONEY_FIELD[key], lambda v: cell_money_fen(v, unit, label))

    def day(self, key: str, field_name: str, today: date) -> str | None:
        label = self.labels[key]

        def read(value: Any) -> str:
            try:
                day = _iso_day(value) or cell_date(value)
            except ValueError:
                raise CellError(
                    "invalid_date", f"{label}「{value}」不是有效日期（如 2026-03-31）"
                ) from None
            if day > today:
                raise CellError("date_in_future", f"{label}「{value}」晚于今天")
            if day.year < 1900:
                raise CellError("invalid_date", f"{label}「{value}」早于 1900 年，请核对")
            return day.isoformat()

        return self.read(key, field_name, read)

    def choice(
        self, key: str, field_name: str, known: Mapping[str, str], hint: Callable[[], str]
    ) -> Any:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value in known:  # as the reference data spells it
            return known[value]
        label = self.labels[key]

        def read(value: Any) -> str:
            text = cell_text(value) or ""
            code = known.get(alias(text))
            if code is None:
                raise CellError(
                    f"unknown_{field_name.removesuffix('_code')}",
                    f"{label}「{text}」无法识别；{hint()}",
                )
            return code

        return self.read(key, field_name, read)


def _iso_day(value: Any) -> date | None:
    """2026-03-31 as text, the common case, read at once; else None (``cell_date`` reads it)."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _credit_code(row: Row, cells: _Cells) -> None:
    written = cells.text("credit_code", "credit_code", 40)
    row.written_code = written
    if written is None:
        if not row.errors:
            row.reject("credit_code", "missing_credit_code", "缺少统一社会信用代码")
        return
    try:
        row.credit_code = parse_credit_code(written).value
    except CreditCodeError as exc:
        row.reject("credit_code", exc.code, f"统一社会信用代码「{written}」：{exc.message}")


def _names(known: Mapping[str, str], sample: int = 8) -> str:
    names = sorted({n for n in known if not n.isascii()}, key=len)
    return "、".join(names[:sample])


def parse_enterprise(
    line: int, found: Mapping[str, Any], units: Mapping[str, str | None], refs: References
) -> Row:
    row = Row(line)
    cells = _Cells(row, found, units, LABEL)
    values = row.values
    _credit_code(row, cells)
    name = cells.text("name", "name", 200)
    if name is not None:
        row.label = name
        if len(name) < 2:
            row.reject("name", "invalid_name", f"企业名称「{name}」过短")
        else:
            values["name"] = name
    values["district_code"] = cells.choice(
        "district",
        "district_code",
        refs.districts,
        lambda: "应为区县名称（如 新吴区、江阴市）或区划代码",
    )
    values["industry_code"] = cells.read("industry_code", "industry_code", _industry)
    values["cluster_code"] = cells.choice(
        "cluster",
        "cluster_code",
        refs.clusters,
        lambda: f"应为产业集群名称，如 {_names(refs.clusters)}",
    )
    values["chain_tag"] = cells.text("chain_tag", "chain_tag", 64)
    values["ownership"] = cells.choice(
        "ownership", "ownership", refs.ownership, lambda: f"应为 {_names(refs.ownership, 6)} 之一"
    )
    registration = cells.text("registration_type", "registration_type", 100)
    if values["ownership"] is None and registration and "ownership" not in _rejected(row):
        derived = ownership_from_registration_type(registration)
        if derived in refs.ownership.values():
            values["ownership"] = derived
        else:
            row.warn(
                "registration_type",
                "undetermined_ownership",
                f"无法从登记注册类型「{registration}」判断控股情况，控股情况未导入（可填写「控股情况」列）",
            )
    values["employees"] = cells.read(
        "employees", "employees", lambda v: cell_count(v, "从业人员", EMPLOYEES_MAX)
    )
    values["revenue_fen"] = cells.money("revenue")
    values["total_assets_fen"] = cells.money("total_assets")
    values["established_date"] = cells.day("established_date", "established_date", refs.today)
    values["credit_grade"] = cells.read("credit_grade", "credit_grade", _grade)
    _contact(row, cells)
    _qualifications(row, cells, found, refs)
    _consent(row, cells, refs)
    row.values = {k: v for k, v in values.items() if v is not None}
    return row


def _rejected(row: Row) -> set[str]:
    return {e.field for e in row.errors}


def _industry(value: Any) -> str:
    text = cell_text(value) or ""
    try:
        return normalize_industry_code(text)
    except IndustryCodeError as exc:
        raise CellError("invalid_industry_code", str(exc).rstrip("。")) from None


def _grade(value: Any) -> str:
    text = cell_text(value) or ""
    grade = normalize_grade(text)
    if grade is None:
        raise CellError(
            "invalid_credit_grade", f"信用等级「{text}」应为 AAA、AA+、AA … B-、CCC、CC、C、D 之一"
        )
    return grade


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _contact(row: Row, cells: _Cells) -> None:
    name = cells.text("contact_name", "contact_name", 50)
    title = cells.text("contact_title", "contact_title", 50)
    phone = cells.text("contact_phone", "contact_phone", 30)
    email = cells.text("contact_email", "contact_email", 120)
    if email is not None and not _EMAIL.match(email):
        row.reject("contact_email", "invalid_email", f"邮箱「{email}」格式不对")
        email = None
    if name is None:
        if (title or phone or email) and "contact_name" not in _rejected(row):
            row.reject(
                "contact_name",
                "missing_contact_name",
                "填写了联系人的职务、电话或邮箱，但缺少联系人姓名",
            )
        return
    contact = {"name": name, "title": title, "phone": phone, "email": email}
    row.values["contact"] = {k: v for k, v in contact.items() if v is not None}


_ITEM_SEPARATORS = re.compile(r"[;；,，、\n]+")
_ITEM = re.compile(
    r"^(?P<name>.*?)[\s:：(（]*(?P<day>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{8})[)）]?$"
)


def _qualifications(row: Row, cells: _Cells, found: Mapping[str, Any], refs: References) -> None:
    """The 资质 column ("高新技术企业 2024-12-01；专精特新中小企业 2025-03-01") and the
    columns named by a qualification type, holding its issue date."""
    held: list[tuple[str, str]] = []
    listed = cells.get("qualifications")
    if listed is not None:
        text = cell_text(listed) or ""
        for item in _ITEM_SEPARATORS.split(unicodedata.normalize("NFKC", text)):
            item = item.strip()
            if not item:
                continue
            match = _ITEM.match(item)
            if match is None:
                row.reject(
                    "qualifications",
                    "missing_qualification_date",
                    f"资质「{item}」缺少认定日期（如「高新技术企业 2024-12-01」）",
                )
                continue
            code = refs.qualifications.get(alias(match.group("name")))
            if code is None:
                row.reject(
                    "qualifications",
                    "unknown_qualification",
                    f"资质「{match.group('name').strip()}」无法识别；应为 "
                    f"{'、'.join(list(refs.qualification_names.values())[:6])} 等",
                )
                continue
            day = _issued(row, match.group("day"), refs)
            if day is not None:
                held.append((code, day))
    for key, value in found.items():
        if not key.startswith("qualification:"):
            continue
        code = key.partition(":")[2]
        day = _issued(row, value, refs, refs.qualification_names.get(code, code))
        if day is not None:
            held.append((code, day))
    if held:
        row.values["qualifications"] = sorted(set(held))


def _issued(row: Row, value: Any, refs: References, name: str | None = None) -> str | None:
    label = f"{name}的认定日期" if name else "资质的认定日期"
    try:
        day = cell_date(value)
    except ValueError:
        row.reject(
            "qualifications", "invalid_date", f"{label}「{value}」不是有效日期（如 2024-12-01）"
        )
        return None
    if day > refs.today:
        row.reject("qualifications", "date_in_future", f"{label}「{value}」晚于今天")
        return None
    return day.isoformat()


def _consent(row: Row, cells: _Cells, refs: References) -> None:
    """The enterprise's choice about sharing with banks, as its signed 入库申报 form records
    it: the office records a choice only from such a form, so its number and signing date
    come with it."""
    given = cells.read(
        "consent", "share_with_banks", lambda v: cell_yes_no(v, "是否同意向银行共享")
    )
    form_ref = cells.text("consent_form_ref", "consent_form_ref", 100)
    signed_on = cells.day("consent_form_signed_on", "consent_form_signed_on", refs.today)
    if given is None:
        if (form_ref or signed_on) and "share_with_banks" not in _rejected(row):
            row.reject(
                "share_with_banks",
                "consent_choice_required",
                "填写了申报表编号或签署日期，但没有说明企业是否同意向银行共享信息",
            )
        return
    missing = [
        label
        for label, value, key in (
            ("申报表编号", form_ref, "consent_form_ref"),
            ("申报表签署日期", signed_on, "consent_form_signed_on"),
        )
        if value is None and key not in _rejected(row)
    ]
    if missing:
        row.reject(
            "consent_form_ref" if form_ref is None else "consent_form_signed_on",
            "consent_form_required",
            f"登记企业是否同意向银行共享信息，须有企业签署的入库申报表：缺少{'和'.join(missing)}",
        )
        return
    if form_ref and signed_on:
        row.values["consent"] = {"given": given, "form_ref": form_ref, "form_signed_on": signed_on}


# --- projects -------------------------------------------------------------------------------


def _year(value: Any) -> int:
    text = cell_word(value).removesuffix("年")
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        raise CellError("invalid_year", f"年度「{value}」应为 2000 至 2100 之间的年份")
    return int(text)


def parse_project(
    line: int, found: Mapping[str, Any], units: Mapping[str, str | None], refs: References
) -> Row:
    row = Row(line, project=True)
    cells = _Cells(row, found, units, PROJECT_LABEL)
    values = row.values
    _credit_code(row, cells)
    name = cells.text("name", "name", 200)
    if name is None:
        if "name" not in _rejected(row):
            row.reject("name", "missing_project_name", "缺少项目名称")
    elif len(name) < 2:
        row.reject("name", "invalid_name", f"项目名称「{name}」过短")
    else:
        values["name"] = name
        row.label = name
    values["unit_name"] = cells.text("unit_name", "unit_name", 200)
    values["kind"] = cells.choice(
        "kind",
        "kind",
        _KIND_ALIASES,
        lambda: "应为 技术改造、智能化改造数字化转型、研发、扩产、绿色化改造、新建 或 其他",
    )
    values["cluster_code"] = cells.choice(
        "cluster",
        "cluster_code",
        refs.clusters,
        lambda: f"应为产业集群名称，如 {_names(refs.clusters)}",
    )
    for key in ("total_investment", "equipment_investment", "financing_need"):
        values[MONEY_FIELD[key]] = cells.money(key)
    values["year"] = cells.read("year", "year", _year)
    values["status"] = cells.choice(
        "status", "status", _STATUS_ALIASES, lambda: "应为 计划、已备案、在建、竣工 或 暂停"
    )
    values["description"] = cells.text("description", "description", 2000)
    values["listed_in"] = cells.text("listed_in", "listed_in", 200)
    row.values = {k: v for k, v in values.items() if v is not None}
    return row

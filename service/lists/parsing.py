"""Reading a government list (CSV or XLSX) into rows: a name, and where the list gives them a
credit code, a district, a batch and dates. Pure: no database.

Lists come in many shapes: a name column alone ("企业名称", "单位名称", "公司名称", "申报单位"
…), with a credit code, with a district ("所在地区", "区县"), a batch, dates. Headers are matched
loosely; a column that is not understood is ignored."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from service.core.tables import FileError, blank, cell_date, normalize_header
from service.taxonomy.credit_code import CreditCodeError, parse_credit_code

MAX_ROWS = 50_000

_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": (
        "企业名称",
        "单位名称",
        "公司名称",
        "名称",
        "申报单位",
        "申报企业",
        "企业",
        "单位",
        "企业全称",
        "项目单位",
        "建设单位",
        "项目建设单位",
        "实施单位",
        "承担单位",
        "name",
        "company",
        "companyname",
        "enterprisename",
    ),
    "credit_code": (
        "统一社会信用代码",
        "信用代码",
        "社会信用代码",
        "credit_code",
        "creditcode",
        "uscc",
    ),
    "district": (
        "所在地区",
        "所在地",
        "地区",
        "区县",
        "所属地区",
        "所属区县",
        "区域",
        "辖区",
        "district",
        "area",
    ),
    "batch": ("批次", "批次名称", "认定批次", "batch"),
    "issued_date": ("认定日期", "认定时间", "发证日期", "公示日期", "issued_date", "issued"),
    "expires_date": ("有效期至", "到期日期", "有效期截止", "expires_date", "expires"),
    # key-project lists
    "project_name": ("项目名称", "重点项目名称", "项目", "project_name", "project"),
    "investment:wan": (
        "总投资万元",
        "计划总投资万元",
        "项目总投资万元",
        "总投资",
        "计划总投资",
        "investment_wan",
    ),
    "investment:yi": ("总投资亿元", "计划总投资亿元", "项目总投资亿元", "investment_yi"),
    "year": ("年度", "计划年度", "项目年度", "year"),
}
_LOOKUP = {normalize_header(n): key for key, names in _COLUMNS.items() for n in names}
_BY_LENGTH = sorted((n for n in _LOOKUP if len(n) >= 2), key=len, reverse=True)
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def column_of(header: Any) -> str | None:
    """A header's column: exactly, without its bracketed remark ("单位名称（全称）"), or by
    the longest known name it starts with ("企业名称及简称")."""
    text = normalize_header(header)
    if text in _LOOKUP:
        return _LOOKUP[text]
    bare = normalize_header(_BRACKETED.sub("", str(header or "")))
    if bare in _LOOKUP:
        return _LOOKUP[bare]
    for name in _BY_LENGTH:
        if not name.isascii() and bare.startswith(name):
            return _LOOKUP[name]
    return None


@dataclass
class ListRow:
    line: int
    name: str | None = None
    credit_code: str | None = None
    district: str | None = None
    batch: str | None = None
    issued_date: date | None = None
    expires_date: date | None = None
    project_name: str | None = None
    investment_fen: int | None = None
    year: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def reject(self, field_name: str, code: str, message: str) -> None:
        self.errors.append({"field": field_name, "code": code, "message": message})


def map_headers(headers: list[Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for index, raw in enumerate(headers):
        key = column_of(raw)
        if key is not None and key.split(":")[0] not in {k.split(":")[0] for k in out.values()}:
            out[index] = key
    if "name" not in out.values() and "credit_code" not in out.values():
        raise FileError(
            "missing_columns",
            "找不到企业名称列（如「企业名称」「单位名称」）或统一社会信用代码列；表头须在前 10 行内",
            found=[str(h) for h in headers if not blank(h)],
        )
    return out


def parse_rows(rows: Iterator[list[Any]], header_scan: int = 10) -> list[ListRow]:
    """Rows after the header. Government spreadsheets often open with a title line ("2026年
    第一批…名单"): the header is the first of the first ``header_scan`` rows that names a
    known column."""
    seen: list[list[Any]] = []
    columns: dict[int, str] | None = None
    out: list[ListRow] = []
    for number, raw in enumerate(rows, start=1):
        if columns is None:
            seen.append(raw)
            try:
                columns = map_headers(raw)
            except FileError:
                if number >= header_scan:
                    map_headers(seen[0])  # raises, naming the first row's headers
            continue
        if all(blank(v) for v in raw):
            continue
        values = {key: raw[i] if i < len(raw) else None for i, key in columns.items()}
        row = parse_row(number, values)
        if row.name is None and row.credit_code is None and not row.errors:
            continue  # a footnote line under the table
        out.append(row)
        if len(out) > MAX_ROWS:
            raise FileError("too_many_rows", f"一份名单最多 {MAX_ROWS} 行")
    if columns is None:
        if not seen:
            raise FileError("empty_file", "文件是空的")
        map_headers(seen[0])
    return out


def parse_row(line: int, values: dict[str, Any]) -> ListRow:
    row = ListRow(line)
    name = _text(values.get("name"))
    if name is not None:
        if len(name) > 200:
            row.reject("name", "too_long", "企业名称不能超过 200 个字符")
        elif len(name) < 2:
            row.reject("name", "too_short", f"企业名称「{name}」过短")
        else:
            row.name = name
    code = _text(values.get("credit_code"))
    if code is not None:
        try:
            row.credit_code = parse_credit_code(code).value
        except CreditCodeError as exc:
            row.reject("credit_code", exc.code, f"统一社会信用代码 {code}：{exc.message}")
    if (
        row.name is None
        and row.credit_code is None
        and not row.errors
        and (values.get("name") is not None or values.get("credit_code") is not None)
    ):
        row.reject("name", "required", "缺少企业名称")
    row.district = _text(values.get("district"))
    row.batch = _text(values.get("batch"))
    row.issued_date = _date(values.get("issued_date"), "issued_date", "认定日期", row)
    row.expires_date = _date(values.get("expires_date"), "expires_date", "有效期", row)
    project = _text(values.get("project_name"))
    if project is not None:
        if len(project) > 200:
            row.reject("project_name", "too_long", "项目名称不能超过 200 个字符")
        else:
            row.project_name = project
    for key, value in values.items():
        if key.startswith("investment:") and not blank(value):
            row.investment_fen = _investment(value, key.split(":")[1], row)
    year = _text(values.get("year"))
    if year is not None:
        match = re.match(r"^(\d{4})(年|年度)?$", year)
        if match and 2000 <= int(match.group(1)) <= 2100:
            row.year = int(match.group(1))
        else:
            row.reject("year", "invalid_year", f"年度「{year}」应为如 2026 的年份")
    return row


_FEN_PER = {"wan": Decimal(1_000_000), "yi": Decimal(10_000_000_000)}


def _investment(value: Any, unit: str, row: ListRow) -> int | None:
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        row.reject("investment", "invalid_amount", f"总投资「{value}」不是有效金额")
        return None
    return int((number * _FEN_PER[unit]).to_integral_value())


def _text(value: Any) -> str | None:
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip() or None


def _date(value: Any, name: str, label: str, row: ListRow) -> date | None:
    if blank(value):
        return None
    try:
        return cell_date(value)
    except ValueError:
        pass
    row.reject(name, "invalid_date", f"{label}「{value}」不是有效日期")
    return None

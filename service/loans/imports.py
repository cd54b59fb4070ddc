"""Reading a bank's loan list (CSV or XLSX) into validated rows. Pure: no database; the
use case resolves enterprises, products and existing loans.

Headers may be Chinese or English, in any order, with full-width brackets and units:
"本金（万元）" and "principal_yuan" are both understood, and the unit is honoured. Every row
is checked on its own; a rejected row carries every reason, so one pass over the report fixes
the file."""

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from service.core.tables import (
    FEN_PER_UNIT,
    FileError,
    blank,
    cell_date,
    cell_decimal,
    normalize_header,
)
from service.taxonomy.credit_code import CreditCodeError, parse_credit_code

MAX_ROWS = 100_000
RATE_BP_MAX = 3000
PRINCIPAL_FEN_MAX = 10**15  # ten thousand billion yuan: anything above is a unit mistake


@dataclass(frozen=True)
class RowError:
    field: str
    code: str
    message: str


@dataclass
class LoanRow:
    line: int  # 1-based row number as a spreadsheet shows it (the header is row 1)
    contract_no: str | None = None
    credit_code: str | None = None
    enterprise_name: str | None = None
    bank_code: str | None = None
    product_code: str | None = None
    kind: str | None = None
    principal_fen: int | None = None
    rate_bp: int | None = None
    disbursed_date: date | None = None
    maturity_date: date | None = None
    status: str | None = None
    errors: list[RowError] = field(default_factory=list)

    def reject(self, field_name: str, code: str, message: str) -> None:
        self.errors.append(RowError(field_name, code, message))


# --- headers --------------------------------------------------------------------------------


# canonical column -> (names, unit) ; unit scales money (fen per unit) or marks a rate's form
_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "contract_no": (
        (
            "合同编号",
            "合同号",
            "借款合同编号",
            "借据号",
            "借据编号",
            "贷款编号",
            "contract_no",
            "contract",
            "loan_no",
        ),
        "",
    ),
    "credit_code": (
        (
            "统一社会信用代码",
            "信用代码",
            "借款人统一社会信用代码",
            "社会信用代码",
            "credit_code",
            "uscc",
        ),
        "",
    ),
    "enterprise_name": (
        (
            "企业名称",
            "借款人",
            "借款人名称",
            "借款企业",
            "客户名称",
            "enterprise_name",
            "name",
            "borrower",
        ),
        "",
    ),
    "bank_code": (("银行代码", "贷款银行", "银行", "bank_code", "bank"), ""),
    "product_code": (("产品代码", "产品", "贷款产品", "product_code", "product"), ""),
    "kind": (("贷款类型", "贷款种类", "类型", "贷款用途类型", "kind", "loan_kind", "type"), ""),
    "principal:fen": (("本金分", "金额分", "贷款金额分", "principal_fen", "amount_fen"), "fen"),
    "principal:yuan": (
        (
            "本金",
            "本金元",
            "金额",
            "金额元",
            "贷款金额",
            "贷款金额元",
            "放款金额",
            "放款金额元",
            "principal",
            "principal_yuan",
            "amount",
            "amount_yuan",
        ),
        "yuan",
    ),
    "principal:wan": (
        ("本金万元", "金额万元", "贷款金额万元", "放款金额万元", "principal_wan"),
        "wan",
    ),
    "rate:bp": (("利率基点", "rate_bp"), "bp"),
    "rate:percent": (
        (
            "利率",
            "年利率",
            "执行利率",
            "利率%",
            "年利率%",
            "执行利率%",
            "rate",
            "rate_percent",
            "interest_rate",
        ),
        "percent",
    ),
    "disbursed_date": (
        (
            "放款日",
            "放款日期",
            "发放日",
            "发放日期",
            "起始日",
            "起息日",
            "借款日期",
            "disbursed_date",
            "start_date",
        ),
        "",
    ),
    "maturity_date": (
        ("到期日", "到期日期", "贷款到期日", "maturity_date", "maturity", "end_date"),
        "",
    ),
    "status": (("状态", "贷款状态", "status"), ""),
}
_LOOKUP = {normalize_header(name): key for key, (names, _) in _COLUMNS.items() for name in names}
REQUIRED = ("contract_no", "credit_code", "principal", "rate", "disbursed_date", "maturity_date")
REQUIRED_LABEL = {
    "contract_no": "合同编号",
    "credit_code": "统一社会信用代码",
    "principal": "本金",
    "rate": "利率",
    "disbursed_date": "放款日",
    "maturity_date": "到期日",
}


def map_headers(headers: list[Any]) -> dict[int, str]:
    """Column index -> canonical key ("principal:wan" keeps its unit). Unknown columns are
    ignored; a column named twice is an error."""
    out: dict[int, str] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(headers):
        name = normalize_header(raw)
        key = _LOOKUP.get(name) or _LOOKUP.get(name.rstrip("%"))  # "利率(%)" is a rate too
        if key is None:
            continue
        base = key.split(":")[0]
        if base in seen:
            raise FileError(
                "duplicate_column",
                f"第 {seen[base] + 1} 列和第 {index + 1} 列都是「{REQUIRED_LABEL.get(base, base)}」，请只保留一列",
                columns=[seen[base] + 1, index + 1],
            )
        seen[base] = index
        out[index] = key
    missing = [REQUIRED_LABEL[k] for k in REQUIRED if k not in seen]
    if missing:
        raise FileError(
            "missing_columns",
            f"缺少必需的列：{'、'.join(missing)}（表头须在第一行）",
            missing=missing,
            found=[str(h) for h in headers if h is not None and str(h).strip()],
        )
    return out


# --- one row --------------------------------------------------------------------------------


def parse_rows(rows: Iterator[list[Any]]) -> tuple[list[LoanRow], int]:
    """Validate every row (blank rows skipped); returns the rows and the count read."""
    try:
        header = next(rows)
    except StopIteration:
        raise FileError("empty_file", "文件是空的") from None
    columns = map_headers(header)
    out: list[LoanRow] = []
    for number, raw in enumerate(rows, start=2):
        if all(blank(v) for v in raw):
            continue
        if len(out) >= MAX_ROWS:
            raise FileError("too_many_rows", f"一次最多导入 {MAX_ROWS} 行，请分批导入")
        values = {key: raw[i] if i < len(raw) else None for i, key in columns.items()}
        out.append(parse_row(number, values))
    return out, len(out)


def parse_row(line: int, values: dict[str, Any]) -> LoanRow:
    row = LoanRow(line)
    row.contract_no = _text(values.get("contract_no"), 64, "contract_no", "合同编号", row)
    if row.contract_no is None and not row.errors:
        row.reject("contract_no", "required", "缺少合同编号")
    code = _text(values.get("credit_code"), 40, "credit_code", "统一社会信用代码", row)
    if code is None:
        if not any(e.field == "credit_code" for e in row.errors):
            row.reject("credit_code", "required", "缺少统一社会信用代码")
    else:
        try:
            row.credit_code = parse_credit_code(code).value
        except CreditCodeError as exc:
            row.reject("credit_code", exc.code, f"统一社会信用代码 {code}：{exc.message}")
    row.enterprise_name = _text(
        values.get("enterprise_name"), 200, "enterprise_name", "企业名称", row
    )
    row.bank_code = _text(values.get("bank_code"), 32, "bank_code", "银行代码", row)
    row.product_code = _text(values.get("product_code"), 64, "product_code", "产品代码", row)
    row.kind = _kind(values.get("kind"), row)
    row.status = _status(values.get("status"), row)
    for key, value in values.items():
        if key.startswith("principal:"):
            row.principal_fen = _money(value, key.split(":")[1], row)
        elif key.startswith("rate:"):
            row.rate_bp = _rate(value, key.split(":")[1], row)
    row.disbursed_date = _date(values.get("disbursed_date"), "disbursed_date", "放款日", row)
    row.maturity_date = _date(values.get("maturity_date"), "maturity_date", "到期日", row)
    if row.disbursed_date and row.maturity_date and row.maturity_date <= row.disbursed_date:
        row.reject("maturity_date", "maturity_not_after_disbursement", "到期日须晚于放款日")
    return row


def _text(value: Any, limit: int, name: str, label: str, row: LoanRow) -> str | None:
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a spreadsheet cell
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if len(text) > limit:
        row.reject(name, "too_long", f"{label}不能超过 {limit} 个字符")
        return None
    return text


_KINDS = {
    "working_capital": "working_capital",
    "流动资金": "working_capital",
    "流动资金贷款": "working_capital",
    "流贷": "working_capital",
    "project": "project",
    "项目": "project",
    "项目贷款": "project",
    "固定资产贷款": "project",
    "固定资产": "project",
    "技改贷款": "project",
}
_STATUSES = {
    "active": "active",
    "正常": "active",
    "在贷": "active",
    "未结清": "active",
    "repaid": "repaid",
    "已结清": "repaid",
    "结清": "repaid",
    "已还款": "repaid",
}


def _kind(value: Any, row: LoanRow) -> str | None:
    if blank(value):
        return "working_capital"  # most SME loans; project loans say so
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text not in _KINDS:
        row.reject(
            "kind", "unknown_kind", f"贷款类型「{value}」无法识别；应为 流动资金 或 项目贷款"
        )
        return None
    return _KINDS[text]


def _status(value: Any, row: LoanRow) -> str | None:
    if blank(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text not in _STATUSES:
        row.reject("status", "unknown_status", f"贷款状态「{value}」无法识别；应为 正常 或 已结清")
        return None
    return _STATUSES[text]


def _number(value: Any) -> Decimal | None:
    """A number cell; typed text may end in 元 or % (the header's unit says which is meant)."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "").replace(" ", "")
        value = text.removesuffix("元").removesuffix("%")
    return cell_decimal(value)


def _money(value: Any, unit: str, row: LoanRow) -> int | None:
    if blank(value):
        row.reject("principal", "required", "缺少本金")
        return None
    number = _number(value)
    if number is None:
        row.reject("principal", "invalid_amount", f"本金「{value}」不是数字")
        return None
    fen = number * FEN_PER_UNIT[unit]
    if fen != fen.to_integral_value():
        row.reject("principal", "fraction_of_fen", f"本金「{value}」精确到分以下，请核对单位")
        return None
    if fen <= 0:
        row.reject("principal", "amount_not_positive", "本金须大于零")
        return None
    if fen > PRINCIPAL_FEN_MAX:
        row.reject("principal", "amount_too_large", f"本金「{value}」过大，请核对单位")
        return None
    return int(fen)


def _rate(value: Any, form: str, row: LoanRow) -> int | None:
    if blank(value):
        row.reject("rate", "required", "缺少利率")
        return None
    number = _number(value)
    if number is None:
        row.reject("rate", "invalid_rate", f"利率「{value}」不是数字")
        return None
    if form == "percent" and isinstance(value, float) and 0 < number < Decimal("0.3"):
        number *= 100  # a percent-formatted cell: 3.45% is stored as 0.0345
    bp = number * 100 if form == "percent" else number
    if bp != bp.to_integral_value():
        row.reject("rate", "rate_too_precise", f"利率「{value}」精确到基点（0.01%）以下")
        return None
    if not 0 <= bp <= RATE_BP_MAX:
        row.reject("rate", "rate_out_of_range", f"利率「{value}」应在 0% 至 30% 之间，请核对单位")
        return None
    return int(bp)


def _date(value: Any, name: str, label: str, row: LoanRow) -> date | None:
    if blank(value):
        row.reject(name, "required", f"缺少{label}")
        return None
    try:
        return cell_date(value)
    except ValueError:
        pass
    row.reject(name, "invalid_date", f"{label}「{value}」不是有效日期（如 2026-03-31）")
    return None

"""The quarterly report on requests (诉求) for the city's 季度交办会: one XLSX workbook with a
sheet per table of the request figures (``requests``) and a sheet of the open overdue
requests, sheet and column titles in Chinese. Every text cell goes through the formula guard
(``core.tables.export_cell``) and is stored as text, so an enterprise named
``=HYPERLINK(…)`` stays a name; numbers stay numbers, rates are shown as percentages."""

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.models import today_local
from service.core.settings import get_settings
from service.core.tables import export_cell
from service.metrics.numbers import ratio
from service.metrics.request_schemas import CountRow, OverdueItem, RatingRow, RequestReport
from service.metrics.requests import build_report, overdue_items, quarter_of, request_scope

PERCENT = "0.0%"
AVERAGE = "0.00"
DATE = "yyyy-mm-dd"
COUNT_HEADER = ("名称", "提出诉求（件）", "占比")
RATING_HEADER = ("名称", "评价数", "平均分", "其中线索评价", "其中诉求评价")
OVERDUE_HEADER = (
    "诉求编号",
    "企业名称",
    "诉求类型",
    "承办单位",
    "办理期限",
    "逾期天数",
    "督办时间",
)
OVERDUE_FORMATS = (None, None, None, None, DATE, None, "yyyy-mm-dd hh:mm")
SHEETS = (
    "概况",
    "按诉求类型",
    "按涉及银行",
    "按承办单位",
    "按区域",
    "满意度-按银行",
    "满意度-按产品",
    "满意度-按诉求类型",
    "逾期未办结",
)


def _text(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return export_cell(ILLEGAL_CHARACTERS_RE.sub("", value)) if isinstance(value, str) else value


def _sheet(
    book: Any,
    title: str,
    header: Sequence[str],
    lines: Sequence[Sequence[Any]],
    formats: Sequence[str | None] = (),
) -> None:
    """A bold, frozen header, then the lines; text stored as text (never a formula)."""
    from openpyxl.styles import Font

    sheet = book.create_sheet(title)
    for values in [list(header), *lines]:
        sheet.append([_text(v) for v in values])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, fmt in enumerate(formats, start=1):
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = fmt
    for index, title_text in enumerate(header, start=1):
        width = 36 if index == 1 or title_text in ("企业名称", "承办单位") else 14
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width


def _counts(rows: list[CountRow], total: int) -> list[list[Any]]:
    return [[r.label, r.raised, ratio(r.raised, total)] for r in rows] + [
        ["合计", total, ratio(total, total)]
    ]


def _ratings(rows: list[RatingRow]) -> list[list[Any]]:
    return [[r.label, r.ratings, r.average, r.lead_ratings, r.request_ratings] for r in rows]


def _local(at: datetime | None) -> datetime | None:
    """A timestamp as the Asia/Shanghai wall clock (Excel has no time zones)."""
    if at is None:
        return None
    return at.astimezone(ZoneInfo(get_settings().timezone)).replace(tzinfo=None)


def _period(report: RequestReport) -> str:
    scope = report.scope
    span = f"{scope.from_date.isoformat()} 至 {scope.to.isoformat()}"
    return f"{scope.quarter}（{span}）" if scope.quarter else span


SUMMARY_FORMATS = {
    "按期答复率": PERCENT,
    "重新打开率": PERCENT,
    "平均评分": AVERAGE,
    "制表日期": DATE,
}


def _summary(report: RequestReport) -> list[list[Any]]:
    on_time, closing, total = report.on_time, report.closing, report.satisfaction
    return [
        ["统计期间", _period(report), "诉求按提出日期、答复按答复日期、办结按办结日期计入"],
        ["制表日期", report.scope.as_of, "北京时间"],
        ["提出诉求（件）", report.raised, "期间内提出的全部诉求，含不予受理、合并、撤回"],
        ["期间答复（件）", on_time.answered, "最近一次答复在期间内的诉求"],
        ["按期答复（件）", on_time.on_time, "其中从未逾期（未被督办，且每次答复不晚于期限）"],
        ["按期答复率", on_time.rate, "按期答复 ÷ 期间答复"],
        ["期间办结（件）", closing.closed, "最近一次办结在期间内的诉求"],
        ["办结天数中位数", closing.median_days, "提出日期至办结日期的日历天数（北京时间）"],
        ["重新打开（件）", closing.reopened, "期间办结的诉求中曾被企业重新打开的"],
        ["重新打开率", closing.reopen_rate, "重新打开 ÷ 期间办结"],
        ["评价数", total.ratings, "期间内企业给出的评价（线索与诉求）"],
        ["平均评分", total.average, "1–5 分"],
        ["逾期未办结（件）", report.open_overdue, "制表日仍在承办、已过办理期限"],
    ]


def workbook(report: RequestReport, overdue: list[OverdueItem]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    _sheet(book, SHEETS[0], ("指标", "数值", "口径"), _summary(report))
    for row in book[SHEETS[0]].iter_rows(min_row=2, max_col=2):
        fmt = SUMMARY_FORMATS.get(str(row[0].value))
        if fmt:
            row[1].number_format = fmt
    counts = (
        ("诉求类型", report.by_kind),
        ("涉及银行", report.by_bank),
        ("承办单位", report.by_handler),
        ("区域", report.by_district),
    )
    for title, (first, rows) in zip(SHEETS[1:5], counts, strict=True):
        header = (first, *COUNT_HEADER[1:])
        _sheet(book, title, header, _counts(rows, report.raised), (None, None, PERCENT))
    ratings = (
        ("银行", report.satisfaction_by_bank),
        ("产品", report.satisfaction_by_product),
        ("诉求类型", report.satisfaction_by_kind),
    )
    for title, (first, table) in zip(SHEETS[5:8], ratings, strict=True):
        lines = _ratings([*table.rows, table.total])
        _sheet(book, title, (first, *RATING_HEADER[1:]), lines, (None, None, AVERAGE))
    lines = [
        [o.id, o.enterprise_name, o.kind_label, o.handler_name, o.due_date, o.days_overdue]
        + [_local(o.escalated_at)]
        for o in overdue
    ]
    _sheet(book, SHEETS[8], OVERDUE_HEADER, lines, OVERDUE_FORMATS)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def quarterly_workbook(
    session: Session, principal: Principal, quarter: str | None = None
) -> tuple[bytes, str]:
    """The workbook of one quarter (the current one by default), and its file name."""
    require(principal, Role.office)
    today = today_local()
    scope = request_scope(quarter, None, None, today)
    report = build_report(session, scope, today)
    content = workbook(report, overdue_items(session, today))
    return content, f"finmatch_requests_{scope.quarter or quarter_of(scope.from_date)}.xlsx"

"""The year's support-policy (政策直达) report as one XLSX workbook: 概况 (what each figure
means), 按政策, 按区县, 按产业集群 and 企业明细 (every current entitlement with its award).
Amounts are in 元 (to the fen), counts beside them. Text cells pass the formula guard and are
stored as text (``request_report._sheet``), so an enterprise named ``=HYPERLINK(…)`` stays a
name."""

from decimal import Decimal
from io import BytesIO
from typing import Any

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.models import today_local
from service.metrics.policies import build_report, check_year, entitlement_lines
from service.metrics.policy_schemas import EntitlementLine, Figures, GroupRow, PolicyReport
from service.metrics.request_report import DATE, PERCENT, _sheet

YUAN = "#,##0.00"
TOTAL_LABEL = "合计"
SHEETS = ("概况", "按政策", "按区县", "按产业集群", "企业明细")
FIGURE_HEADER = (
    "享受企业（家）",
    "应享条目（条）",
    "应享金额（元）",
    "待兑现（条）",
    "待兑现金额（元）",
    "已申报（件）",
    "待核定（件）",
    "待核定金额（元）",
    "已核定（件）",
    "核定金额（元）",
    "已拨付（件）",
    "拨付金额（元）",
    "未获批（件）",
)
FIGURE_FORMATS = (None, None, YUAN, None, YUAN, None, None, YUAN, None, YUAN, None, YUAN, None)
POLICY_HEADER = ("政策", "类型", "主管部门", "预算（元）", "预算已用（元）", "预算余额（元）")
POLICY_FORMATS = (None, None, None, YUAN, YUAN, YUAN)
LINE_HEADER = (
    "企业名称",
    "统一社会信用代码",
    "区县",
    "产业集群",
    "政策",
    "期间",
    "应享金额（元）",
    "发现日期",
    "奖补状态",
    "申报日期",
    "核定金额（元）",
    "拨付金额（元）",
)
LINE_FORMATS = (None, None, None, None, None, None, YUAN, DATE, None, DATE, YUAN, YUAN)


def yuan(fen: int | None) -> Decimal | None:
    """Fen as 元, exactly (a Decimal, never a float)."""
    return None if fen is None else Decimal(fen) / 100


def _figures(f: Figures) -> list[Any]:
    return [
        f.enterprises,
        f.entitled,
        yuan(f.entitled_fen),
        f.estimated,
        yuan(f.estimated_fen),
        f.applied,
        f.awaiting,
        yuan(f.awaiting_fen),
        f.approved,
        yuan(f.approved_fen),
        f.paid,
        yuan(f.paid_fen),
        f.rejected,
    ]


def _summary(report: PolicyReport) -> list[list[Any]]:
    t = report.total
    budgeted = [p for p in report.policies if p.budget_fen is not None]
    return [
        ["统计年度", str(report.scope.year), "年度政策计入该年度；一次性奖励计入发现应享的年度"],
        ["制表日期", report.scope.as_of, "北京时间"],
        ["预算口径日期", report.scope.budget_on, "取该日有效的政策版本预算"],
        ["享受企业（家）", t.enterprises, "有当期应享政策的企业，一家企业只计一次"],
        ["应享条目（条）", t.entitled, "当期有效的应享记录（已失效的不计），每家企业每项政策一条"],
        [
            "应享金额（元）",
            yuan(t.entitled_fen),
            "按政策规则最近一次测算的可享金额之和（年度政策已核定的，为扣除核定金额后的余额）",
        ],
        ["待兑现（条）", t.estimated, "应享条目中尚未核定或拨付的"],
        ["待兑现金额（元）", yuan(t.estimated_fen), "其测算金额之和，即预计还需兑现的资金"],
        ["已申报（件）", t.applied, "金融办登记的申报，含已核定、已拨付、未获批"],
        ["待核定（件）", t.awaiting, "应享条目中已申报、尚未核定的"],
        ["待核定金额（元）", yuan(t.awaiting_fen), "其测算金额之和"],
        ["已核定（件）", t.approved, "已核定的申报，含已拨付"],
        ["核定金额（元）", yuan(t.approved_fen), "核定金额之和"],
        ["已拨付（件）", t.paid, "已拨付的申报"],
        ["拨付金额（元）", yuan(t.paid_fen), "拨付金额之和"],
        ["未获批（件）", t.rejected, "未获批的申报"],
        [
            "预算（元）",
            yuan(sum(b.budget_fen or 0 for b in budgeted)),
            "设有预算的政策，取预算口径日期有效版本的预算之和",
        ],
        [
            "预算已用（元）",
            yuan(sum(b.budget_approved_fen for b in budgeted)),
            "年度政策为本年度核定金额；一次性奖励的预算为总额，计历年核定金额",
        ],
        ["预算余额（元）", yuan(sum(b.left_fen or 0 for b in budgeted)), "预算减去预算已用"],
    ]


SUMMARY_FORMATS = {"制表日期": DATE, "预算口径日期": DATE}


def _group_lines(rows: list[GroupRow], total: GroupRow, tiers: bool) -> list[list[Any]]:
    return [[r.label, *([r.tier or ""] if tiers else []), *_figures(r)] for r in [*rows, total]]


def _line(line: EntitlementLine) -> list[Any]:
    return [
        line.enterprise_name,
        line.credit_code,
        line.district_name or "",
        line.cluster_name or "",
        line.policy_name,
        "一次性" if line.period == "once" else f"{line.period}年度",
        yuan(line.amount_fen),
        line.found_date,
        line.grant_status_label,
        line.applied_date,
        yuan(line.approved_fen),
        yuan(line.paid_fen),
    ]


def workbook(report: PolicyReport, lines: list[EntitlementLine]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    _sheet(book, SHEETS[0], ("指标", "数值", "口径"), _summary(report))
    for row in book[SHEETS[0]].iter_rows(min_row=2, max_col=2):
        label = str(row[0].value)
        row[1].number_format = SUMMARY_FORMATS.get(label, YUAN if "元" in label else "General")
    policy_lines = [
        [
            p.policy_name,
            "年度" if p.yearly else "一次性",
            p.department_name or "",
            yuan(p.budget_fen),
            yuan(p.budget_approved_fen) if p.budget_fen is not None else None,
            yuan(p.left_fen),
            p.used_share,
            *_figures(p),
        ]
        for p in report.policies
    ]
    policy_lines.append([TOTAL_LABEL, "", "", None, None, None, None, *_figures(report.total)])
    _sheet(
        book,
        SHEETS[1],
        (*POLICY_HEADER, "预算使用率", *FIGURE_HEADER),
        policy_lines,
        (*POLICY_FORMATS, PERCENT, *FIGURE_FORMATS),
    )
    district = report.by_district
    _sheet(
        book,
        SHEETS[2],
        ("区县", *FIGURE_HEADER),
        _group_lines(district.rows, district.total, tiers=False),
        (None, *FIGURE_FORMATS),
    )
    cluster = report.by_cluster
    _sheet(
        book,
        SHEETS[3],
        ("产业集群", "层级", *FIGURE_HEADER),
        _group_lines(cluster.rows, cluster.total, tiers=True),
        (None, None, *FIGURE_FORMATS),
    )
    _sheet(book, SHEETS[4], LINE_HEADER, [_line(x) for x in lines], LINE_FORMATS)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def yearly_workbook(
    session: Session, principal: Principal, year: int | None = None
) -> tuple[bytes, str]:
    """The workbook of one year (this year by default), and its file name."""
    require(principal, Role.office)
    today = today_local()
    chosen = check_year(year, today)
    report = build_report(session, chosen, today)
    lines, _ = entitlement_lines(session, principal, chosen)
    return workbook(report, lines), f"finmatch_policies_{chosen}.xlsx"

"""The office's figures as page tables and charts, built from the metrics use cases (the
same figures the metrics API answers). Every table has a name, and ``build`` makes any of
them again for an export with the same filters."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from service.access.policy import Principal
from service.metrics import service as metrics
from service.metrics.schemas import AmountGroup, DeclineGroup, FunnelGroup, ReportQuery
from service.web import charts
from service.web.tables import Column, Table

GROUP_LABEL = {
    "bank": "银行",
    "product": "产品",
    "scheme": "政策产品",
    "cluster": "产业集群",
    "district": "区域",
    "size_class": "企业规模",
    "ownership": "控股情况",
    "month": "月份",
}
FUNNEL_GROUPS = [g.value for g in FunnelGroup if g != FunnelGroup.month]
AMOUNT_GROUPS = [g.value for g in AmountGroup if g != AmountGroup.month]
STAGES = [
    ("leads", "线索"),
    ("viewed", "已查看"),
    ("contacted", "已联系"),
    ("approved", "已批复"),
    ("disbursed", "已放款"),
]


def bank_link(row: dict[str, Any]) -> str | None:
    return f"/web/office/banks/{row['key']}" if row.get("key") else None


class Source:
    """What a page's tables are built from: the filters, and the leads they cover read once
    (on first use) for all the lead tables of the page."""

    def __init__(self, session: Session, principal: Principal, query: ReportQuery) -> None:
        self.session, self.principal, self.query = session, principal, query
        self._leads: metrics.LeadReports | None = None

    @property
    def leads(self) -> metrics.LeadReports:
        if self._leads is None:
            self._leads = metrics.LeadReports(self.session, self.principal, self.query)
        return self._leads


def _rows(report: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return [g.model_dump() for g in report.groups], report.total.model_dump()


def funnel_table(src: Source, group: str = "bank") -> Table:
    group_by = FunnelGroup(group)
    rows, total = _rows(src.leads.funnel(group_by))
    return Table(
        name=f"funnel-{group_by.value}",
        title=f"转化漏斗（按{GROUP_LABEL[group_by.value]}）",
        columns=[
            Column("label", GROUP_LABEL[group_by.value]),
            *(Column(key, label, "int") for key, label in STAGES),
            Column("declined", "已拒绝", "int"),
            Column("withdrawn", "已撤回", "int"),
            Column("contacted_rate", "联系率", "ratio"),
            Column("approved_rate", "批复率", "ratio"),
            Column("disbursed_rate", "放款率", "ratio"),
        ],
        rows=rows,
        total=total,
        links={"label": bank_link} if group_by == FunnelGroup.bank else {},
    )


def trend_table(src: Source) -> Table:
    rows, total = _rows(src.leads.funnel(FunnelGroup.month))
    return Table(
        name="trend",
        title="按月趋势（线索创建月份）",
        columns=[
            Column("label", "月份"),
            *(Column(key, label, "int") for key, label in STAGES),
            Column("disbursed_rate", "放款率", "ratio"),
        ],
        rows=rows,
        total=total,
    )


def response_table(src: Source) -> Table:
    rows, total = _rows(src.leads.response_times())
    return Table(
        name="response-times",
        title="银行响应时间与超时",
        columns=[
            Column("label", "银行"),
            Column("leads", "线索", "int"),
            Column("contacted", "已联系", "int"),
            Column("median_hours", "首次联系中位小时", "num"),
            Column("p90_hours", "90分位小时", "num"),
            Column("median_working_days", "中位工作日", "num"),
            Column("measured", "应计", "int"),
            Column("breaches", "超时", "int"),
            Column("breach_rate", "超时率", "ratio"),
        ],
        rows=rows,
        total=total,
        links={"label": bank_link},
        note="首次联系应在线索生成后规定工作日内完成；超时含逾期仍未联系的线索。",
    )


def amounts_table(src: Source, group: str = "bank") -> Table:
    group_by = AmountGroup(group)
    rows, total = _rows(src.leads.amounts(group_by))
    return Table(
        name=f"amounts-{group_by.value}",
        title=f"金额与融资成本（按{GROUP_LABEL[group_by.value]}）",
        columns=[
            Column("label", GROUP_LABEL[group_by.value]),
            Column("approved", "批复笔数", "int"),
            Column("approved_amount_fen", "批复金额", "wan"),
            Column("approved_avg_rate_bp", "批复加权利率", "bp"),
            Column("approved_avg_spread_bp", "高于LPR", "bp_spread"),
            Column("disbursed", "放款笔数", "int"),
            Column("disbursed_amount_fen", "放款金额", "wan"),
            Column("disbursed_avg_rate_bp", "放款加权利率", "bp"),
            Column("disbursed_avg_spread_bp", "放款高于LPR", "bp_spread"),
        ],
        rows=rows,
        total=total,
        links={"label": bank_link} if group_by == AmountGroup.bank else {},
        note="利率按金额加权；高于LPR为相对放款或批复当日一年期LPR的基点。",
    )


def renewals_table(src: Source) -> Table:
    rows, total = _rows(metrics.renewal_report(src.session, src.principal, src.query))
    return Table(
        name="renewals",
        title="续贷合规（按到期日在期间内的贷款）",
        columns=[
            Column("label", "银行"),
            Column("maturing", "到期笔数", "int"),
            Column("due", "应计笔数", "int"),
            Column("principal_fen", "本金", "wan"),
            Column("contacted_30", "提前30天联系", "int"),
            Column("contacted_30_rate", "提前联系率", "ratio"),
            Column("renewed_before_maturity", "到期前续贷", "int"),
            Column("renewed_before_maturity_rate", "按期续贷率", "ratio"),
            Column("bridged", "使用转贷应急资金", "int"),
            Column("failed", "续贷失败", "int"),
            Column("repaid", "已还清", "int"),
            Column("open", "未结", "int"),
        ],
        rows=rows,
        total=total,
        links={"label": bank_link},
        note="合规率只计已到期或已进入提醒期（到期前首个提醒节点已到）的贷款（应计笔数）。",
    )


def maturities_table(src: Source) -> Table:
    rows, total = _rows(metrics.maturity_report(src.session, src.principal, src.query))
    return Table(
        name="maturities",
        title="即将到期贷款（按月）",
        columns=[
            Column("label", "到期月份"),
            Column("loans", "笔数", "int"),
            Column("principal_fen", "本金", "wan"),
            Column("no_principal_eligible", "可无还本续贷", "int"),
            Column("contacted", "银行已联系", "int"),
            Column("committed", "银行已承诺续贷", "int"),
        ],
        rows=rows,
        total=total,
    )


def declines_table(src: Source) -> Table:
    report = src.leads.declines(DeclineGroup.none)
    rows = [r.model_dump() for r in report.total.reasons]
    return Table(
        name="decline-reasons",
        title="银行拒绝原因",
        columns=[
            Column("label", "原因"),
            Column("count", "笔数", "int"),
            Column("share", "占拒绝", "ratio"),
        ],
        rows=rows,
        total={"label": "合计", "count": report.total.declined, "share": None},
    )


@dataclass(frozen=True)
class Builder:
    make: Callable[..., Table]
    groups: tuple[str, ...] = ()  # the table's name is ``<prefix>-<group>`` for these


BUILDERS: dict[str, Builder] = {
    "funnel": Builder(funnel_table, tuple(FUNNEL_GROUPS)),
    "amounts": Builder(amounts_table, tuple(AMOUNT_GROUPS)),
    "trend": Builder(trend_table),
    "response-times": Builder(response_table),
    "decline-reasons": Builder(declines_table),
    "renewals": Builder(renewals_table),
    "maturities": Builder(maturities_table),
}


def report_tables(src: Source, group: str, amount_group: str) -> list[Table]:
    """The tables of a report page, in their order: the funnel and the months first (the
    charts draw them), then responses, declines, amounts, renewals and maturities."""
    return [
        funnel_table(src, group),
        trend_table(src),
        response_table(src),
        declines_table(src),
        amounts_table(src, amount_group),
        renewals_table(src),
        maturities_table(src),
    ]


def build(session: Session, principal: Principal, name: str, query: ReportQuery) -> Table | None:
    """The table called ``name`` (as in ``Table.name``) with these filters; None if there is
    no such table."""
    prefix, _, group = name.partition("-")
    if name in BUILDERS:
        return BUILDERS[name].make(Source(session, principal, query))
    builder = BUILDERS.get(prefix)
    if builder is None or group not in builder.groups:
        return None
    return builder.make(Source(session, principal, query), group)


def table_names() -> list[str]:
    names: list[str] = []
    for prefix, builder in BUILDERS.items():
        names += [f"{prefix}-{g}" for g in builder.groups] if builder.groups else [prefix]
    return names


def funnel_charts(funnel: Table, trend: Table) -> dict[str, Markup]:
    """The bars of the grouped funnel, the total as a funnel, and the months as lines."""
    labels = [str(r["label"]) for r in funnel.rows]
    total = funnel.total or {}
    by = funnel.columns[0].label
    return {
        "bars": charts.bar_chart(
            labels,
            [
                charts.Series("线索", [r["leads"] for r in funnel.rows]),
                charts.Series("已联系", [r["contacted"] for r in funnel.rows]),
                charts.Series("已放款", [r["disbursed"] for r in funnel.rows]),
            ],
            f"按{by}的线索、联系与放款",
        ),
        "funnel": charts.funnel_chart(
            [(label, int(total.get(key) or 0)) for key, label in STAGES], "转化漏斗（合计）"
        ),
        "trend": _trend(trend),
    }


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (YYYY-MM), both included."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while (year, month) <= (int(last[:4]), int(last[5:7])):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _trend(trend: Table) -> Markup:
    """A month without leads is a zero on the line, not a month left out."""
    by_month = {str(r["key"]): r for r in trend.rows if r.get("key")}
    months = month_range(min(by_month), max(by_month)) if by_month else []

    def series(name: str, key: str) -> charts.Series:
        return charts.Series(name, [by_month[m][key] if m in by_month else 0 for m in months])

    return charts.trend_chart(
        months,
        [series("线索", "leads"), series("已联系", "contacted"), series("已放款", "disbursed")],
        "按月趋势",
    )

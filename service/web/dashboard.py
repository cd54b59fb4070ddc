"""The office's figures as page tables and charts, built from the metrics use cases (the
same figures the metrics API answers). Every table has a name, and ``build`` makes any of
them again for an export with the same filters."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from sqlmodel import Session

from service.access.policy import Principal
from service.metrics import answers
from service.metrics import requests as request_metrics
from service.metrics import service as metrics
from service.metrics.answer_schemas import AreaReport, ConversionReport, StallReport
from service.metrics.request_schemas import RequestReport
from service.metrics.schemas import AmountGroup, DeclineGroup, FunnelGroup, ReportQuery
from service.web import charts, district_map
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
        self._areas: dict[str, AreaReport] = {}

    @property
    def leads(self) -> metrics.LeadReports:
        if self._leads is None:
            self._leads = metrics.LeadReports(self.session, self.principal, self.query)
        return self._leads

    @cached_property
    def conversion(self) -> ConversionReport:
        return answers.conversion_report(self.session, self.principal, self.query)

    @cached_property
    def stalls(self) -> StallReport:
        return answers.stalls_report(self.session, self.principal)

    @cached_property
    def requests(self) -> RequestReport:
        """Requests and ratings of the page's dates, or of the current quarter."""
        q = self.query
        return request_metrics.request_report(
            self.session, self.principal, None, q.from_date, q.to_date
        )

    def areas(self, group: str) -> AreaReport:
        if group not in self._areas:
            self._areas[group] = answers.areas_report(
                self.session, self.principal, self.query, group
            )
        return self._areas[group]


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
    "conversion": Builder(lambda src: conversion_table(src)),
    "stalls": Builder(lambda src: stalls_table(src)),
    "unreached": Builder(lambda src: unreached_table(src)),
    "areas": Builder(lambda src, group: areas_table(src, group), ("district", "cluster")),
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


# --- the three questions ----------------------------------------------------------------------

RATE_NOTE = (
    "口径：分母为期间内生成的线索；联系率＝达到「已联系」及以后阶段（含联系后被拒绝或撤回）的线索"
    "占比，批复率、放款率同理；首次联系天数自线索生成起算。线索少于 {n} 条的银行标「样本少」，"
    "排在其他银行之后，不参与排名。"
)


def conversion_table(src: Source) -> Table:
    report = src.conversion
    rows = [{**g.model_dump(), "sample": "样本少" if g.small_sample else ""} for g in report.groups]
    return Table(
        name="conversion",
        title="哪些银行转化好（按联系率排名）",
        columns=[
            Column("rank", "名次", "int"),
            Column("label", "银行"),
            Column("leads", "线索数", "int"),
            Column("contact_rate", "联系率", "ratio"),
            Column("approval_rate", "批复率", "ratio"),
            Column("disbursement_rate", "放款率", "ratio"),
            Column("median_days_to_contact", "首次联系中位天数", "num"),
            Column("sample", "样本"),
        ],
        rows=rows,
        total={**report.city.model_dump(), "rank": None, "sample": ""},
        links={"label": bank_link},
        note=RATE_NOTE.format(n=report.min_sample),
    )


def waiting_link(row: dict[str, Any]) -> str:
    """The list of the leads a row of the stalls counts."""
    bank = f"&bank={quote(row['key'])}" if row.get("key") else ""
    return f"/web/office/leads?status={row['status']}{bank}"


def stalls_table(src: Source) -> Table:
    """Each open stage, its total first (银行 全部) and then per bank."""
    rows: list[dict[str, Any]] = []
    for stage in src.stalls.stages:
        figures = {"count": stage.count, "median": stage.median_days, "oldest": stage.oldest_days}
        rows.append(
            {"status": stage.stage, "stage": stage.label, "label": "全部银行", "since": stage.since}
            | figures
        )
        rows += [
            {
                "status": stage.stage,
                "stage": stage.label,
                "key": b.key,
                "label": b.label,
                "since": stage.since,
                "count": b.count,
                "median": b.median_days,
                "oldest": b.oldest_days,
            }
            for b in stage.banks
        ]
    return Table(
        name="stalls",
        title="线索卡在哪里（当前未结线索）",
        columns=[
            Column("stage", "阶段"),
            Column("label", "银行"),
            Column("count", "笔数", "int"),
            Column("median", "已停留中位天数", "num"),
            Column("oldest", "最久天数", "int"),
            Column("since", "起算"),
        ],
        rows=rows,
        links={"label": bank_link, "count": waiting_link},
        note="天数从进入该阶段之日算到今天：未查看从线索生成、未联系从银行首次查看、"
        "未批复从首次联系、未放款从批复日期。不受上方日期筛选影响。",
    )


def unreached_table(src: Source) -> Table:
    report = src.stalls
    u = report.unreached
    return Table(
        name="unreached",
        title="未到达任何银行的融资需求（按原因）",
        columns=[
            Column("label", "原因"),
            Column("count", "需求数", "int"),
            Column("median_days", "已等待中位天数", "num"),
            Column("oldest_days", "最久天数", "int"),
        ],
        rows=[r.model_dump() for r in report.unreached_reasons],
        total={"label": "合计", **u.model_dump()},
        note="仍在有效期的需求，没有生成任何线索。原因按系统派单的判断顺序："
        "企业未同意共享信息、注册地（信用代码）不在服务区域、没有符合条件的产品；其余为待分派。",
    )


AREA_LABEL = {"district": "区域", "cluster": "产业集群"}


def areas_table(src: Source, group: str = "district") -> Table:
    report = src.areas(group)
    return Table(
        name=f"areas-{group}",
        title=f"服务不足的{AREA_LABEL[group]}",
        columns=[
            Column("label", AREA_LABEL[group]),
            Column("enterprises", "库内企业", "int"),
            Column("needs", "融资需求", "int"),
            Column("needs_no_bank", "未到达银行的需求", "int"),
            Column("no_bank_share", "未到达占比", "ratio"),
            Column("disbursed_fen", "放款金额", "wan"),
        ],
        rows=[g.model_dump() for g in report.groups],
        total=report.total.model_dump(),
        note="需求按发布日期、放款按线索生成日期计入期间；库内企业为当前企业库。",
    )


def answer_tables(src: Source) -> list[Table]:
    return [
        conversion_table(src),
        stalls_table(src),
        unreached_table(src),
        areas_table(src, "district"),
        areas_table(src, "cluster"),
    ]


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def conversion_charts(src: Source) -> dict[str, Markup]:
    """Contact and disbursement rates per bank, the city's average marked on each."""
    report = src.conversion
    labels = [
        f"{g.label}（{g.leads}条{'，样本少' if g.small_sample else ''}）" for g in report.groups
    ]
    out: dict[str, Markup] = {}
    for key, name in (("contact_rate", "联系率"), ("disbursement_rate", "放款率")):
        city = getattr(report.city, key)
        out[key] = charts.bar_chart(
            labels,
            [charts.Series(name, [getattr(g, key) or 0 for g in report.groups])],
            f"各银行{name}（虚线为全市）",
            show=_percent,
            reference=charts.Reference("全市", city) if city is not None else None,
        )
    return out


def stall_chart(src: Source) -> Markup:
    report = src.stalls
    labels = [s.label for s in report.stages] + ["未到达任何银行"]
    counts = [s.count for s in report.stages] + [report.unreached.count]
    return charts.bar_chart(labels, [charts.Series("笔数", counts)], "各阶段等待的线索与需求")


MEASURES: dict[str, tuple[str, str]] = {
    "needs": ("needs", "融资需求（笔）"),
    "no_bank": ("needs_no_bank", "未到达银行的需求（笔）"),
    "disbursed": ("disbursed_fen", "放款金额（万元）"),
    "no_bank_share": ("no_bank_share", "未到达银行的需求占比"),
}


def district_map_of(src: Source, measure: str) -> Markup:
    """The schematic map shaded by ``measure`` (a key of ``MEASURES``)."""
    field, label = MEASURES[measure]
    rows = {g.key: g for g in src.areas("district").groups if g.key}
    values: dict[str, float | None] = {}
    for code, row in rows.items():
        value = getattr(row, field)
        values[code] = None if value is None else float(value)
    if field == "disbursed_fen":
        values = {k: None if v is None else v / 1_000_000 for k, v in values.items()}
    show = _percent if field == "no_bank_share" else _figure
    names = {code: row.label for code, row in rows.items()}
    return district_map.district_map(district_map.load_shapes(), values, names, label, show)


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


# --- requests (诉求) and satisfaction ---------------------------------------------------------


def _share(part: int, whole: int, rate: float | None) -> str:
    return "—" if rate is None else f"{_percent(rate)}（{part}/{whole}）"


REPORT_QUARTERS = 5  # this quarter and the four before it, offered as downloads


def request_panels(src: Source) -> dict[str, Any]:
    """The key figures of the two panels, as the page shows them."""
    r = src.requests
    scope = r.scope
    period = scope.quarter or f"{scope.from_date.isoformat()} 至 {scope.to.isoformat()}"
    closing, total = r.closing, r.satisfaction
    banks = [
        f"{b.label} {b.average:.2f} 分（{b.ratings} 条）"
        for b in reversed(r.satisfaction_by_bank.rows)
        if b.average is not None
    ][:3]
    return {
        "period": period,
        # The quarterly report (季度交办会报告) of the panels' quarter, and of the recent ones.
        "quarter": scope.quarter or request_metrics.quarter_of(scope.from_date),
        "report_quarters": request_metrics.recent_quarters(scope.as_of, REPORT_QUARTERS),
        "raised": r.raised,
        "on_time": _share(r.on_time.on_time, r.on_time.answered, r.on_time.rate),
        "closed": closing.closed,
        "median_days": "—" if closing.median_days is None else f"{closing.median_days:g} 天",
        "reopen": _share(closing.reopened, closing.closed, closing.reopen_rate),
        "overdue": r.open_overdue,
        "ratings": total.ratings,
        "average": "—" if total.average is None else f"{total.average:.2f} 分",
        "lead_ratings": total.lead_ratings,
        "request_ratings": total.request_ratings,
        "lowest_banks": banks,
    }

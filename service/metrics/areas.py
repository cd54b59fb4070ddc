"""Which clusters and districts are underserved: per cluster or district, the enterprises in
the library, the needs posted in the period, those that reached no bank (no lead was ever
made for them), and the amount disbursed on the leads made in the period. Every figure is a
grouped count or sum in SQL, so a library of half a million enterprises is read as a few
rows per group."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlmodel import Session, col

from service.enterprises.models import Enterprise
from service.leads.models import Lead
from service.matching.models import FinancingNeed
from service.metrics.answer_schemas import AnswerScope, AreaReport, AreaRow
from service.metrics.conversion import Period
from service.metrics.numbers import ratio
from service.metrics.queries import ownership_conditions
from service.taxonomy.models import Cluster, District

AREA_GROUPS = ("district", "cluster")
UNSET_LABEL = "未填写"
TOTAL_LABEL = "合计"


def _column(group_by: str) -> Any:
    return col(Enterprise.district_code) if group_by == "district" else col(Enterprise.cluster_code)


def _sum(expression: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(func.sum(expression), 0)


def area_figures(
    session: Session, group_by: str, period: Period
) -> dict[str | None, dict[str, int]]:
    """Per group code: enterprises, needs, needs_no_bank, disbursed_fen."""
    group = _column(group_by)
    out: dict[str | None, dict[str, int]] = {}

    def put(code: str | None, **figures: int) -> None:
        out.setdefault(
            code, {"enterprises": 0, "needs": 0, "needs_no_bank": 0, "disbursed_fen": 0}
        ).update(figures)

    enterprises = select(group, func.count()).where(*ownership_conditions(None, period.private))
    for code, n in session.execute(enterprises.group_by(group)):
        put(code, enterprises=n)
    no_lead = ~exists().where(col(Lead.need_id) == col(FinancingNeed.id))
    needs = (
        select(group, func.count(col(FinancingNeed.id)), _sum(case((no_lead, 1), else_=0)))
        .join(Enterprise, col(Enterprise.id) == col(FinancingNeed.enterprise_id))
        .where(*period.on(col(FinancingNeed.created_at)))
        .group_by(group)
    )
    for code, n, unreached in session.execute(needs):
        put(code, needs=n, needs_no_bank=unreached)
    disbursed = (
        select(group, _sum(func.coalesce(col(Lead.disbursed_amount_fen), 0)))
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .where(col(Lead.disbursed_date).is_not(None), *period.on(col(Lead.created_at)))
        .group_by(group)
    )
    for code, amount in session.execute(disbursed):
        put(code, disbursed_fen=amount)
    return out


def group_names(session: Session, group_by: str) -> list[tuple[str, str]]:
    """Every district (or cluster) as (code, name), in the reference order."""
    model: Any = District if group_by == "district" else Cluster
    order = (
        [col(model.sort_order)]
        if group_by == "district"
        else [col(model.tier_rank), col(model.priority_rank)]
    )
    stmt = select(model.code, model.name).order_by(*order, model.code)
    return [(c, n) for c, n in session.execute(stmt)]


def area_row(key: str | None, label: str, figures: dict[str, int]) -> AreaRow:
    return AreaRow(
        key=key,
        label=label,
        enterprises=figures.get("enterprises", 0),
        needs=figures.get("needs", 0),
        needs_no_bank=figures.get("needs_no_bank", 0),
        no_bank_share=ratio(figures.get("needs_no_bank", 0), figures.get("needs", 0)),
        disbursed_fen=figures.get("disbursed_fen", 0),
    )


def areas(
    figures: dict[str | None, dict[str, int]],
    names: Sequence[tuple[str, str]],
    group_by: str,
    scope: AnswerScope,
) -> AreaReport:
    """Every named group (with zeros where nothing happened), an unknown code under its own
    code, then the enterprises with none recorded. Pure."""
    known = {code for code, _ in names}
    rows = [area_row(code, name, figures.get(code, {})) for code, name in names]
    rows += [
        area_row(c, c, f)
        for c, f in sorted(figures.items(), key=lambda i: str(i[0]))
        if c is not None and c not in known
    ]
    if None in figures:
        rows.append(area_row(None, UNSET_LABEL, figures[None]))
    total: dict[str, int] = {}
    for f in figures.values():
        for name, value in f.items():
            total[name] = total.get(name, 0) + value
    return AreaReport(
        scope=scope, group_by=group_by, groups=rows, total=area_row(None, TOTAL_LABEL, total)
    )


def area_report(session: Session, group_by: str, period: Period, scope: AnswerScope) -> AreaReport:
    return areas(
        area_figures(session, group_by, period), group_names(session, group_by), group_by, scope
    )

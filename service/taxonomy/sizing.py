"""Enterprise size classification (统计上大中小微型企业划分办法 2017). Pure: the table comes
in as data (the size_industry / size_threshold rows), never as constants here.

Large, medium and small must reach the lower bound of every indicator of the row, otherwise
the enterprise falls to the next class; an enterprise below the small line in any indicator
is micro.

The standard covers 15 sections and, of section Q, only division 85 社会工作: a code that no
row covers (finance, education, 卫生 84, railways, own-property leasing …) gets no class, and
its reason says which parts of its section the standard does cover."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.taxonomy.industry import SECTION_NAMES, code_matches, section_of_scope

FEN_PER_WAN = 1_000_000
CLASS_ORDER = ("large", "medium", "small")
SIZE_LABEL = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
INDICATOR_LABEL = {"employees": "从业人员", "revenue": "营业收入", "assets": "资产总额"}


@dataclass(frozen=True)
class Threshold:
    size_class: str
    employees_min: int | None
    revenue_min_wan: int | None
    assets_min_wan: int | None


@dataclass(frozen=True)
class SizeRow:
    key: str
    name: str
    gbt_scope: Sequence[str]
    indicators: Sequence[str]
    thresholds: Sequence[Threshold]


@dataclass(frozen=True)
class Figures:
    employees: int | None
    revenue_fen: int | None
    assets_fen: int | None


@dataclass(frozen=True)
class SizeResult:
    size_class: str | None
    industry_key: str | None
    reason: str


def _specificity(scope: str) -> int:
    # "7010" beats "70" beats "K": the most specific row wins.
    return len(scope) if not (len(scope) == 1 and scope.isalpha()) else 0


def find_row(industry_code: str, rows: Iterable[SizeRow]) -> SizeRow | None:
    best: tuple[int, SizeRow] | None = None
    for row in rows:
        for scope in row.gbt_scope:
            if code_matches(industry_code, scope):
                rank = _specificity(scope)
                if best is None or rank > best[0]:
                    best = (rank, row)
    return best[1] if best else None


def _value(indicator: str, figures: Figures) -> int | None:
    return {
        "employees": figures.employees,
        "revenue": figures.revenue_fen,
        "assets": figures.assets_fen,
    }[indicator]


def _lower_bound(indicator: str, threshold: Threshold) -> int | None:
    if indicator == "employees":
        return threshold.employees_min
    wan = threshold.revenue_min_wan if indicator == "revenue" else threshold.assets_min_wan
    return None if wan is None else wan * FEN_PER_WAN


STANDARD = "统计上大中小微型企业划分办法（2017）"


def _short_name(row: SizeRow) -> str:
    return row.name.split("（")[0]


def _outside_reason(industry_code: str, rows: Iterable[SizeRow]) -> str:
    section = industry_code[0]
    where = f"门类 {section} {SECTION_NAMES.get(section, '')}"
    if len(industry_code) >= 3:
        where += f"，大类 {industry_code[1:3]}"
    covered = [(row, [s for s in row.gbt_scope if section_of_scope(s) == section]) for row in rows]
    parts = [
        f"{'、'.join(s.removeprefix(section) or s for s in scopes)}（按{_short_name(row)}）"
        for row, scopes in covered
        if scopes
    ]
    reason = f"行业 {industry_code}（{where}）不在{STANDARD}的划分范围内，不划型。"
    if parts:
        reason += f"门类 {section} 中只有 {'，'.join(parts)} 划型。"
    return reason


def classify(industry_code: str | None, figures: Figures, rows: Iterable[SizeRow]) -> SizeResult:
    if not industry_code:
        return SizeResult(None, None, "缺少行业代码，无法划型。")
    rows = tuple(rows)  # read twice when the code is outside the table
    row = find_row(industry_code, rows)
    if row is None:
        return SizeResult(None, None, _outside_reason(industry_code, rows))
    missing = [INDICATOR_LABEL[i] for i in row.indicators if _value(i, figures) is None]
    if missing:
        return SizeResult(None, row.key, f"缺少{'、'.join(missing)}，无法按{row.name}划型。")
    by_class = {t.size_class: t for t in row.thresholds}
    for size_class in CLASS_ORDER:
        threshold = by_class.get(size_class)
        if threshold is None:
            continue
        reached = True
        for indicator in row.indicators:
            bound = _lower_bound(indicator, threshold)
            value = _value(indicator, figures)
            if bound is not None and value is not None and value < bound:
                reached = False
                break
        if reached:
            return SizeResult(
                size_class,
                row.key,
                f"按{row.name}标准各项指标达到{SIZE_LABEL[size_class]}企业下限。",
            )
    return SizeResult("micro", row.key, f"按{row.name}标准低于小型下限，为微型。")

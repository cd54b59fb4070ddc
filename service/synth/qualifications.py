"""Recognitions (资质) of a synthetic enterprise, as the office's lists record them: which it
holds depends on its cluster (technology clusters more, textiles and unclustered firms fewer),
industry (wholesalers rarely, R&D firms more), size and age; each is issued in the months its
list is published and renewed every term, some renewals missed, the last one or two kept.

- 高新技术企业 (three-year certificates, autumn batches) and 科技型中小企业 (every year, for
  SMEs of at most 500 staff and 2亿元 revenue and assets);
- the ladder 创新型中小企业 → 专精特新 → 专精特新“小巨人”, each rung likelier on the one below;
- 无锡's 雏鹰 (young), 瞪羚 (growing fast) and 准独角兽 (rare) enterprises, single champions;
- green factories and technology centres, which have no fixed term.

Only types of the reference data are recorded; validity ends as the service computes it."""

from collections.abc import Mapping
from datetime import date, timedelta
from random import Random
from typing import Any

from service.synth.draws import expiry, pick, randint
from service.taxonomy.sizing import FEN_PER_WAN

# Clusters whose enterprises hold technology recognitions more often.
TECH_CLUSTERS = frozenset(
    {"iot", "ic", "biomed", "software", "ai_meta", "quantum", "semi3", "hydrogen"}
)

Terms = Mapping[str, int | None]  # qualification type -> term in months (None: no fixed term)


def _record(out: list[dict[str, Any]], terms: Terms, code: str, issued: date, source: str) -> None:
    if code in terms:
        out.append(
            {
                "type_code": code,
                "issued_date": issued.isoformat(),
                "expires_date": (e.isoformat() if (e := expiry(issued, terms[code])) else None),
                "source": source,
            }
        )


def _cycles(
    rng: Random,
    out: list[dict[str, Any]],
    terms: Terms,
    as_of: date,
    code: str,
    first_year: int,
    month_range: tuple[int, int],
    source: Any,
    keep: int | None = None,
    lapse: float = 0.2,
) -> None:
    """Recognitions every term (3 years) from ``first_year``, each renewal missed with
    probability ``lapse``; only the last ``keep`` are kept (by default the last, sometimes
    the one before too, as the office's lists record history)."""
    if keep is None:
        keep = 2 if rng.random() < 0.3 else 1
    term_years = max(1, (terms.get(code) or 36) // 12)
    records: list[date] = []
    year = first_year
    while True:
        issued = date(year, randint(rng, *month_range), randint(rng, 1, 28))
        if issued > as_of:
            break
        records.append(issued)
        year += term_years
        if rng.random() < lapse:
            break
    for issued in records[-keep:]:
        _record(out, terms, code, issued, source(issued.year))


def draw_qualifications(
    rng: Random,
    terms: Terms,
    as_of: date,
    cluster: str | None,
    industry: str,
    size: str,
    established: date,
    employees: int,
    revenue_fen: int,
    assets_fen: int,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    year_now = as_of.year
    start = established.year + 1
    if start > year_now:
        return out
    sme = size != "large"
    tech = 1.0
    if cluster in TECH_CLUSTERS:
        tech = 1.35
    elif cluster == "textile" or cluster is None:
        tech = 0.45
    if industry.startswith("F51"):
        tech *= 0.12
    elif industry.startswith("M7"):
        tech *= 1.3
    manufacturing = industry.startswith("C")
    by_size = {"large": 1.15, "medium": 1.45, "small": 1.1, "micro": 0.55}[size]
    age = year_now - established.year

    def first(earliest: int) -> int:
        low = max(start, earliest)
        return randint(rng, low, max(low, year_now))

    def once(code: str, earliest: int, source: Any) -> None:
        low = date(max(start, earliest), 1, 1)
        if low <= as_of:
            issued = low + timedelta(days=rng.randrange((as_of - low).days + 1))
            _record(out, terms, code, issued, source(issued.year))

    # 高新技术企业: recognised in the autumn batches, three-year certificates.
    high_tech = rng.random() < 0.36 * tech * by_size
    if high_tech:
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "high_tech",
            first(2013),
            (10, 12),
            lambda y: f"江苏省{y}年第{pick(rng, '一二三')}批高新技术企业名单",
        )
    # 科技型中小企业: evaluated every year; SMEs of ≤500 staff and ≤2亿 revenue and assets.
    small_enough = (
        employees <= 500
        and revenue_fen <= 20_000 * FEN_PER_WAN
        and assets_fen <= 20_000 * FEN_PER_WAN
    )
    if small_enough and rng.random() < (0.75 if high_tech else 0.33) * min(tech, 1.2):
        years = [y for y in (year_now - 1, year_now) if y >= start]
        kept = [y for y in years if rng.random() < 0.6] or years[-1:]
        for y in kept:
            _record(
                out,
                terms,
                "tech_sme",
                date(y, randint(rng, 3, 8), randint(rng, 1, 28)),
                f"{y}年江苏省科技型中小企业入库名单（第{pick(rng, '一二三四')}批）",
            )
    # 优质中小企业梯度培育: 创新型 → 专精特新 → 小巨人.
    innovative = srdi = False
    if sme and rng.random() < (0.42 if high_tech else 0.1) * by_size * tech:
        innovative = True
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "innovative_sme",
            first(2022),
            (4, 9),
            lambda y: f"江苏省{y}年创新型中小企业名单",
        )
    if sme and rng.random() < (0.55 if innovative else 0.05) * by_size * min(tech, 1.2):
        srdi = True
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "srdi_sme",
            first(2018),
            (5, 11),
            lambda y: f"江苏省{y}年专精特新中小企业名单",
        )
    if sme and srdi and rng.random() < 0.2 * by_size:
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "little_giant",
            first(2019),
            (6, 8),
            lambda y: (
                f"工业和信息化部第{'一二三四五六七八九'[min(8, y - 2019)]}批"
                "专精特新“小巨人”企业名单"
            ),
            lapse=0.1,
        )
    # 无锡市科技创新创业企业培育: 雏鹰 (young), 瞪羚 (growing fast), 准独角兽 (rare).
    if age <= 6 and rng.random() < 0.14 * tech:
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "eaglet",
            first(2019),
            (9, 12),
            lambda y: f"无锡市{y}年度雏鹰企业名单",
            keep=1,
        )
    if 3 <= age <= 15 and rng.random() < 0.045 * tech * by_size:
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "gazelle",
            first(2019),
            (9, 12),
            lambda y: f"无锡市{y}年度瞪羚企业名单",
            keep=1,
        )
    if age <= 12 and high_tech and rng.random() < 0.03 * tech:
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "quasi_unicorn",
            first(2020),
            (9, 12),
            lambda y: f"无锡市{y}年度准独角兽企业名单",
            keep=1,
        )
    if (
        manufacturing
        and size in ("large", "medium")
        and rng.random() < (0.06 if size == "large" else 0.02)
    ):
        _cycles(
            rng,
            out,
            terms,
            as_of,
            "single_champion",
            first(2016),
            (11, 12),
            lambda y: (
                f"工业和信息化部第{'一二三四五六七八九十'[min(9, y - 2016)]}批制造业单项冠军名单"
            ),
            keep=1,
            lapse=0.1,
        )
    # Green factories and technology centres: no fixed term (dynamically managed).
    if (
        manufacturing
        and rng.random() < {"large": 0.25, "medium": 0.08, "small": 0.02, "micro": 0.002}[size]
    ):
        once("green_factory_national", 2017, lambda y: f"工业和信息化部{y}年度绿色制造名单")
    if (
        manufacturing
        and rng.random() < {"large": 0.35, "medium": 0.15, "small": 0.04, "micro": 0.005}[size]
    ):
        once("green_factory_provincial", 2017, lambda y: f"江苏省{y}年度绿色工厂名单")
    if rng.random() < {"large": 0.35, "medium": 0.14, "small": 0.025, "micro": 0.003}[size] * (
        tech if not industry.startswith("F51") else 0
    ):
        once("tech_center", 2010, lambda y: f"江苏省{y}年省级企业技术中心认定名单")
    return out

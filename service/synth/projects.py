"""Projects of the synthetic project library and the key-project lists they are on.

A project's kind leans to research and digitalisation for software, service and trading
firms, to capacity and transformation for manufacturers; its name says what the enterprise's cluster makes
(seed/synth/project_words.json), with the annual output for expansions and new plants, and a
phase (二期 …) when the enterprise already has a project of that name. Investment scales with
the enterprise's revenue; the year is around the library's date and the status follows it.

Key-project lists (重大/重点产业项目名单, published each spring) hold the larger projects of the
landmark and advantage clusters, approved or under construction, of the library's year or
earlier; being on one makes a project's name, unit, year and investment public."""

import math
from collections.abc import Callable
from datetime import date
from random import Random
from typing import Any

from service.enterprises.models import ProjectKind, ProjectStatus
from service.synth.draws import Choice, amount_text, log_uniform, pick, wan_to_fen
from service.synth.vocabulary import project_words
from service.taxonomy.sizing import FEN_PER_WAN

LISTED_TIERS = frozenset({"landmark", "advantage"})
LISTED_STATUSES = frozenset({"approved", "under_construction"})
# (at least this investment in 万元, chance of being listed, the list's title)
KEY_PROJECT_LISTS = (
    (100_000, 0.9, "{year}年无锡市重大产业项目名单"),  # 10亿元 and more
    (10_000, 0.75, "{year}年无锡市重点产业项目名单"),
    (3_000, 0.25, "{year}年无锡市重点产业项目名单"),
)


def key_project_list(
    draw: float, tier: str | None, total_wan: float, year: int, status: str, as_of: date
) -> str | None:
    """The key-project list a project is on, if any, given a uniform ``draw``."""
    if (
        tier not in LISTED_TIERS
        or status not in LISTED_STATUSES
        or year > as_of.year  # next year's lists are not out yet
    ):
        return None
    for least_wan, chance, title in KEY_PROJECT_LISTS:
        if total_wan >= least_wan:
            return title.format(year=year) if draw < chance else None
    return None


def draw_project(
    rng: Random,
    enterprise: dict[str, Any],
    taken: set[str],
    as_of: date,
    listed_in: Callable[[float, int, str], str | None],
) -> dict[str, Any]:
    """One project of ``enterprise`` (a body of ``ProjectCreate`` with the enterprise's credit
    code), named unlike the ``taken`` names of its other projects. ``listed_in`` says which
    key-project list a project of this investment (万元), year and status is on."""
    words = project_words()
    cluster = enterprise["cluster_code"]
    revenue_wan = enterprise["revenue_fen"] / FEN_PER_WAN
    software = (enterprise["industry_code"] or "").startswith(("I", "M", "F"))
    kinds = (
        (("rnd", 4), ("intelligent_digital", 3), ("new_build", 1.5), ("other", 1))
        if software
        else (
            ("capacity_expansion", 4),
            ("tech_transformation", 4),
            ("intelligent_digital", 3),
            ("rnd", 1.5),
            ("green_upgrade", 1.2),
            ("new_build", 1.5),
            ("other", 0.4),
        )
    )
    for attempt in range(6):
        kind = Choice(kinds)(rng)
        name = project_name(rng, cluster, kind)
        if attempt >= 3:
            name = name.removesuffix("项目") + (
                "（二期）项目" if attempt == 3 else f"（{'三四五'[attempt - 4]}期）项目"
            )
        if name not in taken:
            break
    taken.add(name)
    # Investment scales with the enterprise: from a fraction of a micro firm's revenue up to
    # a few times a large firm's.
    total_wan = revenue_wan * log_uniform(rng, 0.2, 2.5, 1.3) + log_uniform(rng, 300, 3000, 1.5)
    total_wan = min(total_wan, 500_000.0)
    total_wan = round(total_wan / 10) * 10 if total_wan < 10_000 else round(total_wan, -2)
    equipment_share = {
        "rnd": (0.15, 0.45),
        "green_upgrade": (0.5, 0.85),
        "tech_transformation": (0.5, 0.85),
        "intelligent_digital": (0.4, 0.75),
    }.get(kind, (0.3, 0.7))
    equipment_wan = round(total_wan * rng.uniform(*equipment_share), -1)
    need_wan = round(total_wan * rng.uniform(0.2, 0.6), -1) if rng.random() < 0.85 else None
    year = Choice(((2024, 1.5), (2025, 3), (2026, 3.5), (2027, 2)))(rng)
    if year <= as_of.year - 1:
        status = Choice(
            (("under_construction", 5), ("completed", 3), ("approved", 1), ("suspended", 0.4))
        )(rng)
    elif year == as_of.year:
        status = Choice(
            (("approved", 4), ("under_construction", 4), ("planned", 2), ("suspended", 0.2))
        )(rng)
    else:
        status = Choice((("planned", 6), ("approved", 3)))(rng)
    place = enterprise["district_code"]
    where = words.district_names.get(place, "无锡市") if place else "无锡市"
    sales_wan = round(total_wan * rng.uniform(0.8, 2.5), -2)
    description = (
        f"项目建设地点位于{where}，总投资{amount_text(wan_to_fen(total_wan))}，"
        f"其中设备投资{amount_text(wan_to_fen(equipment_wan))}，"
        f"{words.kind_text[kind]}，项目达产后预计新增年销售收入"
        f"{amount_text(wan_to_fen(max(sales_wan, 100)))}。"
    )
    return {
        "enterprise_credit_code": enterprise["credit_code"],
        "name": name,
        "kind": ProjectKind(kind).value,
        "cluster_code": cluster,
        "total_investment_fen": wan_to_fen(total_wan),
        "equipment_investment_fen": wan_to_fen(equipment_wan),
        "financing_need_fen": wan_to_fen(need_wan) if need_wan else None,
        "year": year,
        "status": ProjectStatus(status).value,
        "listed_in": listed_in(total_wan, year, status),
        "description": description,
    }


def _quantity(rng: Random, low: int, high: int) -> int:
    value = log_uniform(rng, low, high)
    magnitude = 10 ** max(0, int(math.log10(value)) - 1)
    return max(low, int(value // magnitude * magnitude))


def project_name(rng: Random, cluster: str | None, kind: str) -> str:
    products = project_words().cluster_products
    product, unit, low, high = pick(rng, products.get(cluster, products[None]))
    if unit is None:  # platforms and systems have no annual output
        return pick(
            rng,
            (
                f"{product}研发及产业化项目",
                f"{product}建设项目",
                f"新一代{product}研发项目",
                f"{product}升级改造项目",
            ),
        )
    if kind == "capacity_expansion":
        return pick(
            rng,
            (
                f"年产{_quantity(rng, low, high)}{unit}{product}扩产项目",
                f"{product}产能提升项目",
                f"新增年产{_quantity(rng, low, high)}{unit}{product}生产线项目",
            ),
        )
    if kind == "tech_transformation":
        return pick(rng, (f"{product}生产线技术改造项目", f"{product}产线升级改造项目"))
    if kind == "intelligent_digital":
        return pick(
            rng,
            (
                f"{product}智能化改造数字化转型项目",
                f"{product}智能工厂建设项目",
                f"{product}数字化车间建设项目",
            ),
        )
    if kind == "rnd":
        return pick(rng, (f"{product}研发中心建设项目", f"新一代{product}研发及产业化项目"))
    if kind == "green_upgrade":
        return pick(rng, (f"{product}生产线绿色化改造项目", "厂区分布式光伏及节能降碳改造项目"))
    if kind == "new_build":
        return pick(
            rng,
            (
                f"年产{_quantity(rng, low, high)}{unit}{product}新建项目",
                f"{product}产业化基地建设项目",
            ),
        )
    return f"{product}检测中心建设项目"

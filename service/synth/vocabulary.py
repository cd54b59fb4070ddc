"""The generator's vocabulary: the tables of seed/synth/*.json, each file read once, when first
needed, and kept (the worker processes of a large load read them once each).

One function per file; each returns a frozen dataclass whose fields say how the table is read.
In the files a cluster key ``"none"`` stands for enterprises in none of the clusters (``None``
here). The order of every table is part of the determinism contract: weighted choices and
``pick`` walk the entries in file order, so reordering or adding an entry changes the library of
every seed."""

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from service.core.settings import project_root

NO_CLUSTER = "none"


def _read(name: str) -> dict[str, Any]:
    path = project_root() / "seed" / "synth" / name
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _cluster(key: str) -> str | None:
    return None if key == NO_CLUSTER else key


def _by_cluster(table: dict[str, Any]) -> dict[str | None, Any]:
    return {_cluster(key): value for key, value in table.items()}


@dataclass(frozen=True)
class Wuxi:
    """seed/synth/wuxi.json: where the enterprises are and what they make."""

    # Weight of each district: 江阴 and 宜兴 are large industrial county-level cities; 经开区 is
    # small. A district of the reference data missing here weighs 3.
    district_weights: dict[str, float]
    # Weight of each cluster: manufacturing-heavy, few future-tier enterprises.
    cluster_weights: dict[str | None, float]
    # How much more (or less) common a cluster is in a district than on average (default 1).
    district_affinity: dict[str, dict[str | None, float]]
    # 经开区 has no area code of its own: its enterprises carry 滨湖's, 梁溪's or the city's
    # (area code, weight).
    jingkai_areas: tuple[tuple[str, float], ...]
    # Registered elsewhere in the Yangtze delta, accepted and flagged by the service
    # (area code, place written before the name).
    outside_areas: tuple[tuple[str, str], ...]
    # Real GB/T 4754-2017 classes per cluster, with weights. Besides manufacturing (C) and
    # software (I65) some wholesale (F51), R&D (M73) and technology-service (M75) firms exercise
    # other rows of the size table.
    cluster_industries: dict[str | None, tuple[tuple[str, float], ...]]


@cache
def wuxi() -> Wuxi:
    data = _read("wuxi.json")
    return Wuxi(
        district_weights=dict(data["district_weights"]),
        cluster_weights=_by_cluster(data["cluster_weights"]),
        district_affinity={
            district: _by_cluster(affinity)
            for district, affinity in data["district_affinity"].items()
        },
        jingkai_areas=tuple(data["jingkai_areas"].items()),
        outside_areas=tuple(data["outside_areas"].items()),
        cluster_industries={
            cluster: tuple(industries.items())
            for cluster, industries in _by_cluster(data["cluster_industries"]).items()
        },
    )


@dataclass(frozen=True)
class NameParts:
    """seed/synth/name_parts.json: parts of enterprises' and contacts' names."""

    # The industry word of a name, per cluster.
    cluster_words: dict[str | None, tuple[str, ...]]
    # The goods a wholesaler of the cluster trades in.
    trade_words: dict[str | None, str]
    # The industrial chain of a cluster, for the chain tag ("…产业链").
    chain_names: dict[str, str]
    # Characters of trade names (字号); the file writes the pool on several lines.
    trade_chars: str
    # Trade names shared by several enterprises of different industries: hard cases for name
    # search.
    shared_trade_names: tuple[str, ...]
    # Pools of characters of people's names.
    surnames: str
    given_chars: str
    # Titles of an enterprise's first contact and of the others.
    primary_titles: tuple[str, ...]
    other_titles: tuple[str, ...]
    # The part of a contact's e-mail address before the @.
    email_locals: tuple[str, ...]


@cache
def name_parts() -> NameParts:
    data = _read("name_parts.json")
    return NameParts(
        cluster_words={c: tuple(words) for c, words in _by_cluster(data["cluster_words"]).items()},
        trade_words=_by_cluster(data["trade_words"]),
        chain_names=dict(data["chain_names"]),
        trade_chars="".join(data["trade_chars"]),
        shared_trade_names=tuple(data["shared_trade_names"]),
        surnames="".join(data["surnames"]),
        given_chars="".join(data["given_chars"]),
        primary_titles=tuple(data["primary_titles"]),
        other_titles=tuple(data["other_titles"]),
        email_locals=tuple(data["email_locals"]),
    )


@dataclass(frozen=True)
class EnterpriseMix:
    """seed/synth/enterprise_mix.json: how enterprises spread over grades, sizes, ages and
    ownership."""

    # Credit grades, best first, with weights centred on A-/A/BBB (a few B-/CCC).
    grade_weights: tuple[tuple[str, float], ...]
    # The size mix aimed at: about 80% small and micro, 15% medium, 5% large.
    size_target: dict[str, float]
    # Enterprises with projects in the library lean larger.
    size_with_projects: dict[str, float]
    # Mean age in years, by size class.
    mean_age: dict[str, float]
    # Ownership (控股情况) weights by size class: mostly 私人控股, more state-, foreign- and
    # HMT-controlled firms among the large ones.
    ownership_weights: dict[str, dict[str, float]]


@cache
def enterprise_mix() -> EnterpriseMix:
    data = _read("enterprise_mix.json")
    return EnterpriseMix(
        grade_weights=tuple(data["grade_weights"].items()),
        size_target=dict(data["size_target"]),
        size_with_projects=dict(data["size_with_projects"]),
        mean_age=dict(data["mean_age"]),
        ownership_weights={size: dict(w) for size, w in data["ownership_weights"].items()},
    )


@dataclass(frozen=True)
class ProjectWords:
    """seed/synth/project_words.json: words of projects' names and descriptions."""

    # Where a project is built, by district (the city when the district is unknown).
    district_names: dict[str, str]
    # What a project of each kind does, for its description.
    kind_text: dict[str, str]
    # Products per cluster, for project names: (product, unit, low, high), the range of its
    # annual output; no unit for platforms and systems, which have no annual output.
    cluster_products: dict[str | None, tuple[tuple[str, str | None, int, int], ...]]


@cache
def project_words() -> ProjectWords:
    data = _read("project_words.json")
    return ProjectWords(
        district_names=dict(data["district_names"]),
        kind_text=dict(data["kind_text"]),
        cluster_products={
            cluster: tuple((p["product"], p["unit"], p["low"], p["high"]) for p in products)
            for cluster, products in _by_cluster(data["cluster_products"]).items()
        },
    )


@dataclass(frozen=True)
class ProductWords:
    """seed/synth/product_words.json: products' categories, names and texts, and the rules
    they draw from."""

    # Category weights.
    categories: tuple[tuple[str, float], ...]
    # Product names (themes) per category, and what may follow a name.
    names: dict[str, tuple[str, ...]]
    name_variants: tuple[str, ...]
    # The category in a product's description.
    category_text: dict[str, str]
    # Collateral and purpose sets per category.
    collateral: dict[str, tuple[tuple[str, ...], ...]]
    purposes: dict[str, tuple[tuple[str, ...], ...]]
    # Range of the largest amount (万元) and of the longest term (months) per category.
    amount_max_wan: dict[str, tuple[int, int]]
    term_max: dict[str, tuple[int, int]]
    # Qualifications a product may ask for.
    qualification_pool: tuple[str, ...]
    # Conditions written out in a product's eligibility.
    other_conditions: tuple[str, ...]
    # A county bank's county: most of its products are for that county only.
    county_bank_region: dict[str, str]
    # Regions of another bank's local product, with weights.
    local_regions: tuple[tuple[list[str], float], ...]
    # Industries a category is made for (industries_targeted), and how often it says so;
    # ``targeted_otherwise`` for the other categories.
    targeted_by_category: dict[str, tuple[float, tuple[list[str], ...]]]
    targeted_otherwise: tuple[float, tuple[list[str], ...]]
    # Only these industries (industries_included): medium- and long-term manufacturing loans.
    included_choices: tuple[list[str], ...]
    # Ownership restrictions, with weights: products for 民营企业 (私人 and 集体控股), a few for
    # foreign- and HMT-invested firms.
    ownership_rules: tuple[tuple[list[str], float], ...]
    # Energy-intensive industries (两高) a bank's credit policy keeps out: 石油加工, 化工, 建材,
    # 钢铁, 有色.
    heavy_industries: tuple[str, ...]


def _share_and_choices(item: dict[str, Any]) -> tuple[float, tuple[list[str], ...]]:
    return item["share"], tuple(item["choices"])


@cache
def product_words() -> ProductWords:
    data = _read("product_words.json")
    return ProductWords(
        categories=tuple(data["categories"].items()),
        names={c: tuple(names) for c, names in data["names"].items()},
        name_variants=tuple(data["name_variants"]),
        category_text=dict(data["category_text"]),
        collateral={c: tuple(map(tuple, sets)) for c, sets in data["collateral"].items()},
        purposes={c: tuple(map(tuple, sets)) for c, sets in data["purposes"].items()},
        amount_max_wan={c: (low, high) for c, (low, high) in data["amount_max_wan"].items()},
        term_max={c: (low, high) for c, (low, high) in data["term_max"].items()},
        qualification_pool=tuple(data["qualification_pool"]),
        other_conditions=tuple(data["other_conditions"]),
        county_bank_region=dict(data["county_bank_region"]),
        local_regions=tuple((r["regions"], r["weight"]) for r in data["local_regions"]),
        targeted_by_category={
            c: _share_and_choices(item) for c, item in data["targeted_by_category"].items()
        },
        targeted_otherwise=_share_and_choices(data["targeted_otherwise"]),
        included_choices=tuple(data["included_choices"]),
        ownership_rules=tuple((r["types"], r["weight"]) for r in data["ownership_rules"]),
        heavy_industries=tuple(data["heavy_industries"]),
    )

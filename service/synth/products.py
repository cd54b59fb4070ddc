"""Synthetic bank products ("synth-000001" …), shaped like ``ProductCreate``: banks' own products
and the city's and province's policy schemes (锡科贷, 苏科贷, 锡信贷, 专精特新贷) with varied
eligibility, amounts, terms, rates and fees, and 转贷应急资金 products for the bridge funds.

Categories, names, texts and the tables the rules draw from are in
seed/synth/product_words.json. The rules matching reads besides the basic eligibility (scoring
configuration version 2: regions, target, included and excluded industries, ownership types) are
drawn from a stream of their own, so adding them changed no other generated value: a county
bank's products are mostly for its county, a few other products are local; equipment,
IP-pledge and supply-chain loans often name the industries they are made for; a few products
keep out the energy-intensive industries (两高) or are for 民营 or foreign-invested firms only."""

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from random import Random
from typing import Any

from service.synth.draws import Choice, add_months, amount_text, log_uniform, pick, randint
from service.synth.generator import AS_OF
from service.synth.reference import Reference, load_reference
from service.synth.vocabulary import product_words
from service.taxonomy.sizing import FEN_PER_WAN

COUNTY_BANK_LOCAL_SHARE = 0.8  # of a county bank's products, those for its county only
LOCAL_SHARE = 0.03  # of the other products, those for one county or the city only
# Only these industries (industries_included): medium- and long-term manufacturing loans.
INCLUDED_BY_CATEGORY = {"equipment": 0.15}
INCLUDED_OTHER = 0.03
OWNERSHIP_SHARE = 0.07  # of the banks' own products, those with an ownership restriction
# Energy-intensive industries (两高, heavy_industries) a bank's credit policy keeps out, in this
# share of the products (the exclusions drawn with the basic eligibility match none of the
# synthetic library's industries).
HEAVY_EXCLUDED_SHARE = 0.06


def generate_products(
    p: int,
    bank_codes: Sequence[str],
    seed: int,
    *,
    fund_codes: Sequence[str] = (),
    reference: Reference | None = None,
    as_of: date = AS_OF,
) -> Iterator[dict[str, Any]]:
    """ProductCreate-shaped dicts "synth-000001" …: banks' own products and policy schemes with
    varied eligibility. Bridge-fund products go to ``fund_codes`` (none when empty)."""
    if not bank_codes:
        raise ValueError("products need at least one bank code")
    ref = reference or load_reference()
    words = product_words()
    rng = Random(f"finmatch-synth:{seed}:products")
    rules_rng = Random(f"finmatch-synth:{seed}:product-rules")
    clusters = list(ref.clusters)
    districts = list(ref.district_areas)
    quals = [q for q in words.qualification_pool if q in ref.qualification_terms]
    category_choice = Choice(
        (c, w) for c, w in words.categories if c != "bridge_fund" or fund_codes
    )
    for i in range(p):
        category = category_choice(rng)
        if category == "bridge_fund":
            yield _bridge_fund_product(rng, i, pick(rng, fund_codes), as_of)
            continue
        theme = pick(rng, words.names[category])
        scheme = {
            "锡科贷": "xikedai",
            "苏科贷": "sukedai",
            "锡信贷": "xixindai",
            "专精特新贷": "zhuanjingtexin",
        }.get(theme, "own")
        eligibility: dict[str, Any] = {}
        n_clusters = Choice(((0, 50), (1, 20), (2, 15), (3, 10), (4, 5)))(rng)
        if n_clusters and clusters:
            eligibility["clusters_included"] = rng.sample(clusters, min(n_clusters, len(clusters)))
        elif rng.random() < 0.1:
            eligibility["tiers"] = pick(rng, (["landmark"], ["landmark", "advantage"]))
        if not n_clusters and clusters and rng.random() < 0.05:
            eligibility["clusters_excluded"] = [pick(rng, clusters)]
        eligibility["size_classes"] = Choice(
            (
                (["medium", "small", "micro"], 60),
                (["small", "micro"], 15),
                ([], 15),
                (["large", "medium"], 10),
            )
        )(rng)
        if scheme in ("xikedai", "sukedai"):
            eligibility["qualifications_any"] = [q for q in ("tech_sme", "high_tech") if q in quals]
        elif scheme == "zhuanjingtexin":
            eligibility["qualifications_any"] = [
                q for q in ("little_giant", "srdi_sme") if q in quals
            ]
        elif quals and rng.random() < 0.3:
            eligibility["qualifications_any"] = rng.sample(quals, randint(rng, 1, 3))
        if quals and rng.random() < 0.03:
            eligibility["qualifications_all"] = ["high_tech"] if "high_tech" in quals else []
        if rng.random() < 0.5:
            eligibility["min_years_in_business"] = pick(rng, (1, 2, 2, 3))
        if rng.random() < 0.3:
            eligibility["revenue_min_fen"] = pick(rng, (100, 500, 1000, 2000)) * FEN_PER_WAN
        if scheme == "sukedai" or rng.random() < 0.15:
            eligibility["revenue_max_fen"] = pick(rng, (5000, 20000, 40000)) * FEN_PER_WAN
        if rng.random() < 0.6:
            eligibility["min_credit_grade"] = pick(
                rng, ("BBB-", "BBB", "BBB+", "A-", "A", "BB+", "BB")
            )
        if districts and rng.random() < 0.08:
            eligibility["districts"] = rng.sample(districts, randint(rng, 1, 2))
        if rng.random() < 0.5:
            eligibility["registered_in_wuxi"] = True
        if rng.random() < 0.1:
            eligibility["industries_excluded"] = rng.sample(
                ["K", "C25", "C3110", "C3120", "B"], randint(rng, 1, 2)
            )
        if rng.random() < 0.2:
            eligibility["other"] = rng.sample(words.other_conditions, randint(rng, 1, 2))
        low_max, high_max = words.amount_max_wan[category]
        amount_max = int(log_uniform(rng, low_max, high_max) // 10 * 10)
        amount_min = pick(rng, (None, 10, 50, 100))
        if amount_min is not None:
            amount_min = min(amount_min, amount_max)
        term_low, term_high = words.term_max[category]
        term_max = pick(
            rng,
            [t for t in (3, 6, 12, 24, 36, 48, 60, 72, 84, 96) if term_low <= t <= term_high]
            or [term_high],
        )
        term_min = pick(rng, [t for t in (1, 3, 6, 12) if t <= term_max])
        rate = _rate(rng, category, term_max, amount_max)
        effective_from = as_of - timedelta(days=randint(rng, 0, 700))
        effective_to = (
            add_months(effective_from, pick(rng, (12, 24, 36))) if rng.random() < 0.2 else None
        )
        fees = []
        if category == "guaranteed" and rng.random() < 0.5:
            fees.append(
                {
                    "code": "guarantee_fee",
                    "name": "担保费",
                    "basis": "bp_per_year",
                    "bp": pick(rng, (50, 80, 100, 150)),
                    "note": "由合作担保公司收取",
                }
            )
        cluster_note = ""
        if len(eligibility.get("clusters_included", [])) == 1 and rng.random() < 0.5:
            cluster_note = "（产业集群专项）"
        name = theme + pick(rng, words.name_variants) + cluster_note
        bank_code = pick(rng, bank_codes)
        eligibility.update(_matching_rules(rules_rng, category, scheme, bank_code, eligibility))
        yield {
            "code": f"synth-{i + 1:06d}",
            "bank_code": bank_code,
            "name": name,
            "category": category,
            "scheme": scheme,
            "description": (
                f"{name}：面向无锡市中小企业的{words.category_text[category]}，"
                f"单户最高{amount_text(amount_max * FEN_PER_WAN)}，"
                f"期限最长{term_max}个月。（合成数据，仅用于测试与性能评估）"
            ),
            "eligibility": eligibility,
            "amount_min_fen": amount_min * FEN_PER_WAN if amount_min is not None else None,
            "amount_max_fen": amount_max * FEN_PER_WAN,
            "term_unit": "month",
            "term_min": term_min,
            "term_max": term_max,
            "rate": rate,
            "collateral_types": list(pick(rng, words.collateral[category])),
            "purposes": list(pick(rng, words.purposes[category])),
            "fees": fees,
            "effective_from": effective_from.isoformat(),
            "effective_to": effective_to.isoformat() if effective_to else None,
            "is_sample": True,
            "source": "合成数据（finmatch synth）",
        }


def _matching_rules(
    rng: Random, category: str, scheme: str, bank_code: str, eligibility: dict[str, Any]
) -> dict[str, Any]:
    """Regions, target, included and further excluded industries and ownership types of one
    product with ``eligibility`` so far, drawn from ``rng`` (the product-rules stream)."""
    words = product_words()
    out: dict[str, Any] = {}
    county = words.county_bank_region.get(bank_code)
    if scheme == "sukedai":
        out["regions"] = ["32"]  # a provincial scheme: enterprises registered in Jiangsu
    elif county and rng.random() < COUNTY_BANK_LOCAL_SHARE:
        out["regions"] = [county]
    elif rng.random() < LOCAL_SHARE:
        out["regions"] = Choice(words.local_regions)(rng)
    if rng.random() < INCLUDED_BY_CATEGORY.get(category, INCLUDED_OTHER):
        out["industries_included"] = pick(rng, words.included_choices)
    else:
        share, choices = words.targeted_by_category.get(category, words.targeted_otherwise)
        if rng.random() < share:
            out["industries_targeted"] = pick(rng, choices)
    if rng.random() < HEAVY_EXCLUDED_SHARE:
        excluded = eligibility.get("industries_excluded", [])
        heavy = rng.sample(words.heavy_industries, randint(rng, 2, len(words.heavy_industries)))
        out["industries_excluded"] = excluded + [c for c in heavy if c not in excluded]
    if scheme == "own" and rng.random() < OWNERSHIP_SHARE:
        out["ownership_types"] = Choice(words.ownership_rules)(rng)
    return out


def _rate(rng: Random, category: str, term_max: int, amount_max_wan: int) -> dict[str, Any]:
    if rng.random() < 0.1:
        return {"base": "FIXED", "fixed_rate_bp": randint(rng, 28, 52) * 10}
    base = "LPR5Y" if category == "equipment" and term_max > 60 else "LPR1Y"
    spread = int(log_uniform(rng, 10, 260, 1.5)) - 30
    spread -= spread % 5
    rate: dict[str, Any] = {"base": base, "spread_bp": spread}
    if amount_max_wan > 500 and rng.random() < 0.2:
        rate["tiers"] = [
            {"amount_max_fen": 500 * FEN_PER_WAN, "spread_bp": spread},
            {"amount_min_fen": 500 * FEN_PER_WAN, "spread_bp": spread - 20},
        ]
        rate["note"] = "500万元以上部分利率优惠"
    return rate


def _bridge_fund_product(rng: Random, i: int, bank_code: str, as_of: date) -> dict[str, Any]:
    # The city's 转贷应急资金 terms (DOMAIN.md §3): ≤ 10 days, 0.2‰/day then 0.4‰/day.
    return {
        "code": f"synth-{i + 1:06d}",
        "bank_code": bank_code,
        "name": "转贷应急资金" + pick(rng, product_words().name_variants),
        "category": "bridge_fund",
        "scheme": "bridge_fund",
        "description": "为银行已承诺续贷的中小微企业提供短期过桥资金。（合成数据）",
        "eligibility": {
            "size_classes": ["medium", "small", "micro"],
            "registered_in_wuxi": True,
            "min_credit_grade": "B-",
        },
        "amount_min_fen": None,
        "amount_max_fen": pick(rng, (1000, 2000, 5000)) * FEN_PER_WAN,
        "term_unit": "day",
        "term_min": 1,
        "term_max": 10,
        "rate": {"base": "NONE"},
        "collateral_types": ["none"],
        "purposes": ["bridge", "renewal"],
        "fees": [
            {
                "code": "usage_fee",
                "name": "资金使用费",
                "basis": "bp_per_day",
                "tiers": [
                    {"from_day": 1, "to_day": 2, "bp_per_day": 2},
                    {"from_day": 3, "bp_per_day": 4},
                ],
            }
        ],
        "effective_from": (as_of - timedelta(days=randint(rng, 0, 700))).isoformat(),
        "effective_to": None,
        "is_sample": True,
        "source": "合成数据（finmatch synth）",
    }

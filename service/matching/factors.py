"""The seven weighted factors of a score, and the all-in rate the cost factor weighs. Each factor
rule takes the facts of the enterprise (and its need) and the product's rules and gives a value
from 0 to 1 with its reason in Chinese; ``scoring.score`` weighs them (a contribution is
``round(weight × clamp(value) × 100)`` hundredths of a point). The rules:

- sector: the product targets the enterprise's cluster or its tier, and the tier's policy value;
- industry: the GB/T 4754 scope the product aims at, against the enterprise's industry;
- size: the size class's value, more when the product is for that size;
- need: how the need sits in the product's amount and term, purpose and collateral (without a
  need: whether the product asks for collateral);
- qualification: whether the product targets qualifications, and how many are valid;
- cost: the spread over LPR, between the configuration's best and worst (``rate_bp``);
- policy: a scheme the city prioritises.

Pure: no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.matching.texts import COLLATERAL_LABEL, SCHEME_LABEL, TIER_LABEL, industry_scope
from service.taxonomy.industry import code_matches
from service.taxonomy.sizing import SIZE_LABEL

if TYPE_CHECKING:  # scoring imports this module: its types are for the annotations only
    from collections.abc import Mapping
    from datetime import date

    from service.matching.scoring import EnterpriseFacts, NeedFacts, ProductRules, ScoringConfig


def rate_bp(p: ProductRules, need: NeedFacts | None, config: ScoringConfig) -> int | None:
    """All-in annual cost in basis points: LPR + spread (the matching tier), plus yearly fees;
    None for a fee-priced product."""
    if p.rate_base == "NONE":
        return None
    if p.rate_base == "FIXED":
        base = p.fixed_rate_bp or 0
        return base + p.annual_fee_bp
    spread = p.spread_bp or 0
    if need is not None:
        for a_min, a_max, t_min, t_max, tier_spread in p.rate_tiers:
            if (
                (a_min is None or need.amount_fen >= a_min)
                and (a_max is None or need.amount_fen <= a_max)
                and (t_min is None or need.term_months >= t_min)
                and (t_max is None or need.term_months <= t_max)
            ):
                spread = tier_spread
                break
    return config.lpr_bp.get(p.rate_base, 300) + spread + p.annual_fee_bp


def clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def sector_fit(
    e: EnterpriseFacts, p: ProductRules, c: ScoringConfig, n: Mapping[str, str]
) -> tuple[float, str]:
    tier_value = c.tier_value.get(e.tier or "none", c.tier_value.get("none", 0.4))
    cluster = n.get(e.cluster or "", e.cluster or "")
    if e.cluster and e.cluster in p.clusters_included:
        targeted, why = 1.0, f"产品定向支持{cluster}"
    elif p.tiers and e.tier in p.tiers:
        targeted, why = 0.85, f"产品面向{TIER_LABEL.get(e.tier or '', '')}集群"
    else:
        targeted, why = 0.5, "产品不限产业集群"
    tier_why = (
        f"{cluster}属{TIER_LABEL[e.tier]}，政策优先"
        if e.tier in TIER_LABEL
        else "未归入465产业集群"
    )
    return 0.6 * targeted + 0.4 * tier_value, f"{why}；{tier_why}"


def industry_fit(e: EnterpriseFacts, p: ProductRules) -> tuple[float, str]:
    """Does the product suit the enterprise's industry (GB/T 4754 section or division)?"""
    aimed = p.industries_included + p.industries_targeted
    if not aimed:
        return 0.6, "产品不限行业"
    wanted = "、".join(dict.fromkeys(industry_scope(s) for s in aimed))
    if not e.industry_code:
        return 0.4, f"产品主要面向{wanted}，企业行业未知"
    if any(code_matches(e.industry_code, s) for s in aimed):
        return 1.0, f"产品面向{wanted}，与企业行业相符"
    return 0.0, f"产品主要面向{wanted}，与企业行业（{industry_scope(e.industry_code[0])}）不符"


def size_fit(e: EnterpriseFacts, p: ProductRules, c: ScoringConfig) -> tuple[float, str]:
    base = c.size_value.get(e.size_class or "unknown", 0.3)
    label = SIZE_LABEL.get(e.size_class or "", "未划型")
    if p.size_classes:
        return 0.5 + 0.5 * base, f"产品面向{label}企业"
    return 0.3 + 0.5 * base, f"{label}企业，产品不限规模"


def _collateral_why(p: ProductRules) -> str:
    wanted = "或".join(COLLATERAL_LABEL.get(x, x) for x in sorted(p.collateral_types))
    return f"需提供{wanted}"


def need_fit(need: NeedFacts | None, p: ProductRules) -> tuple[float, str]:
    if need is None:
        # Without a need, a product that asks for nothing is the easier one to take up.
        if p.credit:
            return 0.7, "未提出具体融资需求，按企业画像匹配；信用方式，无需抵押担保"
        return 0.45, f"未提出具体融资需求，按企业画像匹配；{_collateral_why(p)}"
    parts: list[float] = []
    reasons: list[str] = []
    if p.amount_max_fen:
        use = need.amount_fen / p.amount_max_fen
        parts.append(1.0 if 0.1 <= use <= 1 else 0.6 + 4 * use if use < 0.1 else 0.0)
        reasons.append(f"金额占产品上限{use:.0%}")
    else:
        parts.append(0.8)
    low, high = p.term_months_range()
    parts.append(1.0 if high is not None and need.term_months <= high else 0.8)
    if p.purposes:
        parts.append(1.0)
        reasons.append("用途相符")
    else:
        parts.append(0.7)
    if p.credit:
        parts.append(1.0)
        reasons.append("无需抵押担保")
    else:
        parts.append(0.85)
        reasons.append(_collateral_why(p))
    return sum(parts) / len(parts), "；".join(reasons) or "需求在产品范围内"


def qualification_fit(
    e: EnterpriseFacts, p: ProductRules, on: date, n: Mapping[str, str]
) -> tuple[float, str]:
    valid = e.valid_codes(on)
    targeted = bool(p.qualifications_any or p.qualifications_all)
    held = min(1.0, len(valid) / 3)
    value = 0.5 * (1.0 if targeted else 0.4) + 0.5 * held
    if targeted:
        matched = sorted((p.qualifications_any | p.qualifications_all) & valid)
        why = f"产品面向持有{'、'.join(n.get(q, q) for q in matched)}的企业"
    else:
        why = "产品不限资质"
    return value, f"{why}；有效资质 {len(valid)} 项"


def cost_fit(rate: int | None, p: ProductRules, c: ScoringConfig) -> tuple[float, str]:
    if rate is None:
        if p.daily_fee_bp:
            return 0.5, f"按日收费，约每日{p.daily_fee_bp / 10:.1f}‰，仅用于短期周转"
        return 0.5, "无利率信息"
    base = c.lpr_bp.get(p.rate_base, rate)
    spread = rate - base if p.rate_base != "FIXED" else rate - c.lpr_bp.get("LPR1Y", 300)
    value = clamp((c.spread_worst_bp - spread) / (c.spread_worst_bp - c.spread_best_bp))
    if spread == 0:
        against = "与LPR持平"
    else:
        against = f"较LPR{'加' if spread > 0 else '减'}{abs(spread)}个基点"
    return value, f"年化约{rate / 100:.2f}%（{against}）"


def policy_fit(p: ProductRules, c: ScoringConfig) -> tuple[float, str]:
    if p.scheme in c.policy_schemes:
        return 1.0, f"市政策优先推荐产品（{SCHEME_LABEL.get(p.scheme, p.scheme)}）"
    return 0.0, "非市政策优先推荐产品"

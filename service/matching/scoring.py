"""Scoring an enterprise's need against a product. Pure: no database, no I/O. Here: the
scorer's inputs (facts of an enterprise and a need, a product's rules, the configuration), the
gates and ``score`` / ``rank``; the factor rules are ``factors``, what the scorer answers
``results``, the labels and wording of reasons ``texts``, a configuration's defaults
``defaults``.

Hard gates first: every eligibility rule of the product; each failed gate is named, with what
would make the pair eligible and whether that is something the enterprise can change soon
(``actionable``: obtain a qualification, lower the amount, change the term, offer collateral,
change the purpose, have its bank commit a renewal). An ineligible pair gets no score and is
never recommended; it is a near miss only when every failed gate is actionable. Then a score
from 0 to 100: weighted factors (sector, industry, size, need, qualifications, cost, policy
priority), each with its weight, value, contribution and a short reason in Chinese;
contributions add up to the score exactly (both are kept in hundredths of a point). Weights,
thresholds, the purpose tree, the policy schemes and region names come in as a versioned
ScoringConfig.

How a credit officer reads the rules:
- Collateral offered is what the enterprise *can* give. A product that needs none (信用) fits
  anyone; a product that needs one of X fits when the offer includes one of X; a government
  financing-guarantee company's guarantee is a guarantee.
- Purposes form a tree; a product accepting a purpose accepts its children.
- The platform serves enterprises registered in its service area; outside it nothing is
  eligible. A product may also be for one region (area-code prefixes: 32 Jiangsu, 320281
  江阴).
- The bridge fund (转贷应急资金) fits only an enterprise with a loan about to mature whose
  renewal a cooperating bank has committed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from service.matching.defaults import (
    DEFAULT_OBTAINABLE,
    DEFAULT_POLICY_SCHEMES,
    DEFAULT_PURPOSES,
    DEFAULT_REGIONS,
    DEFAULT_WEIGHTS,
)
from service.matching.factors import (
    clamp,
    cost_fit,
    industry_fit,
    need_fit,
    policy_fit,
    qualification_fit,
    rate_bp,
    sector_fit,
    size_fit,
)
from service.matching.results import Factor, GateFailure, Result
from service.matching.texts import COLLATERAL_LABEL, TIER_LABEL, industry_scope, term_unit, wan
from service.taxonomy.grades import grade_at_least
from service.taxonomy.industry import code_matches
from service.taxonomy.sizing import SIZE_LABEL

# An offer of the key also satisfies a product that asks for the value.
COLLATERAL_COUNTS_AS = {"gov_guarantee": "guarantee"}
BRIDGE_COMMITTED = "committed"  # a loan maturing within the fund's window, renewal committed
BRIDGE_MATURING = "maturing"  # such a loan, renewal not (yet) committed


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A qualification the enterprise holds."""

    code: str
    issued: date
    expires: date | None

    def valid_on(self, day: date) -> bool:
        return self.issued <= day and (self.expires is None or self.expires >= day)


@dataclass(frozen=True)
class EnterpriseFacts:
    id: int
    cluster: str | None = None
    tier: str | None = None
    size_class: str | None = None
    qualifications: tuple[Held, ...] = ()
    established: date | None = None
    revenue_fen: int | None = None
    credit_grade: str | None = None
    district: str | None = None
    registered_in_wuxi: bool = True
    industry_code: str | None = None
    ownership: str | None = None
    area_code: str | None = None  # where it is registered (GB/T 2260, from the credit code)
    in_service_area: bool = True
    bridge: str | None = None  # BRIDGE_COMMITTED, BRIDGE_MATURING or None

    def valid_codes(self, day: date) -> frozenset[str]:
        return frozenset(q.code for q in self.qualifications if q.valid_on(day))

    def expired_on(self, code: str, day: date) -> date | None:
        """When a qualification it held (and holds no longer) expired; None otherwise."""
        if code in self.valid_codes(day):
            return None
        ends = [q.expires for q in self.qualifications if q.code == code and q.expires]
        past = [d for d in ends if d < day]
        return max(past) if past else None


@dataclass(frozen=True)
class NeedFacts:
    amount_fen: int
    term_months: int
    purpose: str
    collateral: frozenset[str] = frozenset({"none"})
    # The purpose's ancestors in the configuration's tree (a product accepting one of them
    # accepts this purpose); facts.need_facts fills it.
    purpose_ancestors: frozenset[str] = frozenset()

    @property
    def purposes_accepted_by(self) -> frozenset[str]:
        return self.purpose_ancestors | {self.purpose}

    @property
    def collateral_offered(self) -> frozenset[str]:
        """What the offer satisfies: each item and what it counts as."""
        return frozenset(self.collateral) | {
            COLLATERAL_COUNTS_AS[c] for c in self.collateral if c in COLLATERAL_COUNTS_AS
        }


@dataclass(frozen=True)
class ProductRules:
    id: int
    code: str
    bank_code: str
    name: str = ""
    scheme: str = "own"
    category: str = "credit"
    active: bool = True
    clusters_included: frozenset[str] = frozenset()
    clusters_excluded: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    size_classes: frozenset[str] = frozenset()
    qualifications_any: frozenset[str] = frozenset()
    qualifications_all: frozenset[str] = frozenset()
    min_years_in_business: int | None = None
    revenue_min_fen: int | None = None
    revenue_max_fen: int | None = None
    min_credit_grade: str | None = None
    districts: frozenset[str] = frozenset()
    registered_in_wuxi: bool | None = None
    industries_excluded: tuple[str, ...] = ()
    industries_included: tuple[str, ...] = ()  # a gate: only these industries
    industries_targeted: tuple[str, ...] = ()  # weighs: the industries it is made for
    regions: frozenset[str] = frozenset()  # area-code prefixes of registration
    ownership_types: frozenset[str] = frozenset()
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    term_unit: str = "month"
    term_min: int | None = None
    term_max: int | None = None
    collateral_types: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    effective_from: date | None = None
    effective_to: date | None = None
    rate_base: str = "LPR1Y"
    spread_bp: int | None = None
    fixed_rate_bp: int | None = None
    rate_tiers: tuple[tuple[int | None, int | None, int | None, int | None, int], ...] = ()
    annual_fee_bp: int = 0
    daily_fee_bp: int = 0

    def term_months_range(self) -> tuple[float | None, float | None]:
        """The term range in months. A term in days reaches up to the whole month it ends in:
        a need states its term in months, so a need of 1 month fits a 10-day bridge."""
        if self.term_unit == "day":
            return (
                None if self.term_min is None else self.term_min / 30,
                None if self.term_max is None else float(-(-self.term_max // 30)),
            )
        return self.term_min, self.term_max

    @property
    def needs_committed_renewal(self) -> bool:
        return self.category == "bridge_fund"

    @property
    def credit(self) -> bool:
        """Needs no collateral (a credit product), or says nothing about it."""
        return not self.collateral_types or "none" in self.collateral_types


FACTORS = ("sector", "industry", "size", "need", "qualification", "cost", "policy")


@dataclass(frozen=True)
class ScoringConfig:
    version: int
    weights: Mapping[str, int]  # factor → points; they add up to 100
    top_per_enterprise: int = 10  # stored matches kept per enterprise (or need)
    top_per_product: int = 200  # stored prospects kept per product
    near_miss_max_failures: int = 2  # ineligible pairs shown with what would fix them
    near_miss_limit: int = 5  # at most this many near misses are shown
    tier_value: Mapping[str, float] = field(
        default_factory=lambda: {"landmark": 1.0, "advantage": 0.8, "future": 0.85, "none": 0.4}
    )
    size_value: Mapping[str, float] = field(
        default_factory=lambda: {
            "micro": 1.0,
            "small": 1.0,
            "medium": 0.8,
            "large": 0.5,
            "unknown": 0.3,
        }
    )
    spread_best_bp: int = -30
    spread_worst_bp: int = 200
    lpr_bp: Mapping[str, int] = field(default_factory=lambda: {"LPR1Y": 300, "LPR5Y": 350})
    policy_schemes: tuple[str, ...] = DEFAULT_POLICY_SCHEMES
    purposes: Mapping[str, tuple[str, str | None]] = field(
        default_factory=lambda: dict(DEFAULT_PURPOSES)
    )
    regions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REGIONS))
    obtainable: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_OBTAINABLE)
    )
    bridge_window_days: int = 30

    def __post_init__(self) -> None:
        if sorted(self.weights) != sorted(FACTORS):
            raise ValueError(f"weights must name exactly {FACTORS}")
        if sum(self.weights.values()) != 100 or min(self.weights.values()) < 0:
            raise ValueError("weights must be non-negative and add up to 100")
        if self.spread_best_bp >= self.spread_worst_bp:
            raise ValueError("spread_best_bp must be below spread_worst_bp")
        if (
            min(
                self.top_per_enterprise,
                self.top_per_product,
                self.near_miss_max_failures,
                self.near_miss_limit,
                self.bridge_window_days,
            )
            < 0
        ):
            raise ValueError("counts and windows must be >= 0")
        for code, (_, parent) in self.purposes.items():
            seen = {code}
            while parent is not None:
                if parent not in self.purposes:
                    raise ValueError(f"purpose {code}: unknown parent {parent}")
                if parent in seen:
                    raise ValueError(f"purpose {code}: the tree has a cycle")
                seen.add(parent)
                parent = self.purposes[parent][1]

    def purpose_ancestors(self, purpose: str) -> frozenset[str]:
        out: set[str] = set()
        parent = self.purposes.get(purpose, ("", None))[1]
        while parent is not None and parent not in out:
            out.add(parent)
            parent = self.purposes.get(parent, ("", None))[1]
        return frozenset(out)

    def purpose_name(self, code: str) -> str:
        return self.purposes.get(code, (code, None))[0]

    def region_name(self, prefix: str, names: Mapping[str, str]) -> str:
        return self.regions.get(prefix) or names.get(prefix) or f"行政区划 {prefix}"


# --- gates ----------------------------------------------------------------------------------


def _years_between(start: date, end: date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def _in_regions(area_code: str | None, regions: frozenset[str]) -> bool:
    if not area_code:
        return False
    return any(area_code.startswith(r) for r in regions)


def in_service_area(area_code: str | None, prefixes: Sequence[str]) -> bool:
    """Is an enterprise registered at ``area_code`` served? No prefixes: every enterprise."""
    if not prefixes:
        return True
    return _in_regions(area_code, frozenset(prefixes))


def _modest(lower: float, higher: float) -> bool:
    """Is going from one figure to the other a change an enterprise would make to fit a
    product? Not when it halves (or doubles) what it asked for."""
    return lower * 2 >= higher


def _reachable(
    e: EnterpriseFacts, code: str, on: date, config: ScoringConfig, n: Mapping[str, str]
) -> str | None:
    """How the enterprise can get a qualification soon, or None when it cannot."""
    name = n.get(code, code)
    expired = e.expired_on(code, on)
    if expired is not None:
        return f"{name}资质已于 {expired} 到期，续期后可申请"
    needs = config.obtainable.get(code)
    if needs is None:
        return None
    valid = e.valid_codes(on)
    if all(q in valid for q in needs):
        return f"取得{name}认定（可申报）"
    return None


def gates(
    e: EnterpriseFacts,
    need: NeedFacts | None,
    p: ProductRules,
    on: date,
    names: Mapping[str, str] | None = None,
    config: "ScoringConfig | None" = None,
) -> list[GateFailure]:
    """Every rule of the product the pair fails, in a fixed order. ``names`` maps codes to
    Chinese names for the messages."""
    n = names or {}
    c = config or _DEFAULT_CONFIG
    out: list[GateFailure] = []

    def fail(
        gate: str, reason: str, remedy: str, actionable: bool = False, gap: float = 1.0
    ) -> None:
        out.append(GateFailure(gate, reason, remedy, actionable, gap))

    if not e.in_service_area:
        fail(
            "service_area",
            "企业注册地不在本平台服务区域内",
            "本平台服务在服务区域内注册的企业，请通过注册地的融资服务平台对接",
        )
    if not p.active:
        fail("product_active", "产品已下架", "选择其他在售产品")
    if p.effective_from and on < p.effective_from:
        fail("effective_dates", f"产品自 {p.effective_from} 起生效", f"{p.effective_from} 后再申请")
    if p.effective_to and on > p.effective_to:
        fail("effective_dates", f"产品已于 {p.effective_to} 失效", "选择其他在售产品")
    if p.clusters_included and e.cluster not in p.clusters_included:
        wanted = "、".join(sorted(n.get(x, x) for x in p.clusters_included))
        fail("cluster_included", f"产品只面向{wanted}", f"属于{wanted}的企业方可申请")
    if e.cluster and e.cluster in p.clusters_excluded:
        fail("cluster_excluded", f"产品不面向{n.get(e.cluster, e.cluster)}", "选择不限行业的产品")
    if p.tiers and e.tier not in p.tiers:
        wanted = "、".join(TIER_LABEL.get(t, t) for t in sorted(p.tiers))
        fail("tier", f"产品只面向{wanted}集群的企业", f"属于{wanted}集群的企业方可申请")
    if p.size_classes and e.size_class not in p.size_classes:
        wanted = "、".join(
            SIZE_LABEL.get(s, s)
            for s in ("large", "medium", "small", "micro")
            if s in p.size_classes
        )
        have = SIZE_LABEL.get(e.size_class or "", "未划型")
        fail(
            "size_class",
            f"产品只面向{wanted}企业，该企业为{have}",
            "补充从业人员、营业收入等数据以划型"
            if e.size_class is None
            else f"{wanted}企业方可申请",
        )
    valid = e.valid_codes(on)
    if p.qualifications_any and not (valid & p.qualifications_any):
        wanted = "或".join(n.get(q, q) for q in sorted(p.qualifications_any))
        ways = [w for q in sorted(p.qualifications_any) if (w := _reachable(e, q, on, c, n))]
        fail(
            "qualifications_any",
            f"需要有效的{wanted}资质",
            "；或".join(ways) if ways else f"目前无法在短期内取得{wanted}资质",
            bool(ways),
            0.6,
        )
    missing = sorted(p.qualifications_all - valid)
    if missing:
        wanted = "、".join(n.get(q, q) for q in missing)
        each = [_reachable(e, q, on, c, n) for q in missing]
        fail(
            "qualifications_all",
            f"需要有效的{wanted}资质",
            "；".join(w for w in each if w) if all(each) else f"目前无法在短期内取得{wanted}资质",
            all(each),
            0.6 * len(missing),
        )
    if p.min_years_in_business:
        if e.established is None:
            fail("years_in_business", "成立日期未知", "补充企业成立日期")
        elif _years_between(e.established, on) < p.min_years_in_business:
            fail(
                "years_in_business",
                f"成立不满 {p.min_years_in_business} 年",
                f"成立满 {p.min_years_in_business} 年后申请",
            )
    if p.revenue_min_fen is not None or p.revenue_max_fen is not None:
        if e.revenue_fen is None:
            fail("revenue", "营业收入未知", "补充年营业收入")
        elif p.revenue_min_fen is not None and e.revenue_fen < p.revenue_min_fen:
            fail(
                "revenue",
                f"营业收入低于产品下限 {wan(p.revenue_min_fen)}",
                f"营业收入达到 {wan(p.revenue_min_fen)}",
            )
        elif p.revenue_max_fen is not None and e.revenue_fen >= p.revenue_max_fen:
            fail(
                "revenue",
                f"营业收入超出产品上限 {wan(p.revenue_max_fen)}",
                "选择面向更大规模企业的产品",
            )
    if p.min_credit_grade:
        if e.credit_grade is None:
            fail("credit_grade", "信用等级未知", "取得市企业信用评价等级")
        elif not grade_at_least(e.credit_grade, p.min_credit_grade):
            fail(
                "credit_grade",
                f"信用等级 {e.credit_grade} 低于产品要求的 {p.min_credit_grade}",
                f"信用等级达到 {p.min_credit_grade} 及以上",
            )
    if p.districts and e.district not in p.districts:
        wanted = "、".join(n.get(d, d) for d in sorted(p.districts))
        fail("district", f"产品只面向{wanted}的企业", f"注册或经营地在{wanted}的企业方可申请")
    if p.registered_in_wuxi and not e.registered_in_wuxi:
        fail("registered_in_wuxi", "产品只面向在无锡注册的企业", "在无锡注册的企业方可申请")
    if p.regions and not _in_regions(e.area_code, p.regions):
        wanted = "、".join(c.region_name(r, n) for r in sorted(p.regions))
        fail("region", f"产品只面向在{wanted}注册的企业", f"在{wanted}注册的企业方可申请")
    if p.ownership_types and e.ownership not in p.ownership_types:
        wanted = "、".join(n.get(f"ownership:{o}", o) for o in sorted(p.ownership_types))
        fail("ownership", f"产品只面向{wanted}企业", f"{wanted}企业方可申请")
    if e.industry_code and any(code_matches(e.industry_code, s) for s in p.industries_excluded):
        fail("industry_excluded", f"产品不面向行业 {e.industry_code}", "选择不限行业的产品")
    if p.industries_included and not (
        e.industry_code and any(code_matches(e.industry_code, s) for s in p.industries_included)
    ):
        wanted = "、".join(industry_scope(s) for s in p.industries_included)
        fail("industry_included", f"产品只面向{wanted}企业", f"{wanted}企业方可申请")
    if p.needs_committed_renewal and e.bridge != BRIDGE_COMMITTED:
        maturing = e.bridge == BRIDGE_MATURING
        fail(
            "renewal_committed",
            "转贷应急资金只用于临近到期、且合作银行已承诺续贷的贷款"
            + ("；贷款银行尚未承诺续贷" if maturing else "；企业没有临近到期的贷款"),
            "与贷款银行确认续贷，银行承诺续贷后即可申请"
            if maturing
            else f"贷款到期前 {c.bridge_window_days} 天内、银行承诺续贷后可申请",
            maturing,
            0.3,
        )
    if need is not None:
        if p.amount_min_fen is not None and need.amount_fen < p.amount_min_fen:
            fail(
                "amount_min",
                f"金额低于产品起贷金额 {wan(p.amount_min_fen)}",
                "选择起贷金额更低的产品",
            )
        if p.amount_max_fen is not None and need.amount_fen > p.amount_max_fen:
            fail(
                "amount_max",
                f"金额高于产品上限 {wan(p.amount_max_fen)}",
                f"金额降至 {wan(p.amount_max_fen)}以内",
                _modest(p.amount_max_fen, need.amount_fen),
                1 - p.amount_max_fen / need.amount_fen,
            )
        low, high = p.term_months_range()
        if low is not None and need.term_months < low:
            fail(
                "term_min",
                f"期限短于产品下限 {p.term_min}{term_unit(p.term_unit)}",
                f"期限延长至 {p.term_min}{term_unit(p.term_unit)}以上",
                _modest(need.term_months, low),
                min(1.0, (low - need.term_months) / low),
            )
        if high is not None and need.term_months > high:
            fail(
                "term_max",
                f"期限长于产品上限 {p.term_max}{term_unit(p.term_unit)}",
                f"期限缩短至 {p.term_max}{term_unit(p.term_unit)}以内",
                _modest(high, need.term_months),
                (need.term_months - high) / need.term_months,
            )
        if p.purposes and not (need.purposes_accepted_by & p.purposes):
            wanted = "、".join(c.purpose_name(x) for x in sorted(p.purposes))
            fail(
                "purpose",
                f"产品不支持{c.purpose_name(need.purpose)}用途",
                f"用于{wanted}的资金需求可申请",
                True,
                0.5,
            )
        if not p.credit and not (need.collateral_offered & p.collateral_types):
            wanted = "或".join(COLLATERAL_LABEL.get(x, x) for x in sorted(p.collateral_types))
            # Closer when the offer is of the same kind (a guarantee, where the product asks
            # for a government financing-guarantee company's).
            kin = any(COLLATERAL_COUNTS_AS.get(x) in need.collateral for x in p.collateral_types)
            fail(
                "collateral",
                f"产品需要{wanted}",
                f"提供{wanted}即可申请",
                True,
                0.2 if kin else 0.4,
            )
    return out


def score(
    e: EnterpriseFacts,
    need: NeedFacts | None,
    p: ProductRules,
    on: date,
    config: ScoringConfig,
    names: Mapping[str, str] | None = None,
) -> Result:
    n = names or {}
    failures = tuple(gates(e, need, p, on, n, config))
    rate = rate_bp(p, need, config)
    if failures:
        return Result(e.id, p.id, config.version, False, failures, (), rate)
    raw = {
        "sector": sector_fit(e, p, config, n),
        "industry": industry_fit(e, p),
        "size": size_fit(e, p, config),
        "need": need_fit(need, p),
        "qualification": qualification_fit(e, p, on, n),
        "cost": cost_fit(rate, p, config),
        "policy": policy_fit(p, config),
    }
    factors = tuple(
        Factor(
            name,
            config.weights[name],
            round(value, 4),
            round(config.weights[name] * clamp(value) * 100),
            why,
        )
        for name, (value, why) in raw.items()
    )
    return Result(e.id, p.id, config.version, True, (), factors, rate)


def rank(results: Sequence[Result]) -> list[Result]:
    """Eligible results, best first; ties by product id so the order is stable. Every eligible
    pair is a match (no score threshold): tightening a rule can then never add one."""
    return sorted((r for r in results if r.eligible), key=lambda r: (-r.score_centi, r.product_id))


_DEFAULT_CONFIG = ScoringConfig(0, DEFAULT_WEIGHTS)

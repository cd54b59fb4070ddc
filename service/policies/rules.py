"""Support policies (政策直达) as rules over an enterprise's facts: who is entitled, to how
much, for which period, and what is missing. Pure: no database, no I/O; money in integer fen,
rates in basis points.

A rule is one version of a policy (its parameters, effective from a date): eligibility
(民营企业 only, registered in the service area, size classes, a qualification awarded for the
first time or on re-examination, or held; a project's technology and equipment investment of
the previous year; a loan the scheme covers) and an amount (a fixed maximum; a tiered share of
an investment; a share of the interest paid), with caps (per loan, per enterprise and year),
once-only or yearly with a number of years, and the documents to prepare.

Rounding: every amount is rounded down to the fen (分) at each step — a share of a base, a
year's interest, the subsidy of it — and never exceeds a cap; the figures are the most the
rule allows (the office approves the amount: ``discretionary`` rules are decided on
assessment, 择优)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

YUAN = 100
WAN = 10_000 * YUAN  # fen in 1 万元
BP = 10_000
DAY_BASIS = 360  # 年利率 / 360 a day: the banks' convention for interest on loans


class Scheme(StrEnum):
    qualification_award = "qualification_award"  # a fixed amount for a qualification
    tech_transformation = "tech_transformation"  # a tiered share of last year's investment
    interest_subsidy = "interest_subsidy"  # a share of the interest paid on covered loans


class Award(StrEnum):
    """Which award of a qualification a rule pays for."""

    first = "first"  # the enterprise's first of that type (首次获评)
    renewal = "renewal"  # a later one of the same type (通过复审)
    any = "any"  # any award of that type (获得…授予的)


@dataclass(frozen=True)
class Tier:
    """From this base (inclusive) the rate applies to the whole base."""

    from_fen: int
    rate_bp: int


@dataclass(frozen=True)
class Rule:
    policy_code: str
    version: int
    name: str
    scheme: Scheme
    effective_from: date  # this version's days: the awards it pays for fall in them
    effective_to: date | None = None
    # The policy's days, over all its versions (None: this version's): a policy is in force,
    # and covers loans disbursed, from its first version to its last one's end.
    policy_from: date | None = None
    policy_to: date | None = None
    private_only: bool = True
    in_area_only: bool = True
    size_classes: frozenset[str] | None = None
    # qualification_award
    qualification_types: frozenset[str] = frozenset()
    award: Award = Award.any
    amount_fen: int | None = None
    # tech_transformation
    project_kinds: frozenset[str] = frozenset()
    min_base_fen: int = 0
    tiers: tuple[Tier, ...] = ()
    cap_per_year_fen: int | None = None
    max_years: int | None = None
    # interest_subsidy
    share_bp: int = 0
    cap_per_loan_fen: int | None = None
    loan_products: frozenset[str] = frozenset()
    loan_schemes: frozenset[str] = frozenset()
    loan_purposes: frozenset[str] = frozenset()
    loan_qualifications: frozenset[str] = frozenset()
    # how often, and what to prepare
    once: bool = True
    discretionary: bool = False
    documents: tuple[str, ...] = ()

    def in_force(self, on: date) -> bool:
        """Whether the policy is in force on ``on`` (under this version or another)."""
        start = self.policy_from or self.effective_from
        end = self.policy_to if self.policy_from is not None else self.effective_to
        return start <= on and (end is None or on <= end)


@dataclass(frozen=True)
class Held:
    type_code: str
    issued_date: date


@dataclass(frozen=True)
class ProjectFact:
    project_id: int
    name: str
    kind: str
    year: int
    equipment_investment_fen: int | None


@dataclass(frozen=True)
class LoanFact:
    loan_id: int
    contract_no: str
    product_code: str | None
    product_scheme: str | None
    purpose: str | None
    principal_fen: int
    rate_bp: int
    disbursed_date: date
    maturity_date: date
    closed_date: date | None = None


@dataclass(frozen=True)
class Granted:
    """An award the office recorded (approved or paid) under a policy, for a period."""

    policy_code: str
    period: str  # "once", or a year "2026"
    amount_fen: int


@dataclass(frozen=True)
class Facts:
    enterprise_id: int
    private: bool | None
    in_area: bool
    size_class: str | None
    qualifications: tuple[Held, ...] = ()
    projects: tuple[ProjectFact, ...] = ()
    loans: tuple[LoanFact, ...] = ()
    granted: tuple[Granted, ...] = ()


@dataclass(frozen=True)
class Line:
    """One part of an amount: what it rests on and what it comes to."""

    label: str
    base_fen: int | None
    rate_bp: int | None
    amount_fen: int
    ref: str | None = None  # "project:12", "loan:7", "qualification:little_giant:2026-03-01"


@dataclass(frozen=True)
class Evaluation:
    policy_code: str
    version: int
    eligible: bool
    period: str | None = None  # "once" or the year; the unit "once" and caps hold on
    amount_fen: int = 0
    lines: tuple[Line, ...] = ()
    reasons: tuple[str, ...] = ()  # what holds, in words
    missing: tuple[str, ...] = ()  # what does not, in words
    documents: tuple[str, ...] = ()
    discretionary: bool = False
    notes: tuple[str, ...] = field(default=())


def yuan_words(fen: int) -> str:
    """An amount as a person reads it: 万元 when whole, else 元 with fen."""
    if fen % WAN == 0:
        return f"{fen // WAN:,}万元"
    return f"{fen / YUAN:,.2f}元"


def evaluate(rule: Rule, facts: Facts, as_of: date) -> Evaluation:
    """What ``facts`` entitle the enterprise to under ``rule`` as of ``as_of``."""
    missing: list[str] = []
    reasons: list[str] = []
    if not rule.in_force(as_of):
        missing.append("政策不在有效期内")
    if rule.private_only:
        if facts.private is True:
            reasons.append("民营企业")
        else:
            missing.append(
                "仅限民营企业" if facts.private is False else "未登记控股情况，无法确认为民营企业"
            )
    if rule.in_area_only:
        (reasons if facts.in_area else missing).append(
            "注册在服务区域内" if facts.in_area else "注册地不在服务区域内"
        )
    if rule.size_classes is not None and facts.size_class not in rule.size_classes:
        missing.append("企业规模不在政策范围内")
    if missing:
        return _refused(rule, reasons, missing)
    if rule.scheme == Scheme.qualification_award:
        return _qualification_award(rule, facts, as_of, reasons)
    if rule.scheme == Scheme.tech_transformation:
        return _tech_transformation(rule, facts, as_of, reasons)
    return _interest_subsidy(rule, facts, as_of, reasons)


def evaluate_policy(rules: Sequence[Rule], facts: Facts, as_of: date) -> Evaluation:
    """A policy over all its versions (``rules``, newest first, each with its own days): an
    award is paid by the version in force on the day it was awarded, so the newest version
    that finds one decides; a yearly scheme by the version in force on ``as_of``."""
    begun = [r for r in rules if r.effective_from <= as_of]
    if not begun:
        return evaluate(rules[-1], facts, as_of)
    current = begun[0]
    if current.scheme != Scheme.qualification_award:
        return evaluate(current, facts, as_of)
    first = evaluate(current, facts, as_of)
    if first.eligible:
        return first
    for rule in begun[1:]:
        earlier = evaluate(rule, facts, as_of)
        if earlier.eligible or "已获此项奖励（一次性）" in earlier.missing:
            return earlier
    return first


def _refused(rule: Rule, reasons: list[str], missing: list[str], **more: object) -> Evaluation:
    return Evaluation(
        rule.policy_code,
        rule.version,
        False,
        reasons=tuple(reasons),
        missing=tuple(missing),
        documents=rule.documents,
        discretionary=rule.discretionary,
        **more,  # type: ignore[arg-type]
    )


def _granted(facts: Facts, rule: Rule) -> list[Granted]:
    return [g for g in facts.granted if g.policy_code == rule.policy_code]


def _qualification_award(rule: Rule, facts: Facts, as_of: date, reasons: list[str]) -> Evaluation:
    """A fixed amount for a qualification awarded within the rule's period: the first of its
    type, a later one (re-examination), or any; once per policy."""
    if rule.once and _granted(facts, rule):
        return _refused(rule, reasons, ["已获此项奖励（一次性）"], period="once")
    matching: list[Held] = []
    for type_code in sorted(rule.qualification_types):
        awards = sorted(q.issued_date for q in facts.qualifications if q.type_code == type_code)
        if rule.award == Award.first:
            candidates = awards[:1]
        elif rule.award == Award.renewal:
            candidates = awards[1:]
        else:
            candidates = awards
        matching += [
            Held(type_code, d)
            for d in candidates
            if rule.effective_from <= d <= as_of
            and (rule.effective_to is None or d <= rule.effective_to)
        ]
    if not matching:
        what = {Award.first: "首次获评", Award.renewal: "通过复审", Award.any: "获得"}[rule.award]
        return _refused(rule, reasons, [f"政策有效期内未{what}所需资质"], period="once")
    held = max(matching, key=lambda h: h.issued_date)
    assert rule.amount_fen is not None
    reasons.append(f"{held.issued_date.isoformat()} 获评（{held.type_code}）")
    line = Line(
        "一次性奖励",
        None,
        None,
        rule.amount_fen,
        ref=f"qualification:{held.type_code}:{held.issued_date.isoformat()}",
    )
    return Evaluation(
        rule.policy_code,
        rule.version,
        True,
        period="once",
        amount_fen=rule.amount_fen,
        lines=(line,),
        reasons=tuple(reasons),
        documents=rule.documents,
        discretionary=rule.discretionary,
    )


def tier_rate(tiers: tuple[Tier, ...], base_fen: int) -> int | None:
    """The rate of the highest tier the base reaches (tiers apply to the whole base), or
    None below the first."""
    rate = None
    for tier in sorted(tiers, key=lambda t: t.from_fen):
        if base_fen >= tier.from_fen:
            rate = tier.rate_bp
    return rate


def _tech_transformation(rule: Rule, facts: Facts, as_of: date, reasons: list[str]) -> Evaluation:
    """Each project of the previous year whose technology and equipment investment reaches the
    threshold: the tier's share of it (rounded down to the fen); the enterprise's year capped;
    at most ``max_years`` years of support."""
    year = as_of.year
    period = str(year)
    granted = _granted(facts, rule)
    years = {g.period for g in granted}
    if rule.max_years is not None and period not in years and len(years) >= rule.max_years:
        return _refused(
            rule,
            reasons,
            [f"已获支持 {len(years)} 年，最长支持 {rule.max_years} 年"],
            period=period,
        )
    lines = []
    for project in sorted(facts.projects, key=lambda p: p.project_id):
        base = project.equipment_investment_fen
        if project.kind not in rule.project_kinds or project.year != year - 1 or base is None:
            continue
        rate = tier_rate(rule.tiers, base)
        if base < rule.min_base_fen or rate is None:
            continue
        lines.append(
            Line(
                f"{project.name}：{year - 1}年技术和设备投资 {yuan_words(base)} × {rate / 100:g}%",
                base,
                rate,
                base * rate // BP,
                ref=f"project:{project.project_id}",
            )
        )
    if not lines:
        floor = yuan_words(rule.min_base_fen)
        return _refused(
            rule,
            reasons,
            [f"没有上年度（{year - 1}年）技术和设备投资达到{floor}的技术改造项目"],
            period=period,
        )
    total = sum(line.amount_fen for line in lines)
    notes = []
    if rule.cap_per_year_fen is not None and total > rule.cap_per_year_fen:
        notes.append(f"单个企业每年最高{yuan_words(rule.cap_per_year_fen)}")
        total = rule.cap_per_year_fen
    already = sum(g.amount_fen for g in granted if g.period == period)
    if already:  # what was granted for the year is part of the year's entitlement
        notes.append(f"本年度已获{yuan_words(already)}")
        total = max(0, total - already)
    reasons.append(f"{len(lines)} 个项目达到门槛")
    return Evaluation(
        rule.policy_code,
        rule.version,
        total > 0,
        period=period,
        amount_fen=total,
        lines=tuple(lines),
        reasons=tuple(reasons),
        missing=() if total > 0 else ("本年度额度已用完",),
        documents=rule.documents,
        discretionary=rule.discretionary,
        notes=tuple(notes),
    )


def interest_in_year(loan: LoanFact, year: int, until: date | None = None) -> int:
    """Interest the loan bore in ``year``: each day from disbursement (included) to maturity
    or closing (excluded), and not after ``until``, at principal × rate / 360, rounded down to
    the fen once for the year."""
    start = max(loan.disbursed_date, date(year, 1, 1))
    end = min(loan.maturity_date, date(year + 1, 1, 1))
    if loan.closed_date is not None:
        end = min(end, loan.closed_date)
    if until is not None:
        end = min(end, until + timedelta(days=1))
    days = (end - start).days
    if days <= 0:
        return 0
    return loan.principal_fen * loan.rate_bp * days // (BP * DAY_BASIS)


def covers(rule: Rule, loan: LoanFact, qualification_types: set[str]) -> bool:
    """Whether the scheme covers the loan: by product, product scheme or purpose (any named
    list the loan is in), and the enterprise's qualification when one is required; disbursed
    while the rule is in force."""
    named = [
        (rule.loan_products, loan.product_code),
        (rule.loan_schemes, loan.product_scheme),
        (rule.loan_purposes, loan.purpose),
    ]
    lists = [(allowed, value) for allowed, value in named if allowed]
    if lists and not any(value in allowed for allowed, value in lists):
        return False
    if rule.loan_qualifications and not (rule.loan_qualifications & qualification_types):
        return False
    return rule.in_force(loan.disbursed_date)


def effective_rate_bp(rate_bp: int, share_bp: int) -> int:
    """The rate after a subsidy of ``share_bp`` of the interest (uncapped), rounded down."""
    return rate_bp * (BP - share_bp) // BP


def _interest_subsidy(rule: Rule, facts: Facts, as_of: date, reasons: list[str]) -> Evaluation:
    """A share of the interest each covered loan bore this year so far (rounded down to the
    fen), capped per loan and per enterprise and year."""
    year = as_of.year
    period = str(year)
    types = {q.type_code for q in facts.qualifications}
    lines = []
    for loan in sorted(facts.loans, key=lambda loan: loan.loan_id):
        if not covers(rule, loan, types):
            continue
        interest = interest_in_year(loan, year, until=as_of)
        subsidy = interest * rule.share_bp // BP
        if rule.cap_per_loan_fen is not None:
            subsidy = min(subsidy, rule.cap_per_loan_fen)
        lines.append(
            Line(
                f"贷款 {loan.contract_no}：{year}年已付利息 {yuan_words(interest)} × {rule.share_bp / 100:g}%",
                interest,
                rule.share_bp,
                subsidy,
                ref=f"loan:{loan.loan_id}",
            )
        )
    if not lines:
        return _refused(rule, reasons, ["没有本贴息方案覆盖的贷款"], period=period)
    total = sum(line.amount_fen for line in lines)
    notes = []
    if rule.cap_per_year_fen is not None and total > rule.cap_per_year_fen:
        notes.append(f"每户每年最高{yuan_words(rule.cap_per_year_fen)}")
        total = rule.cap_per_year_fen
    already = sum(g.amount_fen for g in _granted(facts, rule) if g.period == period)
    if already:  # what was granted for the year is part of the year's entitlement
        notes.append(f"本年度已获{yuan_words(already)}")
        total = max(0, total - already)
    reasons.append(f"{len(lines)} 笔贷款在贴息范围内")
    return Evaluation(
        rule.policy_code,
        rule.version,
        True,
        period=period,
        amount_fen=total,
        lines=tuple(lines),
        reasons=tuple(reasons),
        documents=rule.documents,
        discretionary=rule.discretionary,
        notes=tuple(notes),
    )

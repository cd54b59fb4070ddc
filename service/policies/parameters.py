"""A policy version's parameters as the office writes them (JSON, validated here) and the rule
the engine evaluates (``rules.Rule``). Pure: no database.

Amounts are in fen, rates in basis points; a tier applies its rate to the whole base from its
``from_fen`` on (the plans' 档次: 1000万（含）～3000万 at 5% means 5% of the whole investment).
What a rule needs depends on its scheme: a fixed ``amount_fen`` and qualification types for an
award; ``tiers`` for technology transformation; ``share_bp`` and what loans it covers for an
interest subsidy."""

from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.policies.rules import Award, Rule, Scheme, Tier

AMOUNT_MAX_FEN = 10**13  # 1000亿元: no support is larger; a bigger figure is a typing error


class TierParameter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_fen: int = Field(ge=0, le=AMOUNT_MAX_FEN)
    rate_bp: int = Field(ge=1, le=10_000)


class Parameters(BaseModel):
    """What one version of a policy says."""

    model_config = ConfigDict(extra="forbid")

    scheme: Scheme
    private_only: bool = True
    in_area_only: bool = True
    size_classes: list[str] | None = None
    qualification_types: list[str] = Field(default_factory=list, max_length=20)
    award: Award = Award.any
    amount_fen: int | None = Field(default=None, ge=1, le=AMOUNT_MAX_FEN)
    project_kinds: list[str] = Field(default_factory=list, max_length=10)
    min_base_fen: int = Field(default=0, ge=0, le=AMOUNT_MAX_FEN)
    tiers: list[TierParameter] = Field(default_factory=list, max_length=10)
    cap_per_year_fen: int | None = Field(default=None, ge=1, le=AMOUNT_MAX_FEN)
    max_years: int | None = Field(default=None, ge=1, le=20)
    share_bp: int = Field(default=0, ge=0, le=10_000)
    cap_per_loan_fen: int | None = Field(default=None, ge=1, le=AMOUNT_MAX_FEN)
    loan_products: list[str] = Field(default_factory=list, max_length=200)
    loan_schemes: list[str] = Field(default_factory=list, max_length=20)
    loan_purposes: list[str] = Field(default_factory=list, max_length=20)
    loan_qualifications: list[str] = Field(default_factory=list, max_length=20)
    once: bool = True
    discretionary: bool = False
    documents: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.scheme == Scheme.qualification_award:
            if not self.qualification_types or self.amount_fen is None:
                raise ValueError("资质奖励须指明资质类型和奖励金额（amount_fen）")
            if not self.once:
                raise ValueError("资质奖励为一次性奖励（once）")
        elif self.scheme == Scheme.tech_transformation:
            if not self.tiers or not self.project_kinds:
                raise ValueError("技改支持须有档次（tiers）和项目类型（project_kinds）")
            starts = [t.from_fen for t in self.tiers]
            if starts != sorted(set(starts)):
                raise ValueError("档次须按起点从低到高排列，且起点各不相同")
            if self.once:
                raise ValueError("技改支持按年度计算（once 为 false）")
        elif self.scheme == Scheme.interest_subsidy:
            if not 1 <= self.share_bp <= 10_000:
                raise ValueError("贴息须给出贴息比例（share_bp，1–10000）")
            if self.once:
                raise ValueError("贴息按年度计算（once 为 false）")
        return self


def to_rule(
    policy_code: str,
    version: int,
    name: str,
    effective_from: date,
    effective_to: date | None,
    parameters: Parameters,
) -> Rule:
    p = parameters
    return Rule(
        policy_code=policy_code,
        version=version,
        name=name,
        scheme=p.scheme,
        effective_from=effective_from,
        effective_to=effective_to,
        private_only=p.private_only,
        in_area_only=p.in_area_only,
        size_classes=frozenset(p.size_classes) if p.size_classes is not None else None,
        qualification_types=frozenset(p.qualification_types),
        award=p.award,
        amount_fen=p.amount_fen,
        project_kinds=frozenset(p.project_kinds),
        min_base_fen=p.min_base_fen,
        tiers=tuple(Tier(t.from_fen, t.rate_bp) for t in p.tiers),
        cap_per_year_fen=p.cap_per_year_fen,
        max_years=p.max_years,
        share_bp=p.share_bp,
        cap_per_loan_fen=p.cap_per_loan_fen,
        loan_products=frozenset(p.loan_products),
        loan_schemes=frozenset(p.loan_schemes),
        loan_purposes=frozenset(p.loan_purposes),
        loan_qualifications=frozenset(p.loan_qualifications),
        once=p.once,
        discretionary=p.discretionary,
        documents=tuple(p.documents),
    )

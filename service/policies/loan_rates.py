"""What an interest subsidy (贴息) makes of a loan: the policy that covers it, the share of the
interest it pays back, the rate the enterprise bears after it, and what it comes to this year
so far, as the loan pages show it beside the bank's rate.

The figures are the rules' own (``rules.covers``, ``interest_in_year``, ``effective_rate_bp``),
so a loan page never says other than the entitlement: interest from disbursement (or 1
January) to today at principal × rate / 360, rounded down to the fen; the subsidy its share,
rounded down and capped per loan. The effective rate leaves the cap out: it is the rate while
the cap is not reached, as the policy words it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.models import today_local
from service.policies import store
from service.policies.exceptions import PolicyNotFound
from service.policies.rules import (
    BP,
    Facts,
    LoanFact,
    Rule,
    Scheme,
    covers,
    effective_rate_bp,
    interest_in_year,
    yuan_words,
)


@dataclass(frozen=True)
class LoanSubsidy:
    """One interest-subsidy policy over one loan, as of a day."""

    loan_id: int
    policy_code: str
    policy_name: str
    share_bp: int
    cap_per_loan_fen: int | None
    rate_bp: int  # the bank's rate
    effective_rate_bp: int  # the rate after the subsidy
    year: int
    interest_fen: int  # the interest the loan bore this year until the day
    subsidy_fen: int  # its share, capped per loan
    capped: bool  # the cap per loan cut the share

    @property
    def terms(self) -> str:
        """The policy in a few words: 锡科贷贴息，按已付利息的50%，单笔最高20万元."""
        cap = f"，单笔最高{yuan_words(self.cap_per_loan_fen)}" if self.cap_per_loan_fen else ""
        return f"{self.policy_name}，按已付利息的{self.share_bp / 100:g}%{cap}"

    @property
    def text(self) -> str:
        """贴息后实际利率 1.80%（锡科贷贴息，按已付利息的50%，单笔最高20万元）"""
        return f"贴息后实际利率 {self.effective_rate_bp / 100:.2f}%（{self.terms}）"


def qualifies(rule: Rule, facts: Facts) -> bool:
    """Whether the enterprise itself meets the rule's conditions (民营, in the service area,
    its size): what ``rules.evaluate`` asks before it looks at any loan."""
    if rule.private_only and facts.private is not True:
        return False
    if rule.in_area_only and not facts.in_area:
        return False
    return rule.size_classes is None or facts.size_class in rule.size_classes


def loan_subsidy(
    rule: Rule, loan: LoanFact, qualification_types: set[str], as_of: date
) -> LoanSubsidy | None:
    """The subsidy ``rule`` gives ``loan`` in ``as_of``'s year until that day, or None when
    the rule is no interest subsidy or does not cover the loan. Pure."""
    if rule.scheme != Scheme.interest_subsidy or not covers(rule, loan, qualification_types):
        return None
    interest = interest_in_year(loan, as_of.year, until=as_of)
    share = interest * rule.share_bp // BP
    subsidy = share if rule.cap_per_loan_fen is None else min(share, rule.cap_per_loan_fen)
    return LoanSubsidy(
        loan_id=loan.loan_id,
        policy_code=rule.policy_code,
        policy_name=rule.name,
        share_bp=rule.share_bp,
        cap_per_loan_fen=rule.cap_per_loan_fen,
        rate_bp=loan.rate_bp,
        effective_rate_bp=effective_rate_bp(loan.rate_bp, rule.share_bp),
        year=as_of.year,
        interest_fen=interest,
        subsidy_fen=subsidy,
        capped=subsidy < share,
    )


def subsidies(rules: Sequence[Rule], facts: Facts, as_of: date) -> dict[int, list[LoanSubsidy]]:
    """Each of the enterprise's loans with the subsidies that cover it (by policy code);
    nothing when the enterprise itself does not qualify for a rule. Pure."""
    types = {q.type_code for q in facts.qualifications}
    out: dict[int, list[LoanSubsidy]] = {}
    for rule in sorted(rules, key=lambda r: r.policy_code):
        if rule.scheme != Scheme.interest_subsidy or not qualifies(rule, facts):
            continue
        for loan in facts.loans:
            found = loan_subsidy(rule, loan, types, as_of)
            if found is not None:
                out.setdefault(loan.loan_id, []).append(found)
    return out


def loan_subsidies(
    session: Session, principal: Principal, enterprise_id: int, as_of: date | None = None
) -> dict[int, list[LoanSubsidy]]:
    """The subsidies on the enterprise's loans under the policies in force today (each
    under its version in force): the office sees any enterprise's, an enterprise its own."""
    require(principal, Role.office, Role.enterprise)
    if principal.role == Role.enterprise and principal.enterprise_id != enterprise_id:
        raise PolicyNotFound("没有这家企业的政策信息。", code="enterprise_not_found")
    on = as_of or today_local()
    found = store.read_facts(session, [enterprise_id])
    if not found:
        return {}
    rules = [p.current for p in store.rules_in_force(session, on)]
    return subsidies(rules, found[0], on)

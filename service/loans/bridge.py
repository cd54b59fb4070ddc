"""The 转贷应急资金 renewal bridge fund: who may use it, how much, and its fee. Pure: no
database, no I/O.

Eligible: a medium, small or micro enterprise registered in Wuxi (江阴 and 宜兴 included),
credit grade B- or better on the city's scale, a lending bank with a cooperation agreement,
and a renewal the bank has committed to. At most 90% of the committed renewal, for at most 10
days; the fee is 0.2‰ of the amount a day for the first 2 days and 0.4‰ a day after, in fen,
rounded half up once on the total."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from service.loans.renewal import CaseStatus, Eligibility, Reason
from service.taxonomy.grades import grade_at_least

MAX_DAYS = 10
MAX_SHARE_PERCENT = 90
MIN_GRADE = "B-"
FIRST_DAYS = 2
FIRST_RATE_PER_MILLE = Decimal("0.2")  # per day
LATER_RATE_PER_MILLE = Decimal("0.4")
SIZES = ("medium", "small", "micro")
COMMITTED = (CaseStatus.committed, CaseStatus.bridge_needed)


@dataclass(frozen=True)
class Fee:
    fee_fen: int
    exact_fen: Decimal  # before rounding to the fen
    first_days: int
    later_days: int

    @property
    def explanation(self) -> str:
        parts = [f"前 {self.first_days} 天按日 0.2‰"]
        if self.later_days:
            parts.append(f"其后 {self.later_days} 天按日 0.4‰")
        return "，".join(parts)


def fee(amount_fen: int, days: int) -> Fee:
    if amount_fen <= 0 or days <= 0:
        raise ValueError("amount and days must be positive")
    first = min(days, FIRST_DAYS)
    later = days - first
    per_mille = FIRST_RATE_PER_MILLE * first + LATER_RATE_PER_MILLE * later
    exact = Decimal(amount_fen) * per_mille / 1000
    return Fee(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), exact, first, later)


def max_amount_fen(committed_fen: int) -> int:
    """90% of the committed renewal, rounded down to the fen (never above the cap)."""
    return committed_fen * MAX_SHARE_PERCENT // 100


def end_date(start: date, days: int) -> date:
    """The day the bridge is repaid: ``days`` days of use from ``start``."""
    return start + timedelta(days=days)


@dataclass(frozen=True)
class Applicant:
    size_class: str | None
    registered_in_wuxi: bool
    credit_grade: str | None
    bank_partner: bool
    bank_name: str
    case_status: CaseStatus | None
    committed_fen: int | None


def check(applicant: Applicant, amount_fen: int, days: int) -> Eligibility:
    """Every reason the request fails, or eligible."""
    reasons: list[Reason] = []
    if applicant.size_class not in SIZES:
        what = {"large": "大型企业"}.get(applicant.size_class or "", "规模未知的企业")
        reasons.append(
            Reason("size_not_eligible", f"转贷应急资金仅限中型、小型、微型企业，{what}不适用")
        )
    if not applicant.registered_in_wuxi:
        reasons.append(Reason("not_registered_in_wuxi", "企业须在无锡（含江阴、宜兴）注册"))
    grade = applicant.credit_grade
    if grade is None:
        reasons.append(Reason("credit_grade_missing", f"缺少信用等级；须为 {MIN_GRADE} 级及以上"))
    elif not grade_at_least(grade, MIN_GRADE):
        reasons.append(
            Reason(
                "credit_grade_too_low",
                f"信用等级 {grade} 低于 {MIN_GRADE}，须为 {MIN_GRADE} 级及以上",
            )
        )
    if not applicant.bank_partner:
        reasons.append(
            Reason("bank_not_partner", f"{applicant.bank_name}未与转贷应急资金签订合作协议")
        )
    if applicant.case_status not in COMMITTED or not applicant.committed_fen:
        reasons.append(
            Reason("renewal_not_committed", "银行尚未承诺续贷；转贷应急资金只在银行承诺续贷后使用")
        )
    elif amount_fen > max_amount_fen(applicant.committed_fen):
        reasons.append(
            Reason(
                "amount_over_cap",
                f"金额 {yuan(amount_fen)} 元超过承诺续贷金额 {yuan(applicant.committed_fen)} 元的 90%"
                f"（至多 {yuan(max_amount_fen(applicant.committed_fen))} 元）",
            )
        )
    if amount_fen <= 0:
        reasons.append(Reason("amount_not_positive", "金额须大于零"))
    if days < 1:
        reasons.append(Reason("days_not_positive", "使用天数至少 1 天"))
    elif days > MAX_DAYS:
        reasons.append(Reason("days_over_cap", f"使用天数 {days} 天超过上限 {MAX_DAYS} 天"))
    if reasons:
        return Eligibility(False, reasons)
    return Eligibility(True, [], "符合转贷应急资金使用条件")


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"

"""The 转贷应急资金 renewal bridge fund: who may use it, how much, and its fee. Pure: no
database, no I/O.

Eligible: a medium, small or micro enterprise registered in Wuxi (江阴 and 宜兴 included),
credit grade B- or better on the city's scale, a lending bank with a cooperation agreement,
and a renewal the bank has committed to. At most 90% of the committed renewal and at most the
maturing loan's principal (the bridge repays that loan, nothing more), for at most 10 days;
the fee is 0.2‰ of the amount a day for the first 2 days and 0.4‰ a day after, in fen,
rounded half up once on the total.

Dates, as the fund's credit officer checks them when the office records each step:

Refused (each with its own code; the step is not recorded):
- any date after today: a step is recorded once it has happened, never ahead;
- a planned start after the loan's maturity (the loan would be overdue by then) or before
  today (an application is for a bridge still to come);
- approval before the application was made;
- disbursement before the application was made or before its approval;
- disbursement after the loan's maturity date: the bridge repays the loan at maturity, a day
  or a few before is normal (before a long holiday, up to about ten), after it the loan is
  overdue and the fund does not lend against an overdue loan;
- repayment before disbursement (the same day is a bridge used for one day).

Recorded as they happened:
- disbursement earlier than the planned start: the planned start is a plan, and an early
  repayment before a holiday is normal;
- repayment later than the term applied for, or beyond the fund's 10 days: the money came back
  on that day whatever the rules say, and refusing to record it would leave the fund's books
  showing money out that is in. It is flagged instead: ``days_used`` and ``overdue_days`` (days
  beyond the term applied for) on the application, for the office to follow up."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from service.loans.models import BridgeStatus
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


@dataclass(frozen=True)
class Cap:
    """The most a bridge may be: the lower of 90% of the committed renewal and the maturing
    loan's principal, and which of the two it is."""

    amount_fen: int
    basis: Literal["committed_share", "maturing_principal"]
    share_fen: int  # 90% of the committed renewal
    principal_fen: int

    @property
    def explanation(self) -> str:
        which = "到期贷款本金" if self.basis == "maturing_principal" else "承诺续贷金额的 90%"
        return (
            f"承诺续贷金额的 90% 为 {yuan(self.share_fen)} 元，到期贷款本金为 "
            f"{yuan(self.principal_fen)} 元，取较低者：至多 {yuan(self.amount_fen)} 元（{which}）"
        )


def cap(committed_fen: int, principal_fen: int) -> Cap:
    share = max_amount_fen(committed_fen)
    if principal_fen < share:
        return Cap(principal_fen, "maturing_principal", share, principal_fen)
    return Cap(share, "committed_share", share, principal_fen)


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
    principal_fen: int  # of the maturing loan the bridge repays


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
    if amount_fen > applicant.principal_fen:
        reasons.append(
            Reason(
                "amount_over_principal",
                f"金额 {yuan(amount_fen)} 元超过到期贷款本金 {yuan(applicant.principal_fen)} 元；"
                "转贷应急资金只用于归还到期贷款，至多为到期本金",
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


def check_start(start: date, maturity: date, today: date) -> list[Reason]:
    """The planned start: the day the bridge repays the loan, on or before its maturity, and
    not in the past."""
    reasons = []
    if start > maturity:
        reasons.append(
            Reason(
                "start_after_maturity",
                f"开始日期 {start} 晚于贷款到期日 {maturity}；转贷应急资金在到期时归还贷款，"
                "到期后贷款已逾期",
            )
        )
    if start < today:
        reasons.append(Reason("start_in_past", f"开始日期 {start} 早于今天（{today}）"))
    return reasons


# --- an application's steps and the dates the office records --------------------------------

# The fund approves or rejects an application and then disburses it and records its repayment;
# the bank or the enterprise may cancel it until it is disbursed.
NEXT: dict[BridgeStatus, tuple[BridgeStatus, ...]] = {
    BridgeStatus.submitted: (BridgeStatus.approved, BridgeStatus.rejected, BridgeStatus.cancelled),
    BridgeStatus.approved: (BridgeStatus.disbursed, BridgeStatus.cancelled),
    BridgeStatus.disbursed: (BridgeStatus.repaid,),
    BridgeStatus.repaid: (),
    BridgeStatus.rejected: (),
    BridgeStatus.cancelled: (),
}
OPEN = (BridgeStatus.submitted, BridgeStatus.approved, BridgeStatus.disbursed)


def check_approval(on: date, applied_on: date, today: date) -> list[Reason]:
    reasons = _not_future(on, "批准", today)
    if on < applied_on:
        reasons.append(
            Reason("approved_before_application", f"批准日期 {on} 早于申请日期 {applied_on}")
        )
    return reasons


def check_disbursement(
    on: date, applied_on: date, approved_on: date | None, maturity: date, today: date
) -> list[Reason]:
    """Every reason the disbursement date cannot be right (see the module's notes)."""
    reasons = _not_future(on, "放款", today)
    if on < applied_on:
        reasons.append(
            Reason("disbursed_before_application", f"放款日期 {on} 早于申请日期 {applied_on}")
        )
    if approved_on is not None and on < approved_on:
        reasons.append(
            Reason("disbursed_before_approval", f"放款日期 {on} 早于批准日期 {approved_on}")
        )
    if on > maturity:
        reasons.append(
            Reason(
                "disbursed_after_maturity",
                f"放款日期 {on} 晚于贷款到期日 {maturity}；转贷应急资金在到期时（或到期前几天）"
                "归还贷款，到期后贷款已逾期，不能放款",
            )
        )
    return reasons


def check_repayment(on: date, disbursed_on: date | None, today: date) -> list[Reason]:
    """Every reason the repayment date cannot be right. A late repayment is not one of them:
    it is recorded and flagged (``use``)."""
    reasons = _not_future(on, "还款", today)
    if disbursed_on is not None and on < disbursed_on:
        reasons.append(
            Reason("repaid_before_disbursement", f"还款日期 {on} 早于放款日期 {disbursed_on}")
        )
    return reasons


def _not_future(on: date, what: str, today: date) -> list[Reason]:
    if on > today:
        return [Reason("date_in_future", f"{what}日期 {on} 晚于今天（{today}）；发生后再登记")]
    return []


@dataclass(frozen=True)
class Use:
    """How long a disbursed bridge has been (or was) out, and by how much past its term."""

    days_used: int  # at least 1: repaid the day it went out is one day's use
    overdue_days: int  # beyond the days applied for (0 when in time)

    @property
    def beyond_fund_limit(self) -> bool:
        return self.days_used > MAX_DAYS


def use(disbursed_on: date, repaid_on: date | None, days: int, today: date) -> Use:
    """Days of use to the repayment, or to today while the bridge is still out."""
    used = max(((repaid_on or today) - disbursed_on).days, 1)
    return Use(used, max(used - days, 0))


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"

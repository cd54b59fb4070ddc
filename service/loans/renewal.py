"""The renewal case of a maturing loan as a state machine, and whether the loan may be renewed
without repaying principal first (无还本续贷). Pure: no database, no I/O.

open → contacted → committed → renewed, or repaid, or committed → bridge_needed → bridged →
renewed, or failed at any open step. Contact is implied by any later step (a bank that
commits a renewal has spoken to the borrower)."""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from service.loans.exceptions import CaseTransitionNotAllowed
from service.taxonomy.sizing import SIZE_LABEL


class CaseStatus(StrEnum):
    open = "open"
    contacted = "contacted"
    committed = "committed"
    bridge_needed = "bridge_needed"
    bridged = "bridged"
    renewed = "renewed"
    repaid = "repaid"
    failed = "failed"


CASE_LABEL: dict[CaseStatus, str] = {
    CaseStatus.open: "待对接",
    CaseStatus.contacted: "已对接",
    CaseStatus.committed: "已承诺续贷",
    CaseStatus.bridge_needed: "需转贷应急资金",
    CaseStatus.bridged: "已转贷",
    CaseStatus.renewed: "已续贷",
    CaseStatus.repaid: "已还款结清",
    CaseStatus.failed: "续贷未成",
}

FINAL = frozenset({CaseStatus.renewed, CaseStatus.repaid, CaseStatus.failed})
ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.open: frozenset(
        {CaseStatus.contacted, CaseStatus.committed, CaseStatus.repaid, CaseStatus.failed}
    ),
    CaseStatus.contacted: frozenset({CaseStatus.committed, CaseStatus.repaid, CaseStatus.failed}),
    CaseStatus.committed: frozenset(
        {CaseStatus.renewed, CaseStatus.bridge_needed, CaseStatus.repaid, CaseStatus.failed}
    ),
    CaseStatus.bridge_needed: frozenset({CaseStatus.bridged, CaseStatus.failed}),
    CaseStatus.bridged: frozenset({CaseStatus.renewed, CaseStatus.failed}),
    CaseStatus.renewed: frozenset(),
    CaseStatus.repaid: frozenset(),
    CaseStatus.failed: frozenset(),
}


def check_transition(current: CaseStatus, to: CaseStatus) -> None:
    current, to = CaseStatus(current), CaseStatus(to)
    if to not in ALLOWED[current]:
        allowed = [s for s in CaseStatus if s in ALLOWED[current]]
        tail = (
            "可改为：" + "、".join(CASE_LABEL[s] for s in allowed)
            if allowed
            else "续贷事项已结束，不能再更改"
        )
        raise CaseTransitionNotAllowed(
            f"续贷事项当前为「{CASE_LABEL[current]}」，不能改为「{CASE_LABEL[to]}」；{tail}",
            current=str(current),
            to=str(to),
            allowed=[str(s) for s in allowed],
        )


# --- renewal without repaying principal -----------------------------------------------------

# 金规〔2024〕13号: medium enterprises' working-capital loans qualify when they mature by this
# date ("2027年9月30日前到期": 前 includes the day in Chinese regulatory usage).
MEDIUM_UNTIL = date(2027, 9, 30)


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: list[Reason] = field(default_factory=list)  # why not, every one of them
    basis: str = ""  # why yes


def no_principal_renewal(size_class: str | None, kind: str, maturity: date) -> Eligibility:
    """Small and micro enterprises' working-capital loans; medium ones' too when they mature
    on or before 2027-09-30. Project loans and large enterprises do not qualify."""
    reasons: list[Reason] = []
    if kind != "working_capital":
        reasons.append(Reason("not_working_capital", "无还本续贷仅适用于流动资金贷款"))
    if size_class is None:
        reasons.append(Reason("size_unknown", "企业规模未知（缺少从业人员或营业收入等指标）"))
    elif size_class == "large":
        reasons.append(Reason("large_enterprise", "大型企业不适用无还本续贷"))
    elif size_class == "medium" and maturity > MEDIUM_UNTIL:
        reasons.append(
            Reason(
                "medium_after_deadline",
                f"中型企业的流动资金贷款须在 {MEDIUM_UNTIL.isoformat()} 前到期，"
                f"本笔 {maturity.isoformat()} 到期",
            )
        )
    if reasons:
        return Eligibility(False, reasons)
    size = SIZE_LABEL.get(size_class or "", size_class or "")
    basis = f"{size}企业流动资金贷款，可申请无还本续贷（金规〔2024〕13号）"
    return Eligibility(True, [], basis)

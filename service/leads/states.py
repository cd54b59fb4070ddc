"""The outcome of a lead, as a state machine. Pure: no database, no I/O.

A lead opens as ``new``; the bank views it, contacts the enterprise, approves and disburses,
or declines it at any open step; the enterprise may withdraw while it is open. ``disbursed``,
``declined`` and ``withdrawn`` are final. ``check`` says whether a requested change is
allowed, by whom, and whether it carries the data it needs (refusing with the errors of
``exceptions.py``, worded in the labels here); the use case then applies it with a
conditional update on the current status, so two racing changes cannot both win."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from service.leads.exceptions import ActorNotAllowed, OutcomeInvalid, TransitionNotAllowed


class LeadStatus(StrEnum):
    new = "new"
    viewed = "viewed"
    contacted = "contacted"
    approved = "approved"
    disbursed = "disbursed"
    declined = "declined"
    withdrawn = "withdrawn"


STATUS_LABEL: dict[LeadStatus, str] = {
    LeadStatus.new: "新线索",
    LeadStatus.viewed: "已查看",
    LeadStatus.contacted: "已联系",
    LeadStatus.approved: "已批复",
    LeadStatus.disbursed: "已放款",
    LeadStatus.declined: "已拒绝",
    LeadStatus.withdrawn: "已撤回",
}

OPEN: frozenset[LeadStatus] = frozenset(
    {LeadStatus.new, LeadStatus.viewed, LeadStatus.contacted, LeadStatus.approved}
)
TERMINAL: frozenset[LeadStatus] = frozenset(
    {LeadStatus.disbursed, LeadStatus.declined, LeadStatus.withdrawn}
)

ALLOWED: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.new: frozenset(
        {LeadStatus.viewed, LeadStatus.contacted, LeadStatus.declined, LeadStatus.withdrawn}
    ),
    LeadStatus.viewed: frozenset({LeadStatus.contacted, LeadStatus.declined, LeadStatus.withdrawn}),
    LeadStatus.contacted: frozenset(
        {LeadStatus.approved, LeadStatus.declined, LeadStatus.withdrawn}
    ),
    LeadStatus.approved: frozenset(
        {LeadStatus.disbursed, LeadStatus.declined, LeadStatus.withdrawn}
    ),
    LeadStatus.disbursed: frozenset(),
    LeadStatus.declined: frozenset(),
    LeadStatus.withdrawn: frozenset(),
}


class Actor(StrEnum):
    """Who asks for a change; the values are those of the API key roles."""

    bank = "bank"
    enterprise = "enterprise"
    office = "office"


ACTOR_LABEL: dict[Actor, str] = {
    Actor.bank: "银行",
    Actor.enterprise: "企业",
    Actor.office: "金融办",
}

# Withdrawing is the enterprise's decision; every other step is the bank's. The office may do
# either, to correct records on someone's behalf.
_BANK_SIDE = frozenset({Actor.bank, Actor.office})
MAY_SET: dict[LeadStatus, frozenset[Actor]] = {
    status: frozenset({Actor.enterprise, Actor.office})
    if status == LeadStatus.withdrawn
    else _BANK_SIDE
    for status in LeadStatus
}


class DeclineReason(StrEnum):
    credit_history = "credit_history"
    insufficient_collateral = "insufficient_collateral"
    outside_credit_policy = "outside_credit_policy"
    insufficient_revenue = "insufficient_revenue"
    high_leverage = "high_leverage"
    incomplete_documents = "incomplete_documents"
    enterprise_declined = "enterprise_declined"
    unreachable = "unreachable"
    duplicate = "duplicate"
    other = "other"


DECLINE_REASON_LABEL: dict[DeclineReason, str] = {
    DeclineReason.credit_history: "征信记录不良",
    DeclineReason.insufficient_collateral: "担保或抵押不足",
    DeclineReason.outside_credit_policy: "不符合授信政策",
    DeclineReason.insufficient_revenue: "经营收入不足",
    DeclineReason.high_leverage: "负债率过高",
    DeclineReason.incomplete_documents: "资料不全",
    DeclineReason.enterprise_declined: "企业放弃",
    DeclineReason.unreachable: "联系不上企业",
    DeclineReason.duplicate: "重复申请",
    DeclineReason.other: "其他，须说明",
}

NOTE_MAX_CHARS = 500
# 30% a year: far above any bank loan, so it only stops a rate entered in the wrong unit.
RATE_BP_MAX = 3000
TERM_MONTHS_MAX = 360

# Funnel depth for conversion metrics. A lead that skips a step (new → contacted) has passed
# it all the same. declined and withdrawn are exits, not stages: how deep such a lead got is
# the status it left, which only the lead's event history knows.
FUNNEL: tuple[LeadStatus, ...] = (
    LeadStatus.new,
    LeadStatus.viewed,
    LeadStatus.contacted,
    LeadStatus.approved,
    LeadStatus.disbursed,
)
_DEPTH = {status: depth for depth, status in enumerate(FUNNEL)}


def stage_reached(status: LeadStatus | str) -> int | None:
    """Funnel depth of a status: new 0, viewed 1, contacted 2, approved 3, disbursed 4;
    None for declined and withdrawn. Every allowed move between funnel stages goes deeper."""
    return _DEPTH.get(LeadStatus(status))


# --- the requested change -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A requested transition and the data that comes with it. ``on_date`` is the decision
    or disbursement date (Asia/Shanghai), when the caller knows it."""

    to: LeadStatus
    actor: str
    reason: DeclineReason | None = None
    note: str | None = None
    amount_fen: int | None = None
    rate_bp: int | None = None
    term_months: int | None = None
    on_date: date | None = None


# --- the check ------------------------------------------------------------------------------


def allowed_next(current: LeadStatus) -> tuple[LeadStatus, ...]:
    """Where a lead may go from here, in status order (for menus and error messages)."""
    allowed = ALLOWED[LeadStatus(current)]
    return tuple(s for s in LeadStatus if s in allowed)


def may_set(actor: str, to: LeadStatus) -> bool:
    known = _actor(actor)
    return known is not None and known in MAY_SET[LeadStatus(to)]


def _actor(value: str) -> Actor | None:
    try:
        return Actor(value)
    except ValueError:
        return None


def check(current: LeadStatus, outcome: Outcome, approved_amount_fen: int | None = None) -> None:
    """Raise unless ``outcome`` may move a lead from ``current``: first the transition, then
    who asks, then the data. ``approved_amount_fen`` is the approved amount, when known, which
    a disbursement may not exceed."""
    current = LeadStatus(current)
    to = _status(outcome.to)
    if to not in ALLOWED[current]:
        raise _transition_refused(current, to)
    if not may_set(outcome.actor, to):
        raise _actor_refused(outcome.actor, to)
    _check_reason(to, outcome)
    _check_terms(to, outcome, approved_amount_fen)


def _transition_refused(current: LeadStatus, to: LeadStatus) -> TransitionNotAllowed:
    allowed = allowed_next(current)
    tail = (
        "可改为：" + "、".join(STATUS_LABEL[s] for s in allowed)
        if allowed
        else "该线索已结束，不能再更改"
    )
    return TransitionNotAllowed(
        f"线索当前为「{STATUS_LABEL[current]}」，不能改为「{STATUS_LABEL[to]}」；{tail}",
        current,
        to,
        allowed,
    )


def _actor_refused(actor: str, to: LeadStatus) -> ActorNotAllowed:
    known = _actor(actor)
    who = ACTOR_LABEL[known] if known is not None else f"「{actor}」"
    may = "、".join(ACTOR_LABEL[a] for a in Actor if a in MAY_SET[to])
    return ActorNotAllowed(
        f"{who}不能将线索改为「{STATUS_LABEL[to]}」；只有{may}可以", actor, to, MAY_SET[to]
    )


def _status(value: str) -> LeadStatus:
    try:
        return LeadStatus(value)
    except ValueError:
        raise OutcomeInvalid("to", f"未知的线索状态「{value}」") from None


def _check_reason(to: LeadStatus, outcome: Outcome) -> None:
    note = outcome.note
    if note is not None and len(note) > NOTE_MAX_CHARS:
        raise OutcomeInvalid("note", f"说明不能超过 {NOTE_MAX_CHARS} 个字")
    if to != LeadStatus.declined:
        if outcome.reason is not None:
            raise OutcomeInvalid("reason", "只有拒绝线索时才填写拒绝原因")
        return
    if outcome.reason is None:
        raise OutcomeInvalid("reason", "拒绝线索须选择拒绝原因")
    try:
        reason = DeclineReason(outcome.reason)
    except ValueError:
        raise OutcomeInvalid("reason", f"未知的拒绝原因「{outcome.reason}」") from None
    if reason == DeclineReason.other and not (note and note.strip()):
        raise OutcomeInvalid("note", "拒绝原因为「其他」时须填写说明")


def _check_terms(to: LeadStatus, outcome: Outcome, approved_amount_fen: int | None) -> None:
    terms = {
        "amount_fen": outcome.amount_fen,
        "rate_bp": outcome.rate_bp,
        "term_months": outcome.term_months,
    }
    if to not in (LeadStatus.approved, LeadStatus.disbursed):
        # Terms on any other step would be stored nowhere; refusing them beats losing them.
        for field, value in terms.items():
            if value is not None:
                raise OutcomeInvalid(field, "只有批复或放款时才填写金额、利率和期限")
        return
    amount = _whole("amount_fen", outcome.amount_fen, "金额")
    if amount <= 0:
        raise OutcomeInvalid("amount_fen", "金额须大于零")
    rate = _whole("rate_bp", outcome.rate_bp, "利率")
    if not 0 <= rate <= RATE_BP_MAX:
        raise OutcomeInvalid("rate_bp", f"利率须在 0 至 {RATE_BP_MAX} 个基点之间")
    if outcome.term_months is not None:
        term = _whole("term_months", outcome.term_months, "期限")
        if not 1 <= term <= TERM_MONTHS_MAX:
            raise OutcomeInvalid("term_months", f"期限须在 1 至 {TERM_MONTHS_MAX} 个月之间")
    ceiling = approved_amount_fen if to == LeadStatus.disbursed else None
    if ceiling is not None and amount > ceiling:
        raise OutcomeInvalid(
            "amount_fen", f"放款金额 {_yuan(amount)} 元超过批复金额 {_yuan(ceiling)} 元"
        )


def _whole(field: str, value: object, label: str) -> int:
    if value is None:
        raise OutcomeInvalid(field, f"须填写{label}")
    # bool is an int subclass; True as an amount is a bug upstream, not one fen.
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutcomeInvalid(field, f"{label}须为整数")
    return value


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"

"""The closed loop of an enterprise's request (诉求), as a state machine. Pure: no database,
no I/O.

An enterprise raises a request (``raised``). The office triages it: accepts it (with a
category), rejects it (不予受理, with a reason) or merges it into an earlier request of the same
enterprise. An accepted request is dispatched to a handler (a bank, or a department) with a due
date; the handler answers; the office closes it with the result, or sends it back for another
answer, or dispatches it elsewhere. The office may also close an accepted request itself when
it settled the matter directly (立行协调解决). The enterprise then confirms and rates the
handling, or reopens the request once, with a reason; a reopened request is dispatched again
or closed again. The enterprise may withdraw its request until it is closed.

``confirmed``, ``rejected``, ``merged`` and ``withdrawn`` are final. ``check`` says whether an
action is allowed by whom, from a status, and with the data it needs, and gives the status it
leads to; the use case applies it with a conditional update on the version, so two racing
steps cannot both win."""

from dataclasses import dataclass
from enum import StrEnum

from service.appeals.exceptions import ActionNotAllowed, StepInvalid, WrongActor


class AppealStatus(StrEnum):
    raised = "raised"
    accepted = "accepted"
    dispatched = "dispatched"
    answered = "answered"
    closed = "closed"
    reopened = "reopened"
    confirmed = "confirmed"
    rejected = "rejected"
    merged = "merged"
    withdrawn = "withdrawn"


STATUS_LABEL: dict[AppealStatus, str] = {
    AppealStatus.raised: "待受理",
    AppealStatus.accepted: "已受理",
    AppealStatus.dispatched: "办理中",
    AppealStatus.answered: "已答复",
    AppealStatus.closed: "已办结",
    AppealStatus.reopened: "已重新打开",
    AppealStatus.confirmed: "已评价",
    AppealStatus.rejected: "不予受理",
    AppealStatus.merged: "已合并",
    AppealStatus.withdrawn: "已撤回",
}

FINAL: frozenset[AppealStatus] = frozenset(
    {AppealStatus.confirmed, AppealStatus.rejected, AppealStatus.merged, AppealStatus.withdrawn}
)
# Still the office's or a handler's to act on (the triage queue, the overdue list).
OPEN: frozenset[AppealStatus] = frozenset(
    {
        AppealStatus.raised,
        AppealStatus.accepted,
        AppealStatus.dispatched,
        AppealStatus.answered,
        AppealStatus.reopened,
    }
)


class Action(StrEnum):
    accept = "accept"
    reject = "reject"
    merge = "merge"
    dispatch = "dispatch"
    answer = "answer"
    close = "close"
    confirm = "confirm"
    reopen = "reopen"
    withdraw = "withdraw"


ACTION_LABEL: dict[Action, str] = {
    Action.accept: "受理",
    Action.reject: "不予受理",
    Action.merge: "合并",
    Action.dispatch: "交办",
    Action.answer: "答复",
    Action.close: "办结",
    Action.confirm: "确认并评价",
    Action.reopen: "重新打开",
    Action.withdraw: "撤回",
}

# From each status: the actions allowed, and where each leads.
MOVES: dict[AppealStatus, dict[Action, AppealStatus]] = {
    AppealStatus.raised: {
        Action.accept: AppealStatus.accepted,
        Action.reject: AppealStatus.rejected,
        Action.merge: AppealStatus.merged,
        Action.withdraw: AppealStatus.withdrawn,
    },
    AppealStatus.accepted: {
        Action.dispatch: AppealStatus.dispatched,
        Action.close: AppealStatus.closed,
        Action.merge: AppealStatus.merged,
        Action.withdraw: AppealStatus.withdrawn,
    },
    AppealStatus.dispatched: {
        Action.answer: AppealStatus.answered,
        Action.dispatch: AppealStatus.dispatched,  # to another handler, or a new due date
        Action.withdraw: AppealStatus.withdrawn,
    },
    AppealStatus.answered: {
        Action.close: AppealStatus.closed,
        Action.dispatch: AppealStatus.dispatched,  # sent back: the answer does not settle it
        Action.withdraw: AppealStatus.withdrawn,
    },
    AppealStatus.closed: {
        Action.confirm: AppealStatus.confirmed,
        Action.reopen: AppealStatus.reopened,
    },
    AppealStatus.reopened: {
        Action.dispatch: AppealStatus.dispatched,
        Action.close: AppealStatus.closed,
        Action.withdraw: AppealStatus.withdrawn,
    },
    AppealStatus.confirmed: {},
    AppealStatus.rejected: {},
    AppealStatus.merged: {},
    AppealStatus.withdrawn: {},
}


class Actor(StrEnum):
    """Who acts; the values are those of the roles. ``handler`` is the bank the request is
    dispatched to (another bank never sees it)."""

    office = "office"
    handler = "handler"
    enterprise = "enterprise"


ACTOR_LABEL: dict[Actor, str] = {
    Actor.office: "金融办",
    Actor.handler: "承办银行",
    Actor.enterprise: "企业",
}

# Triage, dispatch and closing are the office's; answering is the handler's (the office
# records a department's answer, and may record a bank's on its behalf); confirming, rating
# and reopening are the enterprise's own judgement; withdrawing is the enterprise's, or the
# office's on its word.
MAY: dict[Action, frozenset[Actor]] = {
    Action.accept: frozenset({Actor.office}),
    Action.reject: frozenset({Actor.office}),
    Action.merge: frozenset({Actor.office}),
    Action.dispatch: frozenset({Actor.office}),
    Action.answer: frozenset({Actor.handler, Actor.office}),
    Action.close: frozenset({Actor.office}),
    Action.confirm: frozenset({Actor.enterprise}),
    Action.reopen: frozenset({Actor.enterprise}),
    Action.withdraw: frozenset({Actor.enterprise, Actor.office}),
}

REOPEN_LIMIT = 1
TEXT_MAX_CHARS = 2000
RATING_MIN, RATING_MAX = 1, 5


@dataclass(frozen=True)
class Step:
    """A requested action and what comes with it. ``text`` is the reason (reject, reopen,
    withdraw), the answer (answer), the result (close) or the comment (confirm); ``target`` is
    where a dispatch goes (set), or the request a merge goes into; ``rating`` the
    enterprise's 1–5 with a confirmation."""

    action: Action
    actor: Actor
    text: str | None = None
    category: str | None = None
    target: str | None = None
    rating: int | None = None


NEEDS_TEXT: dict[Action, str] = {
    Action.reject: "不予受理须说明理由",
    Action.answer: "答复内容不能为空",
    Action.close: "办结须写明办理结果",
    Action.reopen: "重新打开须说明理由",
}


def allowed_actions(current: AppealStatus, reopens: int = 0) -> tuple[Action, ...]:
    """What may be done from here, in action order (for menus and error messages)."""
    moves = MOVES[AppealStatus(current)]
    return tuple(
        a for a in Action if a in moves and not (a == Action.reopen and reopens >= REOPEN_LIMIT)
    )


def check(current: AppealStatus, step: Step, reopens: int = 0) -> AppealStatus:
    """The status ``step`` leads to from ``current``, or the refusal: first who asks (403: a
    bank never closes, whatever the status), then the move (409), then the data (422).
    ``reopens`` is how often the request was reopened already."""
    current = AppealStatus(current)
    moves = MOVES[current]
    if step.actor not in MAY[step.action]:
        may = "、".join(ACTOR_LABEL[a] for a in Actor if a in MAY[step.action])
        raise WrongActor(
            f"{ACTOR_LABEL[step.actor]}不能「{ACTION_LABEL[step.action]}」；只有{may}可以",
            action=str(step.action),
        )
    if step.action not in moves:
        raise _move_refused(current, step.action, reopens)
    if step.action == Action.reopen and reopens >= REOPEN_LIMIT:
        raise ActionNotAllowed(
            f"诉求只能重新打开 {REOPEN_LIMIT} 次；如仍不满意，请在评价中说明，或提出新的诉求",
            code="reopen_limit",
            current=str(current),
            allowed=[str(a) for a in allowed_actions(current, reopens)],
        )
    _check_data(step)
    return moves[step.action]


def _move_refused(current: AppealStatus, action: Action, reopens: int) -> ActionNotAllowed:
    allowed = allowed_actions(current, reopens)
    tail = (
        "现在可以：" + "、".join(ACTION_LABEL[a] for a in allowed)
        if allowed
        else "该诉求已结束，不能再办理"
    )
    return ActionNotAllowed(
        f"诉求当前为「{STATUS_LABEL[current]}」，不能「{ACTION_LABEL[action]}」；{tail}",
        current=str(current),
        allowed=[str(a) for a in allowed],
    )


def _check_data(step: Step) -> None:
    text = (step.text or "").strip()
    if step.text is not None and len(step.text) > TEXT_MAX_CHARS:
        raise StepInvalid("text", f"文字不能超过 {TEXT_MAX_CHARS} 个字")
    if step.action in NEEDS_TEXT and not text:
        raise StepInvalid("text", NEEDS_TEXT[step.action])
    if step.action == Action.accept:
        if not step.category:
            raise StepInvalid("category", "受理须选择诉求类别（决定办理时限）")
    elif step.category is not None:
        raise StepInvalid("category", "只有受理时才选择类别")
    if step.action in (Action.dispatch, Action.merge) and not step.target:
        field = "merge_into_id" if step.action == Action.merge else "handler"
        what = (
            "须指明合并到哪一件诉求" if step.action == Action.merge else "交办须指明承办银行或部门"
        )
        raise StepInvalid(field, what)
    if step.action == Action.confirm:
        if step.rating is None:
            raise StepInvalid("rating", "确认办理结果须给出 1–5 分的评价")
        if not RATING_MIN <= step.rating <= RATING_MAX:
            raise StepInvalid("rating", "评价须为 1–5 分")
    elif step.rating is not None:
        raise StepInvalid("rating", "只有确认办理结果时才评分")

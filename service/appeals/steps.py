"""Use case of every step on a request after it is raised: triage (accept, reject, merge),
dispatch, answer, close, confirm with a rating, reopen, withdraw.

Rules here: which step may follow which, by whom and with what is ``states`` (pure); a
request the caller cannot see is a 404; a stale version (If-Match) a 412; two racing steps
cannot both win (the row is locked and its version bumped conditionally). A dispatch goes to
one bank or one active department, due a category's working days after today on China's
calendar unless the office gives a later date (a counted date that rests on the calendar's
estimate of a year whose holiday notice is not out is kept as provisional); the bank hears of
it as a ``request.assigned`` event (and webhook), and of what follows as ``request.updated``. A
confirmation records the enterprise's rating of the handling (one per request). Every step is
an event with who and when."""

from datetime import date

from sqlmodel import Session

from service.access.policy import Principal
from service.appeals import queries
from service.appeals.exceptions import (
    CategoryNotFound,
    DepartmentNotFound,
    InvalidAppeal,
    StepInvalid,
)
from service.appeals.kinds import HandlerKind
from service.appeals.models import Appeal, AppealCategory, Department, ServiceRating
from service.appeals.schemas import AppealStep
from service.appeals.service import actor_of, add_event, get_appeal
from service.appeals.states import FINAL, Action, AppealStatus, Step, check
from service.core.concurrency import bump_version, check_version
from service.core.models import today_local, utcnow
from service.leads import bank_events
from service.products.models import Bank
from service.taxonomy.workdays import add_working_days, settled

CONFIRM_COMMENT_MAX = 500
DUE_DATE_MAX_DAYS = 366


def take_step(
    session: Session,
    principal: Principal,
    appeal_id: int,
    change: AppealStep,
    expected_version: int | None = None,
) -> Appeal:
    row = get_appeal(session, principal, appeal_id, lock=True)
    check_version(expected_version, row.version, "诉求")
    target = change.bank_code or change.department_code
    if change.action == Action.merge and change.merge_into_id is not None:
        target = str(change.merge_into_id)
    step = Step(
        action=change.action,
        actor=actor_of(principal),
        text=change.text,
        category=change.category_code,
        target=target,
        rating=change.rating,
    )
    current = AppealStatus(row.status)
    to = check(current, step, row.reopens)
    _refuse_stray_fields(change)
    text = change.text.strip() if change.text else None
    today, now = today_local(), utcnow()
    old_bank = row.handler_bank_code
    details: dict[str, object] = {}
    if change.action == Action.accept:
        assert change.category_code is not None
        if session.get(AppealCategory, change.category_code) is None:
            raise CategoryNotFound(
                f"未知的诉求类别 '{change.category_code}'", field="category_code"
            )
        row.category_code = change.category_code
        details = {"category_code": change.category_code, "note": text}
    elif change.action == Action.reject:
        row.result = text
        details = {"reason": text}
    elif change.action == Action.merge:
        assert change.merge_into_id is not None
        into = _merge_target(session, principal, row, change.merge_into_id)
        row.merged_into_id = into.id
        details = {"merge_into_id": into.id, "note": text}
    elif change.action == Action.dispatch:
        details = _dispatch(session, row, change, today, text)
    elif change.action == Action.answer:
        row.answer = text
        row.answered_at = now
        if row.due_date is not None and today > row.due_date:
            row.late = True
        details = {"answer": text, "on_time": not (row.due_date and today > row.due_date)}
        if principal.bank_code:
            details["bank_code"] = principal.bank_code
    elif change.action == Action.close:
        row.result = text
        row.closed_at = now
        details = {"result": text}
    elif change.action == Action.confirm:
        assert change.rating is not None
        if text is not None and len(text) > CONFIRM_COMMENT_MAX:
            raise StepInvalid("text", f"评价意见不能超过 {CONFIRM_COMMENT_MAX} 个字")
        row.rating, row.rating_comment, row.confirmed_at = change.rating, text, now
        _rate(session, principal, row, change.rating, text)
        details = {"rating": change.rating, "comment": text}
    elif change.action == Action.reopen:
        row.reopens += 1
        row.reopen_reason = text
        row.result, row.closed_at = None, None
        details = {"reason": text}
    elif change.action == Action.withdraw:
        details = {"reason": text}
    row.status = to
    if to in FINAL:
        row.ended_at = now
    bump_version(session, Appeal, row, "诉求")
    session.refresh(row)
    add_event(session, row, str(change.action), principal, str(current), **details)
    _tell_banks(session, row, change.action, old_bank, current)
    session.commit()
    return row


def _refuse_stray_fields(change: AppealStep) -> None:
    if change.action != Action.dispatch:
        for name in ("bank_code", "department_code", "due_date"):
            if getattr(change, name) is not None:
                raise StepInvalid(name, "只有交办时才指定承办单位和办理期限")
    if change.action != Action.merge and change.merge_into_id is not None:
        raise StepInvalid("merge_into_id", "只有合并时才指定合并到的诉求")


def _merge_target(session: Session, principal: Principal, row: Appeal, into_id: int) -> Appeal:
    """A duplicate goes into an earlier open request of the same enterprise (whose outcome
    the enterprise can follow: it sees only its own)."""
    into = queries.appeal(session, into_id)
    if into is None or into.id == row.id or into.enterprise_id != row.enterprise_id:
        raise InvalidAppeal(
            "只能合并到同一企业的另一件诉求", field="merge_into_id", code="invalid_merge"
        )
    if AppealStatus(into.status) in FINAL or into.status == AppealStatus.closed:
        raise InvalidAppeal("不能合并到已结束的诉求", field="merge_into_id", code="invalid_merge")
    add_event(session, into, "merged_in", principal, str(into.status), duplicate_id=row.id)
    return into


def _dispatch(
    session: Session, row: Appeal, change: AppealStep, today: date, note: str | None
) -> dict[str, object]:
    if change.bank_code is not None:
        if session.get(Bank, change.bank_code) is None:
            raise InvalidAppeal(
                f"未知的银行代码 '{change.bank_code}'", field="bank_code", code="unknown_bank"
            )
        row.handler_kind = HandlerKind.bank
        row.handler_bank_code, row.handler_department_code = change.bank_code, None
    else:
        assert change.department_code is not None
        department = session.get(Department, change.department_code)
        if department is None or not department.active:
            raise DepartmentNotFound(
                f"部门 '{change.department_code}' 不存在或已停用", field="department_code"
            )
        row.handler_kind = HandlerKind.department
        row.handler_bank_code, row.handler_department_code = None, change.department_code
    if change.due_date is not None:
        if change.due_date <= today:
            raise StepInvalid("due_date", "办理期限须晚于今天")
        if (change.due_date - today).days > DUE_DATE_MAX_DAYS:
            raise StepInvalid("due_date", "办理期限不能超过一年")
        due, provisional = change.due_date, False  # a day the office chose, not counted
    else:
        category = session.get(AppealCategory, row.category_code or "")
        assert category is not None  # set when accepted
        due, provisional = counted_due(today, category.due_working_days)
    row.dispatched_date, row.due_date, row.due_date_provisional = today, due, provisional
    row.escalated_at = None  # a new deadline may escalate once in its turn
    row.answer, row.answered_at = None, None
    return {
        "bank_code": row.handler_bank_code,
        "department_code": row.handler_department_code,
        "due_date": due.isoformat(),
        "due_date_provisional": True if provisional else None,  # said only when it is
        "note": note,
    }


def counted_due(day: date, working_days: int) -> tuple[date, bool]:
    """The due date ``working_days`` working days after ``day``, and whether it is provisional:
    some day counted is in a year whose holiday notice the calendar does not carry yet, so the
    date is the calendar's estimate (weekends and the expected festivals, no 调休)."""
    due = add_working_days(day, working_days)
    return due, not settled(day, due)


def _rate(
    session: Session, principal: Principal, row: Appeal, score: int, comment: str | None
) -> None:
    session.add(
        ServiceRating(
            enterprise_id=row.enterprise_id,
            bank_code=row.handler_bank_code,
            department_code=row.handler_department_code,
            appeal_id=row.id,
            appeal_kind=str(row.kind),
            score=score,
            comment=comment,
            show_name=row.show_to_bank,
            created_by=principal.ref,
        )
    )


def _tell_banks(
    session: Session, row: Appeal, action: Action, old_bank: str | None, before: AppealStatus
) -> None:
    """The handling bank hears of its dispatch and of what follows; a bank the request was
    taken from, that it is no longer its."""
    data = {"request_id": row.id, "status": str(row.status), "previous": str(before)}
    if action == Action.dispatch:
        if old_bank and old_bank != row.handler_bank_code:
            bank_events.publish(
                session, old_bank, "request.updated", {**data, "status": "reassigned"}
            )
        if row.handler_bank_code:
            assert row.due_date is not None
            bank_events.publish(
                session,
                row.handler_bank_code,
                "request.assigned",
                {**data, "kind": str(row.kind), "due_date": row.due_date.isoformat()},
            )
        return
    if row.handler_bank_code and action != Action.answer:
        bank_events.publish(session, row.handler_bank_code, "request.updated", data)

"""Overdue requests escalate: a request still with its handler after its due date is flagged
once for that deadline (督办), the office sees it on its overdue list with the flag and the
event, and a bank handler is reminded (a ``request.overdue`` event and webhook).

Exactly once, whatever runs it: rows are claimed with SKIP LOCKED on PostgreSQL, and the flag
is set by a conditional update (only where it is not set and the version is the one read), so
a second runner, or a step taken meanwhile, never flags or reminds twice. A new dispatch
gives a new deadline, which may escalate once in its turn. A date after today is refused."""

from datetime import date

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals import queries
from service.appeals.models import AppealEvent
from service.core.models import refuse_future, today_local, utcnow
from service.leads import bank_events

OVERDUE_CHECK = "requests.overdue_check"


def check_overdue(session: Session, today: date | None = None) -> dict[str, int]:
    today = today or today_local()
    refuse_future(today, "把尚未到期的诉求记为逾期")
    now = utcnow()
    escalated = 0
    for row in queries.late_claimed(session, today):
        assert row.id is not None and row.due_date is not None
        if not queries.mark_escalated(session, row.id, now, row.version):
            continue  # another runner, or a step taken meanwhile
        escalated += 1
        session.add(
            AppealEvent(
                appeal_id=row.id,
                kind="escalated",
                from_status=str(row.status),
                to_status=str(row.status),
                actor_role="system",
                actor="system",
                data={
                    "due_date": row.due_date.isoformat(),
                    "days_late": (today - row.due_date).days,
                    "bank_code": row.handler_bank_code,
                    "department_code": row.handler_department_code,
                },
                at=now,
            )
        )
        if row.handler_bank_code:
            bank_events.publish(
                session,
                row.handler_bank_code,
                "request.overdue",
                {
                    "request_id": row.id,
                    "status": str(row.status),
                    "due_date": row.due_date.isoformat(),
                },
            )
    session.commit()
    return {"escalated": escalated}


def check_overdue_now(session: Session, principal: Principal) -> dict[str, int]:
    """The office runs the check at once (it runs every 15 minutes anyway)."""
    require(principal, Role.office)
    return check_overdue(session)


def escalated_open(session: Session, principal: Principal) -> int:
    """How many escalated requests are still overdue today (the office's menu says so)."""
    require(principal, Role.office)
    return queries.count_escalated_overdue(session, today_local())


def run_overdue_check(session: Session) -> dict[str, int]:
    """Job handler."""
    return check_overdue(session)

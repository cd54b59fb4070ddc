"""Use cases of who works a lead inside its bank: assigning it to one of the bank's people,
claiming it (认领), handing it back, and the bank's people a lead may go to.

Rules that live here:
- Who may assign is the access policy's ``check_assigns_lead`` (the office, the bank's key
  and administrator anyone; an account manager claims an unassigned lead or hands back its
  own); seeing the lead comes first (another bank's lead answers as a missing one).
- The assignee is an active person of the lead's bank (not disabled, not another bank's, not
  the office's): else 422 ``invalid_assignee``.
- A change based on a stale version (If-Match) is a 412; the change moves the lead to the head
  of its bank's feed with a ``lead.assigned`` event (and so its webhooks), and the audit log
  names who did it (the flush hook records the lead's change as the caller's)."""

from typing import Any

from sqlmodel import Session, col, select

from service.access.models import Role, UserAccount
from service.access.policy import Principal, check_assigns_lead, require, sees_bank
from service.core.concurrency import check_version
from service.core.errors import Unprocessable
from service.core.models import utcnow
from service.leads.bank_events import announce
from service.leads.lifecycle import get_lead
from service.leads.models import Lead

ASSIGNED = "lead.assigned"


def assign(
    session: Session,
    principal: Principal,
    lead_id: int,
    assignee_user_id: int | None,
    expected_version: int | None = None,
) -> Lead:
    """Give the lead to a person of its bank, or to nobody (None). Assigning it to whoever
    already works it changes nothing."""
    lead = get_lead(session, principal, lead_id, lock=True)
    check_assigns_lead(principal, lead.bank_code, lead.assignee_user_id, assignee_user_id)
    check_version(expected_version, lead.version, "线索")
    if assignee_user_id == lead.assignee_user_id:
        return lead
    person = _assignee(session, lead.bank_code, assignee_user_id)
    previous = lead.assignee_user_id
    lead.assignee_user_id = assignee_user_id
    lead.assigned_at = utcnow() if assignee_user_id is not None else None
    lead.version += 1
    announce(
        session,
        lead,
        ASSIGNED,
        assignee=None if person is None else {"id": person.id, "name": person.display_name},
        previous_assignee_id=previous,
    )
    session.commit()
    return lead


def _assignee(session: Session, bank_code: str, user_id: int | None) -> UserAccount | None:
    if user_id is None:
        return None
    person = session.get(UserAccount, user_id)
    if (
        person is None
        or person.role != Role.bank
        or person.bank_code != bank_code
        or person.disabled_at is not None
    ):
        raise Unprocessable(
            f"人员 {user_id} 不是该线索所属银行的在职人员，不能分配给他。",
            code="invalid_assignee",
            field="assignee_user_id",
        )
    return person


def bank_people(session: Session, principal: Principal, bank_code: str) -> list[dict[str, Any]]:
    """The bank's active people a lead may go to ({id, name, bank_role}), by name: for the
    assign form and the list's filter. The office and the bank itself."""
    require(principal, Role.office, Role.bank)
    if not sees_bank(principal, bank_code):
        return []
    rows = session.exec(
        select(UserAccount)
        .where(
            col(UserAccount.role) == Role.bank,
            col(UserAccount.bank_code) == bank_code,
            col(UserAccount.disabled_at).is_(None),
        )
        .order_by(col(UserAccount.display_name), col(UserAccount.id))
    )
    return [
        {"id": p.id, "name": p.display_name, "bank_role": p.bank_role and str(p.bank_role)}
        for p in rows
    ]

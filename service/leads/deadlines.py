"""Use cases of first-contact deadlines (the SLA): the periodic check that flags the leads a
bank has not contacted in time, and its simulation as of any date. (When a lead's first
contact is due is ``leads.sla``, pure.)

Rules that live here:
- A lead still new or viewed, never contacted, is late once its due date has passed; it is
  flagged once (a flagged lead is not flagged again) and its bank is told
  (``lead.sla_breached``).
- With ``FINMATCH_SLA_REASSIGN``, a late lead of a need is withdrawn from its bank and the
  need offered to the next-best bank that has not had it.
- The check is safe to run any number of times, by several runners (rows are claimed with
  SKIP LOCKED), and refuses a date after today (``future_as_of``); only the simulation runs
  as of a later date, and nothing of it persists."""

from datetime import date

from sqlmodel import Session

from service.core.database import rolled_back
from service.core.models import refuse_future, today_local, utcnow
from service.core.settings import get_settings
from service.jobs.service import unnoticed
from service.leads import queries
from service.leads.bank_events import announce
from service.leads.lifecycle import close_lead, offer_need
from service.leads.models import Lead, LeadSource
from service.leads.schemas import DeadlineSimulation, LateLead
from service.leads.states import LeadStatus

SLA_CHECK = "leads.deadline_check"
SIMULATION_SAMPLE = 20


def check_deadlines(
    session: Session, today: date | None = None, *, future: bool = False
) -> dict[str, int]:
    """Flag every lead not contacted by the end of its due date (once: a flagged lead is not
    flagged again), tell its bank, and with ``FINMATCH_SLA_REASSIGN`` offer a need's lead to
    the next-best bank that has none. Safe to run any number of times, by several runners.
    A date after today is refused (``future_as_of``: leads still within their time would
    be reported late) unless ``future``, which only ``simulate_deadlines`` gives."""
    late = _flag_late(session, today or today_local(), future)
    return {"breached": len(late), "reassigned": sum(len(offered) for _, offered in late)}


def _flag_late(session: Session, today: date, future: bool) -> list[tuple[Lead, list[Lead]]]:
    """The deadline check, committed: each lead it flagged, with the leads that offer its
    need to other banks instead."""
    if not future:
        refuse_future(today, "把尚未到期的线索记为超时并告知银行")
    late = queries.late_leads_claimed(session, today)
    flagged: list[tuple[Lead, list[Lead]]] = []
    now = utcnow()
    for lead in late:
        lead.sla_breached_at = now
        lead.version += 1
        announce(
            session, lead, "lead.sla_breached", contact_due_date=lead.contact_due_date.isoformat()
        )
        offered: list[Lead] = []
        if get_settings().sla_reassign and lead.need_id is not None:
            offered = _reassign(session, lead, lead.need_id)
        flagged.append((lead, offered))
    session.commit()
    return flagged


def simulate_deadlines(session: Session, today: date | None = None) -> DeadlineSimulation:
    """What ``check_deadlines`` would do as of ``today`` (any date, the future too): the same
    check, commit included, inside a transaction that is rolled back, so that nothing of it
    persists (flags, withdrawn and new leads, bank events, webhook deliveries, jobs, audit
    entries)."""
    today = today or today_local()
    with rolled_back(session) as scratch, unnoticed():
        late = _flag_late(scratch, today, future=True)
        return DeadlineSimulation(
            as_of=today,
            breached=len(late),
            reassigned=sum(len(offered) for _, offered in late),
            sample=[_late_lead(lead, offered) for lead, offered in late[:SIMULATION_SAMPLE]],
        )


def _late_lead(lead: Lead, offered: list[Lead]) -> LateLead:
    assert lead.id is not None
    return LateLead(
        lead_id=lead.id,
        bank_code=lead.bank_code,
        enterprise_id=lead.enterprise_id,
        need_id=lead.need_id,
        contact_due_date=lead.contact_due_date,
        offered_to=[new.bank_code for new in offered],
    )


def _reassign(session: Session, lead: Lead, need_id: int) -> list[Lead]:
    """Close the untouched lead (withdrawn from that bank) and offer the need to the next-best
    bank that has not had it."""
    had = queries.banks_of_subject(session, lead.subject_key)
    close_lead(lead, LeadStatus.withdrawn)
    lead.note = "首次联系超时，已转给其他银行"
    announce(session, lead, "lead.withdrawn", reason="sla_breached")
    return offer_need(
        session,
        need_id,
        exclude=had,
        source=LeadSource.reassigned,
        reassigned_from_id=lead.id,
    )


def run_deadline_check(session: Session) -> dict[str, int]:
    """Job handler."""
    return check_deadlines(session)

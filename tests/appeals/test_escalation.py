"""Overdue requests escalate exactly once per deadline, through the API and run again and
again (several runners at once: ``test_escalation_races``)."""

from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import Session

from service.appeals import escalation
from service.core.errors import AppError
from service.taxonomy.workdays import add_working_days
from tests.appeals.conftest import Parties, charge_request, step

MONDAY = date(2026, 11, 2)


def _dispatched(p: Parties, on: date, **dispatch) -> int:
    with time_machine.travel(on, tick=False):
        rid = p.firm.post("/api/v1/requests", json=charge_request(p.bank_code)).json()["id"]
        step(p.office, rid, action="accept", category_code="charges")
        response = step(
            p.office, rid, action="dispatch", **(dispatch or {"bank_code": p.bank_code})
        )
        assert response.status_code == 200, response.text
    return rid


def _overdue_events(p: Parties) -> list[dict]:
    return [
        e for e in p.bank.get("/api/v1/events").json()["items"] if e["type"] == "request.overdue"
    ]


def test_flagged_once_and_the_bank_reminded_once(parties: Parties) -> None:
    p = parties
    rid = _dispatched(p, MONDAY)
    due = add_working_days(MONDAY, 10)  # the charges category: 10 working days
    assert p.office.get(f"/api/v1/requests/{rid}").json()["due_date"] == due.isoformat()
    with time_machine.travel(due, tick=False):  # on the due date: still in time
        assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 0}
        assert p.office.get(f"/api/v1/requests/{rid}").json()["overdue"] is False
    with time_machine.travel(due + timedelta(days=1), tick=False):
        assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 1}
        for _ in range(3):
            assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 0}
        shown = p.office.get(f"/api/v1/requests/{rid}").json()
        listed = p.office.get("/api/v1/requests?overdue=true").json()["items"]
    assert shown["overdue"] and shown["late"] and shown["escalated_at"]
    assert [e["kind"] for e in shown["events"]].count("escalated") == 1
    assert [r["id"] for r in listed] == [rid]
    assert len(_overdue_events(p)) == 1
    # the bank and the enterprise may not run the check
    assert p.bank.post("/api/v1/requests/overdue-check").status_code == 403
    assert p.firm.post("/api/v1/requests/overdue-check").status_code == 403


def test_a_new_dispatch_gives_a_new_deadline_that_escalates_in_its_turn(parties: Parties) -> None:
    p = parties
    rid = _dispatched(p, MONDAY)
    late = add_working_days(MONDAY, 10) + timedelta(days=1)
    with time_machine.travel(late, tick=False):
        p.office.post("/api/v1/requests/overdue-check")
        again = step(p.office, rid, action="dispatch", bank_code=p.bank_code)
        assert again.json()["escalated_at"] is None and again.json()["late"] is True
    second_due = date.fromisoformat(again.json()["due_date"])
    with time_machine.travel(second_due + timedelta(days=1), tick=False):
        assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 1}
        assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 0}
    assert len(_overdue_events(p)) == 2


def test_answered_in_time_never_escalates_and_late_answers_are_marked(parties: Parties) -> None:
    p = parties
    on_time, late = _dispatched(p, MONDAY), _dispatched(p, MONDAY)
    due = add_working_days(MONDAY, 10)
    with time_machine.travel(due, tick=False):
        assert step(p.bank, on_time, action="answer", text="已处理").json()["late"] is False
    with time_machine.travel(due + timedelta(days=3), tick=False):
        answered = step(p.bank, late, action="answer", text="已处理").json()
        assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 0}
    assert answered["late"] is True
    assert answered["events"][-1]["data"]["on_time"] is False


def test_a_department_handler_is_escalated_without_a_bank_event(parties: Parties) -> None:
    p = parties
    rid = _dispatched(p, MONDAY, department_code="wx-jrj")
    with time_machine.travel(add_working_days(MONDAY, 11), tick=False):
        assert p.office.post("/api/v1/requests/overdue-check").json() == {"escalated": 1}
    assert _overdue_events(p) == []
    events = p.office.get(f"/api/v1/requests/{rid}").json()["events"]
    assert events[-1]["kind"] == "escalated"
    assert events[-1]["data"]["department_code"] == "wx-jrj"


def test_a_date_after_today_is_refused(session: Session) -> None:
    with pytest.raises(AppError) as caught:
        escalation.check_overdue(session, date.today() + timedelta(days=30))
    assert caught.value.status == 422

"""Requests (诉求) through the API: the whole loop, who may take which step, what each role
sees, If-Match and Idempotency-Key."""

from datetime import date

import time_machine

from service.taxonomy.workdays import add_working_days
from tests.appeals.conftest import Parties, charge_request, step


def _raised(p: Parties, **overrides) -> dict:
    response = p.firm.post("/api/v1/requests", json=charge_request(p.bank_code, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def test_the_whole_loop(parties: Parties) -> None:
    p = parties
    raised = _raised(p)
    rid = raised["id"]
    assert raised["status"] == "raised" and raised["kind_label"] == "不合理收费"
    assert raised["charge_rule_label"].startswith("七不准")
    assert raised["next_actions"] == ["withdraw"]
    assert step(p.office, rid, action="accept", category_code="charges").status_code == 200
    with time_machine.travel(date(2026, 9, 30), tick=False):
        dispatched = step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    assert dispatched.status_code == 200, dispatched.text
    body = dispatched.json()
    # 10 working days from 30 September 2026, across the National Day holiday
    assert body["due_date"] == add_working_days(date(2026, 9, 30), 10).isoformat()
    assert body["handler_name"] and body["handler_kind"] == "bank"
    seen = p.bank.get(f"/api/v1/requests/{rid}")
    assert seen.status_code == 200 and seen.json()["next_actions"] == ["answer"]
    answered = step(p.bank, rid, action="answer", text="已核实，保险费已全额退还。")
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    closed = step(p.office, rid, action="close", text="银行已退还保险费并整改。")
    assert closed.json()["status"] == "closed"
    confirmed = step(p.firm, rid, action="confirm", rating=5, text="处理及时")
    assert confirmed.status_code == 200, confirmed.text
    done = confirmed.json()
    assert done["status"] == "confirmed" and done["rating"] == 5 and done["next_actions"] == []
    kinds = [e["kind"] for e in done["events"]]
    assert kinds == ["raised", "accept", "dispatch", "answer", "close", "confirm"]
    assert all(e["at"] for e in done["events"])
    ratings = p.bank.get("/api/v1/ratings").json()["items"]
    assert [(r["subject"], r["score"], r["request_id"]) for r in ratings] == [("request", 5, rid)]


def test_the_bank_hears_of_its_dispatch(parties: Parties) -> None:
    p = parties
    rid = _raised(p)["id"]
    step(p.office, rid, action="accept", category_code="charges")
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    events = p.bank.get("/api/v1/events").json()["items"]
    assigned = [e for e in events if e["type"] == "request.assigned"]
    assert len(assigned) == 1 and assigned[0]["data"]["request_id"] == rid
    # dispatched elsewhere: the first bank is told it is no longer its, and loses sight of it
    step(p.office, rid, action="dispatch", bank_code=p.other_bank_code)
    events = p.bank.get("/api/v1/events").json()["items"]
    assert events[-1]["type"] == "request.updated"
    assert events[-1]["data"]["status"] == "reassigned"
    assert p.bank.get(f"/api/v1/requests/{rid}").status_code == 404
    assert p.other_bank.get(f"/api/v1/requests/{rid}").status_code == 200


def test_who_sees_what(parties: Parties) -> None:
    p = parties
    rid = _raised(p, show_to_bank=False)["id"]
    # another enterprise, and a bank it was not dispatched to, do not see it
    assert p.other_firm.get(f"/api/v1/requests/{rid}").status_code == 404
    assert p.bank.get(f"/api/v1/requests/{rid}").status_code == 404
    assert p.bank.get("/api/v1/requests").json()["items"] == []
    step(p.office, rid, action="accept", category_code="charges")
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    shown = p.bank.get(f"/api/v1/requests/{rid}").json()
    assert shown["enterprise_name"] is None and shown["enterprise_id"] is None
    assert p.other_bank.get(f"/api/v1/requests/{rid}").status_code == 404
    assert [r["id"] for r in p.bank.get("/api/v1/requests").json()["items"]] == [rid]
    assert p.office.get(f"/api/v1/requests/{rid}").json()["enterprise_name"]


def test_wrong_roles_and_steps(parties: Parties) -> None:
    p = parties
    rid = _raised(p)["id"]
    refused = step(p.firm, rid, action="accept", category_code="charges")
    assert refused.status_code == 403 and refused.json()["code"] == "actor_not_allowed"
    wrong = step(p.office, rid, action="close", text="x")
    assert wrong.status_code == 409 and wrong.json()["code"] == "transition_not_allowed"
    step(p.office, rid, action="accept", category_code="charges")
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    step(p.bank, rid, action="answer", text="已处理")
    cannot_close = step(p.bank, rid, action="close", text="已办结")
    assert cannot_close.status_code == 403
    assert step(p.office, rid, action="close", text="办结").status_code == 200
    assert step(p.firm, rid, action="confirm").json()["code"] == "invalid_step"
    assert step(p.firm, rid, action="confirm", rating=6).status_code == 422
    reopened = step(p.firm, rid, action="reopen", text="保险费只退了一半")
    assert reopened.json()["status"] == "reopened" and reopened.json()["reopens"] == 1
    step(p.office, rid, action="close", text="已督促银行全额退还")
    again = step(p.firm, rid, action="reopen", text="仍未退")
    assert again.status_code == 409 and again.json()["code"] == "reopen_limit"
    assert step(p.firm, rid, action="confirm", rating=2).status_code == 200
    after = step(p.firm, rid, action="withdraw")
    assert after.status_code == 409


def test_if_match_and_idempotency(parties: Parties) -> None:
    p = parties
    rid = _raised(p)["id"]
    first = p.office.get(f"/api/v1/requests/{rid}")
    stale = first.headers["ETag"]
    step(p.office, rid, action="accept", category_code="charges")
    refused = p.office.post(
        f"/api/v1/requests/{rid}/steps",
        json={"action": "dispatch", "bank_code": p.bank_code},
        headers={"If-Match": stale},
    )
    assert refused.status_code == 412
    headers = {"Idempotency-Key": "dispatch-1"}
    body = {"action": "dispatch", "bank_code": p.bank_code}
    once = p.office.post(f"/api/v1/requests/{rid}/steps", json=body, headers=headers)
    twice = p.office.post(f"/api/v1/requests/{rid}/steps", json=body, headers=headers)
    assert once.status_code == twice.status_code == 200
    assert twice.headers.get("Idempotent-Replayed") == "true"
    events = p.office.get(f"/api/v1/requests/{rid}").json()["events"]
    assert [e["kind"] for e in events].count("dispatch") == 1


def test_the_office_sees_who_took_each_step_others_see_the_office(
    parties: Parties, session
) -> None:
    from service.access.models import Role, UserAccount
    from service.access.policy import Principal
    from service.appeals import service, steps
    from service.appeals.schemas import AppealStep

    p = parties
    person = UserAccount(
        login="wangmin@office.example", display_name="王敏", role=Role.office, created_by="test"
    )
    session.add(person)
    session.commit()
    rid = _raised(p)["id"]
    staff = Principal(Role.office, user_id=person.id)
    steps.take_step(session, staff, rid, AppealStep(action="accept", category_code="charges"))
    _, as_office = service.read_one(session, Principal(Role.office), rid)
    _, as_firm = service.read_one(session, Principal(Role.enterprise, enterprise_id=p.firm_id), rid)
    assert as_office.events is not None and as_firm.events is not None
    assert as_office.events[-1].actor_name == "王敏（金融办）"
    assert as_firm.events[-1].actor_name == "金融办"

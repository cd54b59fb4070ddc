"""Every transition of a request through the API, with the data each takes and the refusals
around it: reject, merge, withdraw, closing without a handler, sending an answer back,
redispatching after a reopen, a department's answer recorded by the office, and dispatch
choices that cannot stand."""

from datetime import date, timedelta

import time_machine

from tests.appeals.conftest import Parties, charge_request, step

MONDAY = date(2026, 11, 2)


def _raised(p: Parties, client=None, **overrides) -> int:
    response = (client or p.firm).post(
        "/api/v1/requests", json=charge_request(p.bank_code, **overrides)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _accepted(p: Parties) -> int:
    rid = _raised(p)
    assert step(p.office, rid, action="accept", category_code="charges").status_code == 200
    return rid


def test_reject_needs_a_reason_and_ends_it(parties: Parties) -> None:
    p = parties
    rid = _raised(p)
    assert step(p.office, rid, action="reject").json()["code"] == "invalid_step"
    done = step(
        p.office, rid, action="reject", text="不属于金融服务范围，已告知企业向市场监管部门反映"
    )
    assert done.json()["status"] == "rejected" and done.json()["result"].startswith("不属于")
    assert done.json()["next_actions"] == []
    assert step(p.firm, rid, action="withdraw").status_code == 409


def test_merge_into_another_open_request_of_the_same_enterprise(parties: Parties) -> None:
    p = parties
    first, duplicate = _raised(p), _raised(p)
    others = _raised(p, client=p.other_firm)
    assert step(p.office, duplicate, action="merge").json()["field"] == "merge_into_id"
    for target in (duplicate, others, 2_000_000_000):
        refused = step(p.office, duplicate, action="merge", merge_into_id=target)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_merge", target
    merged = step(p.office, duplicate, action="merge", merge_into_id=first)
    assert merged.status_code == 200
    assert merged.json()["status"] == "merged" and merged.json()["merged_into_id"] == first
    events = p.office.get(f"/api/v1/requests/{first}").json()["events"]
    assert events[-1]["kind"] == "merged_in" and events[-1]["data"]["duplicate_id"] == duplicate
    # nothing merges into an ended request
    step(p.firm, first, action="withdraw")
    third = _raised(p)
    refused = step(p.office, third, action="merge", merge_into_id=first)
    assert refused.json()["code"] == "invalid_merge"


def test_accept_needs_a_known_category_and_takes_no_handler(parties: Parties) -> None:
    p = parties
    rid = _raised(p)
    unknown = step(p.office, rid, action="accept", category_code="nonsense")
    assert unknown.status_code == 404 and unknown.json()["code"] == "category_not_found"
    stray = step(p.office, rid, action="accept", category_code="charges", bank_code=p.bank_code)
    assert stray.status_code == 422 and stray.json()["field"] == "bank_code"
    both = step(p.office, rid, action="dispatch", bank_code=p.bank_code, department_code="wx-jrj")
    assert both.status_code == 422


def test_the_office_settles_an_accepted_request_itself(parties: Parties) -> None:
    p = parties
    rid = _accepted(p)
    closed = step(p.office, rid, action="close", text="金融办已当场协调，银行同意退费")
    assert closed.json()["status"] == "closed" and closed.json()["handler_kind"] is None
    confirmed = step(p.firm, rid, action="confirm", rating=5)
    assert confirmed.json()["status"] == "confirmed"
    rating = p.office.get("/api/v1/ratings").json()["items"][0]
    assert rating["request_id"] == rid and rating["bank_code"] is None


def test_dispatch_choices_that_cannot_stand(parties: Parties) -> None:
    p = parties
    rid = _accepted(p)
    with time_machine.travel(MONDAY, tick=False):
        for due in (MONDAY, MONDAY - timedelta(days=1), MONDAY + timedelta(days=400)):
            refused = step(
                p.office, rid, action="dispatch", bank_code=p.bank_code, due_date=due.isoformat()
            )
            assert refused.status_code == 422 and refused.json()["field"] == "due_date", due
        assert step(p.office, rid, action="dispatch", bank_code="no-such-bank").status_code == 422
        assert step(p.office, rid, action="dispatch", department_code="nowhere").status_code == 404
        p.office.patch("/api/v1/departments/wx-fgw", json={"active": False})
        inactive = step(p.office, rid, action="dispatch", department_code="wx-fgw")
        assert inactive.status_code == 404 and inactive.json()["code"] == "department_not_found"
        chosen = step(
            p.office, rid, action="dispatch", bank_code=p.bank_code, due_date="2026-11-06"
        )
        assert chosen.status_code == 200 and chosen.json()["due_date"] == "2026-11-06"


def test_an_answer_sent_back_and_a_department_answered_by_the_office(parties: Parties) -> None:
    p = parties
    rid = _accepted(p)
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    step(p.bank, rid, action="answer", text="正常收费")
    back = step(
        p.office,
        rid,
        action="dispatch",
        department_code="nfra-wx",
        text="银行答复不实，转监管分局核查",
    )
    assert back.json()["status"] == "dispatched" and back.json()["answer"] is None
    assert back.json()["handler_name"] == "国家金融监督管理总局无锡监管分局"
    assert p.bank.get(f"/api/v1/requests/{rid}").status_code == 404  # no longer the bank's
    answered = step(p.office, rid, action="answer", text="监管分局已责令该行退费")
    assert answered.json()["status"] == "answered"
    assert answered.json()["events"][-1]["actor_role"] == "office"


def test_reopened_it_is_dispatched_again(parties: Parties) -> None:
    p = parties
    rid = _accepted(p)
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    step(p.bank, rid, action="answer", text="已退一半")
    step(p.office, rid, action="close", text="已退费")
    reopened = step(p.firm, rid, action="reopen", text="只退了一半")
    assert reopened.json()["result"] is None and reopened.json()["reopen_reason"] == "只退了一半"
    again = step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    assert again.json()["status"] == "dispatched"
    kinds = [e["type"] for e in p.bank.get("/api/v1/events").json()["items"]]
    assert kinds.count("request.assigned") == 2 and "request.updated" in kinds


def test_the_enterprise_withdraws_until_closed(parties: Parties) -> None:
    p = parties
    for steps_before in ([], ["accept"], ["accept", "dispatch"], ["accept", "dispatch", "answer"]):
        rid = _raised(p)
        for action in steps_before:
            client = p.bank if action == "answer" else p.office
            extra = {
                "accept": {"category_code": "charges"},
                "dispatch": {"bank_code": p.bank_code},
                "answer": {"text": "已处理"},
            }[action]
            assert step(client, rid, action=action, **extra).status_code == 200
        withdrawn = step(p.firm, rid, action="withdraw", text="已与银行协商解决")
        assert withdrawn.json()["status"] == "withdrawn", steps_before
        assert step(p.office, rid, action="dispatch", bank_code=p.bank_code).status_code == 409
    rid = _accepted(p)
    step(p.office, rid, action="close", text="已协调")
    assert step(p.firm, rid, action="withdraw").status_code == 409

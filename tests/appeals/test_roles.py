"""Who may call what on requests, as a matrix of roles × endpoints (another bank's or another
enterprise's request is a 404; an endpoint a role may not use a 403; no key a 401), and the
signed ``request.assigned`` webhook a bank receives on dispatch."""

from collections.abc import Iterator

import pytest

from tests.appeals.conftest import Parties, charge_request, step
from tests.leads.test_webhooks import Receiver, allow_local_receivers

ROLES = ("office", "bank", "other_bank", "firm", "other_firm", "anonymous")


@pytest.fixture
def clients(parties: Parties, anonymous) -> dict:
    p = parties
    return {
        "office": p.office,
        "bank": p.bank,
        "other_bank": p.other_bank,
        "firm": p.firm,
        "other_firm": p.other_firm,
        "anonymous": anonymous,
    }


@pytest.fixture
def dispatched(parties: Parties) -> int:
    p = parties
    rid = p.firm.post("/api/v1/requests", json=charge_request(p.bank_code)).json()["id"]
    step(p.office, rid, action="accept", category_code="charges")
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    return rid


# (method, path, body, expected per role: "ok" for 2xx)
MATRIX = [
    ("GET", "/requests/{rid}", None, ["ok", "ok", 404, "ok", 404, 401]),
    ("GET", "/requests", None, ["ok", "ok", "ok", "ok", "ok", 401]),
    (
        "POST",
        "/requests/{rid}/steps",
        {"action": "close", "text": "x"},
        [409, 403, 404, 403, 404, 401],
    ),
    (
        "POST",
        "/requests/{rid}/steps",
        {"action": "reopen", "text": "x"},
        [403, 403, 404, 409, 404, 401],
    ),
    ("POST", "/requests/overdue-check", None, ["ok", 403, 403, 403, 403, 401]),
    ("GET", "/departments", None, ["ok", "ok", "ok", "ok", "ok", 401]),
    (
        "POST",
        "/departments",
        {"code": "wx-test", "name": "测试部门"},
        ["ok", 403, 403, 403, 403, 401],
    ),
    ("PATCH", "/departments/wx-jrj", {"name": "市地方金融监管局"}, ["ok", 403, 403, 403, 403, 401]),
    ("GET", "/request-categories", None, ["ok", "ok", "ok", "ok", "ok", 401]),
    (
        "PATCH",
        "/request-categories/other",
        {"due_working_days": 15},
        ["ok", 403, 403, 403, 403, 401],
    ),
    ("GET", "/ratings", None, ["ok", "ok", "ok", "ok", "ok", 401]),
    ("POST", "/ratings", {"lead_id": 1, "score": 4}, [403, 403, 403, 404, 404, 401]),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX)
def test_role_matrix(clients, dispatched, method, path, body, expected) -> None:
    for role, want in zip(ROLES, expected, strict=True):
        url = "/api/v1" + path.format(rid=dispatched)
        response = clients[role].request(method, url, json=body)
        got = "ok" if 200 <= response.status_code < 300 else response.status_code
        assert got == want, f"{method} {path} as {role}: {response.status_code} {response.text}"
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")


def test_a_bank_answers_only_what_is_dispatched_to_it(parties: Parties, dispatched: int) -> None:
    p = parties
    assert step(p.other_bank, dispatched, action="answer", text="x").status_code == 404
    assert step(p.bank, dispatched, action="answer", text="已核实").status_code == 200
    assert step(p.bank, dispatched, action="answer", text="再答").status_code == 409


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    allow_local_receivers(monkeypatch)
    r = Receiver()
    yield r
    r.close()


def test_the_bank_gets_a_signed_request_assigned_webhook(parties: Parties, receiver) -> None:
    p = parties
    made = p.bank.post(
        "/api/v1/webhooks", json={"url": receiver.url, "event_types": ["request.assigned"]}
    )
    assert made.status_code == 201, made.text
    receiver.secrets = [made.json()["secret"]]
    rid = p.firm.post("/api/v1/requests", json=charge_request(p.bank_code)).json()["id"]
    step(p.office, rid, action="accept", category_code="charges")
    assert receiver.received == []
    step(p.office, rid, action="dispatch", bank_code=p.bank_code)
    (got,) = receiver.received
    assert got["verified"] == receiver.secrets
    assert got["body"]["type"] == "request.assigned"
    assert got["body"]["data"]["request_id"] == rid
    assert got["body"]["data"]["bank_code"] == p.bank_code
    # the answer and what follows are not request.assigned: nothing more for this endpoint
    step(p.bank, rid, action="answer", text="已核实")
    step(p.office, rid, action="close", text="已办结")
    assert len(receiver.received) == 1

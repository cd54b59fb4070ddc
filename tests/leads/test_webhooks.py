"""Webhooks: endpoints per bank, the outbox sent after commit, Standard Webhooks signatures
checked with the `standardwebhooks` package on a real receiver, retries with backoff when the
receiver fails and recovers, 410 disabling the endpoint, secret rotation, the delivery log,
and URLs that would reach into our own network refused when registered and when sent.

The receivers listen on 127.0.0.1 over plain http, which production refuses: the tests that
use them turn on the two local-trial settings explicitly (`local_trials`)."""

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import time_machine
from sqlmodel import Session, select
from standardwebhooks import Webhook

from service.core.models import utcnow
from service.core.settings import get_settings
from service.jobs.service import run_pending
from service.leads import sender as webhook_client
from service.leads.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import PUBLIC_TEST_ADDRESS
from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload


def allow_local_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """FINMATCH_WEBHOOK_ALLOW_HTTP and FINMATCH_WEBHOOK_ALLOW_PRIVATE, as for a trial on one
    machine: webhooks may go to http://127.0.0.1."""
    monkeypatch.setattr(get_settings(), "webhook_allow_http", True)
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)


@pytest.fixture
def local_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    allow_local_receivers(monkeypatch)


class Receiver:
    """A bank's receiver on 127.0.0.1: answers with the queued statuses (then 200) and `body`,
    a 3xx pointing at itself, and keeps what it got with whether the signature verified with
    its secret(s)."""

    def __init__(self, port: int = 0, secrets: list[str] | None = None) -> None:
        self.secrets: list[str] = list(secrets or [])
        self.statuses: list[int] = []
        self.body = b""
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = []
                for secret in outer.secrets:
                    try:
                        Webhook(secret).verify(body, headers)
                        verified.append(secret)
                    except Exception:  # noqa: BLE001
                        pass
                outer.received.append(
                    {
                        "path": self.path,
                        "body": json.loads(body),
                        "headers": headers,
                        "verified": verified,
                    }
                )
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", outer.url + "/followed")
                self.send_header("content-length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: Any) -> None:
                pass

        HTTPServer.allow_reuse_address = True
        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/finmatch"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(local_trials) -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def bank(client) -> str:
    code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    client.post(
        "/api/v1/products",
        json=product_payload(
            code,
            eligibility={"clusters_included": ["ic"]},
            amount_min_fen=10_000_000,
            amount_max_fen=5_000_000_000,
        ),
    ).raise_for_status()
    return code


def _post_need(client) -> dict:
    firm = create_enterprise(client, **LARGE_IC)
    response = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": firm["id"],
            "amount_fen": 200_000_000,
            "term_months": 12,
            "purpose": "working_capital",
            "collateral": ["none"],
            "consent_share_details": True,
            "max_banks": 1,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _register(c, url: str, **extra: Any) -> dict:
    response = c.post("/api/v1/webhooks", json={"url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_events_are_pushed_thin_and_signed(client, as_role, bank, receiver) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, receiver.url)
    assert endpoint["secret"].startswith("whsec_") and endpoint["bank_code"] == bank
    receiver.secrets = [endpoint["secret"]]
    assert "secret" not in banker.get("/api/v1/webhooks").json()[0]
    _post_need(client)
    (got,) = receiver.received
    assert got["verified"] == [endpoint["secret"]]
    assert got["body"]["type"] == "lead.created"
    assert set(got["body"]["data"]) == {"event_id", "lead_id", "seq", "bank_code"}
    (lead,) = banker.get("/api/v1/leads").json()["items"]
    assert got["body"]["data"]["lead_id"] == lead["id"]
    assert got["headers"]["webhook-id"].startswith("msg_")
    log = banker.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["items"]
    assert log[0]["status"] == "delivered" and log[0]["log"][0]["status_code"] == 200
    # another bank sees nothing of it
    other = as_role(
        "bank", bank_code=client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    )
    assert other.get(f"/api/v1/webhooks/{endpoint['id']}").status_code == 404
    assert other.get("/api/v1/webhooks").json() == []


def test_a_failing_receiver_gets_retries_with_backoff_until_it_recovers(
    client, as_role, session: Session, bank, receiver
) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, receiver.url)
    receiver.secrets = [endpoint["secret"]]
    receiver.statuses = [500, 503]
    _post_need(client)
    assert len(receiver.received) == 1
    delivery = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])
    ).one()
    assert delivery.status == "pending" and delivery.attempts == 1
    # the second try is due 5 s later (±20 %), the third 5 min after that
    first_retry = delivery.next_attempt_at - utcnow()
    assert timedelta(seconds=3) <= first_retry <= timedelta(seconds=6.5)
    with time_machine.travel(utcnow() + timedelta(seconds=7), tick=False):
        run_pending(session)
    assert len(receiver.received) == 2
    session.refresh(delivery)
    assert delivery.attempts == 2 and delivery.last_status_code == 503
    with time_machine.travel(utcnow() + timedelta(minutes=7), tick=False):
        run_pending(session)
    session.refresh(delivery)
    assert delivery.status == "delivered" and delivery.attempts == 3
    ids = {r["headers"]["webhook-id"] for r in receiver.received}
    assert len(ids) == 1  # the same message id on every try
    assert all(r["verified"] for r in receiver.received)
    log = banker.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["items"][0]
    assert [a["status_code"] for a in log["log"]] == [500, 503, 200]


def test_a_receiver_that_is_down_loses_nothing(
    client, as_role, session: Session, bank, local_trials
) -> None:
    banker = as_role("bank", bank_code=bank)
    down = Receiver()
    url = down.url
    down.close()  # nothing listens there now
    endpoint = _register(banker, url)
    for _ in range(3):
        _post_need(client)
    deliveries = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])
    ).all()
    assert len(deliveries) == 3 and all(d.status == "pending" for d in deliveries)
    assert all(d.attempts <= 1 for d in deliveries)
    # it comes back on the same port: the retries deliver everything
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    revived = Receiver(port, [endpoint["secret"]])
    try:
        for minutes in (1, 10, 60):
            with time_machine.travel(utcnow() + timedelta(minutes=minutes), tick=False):
                run_pending(session)
        session.expire_all()
        statuses = [
            d.status
            for d in session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])
            )
        ]
        assert statuses == ["delivered"] * 3
        lead_ids = [r["body"]["data"]["lead_id"] for r in revived.received]
        assert len(lead_ids) == len(set(lead_ids)) == 3 and all(
            r["verified"] for r in revived.received
        )
    finally:
        revived.close()


def test_410_disables_the_endpoint(client, as_role, session: Session, bank, receiver) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, receiver.url)
    receiver.statuses = [410]
    _post_need(client)
    state = banker.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    _post_need(client)
    assert len(receiver.received) == 1  # nothing more is sent
    assert banker.patch(f"/api/v1/webhooks/{endpoint['id']}", json={"enabled": True}).json()[
        "enabled"
    ]


def test_rotation_signs_with_both_secrets_for_a_while(client, as_role, bank, receiver) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, receiver.url)
    rotated = banker.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret").json()
    assert rotated["secret"] != endpoint["secret"]
    receiver.secrets = [endpoint["secret"], rotated["secret"]]
    _post_need(client)
    (got,) = receiver.received
    assert sorted(got["verified"]) == sorted(receiver.secrets)
    assert len(got["headers"]["webhook-signature"].split()) == 2


@pytest.mark.parametrize(
    "body, code",
    [
        ({"url": "ftp://bank.example/x"}, "invalid_webhook_url"),
        ({"url": "not a url"}, "invalid_webhook_url"),
        ({"url": "https://bank.example/x", "event_types": ["lead.exploded"]}, "unknown_event_type"),
    ],
)
def test_bad_endpoints_are_refused(as_role, bank, body, code) -> None:
    response = as_role("bank", bank_code=bank).post("/api/v1/webhooks", json=body)
    assert response.status_code == 422 and response.json()["code"] == code


@pytest.fixture
def internal_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names a bank might register that resolve inside: loopback, the cloud metadata address,
    one public and one private answer, an IPv4-mapped loopback; others as in the tests."""
    answers = {
        "internal.bank.example": ["127.0.0.1"],
        "metadata.bank.example": ["169.254.169.254"],
        "mixed.bank.example": [PUBLIC_TEST_ADDRESS, "10.0.0.7"],
        "mapped.bank.example": ["::ffff:127.0.0.1"],
        "hooks.bank.example": [PUBLIC_TEST_ADDRESS],
    }

    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("name not known")
        return answers[host]

    monkeypatch.setattr(webhook_client, "resolve_host", resolve)


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://hooks.bank.example/x", "webhook_url_not_https"),
        ("https://user:secret@hooks.bank.example/x", "webhook_url_credentials"),
        ("https://hooks.bank.example:22/x", "webhook_url_port_not_allowed"),
        ("file:///etc/passwd", "invalid_webhook_url"),
        ("https://127.0.0.1:8000/api/v1/keys", "webhook_url_not_public"),
        ("https://10.1.2.3/x", "webhook_url_not_public"),
        ("https://172.16.0.1/x", "webhook_url_not_public"),
        ("https://192.168.1.1/x", "webhook_url_not_public"),
        ("https://100.64.0.1/x", "webhook_url_not_public"),
        ("https://169.254.169.254/latest/meta-data/", "webhook_url_not_public"),
        ("https://0.0.0.0/x", "webhook_url_not_public"),
        ("https://239.1.2.3/x", "webhook_url_not_public"),
        ("https://198.18.0.1/x", "webhook_url_not_public"),
        ("https://192.0.2.1/x", "webhook_url_not_public"),
        ("https://2130706433/x", "webhook_url_not_public"),
        ("https://0177.0.0.1/x", "webhook_url_not_public"),
        ("https://0x7f.1/x", "webhook_url_not_public"),
        ("https://[::1]/x", "webhook_url_not_public"),
        ("https://[::ffff:127.0.0.1]/x", "webhook_url_not_public"),
        ("https://[64:ff9b::a9fe:a9fe]/x", "webhook_url_not_public"),
        ("https://[2002:c0a8:101::1]/x", "webhook_url_not_public"),
        ("https://[fd00::1]/x", "webhook_url_not_public"),
        ("https://[fe80::1]/x", "webhook_url_not_public"),
        ("https://internal.bank.example/x", "webhook_url_not_public"),
        ("https://metadata.bank.example/x", "webhook_url_not_public"),
        ("https://mixed.bank.example/x", "webhook_url_not_public"),
        ("https://mapped.bank.example/x", "webhook_url_not_public"),
        ("https://nowhere.bank.example/x", "webhook_url_unresolvable"),
    ],
)
def test_urls_reaching_inside_are_refused(
    client, as_role, session: Session, bank, internal_names, url, code
) -> None:
    banker = as_role("bank", bank_code=bank)
    response = banker.post("/api/v1/webhooks", json={"url": url})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code and problem["field"] == "url"
    assert "127.0.0.1" not in problem["detail"] or "127.0.0.1" in url  # no resolver answers
    # the office registering for the bank is held to the same rules
    as_office = client.post("/api/v1/webhooks", json={"url": url, "bank_code": bank})
    assert as_office.status_code == 422 and as_office.json()["code"] == code
    assert session.scalars(select(WebhookEndpoint)).all() == []


def test_a_public_https_url_is_accepted(as_role, bank, internal_names) -> None:
    endpoint = _register(
        as_role("bank", bank_code=bank), "https://hooks.bank.example:8443/finmatch/events"
    )
    assert endpoint["url"] == "https://hooks.bank.example:8443/finmatch/events"


def test_plain_http_only_with_its_setting(
    as_role, bank, internal_names, monkeypatch: pytest.MonkeyPatch
) -> None:
    banker = as_role("bank", bank_code=bank)
    refused = banker.post("/api/v1/webhooks", json={"url": "http://hooks.bank.example/x"})
    assert refused.status_code == 422 and refused.json()["code"] == "webhook_url_not_https"

    monkeypatch.setattr(get_settings(), "webhook_allow_http", True)
    _register(banker, "http://hooks.bank.example/x")
    # http alone does not open this machine
    inside = banker.post("/api/v1/webhooks", json={"url": "http://internal.bank.example/x"})
    assert inside.status_code == 422 and inside.json()["code"] == "webhook_url_not_public"


def test_changing_or_reenabling_is_checked_as_well(
    as_role, session: Session, bank, internal_names
) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, "https://hooks.bank.example/x")
    path = f"/api/v1/webhooks/{endpoint['id']}"
    changed = banker.patch(path, json={"url": "https://internal.bank.example/x"})
    assert changed.status_code == 422 and changed.json()["code"] == "webhook_url_not_public"
    assert banker.get(path).json()["url"] == "https://hooks.bank.example/x"
    # One registered before the rules: disabled, then enabled again without a new URL.
    stored = session.get(WebhookEndpoint, endpoint["id"])
    assert stored is not None
    stored.url, stored.enabled = "http://127.0.0.1:8000/api/v1/keys", False
    session.flush()
    again = banker.patch(path, json={"enabled": True})
    assert again.status_code == 422 and again.json()["code"] == "webhook_url_not_https"
    fixed = banker.patch(path, json={"enabled": True, "url": "https://hooks.bank.example/y"})
    assert fixed.status_code == 200 and fixed.json()["enabled"] is True


def _attempts(banker, endpoint_id: int) -> list[dict]:
    (delivery,) = banker.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()["items"]
    return delivery["log"]


def test_dns_rebinding_after_registration_reaches_nothing(
    client, as_role, session: Session, bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answered a public address when registered, and 127.0.0.1 (where something
    listens) when the event is sent: nothing is sent, and the attempt says why."""
    monkeypatch.setattr(get_settings(), "webhook_allow_http", True)  # private stays refused
    inside = Receiver()
    try:
        banker = as_role("bank", bank_code=bank)
        port = inside.server.server_port
        endpoint = _register(banker, f"http://hooks.bank.example:{port}/finmatch")
        monkeypatch.setattr(webhook_client, "resolve_host", lambda host, port: ["127.0.0.1"])

        _post_need(client)

        assert inside.received == []
        (attempt,) = _attempts(banker, endpoint["id"])
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("webhook_url_not_public: ")
        delivery = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])
        ).one()
        # retried on the schedule, like any unreachable receiver
        assert delivery.status == "pending" and delivery.next_attempt_at > utcnow()
    finally:
        inside.close()


def test_an_endpoint_registered_before_the_rules_is_refused_when_sending(
    client, as_role, session: Session, bank
) -> None:
    """The URL the outside probing registered: no request leaves, the attempt says why."""
    inside = Receiver()
    try:
        banker = as_role("bank", bank_code=bank)
        endpoint = _register(banker, "https://hooks.bank.example/x")
        stored = session.get(WebhookEndpoint, endpoint["id"])
        assert stored is not None
        stored.url = f"http://127.0.0.1:{inside.server.server_port}/api/v1/keys"
        session.flush()

        _post_need(client)

        assert inside.received == []
        (attempt,) = _attempts(banker, endpoint["id"])
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("webhook_url_not_https: ")
    finally:
        inside.close()


def test_a_redirect_is_a_failed_delivery_and_not_followed(
    client, as_role, session: Session, bank, receiver
) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, receiver.url)
    receiver.statuses = [302]

    _post_need(client)

    assert [r["path"] for r in receiver.received] == ["/finmatch"]  # not /finmatch/followed
    (attempt,) = _attempts(banker, endpoint["id"])
    assert attempt["status_code"] == 302 and attempt["error"] == "HTTP 302"
    delivery = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])
    ).one()
    assert delivery.status == "pending" and delivery.attempts == 1  # retried like a 5xx
    with time_machine.travel(utcnow() + timedelta(seconds=7), tick=False):
        run_pending(session)
    session.refresh(delivery)
    assert delivery.status == "delivered"
    assert [r["path"] for r in receiver.received] == ["/finmatch", "/finmatch"]


def test_the_log_keeps_status_and_timing_never_the_answer(client, as_role, bank, receiver) -> None:
    banker = as_role("bank", bank_code=bank)
    endpoint = _register(banker, receiver.url)
    receiver.statuses = [500]
    receiver.body = b'{"keys": [{"key": "fm_live_internal_secret"}]}'

    _post_need(client)

    response = banker.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")
    assert "fm_live_internal_secret" not in response.text
    (delivery,) = response.json()["items"]
    (attempt,) = delivery["log"]
    assert set(attempt) == {"at", "status_code", "error", "duration_ms"}
    assert attempt["status_code"] == 500 and attempt["error"] == "HTTP 500"
    assert isinstance(attempt["duration_ms"], int) and attempt["duration_ms"] >= 0
    assert delivery["last_status_code"] == 500 and delivery["last_error"] == "HTTP 500"


def test_only_subscribed_events_are_sent(client, as_role, bank, receiver) -> None:
    banker = as_role("bank", bank_code=bank)
    _register(banker, receiver.url, event_types=["lead.withdrawn"])
    need = _post_need(client)
    assert receiver.received == []
    client.post(f"/api/v1/needs/{need['id']}/withdraw")
    assert [r["body"]["type"] for r in receiver.received] == ["lead.withdrawn"]
    assert (
        as_role("enterprise", enterprise_id=need["enterprise_id"])
        .get("/api/v1/webhooks")
        .status_code
        == 403
    )

"""Webhooks: endpoints per bank, the outbox sent after commit, Standard Webhooks signatures
checked with the `standardwebhooks` package on a real receiver, retries with backoff when the
receiver fails and recovers, 410 disabling the endpoint, secret rotation, the delivery log."""

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
from service.jobs.service import run_pending
from service.leads.models import WebhookDelivery
from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload


class Receiver:
    """A bank's receiver on 127.0.0.1: answers with the queued statuses (then 200), and keeps
    what it got with whether the signature verified with its secret(s)."""

    def __init__(self, port: int = 0, secrets: list[str] | None = None) -> None:
        self.secrets: list[str] = list(secrets or [])
        self.statuses: list[int] = []
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
                    {"body": json.loads(body), "headers": headers, "verified": verified}
                )
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()

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
def receiver() -> Iterator[Receiver]:
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


def test_a_receiver_that_is_down_loses_nothing(client, as_role, session: Session, bank) -> None:
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

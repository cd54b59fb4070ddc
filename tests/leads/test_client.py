"""Webhook signing and sending: signatures checked with the `standardwebhooks` package (what
receivers run), sends against a real HTTP server on 127.0.0.1, and the retry schedule."""

import base64
import hashlib
import hmac
import json
import random
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from service.leads.client import (
    MAX_ATTEMPTS,
    RESPONSE_READ_LIMIT,
    RETRY_SCHEDULE_SECONDS,
    USER_AGENT,
    Attempt,
    new_secret,
    next_attempt_delay,
    send,
    sign_headers,
    thin_payload,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
BODY = b'{"data":{"lead_id":7},"timestamp":"2026-03-02T01:00:00Z","type":"lead.created"}'
SHANGHAI = timezone(timedelta(hours=8))


# --- signing ---------------------------------------------------------------------------------


def test_signed_message_verifies_with_the_standard_library() -> None:
    headers = sign_headers(SECRET, "msg_1", datetime.now(UTC), BODY)

    assert Webhook(SECRET).verify(BODY, headers) == json.loads(BODY)
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == USER_AGENT


def test_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    # Computed from the spec's definition, independently of the package.
    at = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)
    headers = sign_headers(SECRET, "msg_1", at, BODY)

    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, b"msg_1.1772413200." + BODY, hashlib.sha256).digest()
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1772413200"
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_tampered_body_fails_verification() -> None:
    headers = sign_headers(SECRET, "msg_1", datetime.now(UTC), BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY.replace(b"7", b"8"), headers)


def test_old_timestamp_fails_verification() -> None:
    headers = sign_headers(SECRET, "msg_1", datetime.now(UTC) - timedelta(minutes=6), BODY)

    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(BODY, headers)


def test_wrong_secret_fails_verification() -> None:
    headers = sign_headers(SECRET, "msg_1", datetime.now(UTC), BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(BODY, headers)


def test_rotation_signs_with_every_secret() -> None:
    headers = sign_headers([OTHER_SECRET, SECRET], "msg_1", datetime.now(UTC), BODY)

    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(signature.startswith("v1,") for signature in signatures)
    Webhook(SECRET).verify(BODY, headers)
    Webhook(OTHER_SECRET).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_non_utc_timestamp_is_signed_as_the_same_instant() -> None:
    # 09:00 in Shanghai is 01:00 UTC; signing it as 09:00 UTC would be eight hours off.
    at = datetime(2026, 3, 2, 9, 0, 0, tzinfo=SHANGHAI)

    headers = sign_headers(SECRET, "msg_1", at, BODY)

    assert headers["webhook-timestamp"] == "1772413200"
    assert headers == sign_headers(SECRET, "msg_1", at.astimezone(UTC), BODY)
    now_in_shanghai = datetime.now(SHANGHAI)
    Webhook(SECRET).verify(BODY, sign_headers(SECRET, "msg_1", now_in_shanghai, BODY))


@pytest.mark.parametrize(
    ("secrets", "msg_id", "at", "body"),
    [
        ([], "msg_1", datetime.now(UTC), BODY),
        (SECRET, "", datetime.now(UTC), BODY),
        (SECRET, "msg.1", datetime.now(UTC), BODY),
        (SECRET, "msg 1", datetime.now(UTC), BODY),
        (SECRET, "msg\n1", datetime.now(UTC), BODY),
        (SECRET, "msg_1", datetime(2026, 3, 2, 1, 0, 0), BODY),
        (SECRET, "msg_1", datetime.now(UTC), b"\xff\xfe"),
    ],
    ids=["no-secret", "empty-id", "dot-in-id", "space-in-id", "newline-in-id", "naive", "not-utf8"],
)
def test_bad_arguments_are_refused(secrets, msg_id, at, body) -> None:
    with pytest.raises(ValueError):
        sign_headers(secrets, msg_id, at, body)


def test_new_secret_is_fresh_and_usable() -> None:
    first, second = new_secret(), new_secret()

    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    Webhook(first).verify(BODY, sign_headers(first, "msg_1", datetime.now(UTC), BODY))


# --- sending ---------------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint whose behaviour depends on the path; it verifies every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received: list[tuple[str, bool]] = []  # (path, signature verified)
        self.release = threading.Event()  # lets a slow handler finish at teardown

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up makes the slow handler's write fail; that is expected


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            Webhook(SECRET).verify(body, dict(self.headers.items()))
            verified = True
        except WebhookVerificationError:
            verified = False
        self.server.received.append((self.path, verified))
        if not verified:
            self.answer(401, b"bad signature")
        elif self.path == "/ok":
            self.answer(200, b"")
        elif self.path == "/fail":
            self.answer(500, b"database\n  unavailable")
        elif self.path == "/huge-fail":
            self.answer(500, b"x" * 1_000_000)
        elif self.path == "/gone":
            self.answer(410, b"endpoint retired")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("location", "/ok")
            self.send_header("content-length", "0")
            self.end_headers()
        elif self.path == "/slow":
            self.server.release.wait(timeout=5)
            self.answer(200, b"")
        else:
            self.answer(404, b"")

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: no proxy from the environment between us and 127.0.0.1.
    with httpx.Client(trust_env=False) as http:
        yield http


def deliver(client: httpx.Client, url: str, secrets=SECRET, timeout: float = 5.0) -> Attempt:
    return send(client, url, secrets, "msg_1", datetime.now(UTC), BODY, timeout=timeout)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_2xx_is_ok(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/ok")

    assert attempt.status_code == 200
    assert attempt.ok and not attempt.gone
    assert attempt.error is None
    assert attempt.duration_ms >= 0
    assert receiver.received == [("/ok", True)]


def test_rotated_secrets_are_accepted(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/ok", secrets=[new_secret(), SECRET])

    assert attempt.ok
    assert receiver.received == [("/ok", True)]


def test_receiver_rejecting_the_signature_is_a_failure(
    receiver: Receiver, client: httpx.Client
) -> None:
    attempt = deliver(client, receiver.base_url + "/ok", secrets=OTHER_SECRET)

    assert attempt == Attempt(401, "HTTP 401: bad signature", attempt.duration_ms, False, False)
    assert receiver.received == [("/ok", False)]


def test_5xx_is_a_failure_with_an_excerpt(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/fail")

    assert attempt.status_code == 500
    assert not attempt.ok and not attempt.gone
    assert attempt.error == "HTTP 500: database unavailable"


def test_only_a_few_kb_of_the_answer_are_read(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/huge-fail")

    assert attempt.status_code == 500
    assert attempt.error is not None
    assert len(attempt.error) < RESPONSE_READ_LIMIT


def test_410_is_gone(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/gone")

    assert attempt.status_code == 410
    assert attempt.gone and not attempt.ok


def test_redirect_is_a_failure_and_not_followed(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/redirect")

    assert attempt.status_code == 302
    assert not attempt.ok and not attempt.gone
    assert attempt.error == "HTTP 302"
    assert receiver.received == [("/redirect", True)]


def test_redirect_is_not_followed_even_by_a_following_client(receiver: Receiver) -> None:
    with httpx.Client(trust_env=False, follow_redirects=True) as following:
        attempt = deliver(following, receiver.base_url + "/redirect")

    assert attempt.status_code == 302
    assert receiver.received == [("/redirect", True)]


def test_slow_receiver_times_out(receiver: Receiver, client: httpx.Client) -> None:
    attempt = deliver(client, receiver.base_url + "/slow", timeout=0.3)

    assert attempt.status_code is None
    assert not attempt.ok and not attempt.gone
    assert attempt.error is not None and attempt.error.startswith("ReadTimeout")
    assert 250 <= attempt.duration_ms < 3000


def test_closed_port_is_an_error_not_an_exception(client: httpx.Client) -> None:
    attempt = deliver(client, f"http://127.0.0.1:{closed_port()}/hook")

    assert attempt.status_code is None
    assert not attempt.ok and not attempt.gone
    assert attempt.error is not None and attempt.error.startswith("ConnectError")


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/hook", "http://[::1/hook"])
def test_invalid_url_is_an_error_not_an_exception(client: httpx.Client, url: str) -> None:
    attempt = deliver(client, url)

    assert attempt.status_code is None
    assert not attempt.ok
    assert attempt.error


def test_bad_secret_is_a_bug_and_raises(client: httpx.Client) -> None:
    with pytest.raises(ValueError):
        deliver(client, "http://127.0.0.1:9/hook", secrets=[])


# --- retry schedule --------------------------------------------------------------------------


def test_schedule_is_the_specs_over_about_3_days() -> None:
    assert RETRY_SCHEDULE_SECONDS == (
        0,
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
        50400,
        72000,
        86400,
    )
    assert MAX_ATTEMPTS == 11
    assert sum(RETRY_SCHEDULE_SECONDS) == 308_105
    assert 3.5 * 86400 < sum(RETRY_SCHEDULE_SECONDS) < 3.6 * 86400


@given(
    attempt_number=st.integers(min_value=0, max_value=MAX_ATTEMPTS - 1),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_is_within_20_percent_of_the_schedule(attempt_number: int, seed: int) -> None:
    delay = next_attempt_delay(attempt_number, random.Random(seed))

    scheduled = RETRY_SCHEDULE_SECONDS[attempt_number]
    assert delay is not None
    assert 0.8 * scheduled <= delay <= 1.2 * scheduled


@pytest.mark.parametrize("attempt_number", [MAX_ATTEMPTS, MAX_ATTEMPTS + 1, 1000])
def test_no_delay_once_attempts_are_spent(attempt_number: int) -> None:
    assert next_attempt_delay(attempt_number, random.Random(1)) is None


def test_failed_attempts_in_a_row_take_about_3_days() -> None:
    rng = random.Random(7)
    delays = []
    failed = 1
    while (delay := next_attempt_delay(failed, rng)) is not None:
        delays.append(delay)
        failed += 1

    assert failed == MAX_ATTEMPTS  # the eleventh failure ends it
    assert len(delays) == MAX_ATTEMPTS - 1
    assert 0.8 * 308_105 <= sum(delays) <= 1.2 * 308_105


def test_seeded_rng_is_deterministic_and_jitter_varies() -> None:
    first = [next_attempt_delay(n, random.Random(42)) for n in range(MAX_ATTEMPTS)]
    again = [next_attempt_delay(n, random.Random(42)) for n in range(MAX_ATTEMPTS)]
    spread = {next_attempt_delay(3, random.Random(seed)) for seed in range(20)}

    assert first == again
    assert len(spread) == 20


def test_default_rng_and_negative_attempts() -> None:
    delay = next_attempt_delay(2)
    assert delay is not None and 240 <= delay <= 360
    with pytest.raises(ValueError):
        next_attempt_delay(-1)


# --- payload ---------------------------------------------------------------------------------


def test_thin_payload_has_exactly_the_given_fields() -> None:
    occurred_at = datetime(2026, 3, 2, 9, 0, 0, tzinfo=SHANGHAI)

    body = thin_payload("lead.created", 31, occurred_at, {"lead_id": 7, "need_id": 12})

    assert json.loads(body) == {
        "type": "lead.created",
        "timestamp": "2026-03-02T01:00:00Z",
        "data": {"lead_id": 7, "need_id": 12, "event_id": 31},
    }
    assert body == (
        b'{"data":{"event_id":31,"lead_id":7,"need_id":12},'
        b'"timestamp":"2026-03-02T01:00:00Z","type":"lead.created"}'
    )


def test_thin_payload_is_deterministic_and_utf8() -> None:
    at = datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC)

    one = thin_payload("lead.outcome", 1, at, {"b": 2, "a": "营业执照"})
    other = thin_payload("lead.outcome", 1, at, {"a": "营业执照", "b": 2})

    assert one == other
    assert "营业执照".encode() in one
    assert json.loads(one)["timestamp"] == "2026-03-02T01:00:00.123456Z"


def test_thin_payload_refuses_bad_input() -> None:
    at = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        thin_payload("lead.created", 1, at, {"event_id": 2})
    with pytest.raises(ValueError):
        thin_payload("lead.created", 1, at.replace(tzinfo=None), {})
    with pytest.raises(ValueError):
        thin_payload("lead.created", 1, at, {"score": float("nan")})


def test_thin_payload_round_trips_through_signing() -> None:
    body = thin_payload("lead.created", 1, datetime.now(UTC), {"lead_id": 7})

    headers = sign_headers(SECRET, "msg_1", datetime.now(UTC), body)

    assert Webhook(SECRET).verify(body, headers)["data"] == {"event_id": 1, "lead_id": 7}

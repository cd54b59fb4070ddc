"""Webhook signing and sending: signatures checked with the `standardwebhooks` package (what
receivers run), sends against real HTTP and HTTPS servers on 127.0.0.1 (allowed explicitly, as
for a trial on one machine), where webhooks may go and where not, and the retry schedule."""

import base64
import hashlib
import hmac
import json
import random
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address

import httpx
import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from service.leads import sender as webhook_client
from service.leads.sender import (
    FORBIDDEN,
    LOCAL,
    MAX_ATTEMPTS,
    PUBLIC,
    RETRY_SCHEDULE_SECONDS,
    USER_AGENT,
    Attempt,
    DestinationRefused,
    UrlPolicy,
    address_class,
    check_destination,
    new_secret,
    next_attempt_delay,
    send,
    sign_headers,
    thin_payload,
)
from tests.conftest import PUBLIC_TEST_ADDRESS

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
# A receiver on this machine over plain http: what FINMATCH_WEBHOOK_ALLOW_HTTP and
# FINMATCH_WEBHOOK_ALLOW_PRIVATE allow for a trial; production allows neither.
LOCAL_TRIAL = UrlPolicy(allow_http=True, allow_private=True)
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
        self.hosts: list[str] = []  # the Host header of each request
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
        self.server.hosts.append(self.headers.get("host", ""))
        if not verified:
            self.answer(401, b"bad signature")
        elif self.path == "/ok":
            self.answer(200, b"")
        elif self.path == "/fail":
            self.answer(500, b"database\n  unavailable: sk_internal_7f3a")
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


def deliver(
    client: httpx.Client,
    url: str,
    secrets=SECRET,
    timeout: float = 5.0,
    policy: UrlPolicy = LOCAL_TRIAL,
) -> Attempt:
    return send(
        client, url, secrets, "msg_1", datetime.now(UTC), BODY, timeout=timeout, policy=policy
    )


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

    assert attempt == Attempt(401, "HTTP 401", attempt.duration_ms, False, False)
    assert receiver.received == [("/ok", False)]


def test_5xx_is_a_failure_and_its_answer_is_not_kept(
    receiver: Receiver, client: httpx.Client
) -> None:
    attempt = deliver(client, receiver.base_url + "/fail")

    assert attempt.status_code == 500
    assert not attempt.ok and not attempt.gone
    assert attempt.error == "HTTP 500"  # the body (an internal answer, maybe) is dropped


def test_a_huge_answer_is_neither_read_whole_nor_kept(
    receiver: Receiver, client: httpx.Client
) -> None:
    attempt = deliver(client, receiver.base_url + "/huge-fail", timeout=2.0)

    assert attempt.status_code == 500
    assert attempt.error == "HTTP 500"
    assert attempt.duration_ms < 2000


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


def test_what_a_non_http_service_answers_is_not_kept(client: httpx.Client) -> None:
    """A service that is not HTTP (SSH, Redis …) answers with a banner; the HTTP parser's
    error would quote it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def banner() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6 internal-build-42\r\n\r\n")
                conn.recv(1)  # until the client hangs up

        thread = threading.Thread(target=banner, daemon=True)
        thread.start()
        attempt = deliver(client, f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
        thread.join(timeout=5)

    assert attempt.status_code is None and not attempt.ok
    assert attempt.error == "RemoteProtocolError: 接收端未给出有效的 HTTP 回答"


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/hook", "http://[::1/hook"])
def test_invalid_url_is_an_error_not_an_exception(client: httpx.Client, url: str) -> None:
    attempt = deliver(client, url)

    assert attempt.status_code is None
    assert not attempt.ok
    assert attempt.error is not None and attempt.error.startswith("invalid_webhook_url: ")


def test_bad_secret_is_a_bug_and_raises(client: httpx.Client) -> None:
    with pytest.raises(ValueError):
        deliver(client, "http://127.0.0.1:9/hook", secrets=[])


# --- where webhooks may go --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", PUBLIC),
        ("93.184.216.34", PUBLIC),
        ("172.32.0.1", PUBLIC),  # just past 172.16/12
        ("100.128.0.1", PUBLIC),  # just past 100.64/10
        ("2606:4700::1111", PUBLIC),
        ("::ffff:8.8.8.8", PUBLIC),  # mapped, public inside
        ("64:ff9b::808:808", PUBLIC),  # NAT64 of 8.8.8.8
        ("2002:808:808::1", PUBLIC),  # 6to4 of 8.8.8.8
        ("127.0.0.1", LOCAL),
        ("127.8.9.10", LOCAL),
        ("10.1.2.3", LOCAL),
        ("172.16.0.1", LOCAL),
        ("172.31.255.255", LOCAL),
        ("192.168.1.1", LOCAL),
        ("100.64.0.1", LOCAL),  # carrier-grade NAT
        ("::1", LOCAL),
        ("fc00::1", LOCAL),
        ("fd12:3456::1", LOCAL),
        ("::ffff:127.0.0.1", LOCAL),
        ("::ffff:10.0.0.1", LOCAL),
        ("64:ff9b::a00:1", LOCAL),  # NAT64 of 10.0.0.1
        ("2002:c0a8:101::1", LOCAL),  # 6to4 of 192.168.1.1
        ("0.0.0.0", FORBIDDEN),
        ("0.1.2.3", FORBIDDEN),
        ("169.254.169.254", FORBIDDEN),  # cloud metadata
        ("169.254.0.1", FORBIDDEN),
        ("224.0.0.1", FORBIDDEN),  # multicast: Python calls it global
        ("239.255.255.250", FORBIDDEN),
        ("240.0.0.1", FORBIDDEN),
        ("255.255.255.255", FORBIDDEN),
        ("192.0.2.1", FORBIDDEN),  # documentation
        ("198.51.100.1", FORBIDDEN),
        ("203.0.113.1", FORBIDDEN),
        ("198.18.0.1", FORBIDDEN),  # benchmarking
        ("198.19.255.255", FORBIDDEN),
        ("192.0.0.1", FORBIDDEN),  # IETF protocol assignments
        ("::", FORBIDDEN),
        ("::127.0.0.1", FORBIDDEN),  # deprecated IPv4-compatible: Python calls it global
        ("fe80::1", FORBIDDEN),
        ("fec0::1", FORBIDDEN),  # deprecated site-local: Python calls it global
        ("ff02::1", FORBIDDEN),
        ("ff0e::1", FORBIDDEN),
        ("2001:db8::1", FORBIDDEN),
        ("3fff::1", FORBIDDEN),  # documentation (RFC 9637)
        ("64:ff9b:1::1", FORBIDDEN),  # local-use NAT64
        ("2001::1", FORBIDDEN),  # Teredo
        ("100::1", FORBIDDEN),  # discard-only
        ("::ffff:169.254.169.254", FORBIDDEN),
        ("64:ff9b::a9fe:a9fe", FORBIDDEN),  # NAT64 of the metadata address
        ("2002:a9fe:a9fe::1", FORBIDDEN),  # 6to4 of it
    ],
)
def test_address_classes(address: str, kind: str) -> None:
    assert address_class(ip_address(address)) == kind


class FakeDns:
    """The resolver's answers by host name (there is no network here); a name not in it does
    not resolve. Changing an answer mid-test is a DNS rebinding."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {"hooks.bank.example": [PUBLIC_TEST_ADDRESS]}
        self.asked: list[str] = []

    def __setitem__(self, host: str, addresses: list[str]) -> None:
        self.answers[host] = addresses

    def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.answers[host])


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(webhook_client, "resolve_host", fake.resolve)
    return fake


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.bank.example/x", "webhook_url_not_https"),
        ("ftp://hooks.bank.example/x", "invalid_webhook_url"),
        ("file:///etc/passwd", "invalid_webhook_url"),
        ("gopher://hooks.bank.example/", "invalid_webhook_url"),
        ("https:///x", "invalid_webhook_url"),
        ("hooks.bank.example/x", "invalid_webhook_url"),
        ("https://user:secret@hooks.bank.example/x", "webhook_url_credentials"),
        ("https://user@hooks.bank.example/x", "webhook_url_credentials"),
        ("https://hooks.bank.example\\@127.0.0.1/x", "webhook_url_credentials"),
        ("https://hooks.bank.example:22/x", "webhook_url_port_not_allowed"),
        ("https://hooks.bank.example:25/x", "webhook_url_port_not_allowed"),
        ("https://hooks.bank.example:0/x", "invalid_webhook_url"),
        ("https://hooks.bank.example:70000/x", "invalid_webhook_url"),
        ("https://127.0.0.1/x", "webhook_url_not_public"),
        ("https://127.0.0.1./x", "webhook_url_not_public"),
        ("https://10.0.0.8/x", "webhook_url_not_public"),
        ("https://172.20.1.1/x", "webhook_url_not_public"),
        ("https://192.168.0.10/x", "webhook_url_not_public"),
        ("https://100.100.100.200/latest/meta-data", "webhook_url_not_public"),
        ("https://169.254.169.254/latest/meta-data/", "webhook_url_not_public"),
        ("https://0.0.0.0/x", "webhook_url_not_public"),
        ("https://224.0.0.251/x", "webhook_url_not_public"),
        ("https://240.0.0.1/x", "webhook_url_not_public"),
        ("https://198.18.0.1/x", "webhook_url_not_public"),
        ("https://203.0.113.9/x", "webhook_url_not_public"),
        ("https://2130706433/x", "webhook_url_not_public"),  # decimal 127.0.0.1
        ("https://0177.0.0.1/x", "webhook_url_not_public"),  # octal
        ("https://0x7f.1/x", "webhook_url_not_public"),  # hex, two parts
        ("https://0x7f000001/x", "webhook_url_not_public"),
        ("https://127.1/x", "webhook_url_not_public"),
        ("https://0/x", "webhook_url_not_public"),
        ("https://0x08.0x08.0x08.0x08/x", "invalid_webhook_url"),  # public, but spelt oddly
        ("https://1.2.3.4.5/x", "invalid_webhook_url"),
        ("https://[::1]/x", "webhook_url_not_public"),
        ("https://[::]/x", "webhook_url_not_public"),
        ("https://[::ffff:127.0.0.1]/x", "webhook_url_not_public"),
        ("https://[::ffff:7f00:1]/x", "webhook_url_not_public"),
        ("https://[::ffff:a9fe:a9fe]/x", "webhook_url_not_public"),
        ("https://[::127.0.0.1]/x", "webhook_url_not_public"),
        ("https://[64:ff9b::7f00:1]/x", "webhook_url_not_public"),
        ("https://[64:ff9b::c0a8:1]/x", "webhook_url_not_public"),
        ("https://[2002:7f00:1::1]/x", "webhook_url_not_public"),
        ("https://[fd00::1]/x", "webhook_url_not_public"),
        ("https://[fe80::1]/x", "webhook_url_not_public"),
        ("https://[fe80::1%25eth0]/x", "webhook_url_not_public"),
        ("https://[ff02::1]/x", "webhook_url_not_public"),
        ("https://internal.bank.example/x", "webhook_url_not_public"),  # resolves to loopback
        ("https://metadata.bank.example/x", "webhook_url_not_public"),
        ("https://mixed.bank.example/x", "webhook_url_not_public"),  # one answer private
        ("https://mapped.bank.example/x", "webhook_url_not_public"),
        ("https://nowhere.bank.example/x", "webhook_url_unresolvable"),
        ("https://hooks%2ebank.example/x", "invalid_webhook_url"),
    ],
)
def test_forbidden_destinations_are_refused(dns, url: str, code: str) -> None:
    dns["internal.bank.example"] = ["127.0.0.1"]
    dns["metadata.bank.example"] = ["169.254.169.254"]
    dns["mixed.bank.example"] = [PUBLIC_TEST_ADDRESS, "10.0.0.7"]
    dns["mapped.bank.example"] = ["::ffff:127.0.0.1"]

    with pytest.raises(DestinationRefused) as refused:
        check_destination(url)

    assert refused.value.code == code
    assert refused.value.message  # for the bank, in Chinese
    # The bank is not told what our resolver answered for its name.
    assert "127.0.0.1" not in refused.value.message or "127.0.0.1" in url


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.bank.example/finmatch/events",
        "https://hooks.bank.example:8443/x?token=a#frag",
        "https://HOOKS.Bank.Example/x",
        "https://8.8.8.8/x",
        "https://[2606:4700::1111]/x",
        "https://[::ffff:8.8.8.8]/x",
    ],
)
def test_public_https_destinations_are_taken(dns, url: str) -> None:
    destination = check_destination(url)

    assert address_class(destination.address) == PUBLIC


def test_the_first_checked_address_is_the_one_used(dns) -> None:
    dns["hooks.bank.example"] = ["2606:4700::1111", PUBLIC_TEST_ADDRESS]

    destination = check_destination("https://hooks.bank.example:8443/in?x=1")

    assert str(destination.pinned_url) == "https://[2606:4700::1111]:8443/in?x=1"
    assert destination.hostname == "hooks.bank.example"


def test_plain_http_and_private_addresses_only_by_their_settings(dns) -> None:
    dns["lan.bank.example"] = ["192.168.1.20"]
    with pytest.raises(DestinationRefused, match="https"):
        check_destination("http://hooks.bank.example/x", UrlPolicy(allow_private=True))
    assert check_destination("http://hooks.bank.example/x", UrlPolicy(allow_http=True))
    with pytest.raises(DestinationRefused) as refused:
        check_destination("https://lan.bank.example/x", UrlPolicy(allow_http=True))
    assert refused.value.code == "webhook_url_not_public"
    assert check_destination("https://lan.bank.example/x", UrlPolicy(allow_private=True))
    assert check_destination("http://127.0.0.1:8080/x", LOCAL_TRIAL)
    assert check_destination("http://[::1]:8080/x", LOCAL_TRIAL)
    # Trials open loopback and private networks, never link-local, multicast or reserved.
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0:8080/",
        "http://224.0.0.1/",
        "http://192.0.2.1/",
    ):
        with pytest.raises(DestinationRefused):
            check_destination(url, LOCAL_TRIAL)


def test_a_refused_destination_makes_no_connection(
    receiver: Receiver, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections: list[object] = []
    real_connect = socket.create_connection

    def counting_connect(*args, **kwargs):  # noqa: ANN002, ANN003
        connections.append(args[0])
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting_connect)

    strict = deliver(client, receiver.base_url + "/ok", policy=UrlPolicy())
    http_only = deliver(client, receiver.base_url + "/ok", policy=UrlPolicy(allow_http=True))

    assert strict.status_code is None and not strict.ok and not strict.gone
    assert strict.error is not None and strict.error.startswith("webhook_url_not_https: ")
    assert http_only.error is not None and http_only.error.startswith("webhook_url_not_public: ")
    assert connections == [] and receiver.received == []
    deliver(client, receiver.base_url + "/ok")  # the trial policy: the spy does see connections
    assert len(connections) == 1 and receiver.received == [("/ok", True)]


def test_dns_rebinding_after_registration_sends_nothing(
    dns, receiver: Receiver, client: httpx.Client
) -> None:
    port = receiver.server_address[1]
    url = f"http://hooks.bank.example:{port}/ok"
    policy = UrlPolicy(allow_http=True)  # private addresses stay refused
    assert check_destination(url, policy).address == ip_address(PUBLIC_TEST_ADDRESS)  # registration

    dns["hooks.bank.example"] = ["127.0.0.1"]  # the name now points inside
    attempt = deliver(client, url, policy=policy)

    assert attempt.status_code is None and not attempt.ok
    assert attempt.error is not None and attempt.error.startswith("webhook_url_not_public: ")
    assert receiver.received == []


def test_the_host_is_resolved_once_and_its_checked_address_used(
    dns, receiver: Receiver, client: httpx.Client
) -> None:
    port = receiver.server_address[1]
    dns["hooks.bank.example"] = ["127.0.0.1"]

    attempt = deliver(client, f"http://hooks.bank.example:{port}/ok")

    assert attempt.ok
    assert dns.asked == ["hooks.bank.example"]
    # The request went to the address checked, named by its host.
    assert receiver.hosts == [f"hooks.bank.example:{port}"]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_receiver(ca: trustme.CA, name: str) -> tuple[Receiver, list[str | None]]:
    """A Receiver over TLS with a certificate for `name`, recording the SNI it was asked."""
    server = Receiver()
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(context)
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, names


@pytest.fixture
def trusting(ca: trustme.CA) -> Iterator[httpx.Client]:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with httpx.Client(verify=context, trust_env=False) as http:
        yield http


def test_https_to_the_pinned_address_verifies_the_hosts_certificate(
    dns, ca: trustme.CA, trusting: httpx.Client
) -> None:
    server, names = _tls_receiver(ca, "hooks.bank.example")
    try:
        dns["hooks.bank.example"] = ["127.0.0.1"]
        url = f"https://hooks.bank.example:{server.server_address[1]}/ok"

        attempt = deliver(trusting, url, policy=UrlPolicy(allow_private=True))

        assert attempt.ok, attempt.error
        assert names == ["hooks.bank.example"]  # SNI names the host, not the address
        assert server.received == [("/ok", True)]
        assert server.hosts == [f"hooks.bank.example:{server.server_address[1]}"]
    finally:
        server.shutdown()
        server.server_close()


def test_https_refuses_a_certificate_for_another_name(
    dns, ca: trustme.CA, trusting: httpx.Client
) -> None:
    server, _ = _tls_receiver(ca, "other.example")
    try:
        dns["hooks.bank.example"] = ["127.0.0.1"]
        url = f"https://hooks.bank.example:{server.server_address[1]}/ok"

        attempt = deliver(trusting, url, policy=UrlPolicy(allow_private=True))

        assert attempt.status_code is None and not attempt.ok
        assert attempt.error is not None and "CERTIFICATE_VERIFY_FAILED" in attempt.error
        assert server.received == []
    finally:
        server.shutdown()
        server.server_close()


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

"""Outbound webhooks per the Standard Webhooks spec (https://www.standardwebhooks.com).

One message, one HTTP attempt: check where it goes, sign it, POST it, report what happened.
The outbox that stores messages, claims due rows and records attempts is ``leads.outbox``; this
module has no database.

A bank chooses the URL, so a webhook must not become a way into our own network: only https
(plain http by a setting, for trials on one machine), no credentials in the URL, no privileged
ports but 80 and 443, and a host that resolves to public addresses only. The URL is checked
when it is registered and again at every send, where the host is resolved once, every address
is checked, and the request goes to the checked address (the hostname kept in the Host header
and for TLS), so a DNS answer that changes in between (rebinding) cannot redirect it. Nothing
of a receiver's answer but its status is kept.

Receivers verify with any Standard Webhooks library, e.g. in Python::

    from standardwebhooks import Webhook
    Webhook("whsec_...").verify(body, headers)  # raises WebhookVerificationError
"""

from __future__ import annotations

import base64
import json
import random
import secrets as _secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from math import floor
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 bytes
USER_AGENT = "FinMatch-Webhooks/1"
# Bytes of a receiver's answer read (and dropped) so a small answer leaves the connection
# reusable; none of it is kept.
RESPONSE_READ_LIMIT = 4096

# Delay in seconds before attempt n+1, indexed by n = attempts made so far: the Standard
# Webhooks spec's example schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
# 14 h, 20 h, 24 h. Eleven attempts over 308 105 s, about 3.6 days (a receiver down over a long
# weekend still gets everything); after the last failure the delivery is dead.
RETRY_SCHEDULE_SECONDS: tuple[int, ...] = (
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
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS)
RETRY_JITTER = 0.2  # ±20 %, so endpoints that failed together do not get retried together

_jitter_rng = random.Random()


@dataclass(frozen=True)
class Attempt:
    status_code: int | None  # None when no HTTP response arrived (or nothing was sent)
    error: str | None  # None exactly when ok; "HTTP 503", "ConnectError: …", "<code>: <why>"
    duration_ms: int
    ok: bool  # 2xx
    gone: bool  # 410: the spec says the receiver wants no more, so disable the endpoint


# --- where a webhook may go ------------------------------------------------------------------

INVALID_URL = "invalid_webhook_url"
NOT_HTTPS = "webhook_url_not_https"
CREDENTIALS = "webhook_url_credentials"
PORT_NOT_ALLOWED = "webhook_url_port_not_allowed"
NOT_PUBLIC = "webhook_url_not_public"
UNRESOLVABLE = "webhook_url_unresolvable"

IPAddress = IPv4Address | IPv6Address

PUBLIC = "public"
LOCAL = "local"  # this machine or a private network: allowed only for trials
FORBIDDEN = "forbidden"  # link-local (cloud metadata), multicast, reserved, documentation …

_LOCAL_NETWORKS = tuple(
    ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # carrier-grade NAT
        "::1/128",
        "fc00::/7",  # unique local
    )
)
# Not global, though some Python versions' `is_global` still says so.
_NOT_GLOBAL = tuple(
    ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "fec0::/10",  # deprecated site-local
    )
)
_NAT64 = ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are IPv4
_PRIVILEGED_PORTS = 1024  # below it only 80 and 443: other low ports are mail, SSH, LDAP …


class DestinationRefused(Exception):
    """A webhook URL we do not send to: a stable `code` and a message for the bank."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UrlPolicy:
    """What a webhook URL may be beyond https to a public address: both only for trying the
    service on one machine or a private network, never in production."""

    allow_http: bool = False
    allow_private: bool = False

    @classmethod
    def from_settings(cls) -> UrlPolicy:
        from service.core.settings import get_settings

        settings = get_settings()
        return cls(settings.webhook_allow_http, settings.webhook_allow_private)


@dataclass(frozen=True)
class Destination:
    url: httpx.URL  # as registered
    address: IPAddress  # checked; the request goes there

    @property
    def hostname(self) -> str:
        """ASCII (IDNA) host name, for the Host header and TLS."""
        return self.url.raw_host.decode("ascii")

    @property
    def pinned_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.address))


def address_class(address: IPAddress) -> str:
    """PUBLIC, LOCAL (loopback, RFC 1918, CGNAT, unique local) or FORBIDDEN (anything else
    not global: link-local with the cloud metadata address, multicast, unspecified, reserved,
    documentation, benchmarking …). IPv6 forms that carry an IPv4 address (mapped, NAT64,
    6to4) are judged by that address."""
    if isinstance(address, IPv6Address):
        if address.scope_id:
            address = IPv6Address(str(address).split("%", 1)[0])
        embedded = (
            address.ipv4_mapped
            or address.sixtofour
            or (IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None)
        )
        if embedded is not None:
            return address_class(embedded)
    if any(address in network for network in _LOCAL_NETWORKS):
        return LOCAL
    if (
        not address.is_global
        or address.is_multicast
        or address.is_unspecified
        or address.is_link_local
        or address.is_reserved
        or (isinstance(address, IPv6Address) and address.is_site_local)
        or any(address in network for network in _NOT_GLOBAL)
    ):
        return FORBIDDEN
    return PUBLIC


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to, in the resolver's order (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, policy: UrlPolicy = UrlPolicy()) -> httpx.URL:
    """What can be told without DNS: scheme, credentials, port, and a host given as an
    address. Raises DestinationRefused."""
    url = url.strip()
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        _refuse_numeric_host(_split_hostname(url), policy)
        raise DestinationRefused(INVALID_URL, _invalid_message(policy)) from None
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parsed.scheme == "http" and not policy.allow_http:
        raise DestinationRefused(NOT_HTTPS, "回调地址须以 https:// 开头（加密传输）。")
    if parsed.scheme not in schemes or not parsed.raw_host:
        raise DestinationRefused(INVALID_URL, _invalid_message(policy))
    if parsed.userinfo:
        raise DestinationRefused(
            CREDENTIALS,
            "回调地址不能含用户名或密码；接收端请用消息签名（webhook-signature）核对来源。",
        )
    port = parsed.port
    if port is not None and not 1 <= port <= 65535:
        raise DestinationRefused(INVALID_URL, f"回调地址的端口 {port} 无效。")
    if port is not None and port < _PRIVILEGED_PORTS and port not in (80, 443):
        raise DestinationRefused(
            PORT_NOT_ALLOWED,
            f"回调地址不能使用端口 {port}：请用 443（https 的默认端口）或 1024 以上的端口。",
        )
    host = parsed.raw_host.decode("ascii")
    if ":" in host:  # IPv6 literal
        _check_address(_parse_address(host), host, policy)
        if "%" in host:
            raise DestinationRefused(INVALID_URL, "回调地址不能带 IPv6 区域标识（%…）。")
        return parsed
    if not all(ch.isalnum() or ch in "-._" for ch in host) or ".." in host:
        raise DestinationRefused(INVALID_URL, _invalid_message(policy))
    _refuse_numeric_host(host, policy)
    return parsed


def check_destination(url: str, policy: UrlPolicy = UrlPolicy()) -> Destination:
    """check_url, then the host resolved once: every address must be allowed, and the first
    is the one to connect to. Raises DestinationRefused."""
    parsed = check_url(url, policy)
    host = parsed.raw_host.decode("ascii")
    literal = _address_literal(host)
    if literal is not None:
        return Destination(parsed, literal)
    try:
        found = resolve_host(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        addresses = [_parse_address(a) for a in found]
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise DestinationRefused(
            UNRESOLVABLE, f"无法解析回调地址的域名 {parsed.host}，请确认域名已生效后再试。"
        )
    for address in addresses:
        _check_address(address, parsed.host, policy)
    return Destination(parsed, addresses[0])


def _check_address(address: IPAddress, host: str, policy: UrlPolicy) -> None:
    kind = address_class(address)
    if kind == PUBLIC or (kind == LOCAL and policy.allow_private):
        return
    # The address itself is not named: the bank need not learn our resolver's answers.
    raise DestinationRefused(
        NOT_PUBLIC,
        f"回调地址 {host} 指向内网、本机或保留地址，不能接收回调；请使用可从互联网访问的公网地址。",
    )


def _parse_address(text: str) -> IPAddress:
    return ip_address(text.split("%", 1)[0])


def _address_literal(host: str) -> IPAddress | None:
    try:
        return _parse_address(host)
    except ValueError:
        return None


def _refuse_numeric_host(host: str | None, policy: UrlPolicy) -> None:
    """A host whose last label is a number is an IPv4 address (as browsers read it); only the
    standard dotted-decimal spelling is taken. Others (2130706433, 0177.0.0.1, 0x7f.1) are
    refused, as not public when they spell such an address."""
    if not host:
        return
    last = host.removesuffix(".").rsplit(".", 1)[-1].lower()
    hexadecimal = last.startswith("0x") and all(ch in "0123456789abcdef" for ch in last[2:])
    if not (last.isdigit() or hexadecimal):
        return
    canonical = host.removesuffix(".")
    if _address_literal(canonical) is not None and "." in canonical:
        _check_address(_parse_address(canonical), host, policy)
        if canonical == host:
            return
    try:
        spelled = IPv4Address(socket.inet_aton(canonical))
    except (OSError, UnicodeError, ValueError):
        spelled = None
    if spelled is not None:
        _check_address(spelled, host, policy)
    raise DestinationRefused(
        INVALID_URL, "回调地址中的 IP 地址请用标准的点分十进制写法（四段 0–255 的数字）。"
    )


def _split_hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _invalid_message(policy: UrlPolicy) -> str:
    scheme = "http(s)://" if policy.allow_http else "https://"
    return f"回调地址须为 {scheme} 开头的完整网址。"


def new_secret() -> str:
    """A fresh endpoint secret, `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def sign_headers(
    secrets: str | Sequence[str], msg_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The request headers for one message.

    Several secrets (rotation: the new one and the one being retired) give one `v1,` signature
    each, space-separated; a receiver accepts the message if any of them matches its secret.
    The timestamp must be timezone-aware; the body must be UTF-8 (receivers' libraries decode it).
    """
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("at least one secret is needed")
    # The id is part of the signed "id.timestamp.body"; the spec forbids "." in it, and a
    # header value cannot hold whitespace or control characters.
    if not msg_id or "." in msg_id or any(ch.isspace() or not ch.isprintable() for ch in msg_id):
        raise ValueError("msg_id must be non-empty, without '.', spaces or control characters")
    # The library reads any datetime as UTC wall time, so hand it one that is.
    signed_at = _as_utc(timestamp)
    text = body.decode("utf-8")
    signatures = " ".join(Webhook(key).sign(msg_id, signed_at, text) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(floor(signed_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send(
    client: httpx.Client,
    url: str,
    secrets: str | Sequence[str],
    msg_id: str,
    timestamp: datetime,
    body: bytes,
    timeout: float = 10.0,
    policy: UrlPolicy = UrlPolicy(),
) -> Attempt:
    """Check the destination, POST one signed message there and describe the outcome; a
    refused destination or network trouble never raises.

    The host is resolved once and the request goes to the address checked (the client's
    connections are pooled by address, so give each receiver's host a client of its own).
    A refused destination is a failed attempt without a status: nothing is sent.
    `msg_id` stays the same across the retries of a message (receivers deduplicate on it);
    `timestamp` is the time of this attempt, not of the event (receivers reject old ones).
    Redirects are not followed: a 3xx counts as a failure, as the spec asks (and so a receiver
    cannot bounce our signed requests elsewhere). `timeout` bounds connecting and each read
    and write, and the whole reading of the answer, of which at most 4 KB is read and none
    kept: the attempt records the status, never the body (a receiver's answer is not ours to
    show, and must not become a way to read what answers inside our network).
    Bad arguments (empty or malformed secret, naive timestamp) still raise: they are bugs.
    """
    headers = sign_headers(secrets, msg_id, timestamp, body)
    # Ask for an uncompressed answer: we drop it anyway and do not want to inflate it.
    headers["accept-encoding"] = "identity"
    started = time.monotonic()
    deadline = started + timeout
    try:
        destination = check_destination(url, policy)
    except DestinationRefused as refused:
        return Attempt(
            status_code=None,
            error=f"{refused.code}: {refused.message}",
            duration_ms=_elapsed_ms(started),
            ok=False,
            gone=False,
        )
    headers["host"] = destination.url.netloc.decode("ascii")
    # TLS names and verifies the host, not the address the request goes to.
    extensions = {"sni_hostname": destination.hostname} if destination.url.scheme == "https" else {}
    try:
        with client.stream(
            "POST",
            destination.pinned_url,
            content=body,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            extensions=extensions,
        ) as response:
            status = response.status_code
            _drain(response, deadline)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Attempt(
            status_code=None,
            error=_describe(exc),
            duration_ms=_elapsed_ms(started),
            ok=False,
            gone=False,
        )
    ok = 200 <= status < 300
    return Attempt(
        status_code=status,
        error=None if ok else f"HTTP {status}",
        duration_ms=_elapsed_ms(started),
        ok=ok,
        gone=status == 410,
    )


def next_attempt_delay(attempt_number: int, rng: random.Random | None = None) -> float | None:
    """Seconds to wait before the next attempt once `attempt_number` attempts have failed.

    The scheduled delay times a random factor in [0.8, 1.2]; None when all attempts are spent
    and the delivery is dead.
    """
    if attempt_number < 0:
        raise ValueError("attempt_number must not be negative")
    if attempt_number >= MAX_ATTEMPTS:
        return None
    factor = (rng or _jitter_rng).uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    return RETRY_SCHEDULE_SECONDS[attempt_number] * factor


def thin_payload(event_type: str, event_id: int, occurred_at: datetime, data: dict) -> bytes:
    """The message body: `{"data": {..., "event_id": n}, "timestamp": ..., "type": ...}`.

    Thin on purpose: `data` carries ids only and receivers fetch the details through the API,
    which checks their access at read time. Compact, sorted keys, UTF-8, RFC 3339 UTC timestamp.
    `event_id` goes into `data` so a receiver can fetch the event; the message id (and so the
    receiver's deduplication key) is the `webhook-id` header, not this.
    """
    if "event_id" in data and data["event_id"] != event_id:
        raise ValueError("data carries a different event_id")
    payload: dict[str, Any] = {
        "type": event_type,
        "timestamp": _rfc3339(occurred_at),
        "data": {**data, "event_id": event_id},
    }
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    return moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return _as_utc(moment).isoformat().replace("+00:00", "Z")


def _drain(response: httpx.Response, deadline: float) -> None:
    """Read and drop up to RESPONSE_READ_LIMIT bytes of the answer, stopping at the deadline,
    so that a short answer leaves the connection reusable.

    The status has already arrived, so trouble while reading the body does not change the
    outcome: a receiver that said 200 got the message.
    """
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return  # compressed despite our asking: not worth inflating
    received = 0
    try:
        for chunk in response.iter_raw():
            received += len(chunk)
            if received >= RESPONSE_READ_LIMIT or time.monotonic() >= deadline:
                break
    except httpx.HTTPError:
        pass


NOT_HTTP = "接收端未给出有效的 HTTP 回答"


def _describe(exc: Exception) -> str:
    """The failure for the log: the class, and the words of the OS or TLS where they are
    ours; never what the receiver sent (a protocol error quotes the bytes it choked on)."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ProtocolError):
        return f"{name}: {NOT_HTTP}"
    if isinstance(exc, httpx.TransportError) and str(exc):
        return f"{name}: {exc}"
    return name


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)

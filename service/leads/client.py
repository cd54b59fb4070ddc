"""Outbound webhooks per the Standard Webhooks spec (https://www.standardwebhooks.com).

One message, one HTTP attempt: sign it, POST it, report what happened. The outbox that stores
messages, claims due rows and records attempts lives elsewhere; this module has no database.

Receivers verify with any Standard Webhooks library, e.g. in Python::

    from standardwebhooks import Webhook
    Webhook("whsec_...").verify(body, headers)  # raises WebhookVerificationError
"""

from __future__ import annotations

import base64
import json
import random
import secrets as _secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from math import floor
from typing import Any

import httpx
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 bytes
USER_AGENT = "FinMatch-Webhooks/1"
RESPONSE_READ_LIMIT = 4096  # bytes of a receiver's answer we bother to read
ERROR_EXCERPT_CHARS = 200  # of those, how much goes into Attempt.error

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
    status_code: int | None  # None when no HTTP response arrived
    error: str | None  # None exactly when ok
    duration_ms: int
    ok: bool  # 2xx
    gone: bool  # 410: the spec says the receiver wants no more, so disable the endpoint


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
) -> Attempt:
    """POST one signed message and describe the outcome; network trouble never raises.

    `msg_id` stays the same across the retries of a message (receivers deduplicate on it);
    `timestamp` is the time of this attempt, not of the event (receivers reject old ones).
    Redirects are not followed: a 3xx counts as a failure, as the spec asks (and so a receiver
    cannot bounce our signed requests elsewhere). `timeout` bounds connecting and each read
    and write, and the whole reading of the answer, of which at most 4 KB is read.
    Bad arguments (empty or malformed secret, naive timestamp) still raise: they are bugs.
    """
    headers = sign_headers(secrets, msg_id, timestamp, body)
    # Ask for an uncompressed answer: we only read a few KB and do not want to inflate more.
    headers["accept-encoding"] = "identity"
    started = time.monotonic()
    deadline = started + timeout
    try:
        with client.stream(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
        ) as response:
            status = response.status_code
            excerpt = _read_excerpt(response, deadline)
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
        error=None if ok else _http_error(status, excerpt),
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


def _read_excerpt(response: httpx.Response, deadline: float) -> bytes:
    """Up to RESPONSE_READ_LIMIT raw bytes of the answer, stopping at the deadline.

    The status has already arrived, so trouble while reading the body does not change the
    outcome: a receiver that said 200 got the message.
    """
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return b""  # compressed despite our asking: not worth inflating for an excerpt
    received = bytearray()
    try:
        for chunk in response.iter_raw():
            received += chunk
            if len(received) >= RESPONSE_READ_LIMIT or time.monotonic() >= deadline:
                break
    except httpx.HTTPError:
        pass
    return bytes(received[:RESPONSE_READ_LIMIT])


def _http_error(status: int, excerpt: bytes) -> str:
    text = excerpt.decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())[:ERROR_EXCERPT_CHARS]
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def _describe(exc: Exception) -> str:
    detail = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {detail}"


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)

"""Idempotency-Key for POSTs: a retry with the same key and body gets the first answer again
(header ``Idempotent-Replayed: true``); the same key with another body is refused; while the
first is still running, a second gets 409. Keys are per API key, and kept for a day. A
failure on our side (a 5xx, expected or not) is not kept: a retry with the key runs again.

A secret shown once (an API key, a webhook's signing secret) is never written to the stored
answer: its field is stored as null, so a replay names what was made but not the secret."""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Column, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from service.core.errors import AppError, Conflict, Unprocessable
from service.core.models import BigId, JSONType, UTCDateTime, utcnow

ABANDONED_AFTER = timedelta(minutes=2)  # a first request that never finished (process died)
KEPT_FOR = timedelta(days=1)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    owner: str = Field(max_length=64)  # the caller's API key
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None  # None while the first request runs
    response: Any | None = Field(default=None, sa_column=Column(JSONType))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def file_digest(content: bytes) -> str:
    """What an upload's fingerprint holds of its file: the SHA-256 of its bytes."""
    return hashlib.sha256(content).hexdigest()


def _check_key(key: str) -> None:
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise Unprocessable(
            "Idempotency-Key 须为 1–255 个可打印字符。", code="invalid_idempotency_key"
        )


def run_once(
    session: Session,
    owner: str,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    call: Callable[[], tuple[int, Any, dict[str, str]]],
    withhold: tuple[str, ...] = (),
) -> Response:
    """Answer the request by ``call()`` (which returns status, JSON-able body and headers and
    commits its own work), or by the stored answer to the same key. ``withhold`` names the
    answer's secret fields: stored as null, so a replay carries them as null."""
    if key is None:
        status, content, headers = call()
        return _response(status, jsonable_encoder(content), headers)
    _check_key(key)
    fingerprint = _fingerprint(method, path, body)
    now = utcnow()
    session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.owner) == owner,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.created_at) < now - KEPT_FOR,
        )
    )
    record = IdempotencyRecord(owner=owner, key=key, request_hash=fingerprint)
    session.add(record)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return _replay(session, owner, key, fingerprint, call, withhold)
    return _first(session, record, call, withhold)


def _replay(
    session: Session,
    owner: str,
    key: str,
    fingerprint: str,
    call: Callable[[], tuple[int, Any, dict[str, str]]],
    withhold: tuple[str, ...],
) -> Response:
    stored = session.scalars(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.owner) == owner, col(IdempotencyRecord.key) == key
        )
    ).one()
    if stored.request_hash != fingerprint:
        raise Unprocessable(
            "这个 Idempotency-Key 已用于另一个请求；请为新请求换一个键。",
            code="idempotency_key_reused",
        )
    if stored.status_code is None:
        if utcnow() - stored.created_at < ABANDONED_AFTER:
            raise Conflict(
                "使用同一 Idempotency-Key 的请求仍在处理中，请稍后重试。",
                code="idempotency_in_progress",
            )
        stored.created_at = utcnow()  # the first one died: this one takes over
        session.commit()
        return _first(session, stored, call, withhold)
    if stored.status_code >= 400:
        problem = dict(stored.response or {})
        problem.pop("status", None)
        detail, code = problem.pop("detail", ""), problem.pop("code", None)
        raise AppError(detail, code=code, status=stored.status_code, replayed=True, **problem)
    return _response(stored.status_code, stored.response, {"Idempotent-Replayed": "true"})


def _first(
    session: Session,
    record: IdempotencyRecord,
    call: Callable[[], tuple[int, Any, dict[str, str]]],
    withhold: tuple[str, ...],
) -> Response:
    try:
        status, content, headers = call()
    except AppError as exc:
        session.rollback()
        if exc.status < 500:  # an expected refusal is an answer too: a retry gets the same one
            problem = {"status": exc.status, "code": exc.code, "detail": exc.detail, **exc.extra}
            _store(session, record, exc.status, problem)
            raise
        _forget(session, record)  # a service unavailable for now: a retry tries again
        raise
    except Exception:
        session.rollback()
        _forget(session, record)
        raise
    content = jsonable_encoder(content)
    kept = {**content, **dict.fromkeys(withhold)} if withhold else content
    _store(session, record, status, kept)
    return _response(status, content, headers)


def _forget(session: Session, record: IdempotencyRecord) -> None:
    session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record.id))
    session.commit()


def _response(status: int, content: Any, headers: dict[str, str]) -> Response:
    """The answer; ``None`` is an answer without a body (a 202 or 204)."""
    if content is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(content, status_code=status, headers=headers)


def _store(session: Session, record: IdempotencyRecord, status: int, content: Any) -> None:
    session.execute(
        IdempotencyRecord.__table__.update()  # type: ignore[attr-defined]
        .where(IdempotencyRecord.__table__.c.id == record.id)  # type: ignore[attr-defined]
        .values(status_code=status, response=content)
    )
    session.commit()

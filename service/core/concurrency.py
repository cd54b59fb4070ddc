"""Optimistic concurrency with ETag / If-Match on versioned rows."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session

from service.core.errors import AppError
from service.core.models import utcnow


class PreconditionFailed(AppError):
    status = 412
    code = "version_mismatch"
    title = "Precondition failed"


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header expects; None when absent or '*'."""
    if header is None or header.strip() == "*":
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    try:
        return int(value)
    except ValueError as exc:
        raise PreconditionFailed(
            f'If-Match 应为此前响应的 ETag（如 "3"），收到 {header!r}。', code="invalid_if_match"
        ) from exc


def check_version(expected: int | None, actual: int, what: str) -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailed(
            f"{what}已被修改（当前版本 {actual}，请求基于版本 {expected}）；请重新读取后再提交。",
            current_version=actual,
        )


def bump_version(session: Session, model: Any, row: Any, what: str) -> None:
    """Conditional update of the version: a concurrent writer makes this one fail, never
    silently overwrite."""
    old = row.version
    session.flush()
    result = session.execute(
        update(model)
        .where(model.id == row.id, model.version == old)
        .values(version=old + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)  # an UPDATE's result
    if result.rowcount != 1:
        session.rollback()
        raise PreconditionFailed(
            f"{what}刚被其他请求修改，请重新读取后再提交。", code="concurrent_update"
        )
    session.expire(row, ["version", "updated_at"])

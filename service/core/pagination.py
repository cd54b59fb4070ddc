"""Cursor pagination: opaque cursors that carry the last row's sort key, and a capped limit."""

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from service.core.errors import Unprocessable
from service.core.settings import get_settings
from service.core.types import Digits

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )
    limit: int


class PageParams(BaseModel):
    limit: int
    cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable(
            "分页游标无效，请使用上一页返回的 next_cursor。", code="invalid_cursor"
        ) from exc
    if not isinstance(key, list) or len(key) != arity:
        raise Unprocessable("分页游标无效，请使用上一页返回的 next_cursor。", code="invalid_cursor")
    return key


# async: it does no I/O, and a sync dependency costs a hop to the thread pool per request.
async def page_params(
    limit: Annotated[
        int | None,
        Query(ge=1, description="Page size (capped; see maximum).", examples=[50]),
        Digits,
    ] = None,
    cursor: Annotated[str | None, Query(description="Opaque cursor from `next_cursor`.")] = None,
) -> PageParams:
    settings = get_settings()
    if limit is None:
        limit = settings.page_limit_default
    if limit > settings.page_limit_max:
        raise Unprocessable(
            f"limit 最大为 {settings.page_limit_max}，收到 {limit}。",
            code="limit_too_large",
            maximum=settings.page_limit_max,
        )
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def cursor_key(params: PageParams, arity: int, types: tuple[type, ...] = ()) -> list[Any] | None:
    """The cursor's sort key, or None on the first page. With ``types``, each element must be
    of its type (ints may stand for floats): a forged cursor is a 422, never a 500."""
    if not params.cursor:
        return None
    key = decode_cursor(params.cursor, arity)
    for i, kind in enumerate(types):
        value = key[i]
        if isinstance(value, bool) or not (
            isinstance(value, kind) or (kind is float and isinstance(value, int))
        ):
            raise Unprocessable(
                "分页游标无效，请使用上一页返回的 next_cursor。", code="invalid_cursor"
            )
    return key


def make_page(rows: list[Any], limit: int, key_of: Any, items: list[Any] | None = None) -> Page:
    """``rows`` holds up to limit+1 results; the extra one only says that a next page exists."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    out = items[:limit] if items is not None else rows
    next_cursor = encode_cursor(key_of(rows[-1])) if has_more and rows else None
    return Page(items=out, next_cursor=next_cursor, limit=limit)

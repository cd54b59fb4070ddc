"""Optimistic concurrency with ETag / If-Match on versioned rows."""

from service.core.errors import AppError


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

"""RFC 9457 problem details: every error leaves the API as application/problem+json with a
stable machine-readable ``code`` and a message a person understands."""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://finmatch.example/problems/"


class AppError(Exception):
    """An expected failure of a use case; carries its HTTP status and stable code."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self, detail: str, *, code: str | None = None, status: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(AppError):
    status = 422
    code = "validation_error"
    title = "Invalid request"


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_TYPE_BASE + "unknown_cluster",
                    "title": "Invalid request",
                    "status": 422,
                    "code": "unknown_cluster",
                    "detail": "未知的产业集群代码 'iott'。",
                    "instance": "/api/v1/enterprises",
                    "suggestions": [{"value": "iot", "label": "物联网", "score": 85.7}],
                }
            ]
        },
    )

    type: str = Field(description="URI identifying the problem type")
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code")
    detail: str = Field(description="Human-readable explanation")
    instance: str | None = None


def problem_body(
    instance: str, status: int, code: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": instance,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    request: Request, status: int, code: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    body = problem_body(request.url.path, status, code, title, detail, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def status_title(status: int) -> str:
    """The RFC 9110 name of a status (Python before 3.13 still says "Request Entity Too
    Large" for 413)."""
    if status == 413:
        return "Content Too Large"
    if status == 422:
        return "Invalid request"
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        title = exc.title
        if exc.status != type(exc).status:  # e.g. a 422 kind of error raised as a 413
            title = status_title(exc.status)
        return problem_response(request, exc.status, exc.code, title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": _loc(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": "", "message": "invalid"}
        detail = f"请求参数不合法: {first['loc']}: {first['message']}"
        if len(errors) > 1:
            detail += f" (另有 {len(errors) - 1} 处错误)"
        return problem_response(
            request, 422, "validation_error", "Invalid request", detail, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        phrase = status_title(status)
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        code = _HTTP_CODES.get(status, "http_error")
        if status == 404 and detail == "Not Found":
            detail = f"没有这个地址: {request.url.path}"
        if status == 400 and detail == "There was an error parsing the body":
            code, detail = (
                "malformed_body",
                "无法解析请求体：请检查其格式与 Content-Type 是否相符。",
            )
        extra: dict[str, Any] = {}
        headers = dict(exc.headers or {})
        if status == 405:
            from service.core.edge import route_table

            allowed = route_table(request.app).allowed(request.url.path)
            if allowed:  # every method of the path, not only one route's
                headers["Allow"] = ", ".join(allowed)
                extra["allowed"] = allowed
                detail = f"{request.url.path} 不支持 {request.method}；可用的方法：" + "、".join(
                    allowed
                )
        response = problem_response(request, status, code, phrase, detail, **extra)
        response.headers.update(headers)
        return response

    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            request,
            500,
            "internal_error",
            "Internal Server Error",
            "服务内部错误，请稍后再试；如持续出现请联系管理员。",
        )

    async def _data_error(request: Request, exc: Exception) -> JSONResponse:
        if _nul_character(exc):
            # The edge refuses a NUL in every request; one that got past it (from a stored
            # file, say) is still the client's text, not a fault of ours.
            return problem_response(
                request,
                422,
                "nul_character",
                "Invalid request",
                "请求中含有空字符（U+0000），这不是合法的文字；请删去后重试。",
            )
        if not _out_of_range(exc):
            raise exc  # a real fault: the 500 handler answers and it is logged
        # An id or number that no column can hold (e.g. /enterprises/99999999999999999999):
        # nothing with that value exists, and the client should hear why.
        return problem_response(
            request, 422, "value_out_of_range", "Invalid request", "请求中的数值超出允许范围。"
        )

    from sqlalchemy.exc import DataError, StatementError

    app.add_exception_handler(Exception, _unexpected)
    for kind in (DataError, StatementError, OverflowError):
        app.add_exception_handler(kind, _data_error)


def _nul_character(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and "NUL (0x00)" in str(exc.orig)


def _out_of_range(exc: BaseException) -> bool:
    from sqlalchemy.exc import DataError, StatementError

    if isinstance(exc, DataError):
        return "out of range" in str(exc.orig).lower()
    if isinstance(exc, StatementError):  # SQLite's driver refuses ints beyond 64 bits
        return isinstance(exc.orig, OverflowError)
    return isinstance(exc, OverflowError)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out

"""Errors of the access rules: a caller not (validly) authenticated (401), an endpoint its role
may not use (403), and an object it may not see, answered as a missing one would be (404)."""

from service.core.errors import AppError


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    title = "Unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Hidden(AppError):
    """An object the caller may not see answers as a missing one would."""

    status = 404
    title = "Not Found"

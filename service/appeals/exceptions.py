"""Errors of requests (诉求) and ratings: a step the state machine does not allow (409), an
actor who may not take it (403), data a step lacks or gets wrong (422), a request, rating,
department or category that does not exist or is hidden (404), a second rating (409),
files that are not what they say or too large (415, 413, 422), and an attachment store that
cannot be reached (503: nothing was stored, try again later)."""

from service.core.errors import AppError, Conflict, NotFound, Unprocessable


class AppealNotFound(NotFound):
    code = "request_not_found"


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"


class DepartmentNotFound(NotFound):
    code = "department_not_found"


class CategoryNotFound(NotFound):
    code = "category_not_found"


class ActionNotAllowed(Conflict):
    code = "transition_not_allowed"


class WrongActor(AppError):
    status = 403
    code = "actor_not_allowed"
    title = "Forbidden"


class StepInvalid(Unprocessable):
    code = "invalid_step"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field


class InvalidAppeal(Unprocessable):
    code = "invalid_request"


class DepartmentExists(Conflict):
    code = "department_exists"


class AlreadyRated(Conflict):
    code = "already_rated"


class NotRatable(Conflict):
    code = "not_ratable"


class AttachmentRefused(AppError):
    """A file that is not a PDF or an image (415), too large (413), or one too many (409)."""

    status = 415
    code = "unsupported_attachment"
    title = "Unsupported Media Type"


class AttachmentLost(AppError):
    """A file's row is there and its bytes are not in the store: a fault of ours, said
    plainly (and logged) rather than as an anonymous server error."""

    status = 500
    code = "attachment_lost"
    title = "Internal Server Error"


class AttachmentStoreUnavailable(AppError):
    """The attachment store could not be reached or refused us; nothing was stored."""

    status = 503
    code = "attachment_store_unavailable"
    title = "Service Unavailable"

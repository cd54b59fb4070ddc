"""Errors of leads, and of a requested change of a lead's status: a move the state machine
does not allow (409), an actor who may not make it (403), data the change lacks or gets wrong
(422). The state machine (``states.py``) words the refusals in its labels; these classes carry
the status, code and fields of the answer."""

from collections.abc import Iterable

from service.core.errors import AppError, Conflict, NotFound, Unprocessable


class LeadNotFound(NotFound):
    code = "lead_not_found"


class LeadExists(Conflict):
    code = "lead_exists"


class NotEligible(Unprocessable):
    code = "not_eligible"


class ContactRequestNotFound(NotFound):
    code = "contact_request_not_found"


class ContactRequestExists(Conflict):
    code = "contact_request_exists"


class ContactRequestClosed(Conflict):
    code = "contact_request_closed"


class InvalidLeadRequest(Unprocessable):
    code = "invalid_lead_request"


class TransitionNotAllowed(Conflict):
    """``allowed`` are the statuses the lead may move to, in status order."""

    code = "transition_not_allowed"

    def __init__(self, message: str, current: str, to: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        super().__init__(
            message, current=str(current), to=str(to), allowed=[str(s) for s in allowed]
        )
        self.current = current
        self.to = to
        self.allowed = frozenset(allowed)


class ActorNotAllowed(AppError):
    status = 403
    code = "actor_not_allowed"
    title = "Forbidden"

    def __init__(self, message: str, actor: str, to: str, allowed: frozenset[str]) -> None:
        super().__init__(message, actor=actor, to=str(to))
        self.actor = actor
        self.to = to
        self.allowed = allowed


class OutcomeInvalid(Unprocessable):
    code = "invalid_outcome"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field

"""Errors of leads."""

from service.core.errors import Conflict, NotFound, Unprocessable


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

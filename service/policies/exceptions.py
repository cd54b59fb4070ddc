"""Errors of support policies: a policy, version or award that does not exist (404), a code
already taken or an award already recorded (409), parameters or a step that do not hold (422),
and a step the award's status does not allow (409)."""

from service.core.errors import Conflict, NotFound, Unprocessable


class PolicyNotFound(NotFound):
    code = "policy_not_found"


class GrantNotFound(NotFound):
    code = "grant_not_found"


class PolicyExists(Conflict):
    code = "policy_exists"


class GrantExists(Conflict):
    code = "grant_exists"


class GrantStepNotAllowed(Conflict):
    code = "transition_not_allowed"


class InvalidPolicy(Unprocessable):
    code = "invalid_policy"


class InvalidGrant(Unprocessable):
    code = "invalid_grant"

"""Errors of the enterprise and project libraries."""

from service.core.errors import Conflict, NotFound, Unprocessable


class EnterpriseNotFound(NotFound):
    code = "enterprise_not_found"


class ProjectNotFound(NotFound):
    code = "project_not_found"


class DuplicateCreditCode(Conflict):
    code = "duplicate_credit_code"


class InvalidEnterprise(Unprocessable):
    pass

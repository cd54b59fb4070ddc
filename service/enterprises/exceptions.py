"""Errors of the enterprise and project libraries and of their bulk imports."""

from service.core.errors import Conflict, NotFound, Unprocessable


class EnterpriseNotFound(NotFound):
    code = "enterprise_not_found"


class ProjectNotFound(NotFound):
    code = "project_not_found"


class DuplicateCreditCode(Conflict):
    code = "duplicate_credit_code"


class InvalidEnterprise(Unprocessable):
    pass


class ImportNotFound(NotFound):
    code = "library_import_not_found"


class InvalidImport(Unprocessable):
    code = "invalid_library_import"


class ImportConflict(Conflict):
    code = "import_conflict"

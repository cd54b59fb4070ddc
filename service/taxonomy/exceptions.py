"""Errors of the reference data."""

from service.core.errors import NotFound


class OwnershipTypeNotFound(NotFound):
    code = "ownership_type_not_found"

"""Errors of government lists (imports, their entries and the review queue) and of the
library releases."""

from service.core.errors import Conflict, NotFound, Unprocessable


class ImportNotFound(NotFound):
    code = "list_import_not_found"


class EntryNotFound(NotFound):
    code = "list_entry_not_found"


class InvalidListImport(Unprocessable):
    code = "invalid_list_import"


class EntryDecided(Conflict):
    code = "entry_already_decided"


class ReleaseNotFound(NotFound):
    code = "release_not_found"

"""Government lists, their imports and the library's releases are audited."""

from service.access import audit
from service.lists.models import LibraryRelease, ListEntry, ListImport


def connect() -> None:
    audit.audit(ListImport, "list_import")
    audit.audit(ListEntry, "list_entry")
    audit.audit(LibraryRelease, "library_release")

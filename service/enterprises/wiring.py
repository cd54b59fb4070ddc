"""The enterprise library's changes are audited."""

from service.access import audit
from service.enterprises.models import Contact, Enterprise, LibraryImport, Project, Qualification


def connect() -> None:
    audit.audit(Enterprise, "enterprise")
    audit.audit(Qualification, "qualification")
    audit.audit(Contact, "contact")
    audit.audit(Project, "project")
    audit.audit(LibraryImport, "library_import")

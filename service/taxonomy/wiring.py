"""The reference data the office keeps is audited."""

from service.access import audit
from service.taxonomy.models import OwnershipType


def connect() -> None:
    audit.audit(OwnershipType, "ownership_type")

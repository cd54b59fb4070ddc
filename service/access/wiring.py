"""The audit hook and what it watches."""

from service.access import audit
from service.access.models import ApiKey
from service.enterprises.models import (
    Contact,
    Enterprise,
    LibraryImport,
    Project,
    Qualification,
)
from service.leads.models import ContactRequest, Lead, WebhookEndpoint
from service.lists.models import LibraryRelease, ListEntry, ListImport
from service.loans.models import BridgeApplication, Loan, RenewalCase
from service.matching.models import FinancingNeed, ScoringConfigRow
from service.products.models import Bank, Product, ProductVersion
from service.taxonomy.models import OwnershipType


def connect() -> None:
    for model, name in (
        (Enterprise, "enterprise"),
        (Qualification, "qualification"),
        (Contact, "contact"),
        (Project, "project"),
        (FinancingNeed, "need"),
        (Bank, "bank"),
        (Product, "product"),
        (ProductVersion, "product_version"),
        (ScoringConfigRow, "scoring_config"),
        (ApiKey, "api_key"),
        (Lead, "lead"),
        (ContactRequest, "contact_request"),
        (WebhookEndpoint, "webhook_endpoint"),
        (Loan, "loan"),
        (RenewalCase, "renewal_case"),
        (BridgeApplication, "bridge_application"),
        (ListImport, "list_import"),
        (LibraryImport, "library_import"),
        (ListEntry, "list_entry"),
        (LibraryRelease, "library_release"),
        (OwnershipType, "ownership_type"),
    ):
        audit.audit(model, name)
    audit.install()

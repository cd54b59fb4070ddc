"""Every table, imported in one place for Alembic and the tests."""

from service.access.models import ApiKey, AuditEntry, WebSession
from service.appeals.models import (
    Appeal,
    AppealAttachment,
    AppealCategory,
    AppealEvent,
    Department,
    ServiceRating,
)
from service.core import models as core_models  # noqa: F401  (naming convention first)
from service.core.idempotency import IdempotencyRecord
from service.enterprises.models import (
    Contact,
    Enterprise,
    LibraryImport,
    LibraryImportRow,
    Project,
    Qualification,
)
from service.jobs.models import Job
from service.leads.models import (
    BankEvent,
    BankFeed,
    ContactRequest,
    Lead,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from service.lists.models import LibraryRelease, ListEntry, ListImport, ReleaseItem
from service.loans.models import BridgeApplication, Loan, LoanReminder, ReminderRun, RenewalCase
from service.matching.models import EnterpriseMatch, FinancingNeed, NeedMatch, ScoringConfigRow
from service.policies.models import (
    Entitlement,
    Policy,
    PolicyGrant,
    PolicyNotice,
    PolicyVersion,
)
from service.products.models import Bank, Product, ProductVersion
from service.taxonomy.models import (
    Cluster,
    District,
    LprRate,
    OwnershipType,
    QualificationType,
    SizeIndustry,
    SizeThreshold,
)

__all__ = [
    "Entitlement",
    "Policy",
    "PolicyGrant",
    "PolicyNotice",
    "PolicyVersion",
    "Appeal",
    "AppealAttachment",
    "AppealCategory",
    "AppealEvent",
    "Department",
    "ServiceRating",
    "LibraryImport",
    "LibraryImportRow",
    "LibraryRelease",
    "ListEntry",
    "ListImport",
    "ReleaseItem",
    "BridgeApplication",
    "Loan",
    "LoanReminder",
    "RenewalCase",
    "ReminderRun",
    "BankEvent",
    "BankFeed",
    "ContactRequest",
    "IdempotencyRecord",
    "Lead",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "ApiKey",
    "AuditEntry",
    "WebSession",
    "Bank",
    "Cluster",
    "Contact",
    "EnterpriseMatch",
    "FinancingNeed",
    "Job",
    "NeedMatch",
    "ScoringConfigRow",
    "District",
    "Enterprise",
    "LprRate",
    "OwnershipType",
    "Product",
    "ProductVersion",
    "Project",
    "Qualification",
    "QualificationType",
    "SizeIndustry",
    "SizeThreshold",
]

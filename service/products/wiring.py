"""The catalogue's changes are audited."""

from service.access import audit
from service.products.models import Bank, Product, ProductVersion


def connect() -> None:
    audit.audit(Bank, "bank")
    audit.audit(Product, "product")
    audit.audit(ProductVersion, "product_version")

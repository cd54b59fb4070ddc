"""Matching listens to the library and the catalogue: a change rematches what it affects."""

from service.core.events import subscribe
from service.matching import service


def connect() -> None:
    subscribe("enterprise.changed", service.on_enterprise_changed)
    subscribe("product.changed", service.on_product_changed)

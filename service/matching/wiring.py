"""Matching listens to the library and the catalogue: a change rematches what it affects,
partly in the change's transaction and partly as jobs run after its commit."""

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register
from service.matching import bulk, service
from service.matching.models import FinancingNeed, ScoringConfigRow


def connect() -> None:
    audit.audit(FinancingNeed, "need")
    audit.audit(ScoringConfigRow, "scoring_config")
    subscribe("enterprise.changed", service.on_enterprise_changed)
    subscribe("enterprises.changed", bulk.on_enterprises_changed)
    subscribe("product.changed", service.on_product_changed)
    register(
        service.ENTERPRISE_CHANGED, service.run_enterprise_rematch, batch=service.ENTERPRISE_BATCH
    )
    register(service.PRODUCT_CHANGED, service.run_product_rematch)
    register(service.CONFIG_CHANGED, service.run_full_rematch)
    register(bulk.LIBRARY_CHANGED, service.run_full_rematch)

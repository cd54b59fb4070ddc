"""Matching listens to the library and the catalogue: a change rematches what it affects,
partly in the change's transaction and partly as jobs run after its commit."""

from service.access import audit
from service.core.events import subscribe
from service.jobs.service import register
from service.matching import bulk, rematch
from service.matching.models import FinancingNeed, ScoringConfigRow


def connect() -> None:
    audit.audit(FinancingNeed, "need")
    audit.audit(ScoringConfigRow, "scoring_config")
    subscribe("enterprise.changed", rematch.on_enterprise_changed)
    subscribe("enterprises.changed", bulk.on_enterprises_changed)
    subscribe("product.changed", rematch.on_product_changed)
    register(
        rematch.ENTERPRISE_CHANGED, rematch.run_enterprise_rematch, batch=rematch.ENTERPRISE_BATCH
    )
    register(rematch.PRODUCT_CHANGED, rematch.run_product_rematch, batch=rematch.PRODUCT_BATCH)
    register(rematch.CONFIG_CHANGED, rematch.run_full_rematch)
    register(bulk.LIBRARY_CHANGED, rematch.run_full_rematch)

"""When stored matches are recomputed: matching listens to the library and the catalogue. A
change of an enterprise rematches its open needs in the change's transaction and queues its
stored profile matches as a job; a change of a product, or a new configuration, queues a job
for everything it affects. The jobs' runners are here; how the stored matches are recomputed is
``upkeep``, a bulk change of the library is ``bulk``."""

from sqlmodel import Session

from service.core.database import serialize
from service.jobs.service import enqueue
from service.matching import upkeep
from service.matching.service import rematch_open_needs

ENTERPRISE_CHANGED = "matching.enterprise_changed"
PRODUCT_CHANGED = "matching.product_changed"
CONFIG_CHANGED = "matching.config_changed"
ENTERPRISE_BATCH = 2_000
PRODUCT_BATCH = 1_000
# A product's rematch reads and scores the whole library: at 1,000,000 enterprises it took
# about half as long as a full rematch (docs/SCALE.md), so two changed products queued together
# cost about one full rematch, and more cost more.
FULL_REMATCH_FROM_PRODUCTS = 3


def on_enterprise_changed(session: Session, enterprise_id: int) -> None:
    """In the change's transaction: its open needs (cheap, and what banks' leads follow);
    after commit, as a job: its profile matches (reads other enterprises' lists)."""
    rematch_open_needs(session, enterprise_id)
    enqueue(session, ENTERPRISE_CHANGED, {"enterprise_id": enterprise_id}, key=str(enterprise_id))


def on_product_changed(session: Session, product_id: int) -> None:
    """After commit, as a job: the product against the whole library, and every open need."""
    enqueue(session, PRODUCT_CHANGED, {"product_id": product_id}, key=str(product_id))


def run_enterprise_rematch(session: Session, payloads: list[dict]) -> dict:
    """Job: the stored profile matches of a batch of changed enterprises."""
    serialize(session, upkeep.STORED_MATCHES_LOCK)
    ids = sorted({int(p["enterprise_id"]) for p in payloads})
    return {"enterprises": len(ids), **upkeep.rematch_enterprises(session, ids)}


def run_product_rematch(session: Session, payloads: list[dict]) -> dict:
    """Job: the stored matches that a batch of product changes affects, and the open needs'
    matches. Each product's rematch reads and scores the whole library, so from
    ``FULL_REMATCH_FROM_PRODUCTS`` changed products on, one full rematch does it for less."""
    serialize(session, upkeep.STORED_MATCHES_LOCK)
    ids = sorted({int(p["product_id"]) for p in payloads})
    if len(ids) >= FULL_REMATCH_FROM_PRODUCTS:
        stats = {"products": len(ids), "full": upkeep.rematch_all(session.connection())}
    else:
        stats = {"products": len(ids)}
        for product_id in ids:
            for name, count in upkeep.rematch_product(session, product_id).items():
                stats[name] = stats.get(name, 0) + count
    stats["needs"] = rematch_open_needs(session)
    return stats


def run_full_rematch(session: Session, version: int | None = None) -> dict:
    """Job: every stored match, with the configuration in force (after a new version)."""
    stats = upkeep.rematch_all(session.connection())
    stats["needs"] = rematch_open_needs(session)
    return stats

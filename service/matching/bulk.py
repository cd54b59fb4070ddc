"""Matching hears of many enterprises changed at once (a bulk import of the library): the
same work as ``rematch.on_enterprise_changed`` for each, done in bulk. Their open needs are
rematched in the change's transaction with one catalogue; their stored profile matches are
queued as jobs a few statements per thousand (the runner takes them in batches of
``ENTERPRISE_BATCH``), or, for a change of more enterprises than a full rematch costs, as one
full rematch."""

from sqlmodel import Session

from service.jobs.service import enqueue, enqueue_many
from service.matching import queries, rematch, service
from service.matching.catalogue import Catalogue

LIBRARY_CHANGED = "matching.library_changed"
# Beyond this many enterprises, rematching them batch by batch costs more than rematching
# the whole library once (the engine scores 500,000 enterprises in seconds).
FULL_REMATCH_ABOVE = 10 * rematch.ENTERPRISE_BATCH


def on_enterprises_changed(session: Session, enterprise_ids: list[int]) -> None:
    ids = sorted(set(enterprise_ids))
    needs = queries.open_needs_for_update(session, ids)
    if needs:
        catalogue = Catalogue.load(session)
        for need in needs:
            service.rematch_need(session, need, catalogue)
    if len(ids) > FULL_REMATCH_ABOVE:
        enqueue(session, LIBRARY_CHANGED, {}, key="all")
    else:
        enqueue_many(session, rematch.ENTERPRISE_CHANGED, [str(i) for i in ids], "enterprise_id")

"""Matching hears of many enterprises changed at once (a bulk import of the library): the
same work as ``service.on_enterprise_changed`` for each, done in bulk. Their open needs are
rematched in the change's transaction with one catalogue; their stored profile matches are
queued as jobs a few statements per thousand (the runner takes them in batches of
``ENTERPRISE_BATCH``), or, for a change of more enterprises than a full rematch costs, as one
full rematch."""

from sqlalchemy import select
from sqlmodel import Session

from service.core.database import ROW_LOCK, among
from service.jobs.service import enqueue, enqueue_many
from service.matching import service
from service.matching.models import FinancingNeed, NeedStatus

LIBRARY_CHANGED = "matching.library_changed"
# Beyond this many enterprises, rematching them batch by batch costs more than rematching
# the whole library once (the engine scores 500,000 enterprises in seconds).
FULL_REMATCH_ABOVE = 10 * service.ENTERPRISE_BATCH
_CHUNK = 5_000


def on_enterprises_changed(session: Session, enterprise_ids: list[int]) -> None:
    ids = sorted(set(enterprise_ids))
    needs: list[FinancingNeed] = []
    for start in range(0, len(ids), _CHUNK):
        needs += session.scalars(
            select(FinancingNeed)
            .where(
                among(session, FinancingNeed.enterprise_id, ids[start : start + _CHUNK]),
                FinancingNeed.status.in_([NeedStatus.open, NeedStatus.matched]),  # type: ignore[attr-defined]
            )
            .order_by(FinancingNeed.id)
            .with_for_update(**ROW_LOCK)
        )
    if needs:
        catalogue = service.Catalogue.load(session)
        for need in needs:
            service.rematch_need(session, need, catalogue)
    if len(ids) > FULL_REMATCH_ABOVE:
        enqueue(session, LIBRARY_CHANGED, {}, key="all")
    else:
        enqueue_many(session, service.ENTERPRISE_CHANGED, [str(i) for i in ids], "enterprise_id")

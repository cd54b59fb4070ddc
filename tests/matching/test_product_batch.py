"""Product changes are rematched in batches: a few changed products one by one, from
``FULL_REMATCH_FROM_PRODUCTS`` on with one full rematch (each product's rematch reads and scores
the whole library). The stored rows each path writes are checked in test_jobs.py; here, which
path a batch takes and how the job queue hands the batch over."""

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from service.jobs.models import Job, JobStatus
from service.jobs.service import enqueue, run_pending
from service.matching import rematch, upkeep, wiring


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The upkeep functions replaced by recorders: what a batch would have rematched."""
    seen: list[tuple[str, Any]] = []

    def product(session: Session, product_id: int, on: Any = None) -> dict:
        seen.append(("product", product_id))
        return {"deleted": 1, "updated": 2, "inserted": 3}

    def full(conn: Any, on: Any = None, progress: bool = False) -> dict:
        seen.append(("full", None))
        return {"rows": 7}

    monkeypatch.setattr(upkeep, "rematch_product", product)
    monkeypatch.setattr(upkeep, "rematch_all", full)
    monkeypatch.setattr(rematch, "rematch_open_needs", lambda session: 0)
    return seen


def test_a_few_products_are_rematched_one_by_one(session: Session, calls) -> None:
    stats = rematch.run_product_rematch(
        session, payloads=[{"product_id": 9}, {"product_id": 4}, {"product_id": 9}]
    )
    assert calls == [("product", 4), ("product", 9)]  # once each, in id order
    assert stats == {"products": 2, "deleted": 2, "updated": 4, "inserted": 6, "needs": 0}


def test_many_products_are_one_full_rematch(session: Session, calls) -> None:
    payloads = [{"product_id": i} for i in range(1, rematch.FULL_REMATCH_FROM_PRODUCTS + 1)]
    stats = rematch.run_product_rematch(session, payloads=payloads)
    assert calls == [("full", None)]
    assert stats == {
        "products": rematch.FULL_REMATCH_FROM_PRODUCTS,
        "full": {"rows": 7},
        "needs": 0,
    }


def test_an_empty_batch_rematches_nothing(session: Session, calls) -> None:
    assert rematch.run_product_rematch(session, payloads=[]) == {"products": 0, "needs": 0}
    assert calls == []


def test_the_queue_hands_queued_product_changes_over_as_one_batch(session: Session, calls) -> None:
    wiring.connect()
    ids = [101, 102, 103]
    for product_id in ids:
        enqueue(session, rematch.PRODUCT_CHANGED, {"product_id": product_id}, key=str(product_id))
    # A second change of a product still queued adds no job.
    enqueue(session, rematch.PRODUCT_CHANGED, {"product_id": 101}, key="101")
    session.flush()
    assert run_pending(session, kinds=[rematch.PRODUCT_CHANGED]) == 3
    assert calls == [("full", None)]
    jobs = session.scalars(select(Job).where(Job.kind == rematch.PRODUCT_CHANGED)).all()
    assert sorted(j.payload["product_id"] for j in jobs) == ids
    assert {j.status for j in jobs} == {JobStatus.done}
    assert all(j.result == {"products": 3, "full": {"rows": 7}, "needs": 0} for j in jobs)


def test_a_failing_batch_is_recorded_on_every_job(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiring.connect()

    def broken(session: Session, product_id: int, on: Any = None) -> dict:
        raise RuntimeError("library unreadable")

    monkeypatch.setattr(upkeep, "rematch_product", broken)
    for product_id in (201, 202):
        enqueue(session, rematch.PRODUCT_CHANGED, {"product_id": product_id}, key=str(product_id))
    session.flush()
    run_pending(session, kinds=[rematch.PRODUCT_CHANGED], max_jobs=1)
    jobs = session.scalars(select(Job).where(Job.kind == rematch.PRODUCT_CHANGED)).all()
    assert len(jobs) == 2
    assert all(j.attempts == 1 and "library unreadable" in (j.last_error or "") for j in jobs)
    assert all(j.status != JobStatus.done for j in jobs)

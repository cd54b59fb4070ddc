"""The work queue: dedupe while queued, leases, retries with backoff, batches, and each job run
once by concurrent runners on separate connections."""

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, select
from sqlmodel import Session

from service.core.models import utcnow
from service.core.settings import get_settings
from service.jobs import service
from service.jobs.models import Job, JobStatus


@pytest.fixture
def kind() -> Iterator[str]:
    """A job kind of this test alone, so that other tests' jobs never mix in."""
    name = f"test.{uuid.uuid4().hex[:8]}"
    yield name
    service._handlers.pop(name, None)


def _jobs(session: Session, kind: str) -> list[Job]:
    session.expire_all()
    return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


def test_a_queued_job_runs_once_and_keeps_its_result(session: Session, kind: str) -> None:
    seen: list[dict] = []
    service.register(kind, lambda s, **payload: seen.append(payload) or {"n": len(seen)})
    service.enqueue(session, kind, {"x": 1})
    session.commit()
    assert service.run_pending(session, kinds=[kind]) == 1
    assert service.run_pending(session, kinds=[kind]) == 0
    (job,) = _jobs(session, kind)
    assert seen == [{"x": 1}]
    assert (job.status, job.attempts, job.result) == (JobStatus.done, 1, {"n": 1})
    assert job.finished_at is not None and job.locked_until is None


def test_a_key_is_queued_once_until_it_runs(session: Session, kind: str) -> None:
    service.register(kind, lambda s, **p: None)
    for _ in range(3):
        service.enqueue(session, kind, {"id": 7}, key="7")
    service.enqueue(session, kind, {"id": 8}, key="8")
    session.commit()
    assert [j.key for j in _jobs(session, kind)] == ["7", "8"]
    service.run_pending(session, kinds=[kind])
    service.enqueue(session, kind, {"id": 7}, key="7")  # after it ran, a new change queues again
    session.commit()
    assert [(j.key, j.status) for j in _jobs(session, kind)] == [
        ("7", "done"),
        ("8", "done"),
        ("7", "queued"),
    ]


def test_the_handlers_work_and_done_commit_together_or_not_at_all(
    session: Session, kind: str
) -> None:
    def fails(s: Session, **payload: object) -> None:
        s.add(Job(kind=f"{kind}.side", payload={}))  # written, then rolled back with the failure
        s.flush()
        raise RuntimeError("receiver down")

    service.register(kind, fails)
    service.enqueue(session, kind, {})
    session.commit()
    started = utcnow()
    service.run_pending(session, kinds=[kind])
    (job,) = _jobs(session, kind)
    assert job.status == JobStatus.queued and job.attempts == 1
    assert job.last_error == "RuntimeError: receiver down"
    assert started + timedelta(seconds=2) <= job.run_after <= utcnow() + timedelta(seconds=6)
    assert _jobs(session, f"{kind}.side") == []
    # Not due yet: a runner passes it by.
    assert service.run_pending(session, kinds=[kind]) == 0


def test_a_job_that_keeps_failing_ends_failed(session: Session, kind: str) -> None:
    calls: list[int] = []

    def fails(s: Session, **payload: object) -> None:
        calls.append(1)
        raise ValueError("bad payload")

    service.register(kind, fails)
    service.enqueue(session, kind, {})
    session.commit()
    for _ in range(get_settings().job_max_attempts):
        for job in _jobs(session, kind):
            job.run_after = utcnow() - timedelta(seconds=1)  # skip the backoff
        session.commit()
        service.run_pending(session, kinds=[kind])
    (job,) = _jobs(session, kind)
    assert job.status == JobStatus.failed and job.finished_at is not None
    assert len(calls) == get_settings().job_max_attempts
    assert service.run_pending(session, kinds=[kind]) == 0


def test_an_unknown_kind_is_recorded_as_an_error(session: Session, kind: str) -> None:
    service.enqueue(session, kind, {})
    session.commit()
    service.run_pending(session, kinds=[kind])
    (job,) = _jobs(session, kind)
    assert "no handler" in (job.last_error or "") and job.status == JobStatus.queued


def test_an_expired_lease_is_taken_again(session: Session, kind: str) -> None:
    seen: list[int] = []
    service.register(kind, lambda s, **p: seen.append(1) and None)
    service.enqueue(session, kind, {})
    session.commit()
    (job,) = service.claim(session, "dead-runner", [kind])
    assert service.run_pending(session, kinds=[kind]) == 0  # leased to the dead runner
    job.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert service.run_pending(session, kinds=[kind]) == 1
    (job,) = _jobs(session, kind)
    assert job.status == JobStatus.done and job.attempts == 2 and seen == [1]


def test_work_whose_lease_was_lost_is_discarded(session: Session, kind: str) -> None:
    def slow(s: Session, **payload: object) -> None:
        s.add(Job(kind=f"{kind}.side", payload={}))
        # Meanwhile the lease ran out and another runner took the job.
        s.execute(Job.__table__.update().where(Job.kind == kind).values(worker="other"))

    service.register(kind, slow)
    service.enqueue(session, kind, {})
    session.commit()
    service.run_pending(session, kinds=[kind])
    (job,) = _jobs(session, kind)
    assert job.status == JobStatus.running and job.worker != "other"  # rolled back whole
    assert _jobs(session, f"{kind}.side") == []


def test_a_batch_kind_takes_many_jobs_at_once(session: Session, kind: str) -> None:
    calls: list[list[int]] = []
    service.register(
        kind, lambda s, payloads: calls.append([p["i"] for p in payloads]) or None, batch=4
    )
    for i in range(10):
        service.enqueue(session, kind, {"i": i}, key=str(i))
    session.commit()
    assert service.run_pending(session, kinds=[kind]) == 10
    assert calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert {j.status for j in _jobs(session, kind)} == {JobStatus.done}


def test_concurrent_runners_run_each_job_exactly_once(engine: Engine, kind: str) -> None:
    runs: list[int] = []
    lock = threading.Lock()

    def handler(s: Session, i: int) -> None:
        with lock:
            runs.append(i)

    service.register(kind, handler)
    with Session(engine) as s:
        for i in range(60):
            service.enqueue(s, kind, {"i": i})
        s.commit()
    barrier = threading.Barrier(3)
    counts = [0, 0, 0]

    def runner(n: int) -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            counts[n] = service.run_pending(s, worker=f"runner-{n}", kinds=[kind])

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(runs) == list(range(60))
        assert sum(counts) == 60
        with Session(engine) as s:
            statuses = set(s.scalars(select(Job.status).where(Job.kind == kind)))
        assert statuses == {JobStatus.done}
    finally:
        with Session(engine) as s:
            s.execute(delete(Job).where(Job.kind == kind))
            s.commit()


def test_jobs_api(client, session: Session, kind: str) -> None:
    service.register(kind, lambda s, **p: {"ok": True})
    service.enqueue(session, kind, {"a": 1}, key="a")
    session.commit()
    listed = client.get("/api/v1/jobs", params={"kind": kind, "status": "queued"}).json()
    (item,) = listed["items"]
    assert (item["kind"], item["key"], item["payload"]) == (kind, "a", {"a": 1})
    service.run_pending(session, kinds=[kind])
    one = client.get(f"/api/v1/jobs/{item['id']}").json()
    assert (one["status"], one["result"], one["attempts"]) == ("done", {"ok": True}, 1)
    missing = client.get("/api/v1/jobs/999999999")
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"
    bad = client.get("/api/v1/jobs", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"

"""Queue, claim and run jobs.

A use case calls ``enqueue`` inside its transaction, so the job exists exactly when the change
does. Runners (``finmatch worker``, and by default the API process right after the response
that queued something) claim one due job at a time: on PostgreSQL with ``FOR UPDATE SKIP
LOCKED``, so any number of runners share the queue without taking a job twice; on SQLite the
write lock every transaction takes does the same. A claim is a lease: a runner that dies leaves
a job that another takes again when the lease ends. The handler's work and the job's ``done``
commit together, and only if the lease is still the runner's.

Reading the queue (``list_jobs``, ``get_job``) is the office's: those use cases check who asks."""

import json
import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.errors import NotFound
from service.core.models import utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.settings import get_settings
from service.jobs.models import Job, JobStatus
from service.jobs.schemas import JobPublic

log = logging.getLogger(__name__)

Handler = Callable[..., dict[str, Any] | None]
_handlers: dict[str, tuple[Handler, int]] = {}
# Set by the API middleware for the length of one request: whether that request queued a job.
queued_in_request: ContextVar[dict[str, bool] | None] = ContextVar(
    "queued_in_request", default=None
)
MAX_BACKOFF_SECONDS = 3600


def register(kind: str, handler: Handler, batch: int = 1) -> None:
    """``handler(session, **payload)`` does the work without committing and may return a small
    JSON-able summary, kept as the job's result. With ``batch`` > 1 the runner takes up to that
    many due jobs of the kind at once and calls ``handler(session, payloads=[...])``: a burst
    of changes (a list import touching thousands of enterprises) is then one piece of work."""
    _handlers[kind] = (handler, max(1, batch))


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    key: str | None = None,
    run_after: datetime | None = None,
) -> None:
    """Queue a job in the caller's transaction; with ``key``, not if one of this kind and key is
    still queued (that one will see the latest state when it runs, and is brought forward to
    ``run_after`` if it was due later)."""
    values = {
        "kind": kind,
        "key": key,
        "payload": payload or {},
        "status": JobStatus.queued,
        "attempts": 0,
        "run_after": run_after or utcnow(),
        "created_at": utcnow(),
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Job).values(**values)
    if key is not None:
        statement = statement.on_conflict_do_nothing(
            index_elements=["kind", "key"], index_where=text("status = 'queued'")
        )
    session.execute(statement)
    if key is not None:
        # The queued one runs no later than this one would have.
        session.execute(
            update(Job)
            .where(
                col(Job.kind) == kind,
                col(Job.key) == key,
                col(Job.status) == JobStatus.queued,
                col(Job.run_after) > values["run_after"],
            )
            .values(run_after=values["run_after"])
        )
    holder = queued_in_request.get()
    if holder is not None:
        holder["queued"] = True


@contextmanager
def unnoticed() -> Iterator[None]:
    """Jobs queued inside are not announced to the request's runner: a simulation queues them
    in a transaction that is rolled back, and leaves nothing to run after its response."""
    token = queued_in_request.set(None)
    try:
        yield
    finally:
        queued_in_request.reset(token)


def enqueue_many(session: Session, kind: str, keys: list[str], field: str) -> None:
    """``enqueue`` for many jobs of one kind at once (the enterprises a bulk import changed):
    each key's job has the payload ``{field: key}`` (an integer when the key is digits), one
    statement per few thousand keys rather than two per job; a key still queued is not queued
    again, and is brought forward to now."""
    if not keys:
        return
    now = utcnow()
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(keys), _MANY):
        chunk = keys[start : start + _MANY]
        payloads = [{field: int(key) if key.isdigit() else key} for key in chunk]
        if postgres:
            session.execute(
                text(
                    "INSERT INTO job (kind, key, payload, status, attempts, run_after, created_at) "
                    "SELECT :kind, u.key, CAST(u.payload AS jsonb), 'queued', 0, :now, :now "
                    "FROM unnest(CAST(:keys AS text[]), CAST(:payloads AS text[])) AS u(key, payload) "
                    "ON CONFLICT (kind, key) WHERE status = 'queued' DO NOTHING"
                ),
                {
                    "kind": kind,
                    "now": now,
                    "keys": chunk,
                    "payloads": [json.dumps(p) for p in payloads],
                },
            )
        else:
            session.execute(
                sqlite_insert(Job).on_conflict_do_nothing(
                    index_elements=["kind", "key"], index_where=text("status = 'queued'")
                ),
                [
                    {
                        "kind": kind,
                        "key": key,
                        "payload": payload,
                        "status": JobStatus.queued,
                        "attempts": 0,
                        "run_after": now,
                        "created_at": now,
                    }
                    for key, payload in zip(chunk, payloads, strict=True)
                ],
            )
        session.execute(
            update(Job)
            .where(
                col(Job.kind) == kind,
                col(Job.key).in_(chunk),
                col(Job.status) == JobStatus.queued,
                col(Job.run_after) > now,
            )
            .values(run_after=now)
        )
    holder = queued_in_request.get()
    if holder is not None:
        holder["queued"] = True


_MANY = 5_000
_periodic: dict[str, float] = {}


def register_periodic(kind: str, every_seconds: float) -> None:
    """Runners queue a ``kind`` job (payload empty) whenever none was queued in the last
    ``every_seconds``; the queued-key index keeps concurrent runners from queueing two."""
    _periodic[kind] = every_seconds


def queue_periodic(session: Session) -> int:
    """Queue the periodic jobs that are due; returns how many were queued."""
    queued = 0
    now = utcnow()
    for kind, every in _periodic.items():
        last = session.scalar(select(func.max(col(Job.created_at))).where(col(Job.kind) == kind))
        if last is None or now - last >= timedelta(seconds=every):
            enqueue(session, kind, {}, key=kind)
            queued += 1
    session.commit()
    return queued


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def _due(now: datetime) -> Any:
    return or_(
        and_(col(Job.status) == JobStatus.queued, col(Job.run_after) <= now),
        and_(col(Job.status) == JobStatus.running, col(Job.locked_until) < now),
    )


def _oldest(statement: Any, limit: int) -> Any:
    return (
        statement.order_by(col(Job.run_after), col(Job.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def claim(session: Session, worker: str, kinds: list[str] | None = None) -> list[Job]:
    """Take the oldest due job (queued, or running with an expired lease), and with it more
    queued jobs of its kind if the kind runs in batches; commit the claim. Empty when nothing
    is due."""
    settings = get_settings()
    while True:
        now = utcnow()
        statement = select(Job).where(_due(now))
        if kinds:
            statement = statement.where(col(Job.kind).in_(kinds))
        job = session.scalars(_oldest(statement, 1)).first()
        if job is None:
            session.commit()
            return []
        if job.attempts < settings.job_max_attempts:
            break
        # Its runners kept dying before they could record anything: stop retrying it.
        job.status = JobStatus.failed
        job.finished_at = now
        job.locked_until = None
        job.last_error = job.last_error or "租约多次过期，任务未完成。"
        session.commit()
    jobs = [job]
    batch = _handlers.get(job.kind, (None, 1))[1]
    if batch > 1:
        more = select(Job).where(
            col(Job.kind) == job.kind,
            col(Job.status) == JobStatus.queued,
            col(Job.run_after) <= now,
            col(Job.id) != job.id,
        )
        jobs += list(session.scalars(_oldest(more, batch - 1)))
    for each in jobs:
        each.status = JobStatus.running
        each.attempts += 1
        each.worker = worker
        each.started_at = now
        each.locked_until = now + timedelta(seconds=settings.job_lease_seconds)
    session.commit()
    return jobs


def _still_ours(jobs: list[Job], worker: str) -> Any:
    return or_(
        *(
            and_(
                col(Job.id) == job.id,
                col(Job.status) == JobStatus.running,
                col(Job.worker) == worker,
                col(Job.attempts) == job.attempts,
            )
            for job in jobs
        )
    )


def run_one(session: Session, worker: str, kinds: list[str] | None = None) -> list[Job]:
    """Claim due work (one job, or a batch of one kind) and run it; returns the jobs as they
    ended (empty when nothing is due)."""
    jobs = claim(session, worker, kinds)
    if not jobs:
        return []
    ids = [job.id for job in jobs]
    kind = jobs[0].kind
    handler, batch = _handlers.get(kind, (None, 1))
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {kind!r}")
        if batch > 1:
            result = handler(session, payloads=[dict(job.payload) for job in jobs])
        else:
            result = handler(session, **dict(jobs[0].payload))
        done = session.execute(
            update(Job)
            .where(_still_ours(jobs, worker))
            .values(
                status=JobStatus.done,
                result=result,
                finished_at=utcnow(),
                locked_until=None,
                last_error=None,
            )
        )
        assert isinstance(done, CursorResult)  # an UPDATE's result
        if done.rowcount != len(jobs):
            log.warning("jobs %s: lease lost before they finished; their work is discarded", ids)
            session.rollback()
        else:
            session.commit()
    except Exception as exc:  # noqa: BLE001 - a failed job is recorded, never lost
        session.rollback()
        log.exception("jobs %s (%s) failed", ids, kind)
        _record_failure(session, jobs, worker, exc)
    for job in jobs:
        session.expire(job)
    return [job for job in (session.get(Job, i) for i in ids) if job is not None]


def _record_failure(session: Session, jobs: list[Job], worker: str, exc: Exception) -> None:
    settings = get_settings()
    now = utcnow()
    message = f"{type(exc).__name__}: {exc}"[:2000]
    for job in jobs:
        final = job.attempts >= settings.job_max_attempts
        if not final and job.key is not None:
            # A newer job of the same kind and key is queued: it will redo this work.
            final = (
                session.scalar(
                    select(col(Job.id)).where(
                        col(Job.kind) == job.kind,
                        col(Job.key) == job.key,
                        col(Job.status) == JobStatus.queued,
                    )
                )
                is not None
            )
        delay = min(MAX_BACKOFF_SECONDS, 5 * 2 ** (job.attempts - 1)) * random.uniform(0.5, 1.0)
        session.execute(
            update(Job)
            .where(_still_ours([job], worker))
            .values(
                status=JobStatus.failed if final else JobStatus.queued,
                run_after=now if final else now + timedelta(seconds=delay),
                finished_at=now if final else None,
                locked_until=None,
                last_error=message,
            )
        )
    session.commit()


def run_pending(
    session: Session,
    worker: str | None = None,
    kinds: list[str] | None = None,
    max_jobs: int | None = None,
) -> int:
    """Run due jobs until none is left (or at least ``max_jobs`` ran); returns how many ran."""
    worker = worker or worker_name()
    ran = 0
    while max_jobs is None or ran < max_jobs:
        jobs = run_one(session, worker, kinds)
        if not jobs:
            break
        ran += len(jobs)
    return ran


# --- reading the queue ----------------------------------------------------------------------


def get_job(session: Session, principal: Principal, job_id: int) -> Job:
    require(principal, Role.office)
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"任务 {job_id} 不存在。", code="job_not_found")
    return job


def list_jobs(
    session: Session,
    principal: Principal,
    page: PageParams,
    status: JobStatus | None = None,
    kind: str | None = None,
) -> Page[JobPublic]:
    """Newest first."""
    require(principal, Role.office)
    statement = select(Job)
    if status is not None:
        statement = statement.where(col(Job.status) == status)
    if kind is not None:
        statement = statement.where(col(Job.kind) == kind)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(col(Job.id) < key[0])
    rows = list(session.scalars(statement.order_by(col(Job.id).desc()).limit(page.limit + 1)))
    result = make_page(rows, page.limit, lambda j: [j.id])
    result.items = [JobPublic.model_validate(j, from_attributes=True) for j in result.items]
    return result

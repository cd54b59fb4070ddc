"""Where jobs run: the `finmatch worker` loop, and the API process after a response."""

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from service.core.settings import get_settings
from service.jobs.service import queue_periodic, queued_in_request, run_pending, worker_name

log = logging.getLogger(__name__)
SessionScope = Callable[[], AbstractContextManager[Session]]


def work(
    engine: Engine,
    poll_seconds: float = 2.0,
    once: bool = False,
    stop: threading.Event | None = None,
    on_batch: Callable[[int], Any] | None = None,
) -> int:
    """Run due jobs until ``stop`` is set (or, with ``once``, until none is due); between
    empty polls wait ``poll_seconds``. Returns how many jobs ran."""
    stop = stop or threading.Event()
    worker = worker_name()
    total = 0
    while not stop.is_set():
        try:
            with Session(engine, expire_on_commit=False) as session:
                queue_periodic(session)
                ran = run_pending(session, worker)
        except Exception:  # noqa: BLE001 - the database may be away for a moment; keep going
            if once:
                raise
            log.exception("worker: the queue could not be read; retrying")
            ran = 0
        total += ran
        if on_batch is not None and ran:
            on_batch(ran)
        if once and ran == 0:
            break
        if ran == 0:
            stop.wait(poll_seconds)
    return total


class RunQueuedJobs:
    """ASGI middleware: when a request queued jobs, run the due jobs once its response has been
    sent (in a worker thread), so a single process keeps derived data current without a
    separate worker. ``FINMATCH_JOBS_INLINE=false`` leaves them to `finmatch worker`."""

    def __init__(self, app: ASGIApp, session_scope: Callable[[Scope], SessionScope]) -> None:
        self.app = app
        self.session_scope = session_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, bool] = {}
        token = queued_in_request.set(holder)
        try:
            await self.app(scope, receive, send)
        finally:
            queued_in_request.reset(token)
        if holder.get("queued") and get_settings().jobs_inline:
            await run_in_threadpool(self._drain, self.session_scope(scope))

    @staticmethod
    def _drain(scope: SessionScope) -> None:
        try:
            with scope() as session:
                run_pending(session)
        except Exception:  # noqa: BLE001 - the response is sent; the jobs stay queued
            log.exception("running queued jobs after a response failed; they stay queued")

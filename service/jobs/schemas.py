"""What the jobs API answers: a job of the work queue."""

from datetime import datetime
from typing import Any

from service.jobs.models import JobBase, JobStatus


class JobPublic(JobBase):
    id: int
    status: JobStatus
    attempts: int
    run_after: datetime
    worker: str | None
    last_error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

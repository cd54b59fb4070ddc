"""HTTP for the work queue: what is queued, running, done or failed (the office's; the use
cases check who asks)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import Session

from service.access.dependencies import Caller
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits
from service.jobs import service
from service.jobs.models import JobStatus
from service.jobs.schemas import JobPublic

router = APIRouter(tags=["jobs"])
SessionDep = Annotated[Session, Depends(get_session)]


@router.get(
    "/jobs",
    operation_id="listJobs",
    summary="List jobs",
    description="Background work queued by changes (rematching after a product or enterprise "
    "change …), newest first, with status, attempts, last error and result.",
    response_model=Page[JobPublic],
    responses=problem_responses(422),
)
def list_jobs(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status")] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only jobs of this kind",
            examples=["matching.product_changed"],
        ),
    ] = None,
) -> Page[JobPublic]:
    return service.list_jobs(session, principal, page, status, kind)


@router.get(
    "/jobs/{job_id:int}",
    operation_id="getJob",
    summary="Get a job",
    description="One job of the work queue.",
    response_model=JobPublic,
    responses=problem_responses(404, 422),
)
def get_job(
    principal: Caller,
    session: SessionDep,
    job_id: Annotated[int, Path(description="Job id", examples=[1]), Digits],
) -> JobPublic:
    return JobPublic.model_validate(
        service.get_job(session, principal, job_id), from_attributes=True
    )

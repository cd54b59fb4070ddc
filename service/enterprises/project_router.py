"""HTTP for the project library (项目库): the key-sector projects of the library's
enterprises, and an enterprise's projects. Who may do what is decided by the use cases
(``projects``); a route passes the caller."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status
from sqlmodel import Session

from service.access.dependencies import Caller, Retryable
from service.core.concurrency import etag, parse_if_match
from service.core.database import get_session
from service.core.errors import problem_responses
from service.core.pagination import Page, PageDep
from service.core.types import Digits
from service.enterprises import projects
from service.enterprises.enterprise_router import EnterpriseId, IfMatch
from service.enterprises.models import ProjectKind, ProjectStatus
from service.enterprises.schemas import ProjectCreate, ProjectPublic, ProjectUpdate
from service.taxonomy.models import Tier

router = APIRouter(tags=["enterprises"])
SessionDep = Annotated[Session, Depends(get_session)]


@router.get(
    "/enterprises/{enterprise_id:int}/projects",
    operation_id="listEnterpriseProjects",
    summary="An enterprise's projects",
    description="The library projects of one enterprise.",
    response_model=Page[ProjectPublic],
    responses=problem_responses(404, 422),
)
def list_enterprise_projects(
    principal: Caller, session: SessionDep, page: PageDep, enterprise_id: EnterpriseId
) -> Page[ProjectPublic]:
    return projects.list_enterprise_projects(session, enterprise_id, page, principal)


PROJECT_EXAMPLE = {
    "enterprise_id": 1,
    "name": "12英寸功率器件产线智能化改造项目",
    "kind": "intelligent_digital",
    "cluster_code": "ic",
    "total_investment_fen": 120_000_000_000,
    "equipment_investment_fen": 80_000_000_000,
    "financing_need_fen": 30_000_000_000,
    "year": 2026,
    "status": "approved",
}


@router.post(
    "/projects",
    operation_id="createProject",
    status_code=status.HTTP_201_CREATED,
    summary="Add a key-sector project",
    description="A project of an enterprise in "
    "the library; the cluster defaults to the enterprise's.",
    response_model=ProjectPublic,
    responses=problem_responses(422),
)
def create_project(
    principal: Caller,
    session: SessionDep,
    retry: Retryable,
    data: Annotated[
        ProjectCreate,
        Body(
            openapi_examples={
                "project": {
                    "summary": "A technology transformation project",
                    "value": PROJECT_EXAMPLE,
                }
            }
        ),
    ],
) -> Any:
    def call() -> tuple[int, Any, dict[str, str]]:
        project = projects.create_project(session, data, principal)
        headers = {"Location": f"/api/v1/projects/{project.id}", "ETag": etag(project.version)}
        return 201, projects.project_public(session, project), headers

    return retry.answer(data.model_dump(mode="json"), call)


@router.get(
    "/projects",
    operation_id="listProjects",
    summary="List and filter projects",
    description="Filters combine with AND; `district` is the enterprise's district.",
    response_model=Page[ProjectPublic],
    responses=problem_responses(422),
)
def list_projects(
    principal: Caller,
    session: SessionDep,
    page: PageDep,
    enterprise_id: Annotated[int | None, Query(), Digits] = None,
    cluster: Annotated[str | None, Query(examples=["ic"])] = None,
    tier: Annotated[Tier | None, Query()] = None,
    district: Annotated[str | None, Query(examples=["jiangyin"])] = None,
    kind: Annotated[ProjectKind | None, Query()] = None,
    project_status: Annotated[ProjectStatus | None, Query(alias="status")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100), Digits] = None,
    min_financing_need_fen: Annotated[int | None, Query(ge=0), Digits] = None,
) -> Page[ProjectPublic]:
    filters = projects.ProjectFilters(
        enterprise_id=enterprise_id,
        cluster=cluster,
        tier=tier,
        district=district,
        kind=kind,
        status=project_status,
        year=year,
        min_financing_need_fen=min_financing_need_fen,
    )
    return projects.list_projects(session, filters, page, principal)


@router.get(
    "/projects/{project_id:int}",
    operation_id="getProject",
    summary="Read a project",
    description="One library project.",
    response_model=ProjectPublic,
    responses=problem_responses(404),
)
def get_project(
    principal: Caller,
    session: SessionDep,
    response: Response,
    project_id: Annotated[int, Path(examples=[1]), Digits],
) -> ProjectPublic:
    project = projects.read_project(session, project_id, principal)
    response.headers["ETag"] = etag(project.version)
    return projects.project_public(session, project)


@router.patch(
    "/projects/{project_id:int}",
    operation_id="updateProject",
    summary="Update a project",
    description="Only the fields sent change; If-Match guards against stale writes.",
    response_model=ProjectPublic,
    responses=problem_responses(404, 412, 422),
)
def update_project(
    principal: Caller,
    session: SessionDep,
    response: Response,
    project_id: Annotated[int, Path(examples=[1]), Digits],
    data: Annotated[
        ProjectUpdate,
        Body(
            openapi_examples={
                "status": {
                    "summary": "Construction started",
                    "value": {"status": "under_construction"},
                }
            }
        ),
    ],
    if_match: IfMatch = None,
) -> ProjectPublic:
    project = projects.update_project(
        session, project_id, data, parse_if_match(if_match), principal
    )
    response.headers["ETag"] = etag(project.version)
    return projects.project_public(session, project)

"""Use cases of the project library (项目库): the key-sector projects of enterprises in the
library, created, read, changed and listed.

Who may do what: the office every project; an enterprise its own projects only (another's
answers as missing, 404; asking to list another's is refused, 403,
``access.policy.enterprise_scope``). A project's equipment investment and financing need never
exceed its total investment. Each write use case commits once."""

from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement
from sqlmodel import Session, col

from service.access.audit import SYSTEM
from service.access.policy import Principal, ensure_sees_enterprise, enterprise_scope
from service.core.concurrency import bump_version, check_version
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.models import refuse_nulls, row_dict
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises import queries
from service.enterprises.exceptions import ProjectNotFound
from service.enterprises.models import Enterprise, Project
from service.enterprises.schemas import ProjectCreate, ProjectPublic, ProjectUpdate
from service.enterprises.service import check_tier, get_enterprise
from service.taxonomy.service import Vocabulary


def _check_project_amounts(total: int | None, equipment: int | None, need: int | None) -> None:
    if total is None:
        return
    if equipment is not None and equipment > total:
        raise Unprocessable(
            "设备投资不能超过项目总投资。",
            code="invalid_project_amounts",
            field="equipment_investment_fen",
        )
    if need is not None and need > total:
        raise Unprocessable(
            "融资需求不能超过项目总投资。",
            code="invalid_project_amounts",
            field="financing_need_fen",
        )


def get_project(session: Session, project_id: int, for_update: bool = False) -> Project:
    project = session.get(
        Project,
        project_id,
        with_for_update=ROW_LOCK if for_update else None,
        populate_existing=for_update,
    )
    if project is None:
        raise ProjectNotFound(f"项目 {project_id} 不存在。")
    return project


def read_project(session: Session, project_id: int, principal: Principal) -> Project:
    """A project, for the office or its enterprise."""
    project = get_project(session, project_id)
    ensure_sees_enterprise(principal, project.enterprise_id, "项目")
    return project


def project_public(session: Session, project: Project) -> ProjectPublic:
    enterprise = session.get(Enterprise, project.enterprise_id)
    return ProjectPublic.model_validate(
        {**row_dict(project), "enterprise_name": enterprise.name if enterprise else None}
    )


def create_project(session: Session, data: ProjectCreate, principal: Principal = SYSTEM) -> Project:
    """A project of an enterprise in the library (the office, or the enterprise for itself);
    its cluster defaults to the enterprise's."""
    enterprise_scope(principal, data.enterprise_id)
    enterprise = session.get(Enterprise, data.enterprise_id)
    if enterprise is None:
        raise Unprocessable(
            f"企业 {data.enterprise_id} 不存在，项目须属于企业库中的企业。",
            code="unknown_enterprise",
            field="enterprise_id",
        )
    cluster = Vocabulary(session).cluster(data.cluster_code) or enterprise.cluster_code
    _check_project_amounts(
        data.total_investment_fen, data.equipment_investment_fen, data.financing_need_fen
    )
    project = Project(**{**data.model_dump(), "cluster_code": cluster})
    session.add(project)
    session.flush()
    emit(session, "projects.changed", enterprise_ids=[project.enterprise_id])
    session.commit()
    session.refresh(project)
    return project


def update_project(
    session: Session,
    project_id: int,
    data: ProjectUpdate,
    expected_version: int | None,
    principal: Principal,
) -> Project:
    """Change the fields sent (the office, or the project's enterprise)."""
    project = get_project(session, project_id, for_update=True)
    ensure_sees_enterprise(principal, project.enterprise_id, "项目")
    check_version(expected_version, project.version, "项目信息")
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(Project, changes)  # name, kind, total investment, year, status
    if "cluster_code" in changes:
        changes["cluster_code"] = Vocabulary(session).cluster(changes["cluster_code"])
    merged = {**row_dict(project), **changes}
    _check_project_amounts(
        merged["total_investment_fen"],
        merged["equipment_investment_fen"],
        merged["financing_need_fen"],
    )
    for field, value in changes.items():
        setattr(project, field, value)
    bump_version(session, Project, project, "项目信息")
    emit(session, "projects.changed", enterprise_ids=[project.enterprise_id])
    session.commit()
    session.refresh(project)
    return project


@dataclass
class ProjectFilters:
    enterprise_id: int | None = None
    cluster: str | None = None
    tier: str | None = None
    district: str | None = None
    kind: str | None = None
    status: str | None = None
    year: int | None = None
    min_financing_need_fen: int | None = None


def list_projects(
    session: Session, f: ProjectFilters, page: PageParams, principal: Principal
) -> Page[ProjectPublic]:
    """The projects the filters keep: all of them for the office, its own for an enterprise."""
    scoped = replace(f, enterprise_id=enterprise_scope(principal, f.enterprise_id))
    return _project_page(session, scoped, page)


def list_enterprise_projects(
    session: Session, enterprise_id: int, page: PageParams, principal: Principal
) -> Page[ProjectPublic]:
    """The projects of one enterprise (the office, or the enterprise itself)."""
    ensure_sees_enterprise(principal, enterprise_id)
    get_enterprise(session, enterprise_id)
    return _project_page(session, ProjectFilters(enterprise_id=enterprise_id), page)


def _project_page(session: Session, f: ProjectFilters, page: PageParams) -> Page[ProjectPublic]:
    vocabulary = Vocabulary(session)
    conditions: list[ColumnElement[bool]] = []
    if f.enterprise_id is not None:
        conditions.append(col(Project.enterprise_id) == f.enterprise_id)
    if f.cluster:
        conditions.append(
            col(Project.cluster_code) == vocabulary.cluster(f.cluster, field="cluster")
        )
    if f.tier:
        check_tier(f.tier)
        conditions.append(queries.tier_condition(col(Project.cluster_code), f.tier))
    if f.district:
        conditions.append(
            col(Enterprise.district_code) == vocabulary.district(f.district, field="district")
        )
    if f.kind:
        conditions.append(col(Project.kind) == f.kind)
    if f.status:
        conditions.append(col(Project.status) == f.status)
    if f.year is not None:
        conditions.append(col(Project.year) == f.year)
    if f.min_financing_need_fen is not None:
        conditions.append(col(Project.financing_need_fen) >= f.min_financing_need_fen)
    key = cursor_key(page, 1, (int,))
    rows = queries.projects_after(session, key[0] if key else None, page.limit + 1, conditions)
    result = make_page(rows, page.limit, lambda r: [r[0].id])
    result.items = [
        ProjectPublic.model_validate({**row_dict(p), "enterprise_name": name})
        for p, name, _ in result.items
    ]
    return result

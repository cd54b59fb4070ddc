"""Use cases of the reference data the office keeps for requests: departments (named units a
request is dispatched to; never deleted, made inactive) and categories (each with the working
days its handler has). Everyone reads them; only the office changes them."""

from sqlmodel import Session, col, select

from service.access.models import Role
from service.access.policy import Principal, require
from service.appeals.exceptions import CategoryNotFound, DepartmentExists, DepartmentNotFound
from service.appeals.models import AppealCategory, Department
from service.appeals.schemas import CategoryUpdate, DepartmentCreate, DepartmentUpdate
from service.core.concurrency import check_version
from service.core.models import refuse_nulls, utcnow


def list_departments(session: Session, include_inactive: bool = True) -> list[Department]:
    stmt = select(Department).order_by(col(Department.code))
    if not include_inactive:
        stmt = stmt.where(col(Department.active).is_(True))
    return list(session.scalars(stmt))


def create_department(session: Session, principal: Principal, data: DepartmentCreate) -> Department:
    require(principal, Role.office)
    if session.get(Department, data.code) is not None:
        raise DepartmentExists(f"部门代码 '{data.code}' 已存在", field="code")
    row = Department(code=data.code, name=data.name.strip())
    session.add(row)
    session.commit()
    return row


def update_department(
    session: Session,
    principal: Principal,
    code: str,
    data: DepartmentUpdate,
    expected_version: int | None,
) -> Department:
    require(principal, Role.office)
    row = session.get(Department, code, with_for_update=True)
    if row is None:
        raise DepartmentNotFound(f"部门 '{code}' 不存在")
    check_version(expected_version, row.version, "部门")
    refuse_nulls(Department, data.model_dump(exclude_unset=True))
    if data.name is not None:
        row.name = data.name.strip()
    if data.active is not None:
        row.active = data.active
    row.version += 1
    row.updated_at = utcnow()
    session.commit()
    session.refresh(row)
    return row


def list_categories(session: Session) -> list[AppealCategory]:
    return list(session.scalars(select(AppealCategory).order_by(col(AppealCategory.code))))


def update_category(
    session: Session,
    principal: Principal,
    code: str,
    data: CategoryUpdate,
    expected_version: int | None,
) -> AppealCategory:
    """A new number of working days applies to requests dispatched from now on; a due date
    already given stays."""
    require(principal, Role.office)
    row = session.get(AppealCategory, code, with_for_update=True)
    if row is None:
        raise CategoryNotFound(f"未知的诉求类别 '{code}'")
    check_version(expected_version, row.version, "诉求类别")
    refuse_nulls(AppealCategory, data.model_dump(exclude_unset=True))
    if data.name is not None:
        row.name = data.name.strip()
    if data.due_working_days is not None:
        row.due_working_days = data.due_working_days
    row.version += 1
    row.updated_at = utcnow()
    session.commit()
    session.refresh(row)
    return row

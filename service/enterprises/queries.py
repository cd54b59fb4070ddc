"""Reads of the enterprise and project libraries."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, and_, bindparam, exists, or_, select
from sqlmodel import Session

from service.core.database import Statement, among, fetch
from service.enterprises.models import Contact, Enterprise, Project, Qualification
from service.taxonomy.models import Cluster, OwnershipType


def qualification_valid_on(type_code: str, on: date) -> ColumnElement[bool]:
    """EXISTS a qualification of the type valid on the day (expiry day inclusive)."""
    return exists().where(
        Qualification.enterprise_id == Enterprise.id,
        Qualification.type_code == type_code,
        Qualification.issued_date <= on,
        or_(Qualification.expires_date.is_(None), Qualification.expires_date >= on),
    )


def tier_condition(tier: str) -> ColumnElement[bool]:
    return Enterprise.cluster_code.in_(select(Cluster.code).where(Cluster.tier == tier))


def private_condition(private: bool) -> ColumnElement[bool]:
    """The enterprise's ownership type counts as 民营 (``private``) or, known, does not: an
    enterprise whose ownership is unknown is in neither."""
    return Enterprise.ownership.in_(
        select(OwnershipType.code).where(OwnershipType.private.is_(private))
    )


def valid_qualifications(
    session: Session | str, enterprise_ids: Sequence[int], on: date
) -> Statement:
    """(enterprise_id, type_code) of the enterprises' qualifications valid on the day."""

    def build() -> Select[Any]:
        on_day = bindparam("on", type_=Date)
        return (
            select(Qualification.enterprise_id, Qualification.type_code)
            .where(
                among(session, Qualification.enterprise_id, [], name="ids"),
                Qualification.issued_date <= on_day,
                or_(Qualification.expires_date.is_(None), Qualification.expires_date >= on_day),
            )
            .order_by(Qualification.enterprise_id, Qualification.type_code)
        )

    return Statement(
        "enterprises.valid_qualifications", build, {"ids": list(enterprise_ids), "on": on}
    )


def codes_by_enterprise(rows: Sequence[Any]) -> dict[int, list[str]]:
    """Rows of ``valid_qualifications`` as each enterprise's type codes, in code order."""
    out: dict[int, list[str]] = {}
    for enterprise_id, type_code in rows:
        codes = out.setdefault(enterprise_id, [])
        if type_code not in codes:
            codes.append(type_code)
    return out


def valid_qualification_codes(
    session: Session, enterprise_ids: Sequence[int], on: date
) -> dict[int, list[str]]:
    """The types of each enterprise's qualifications valid on the day, in code order."""
    if not enterprise_ids:
        return {}
    return codes_by_enterprise(fetch(session, valid_qualifications(session, enterprise_ids, on)))


def qualifications_of(session: Session, enterprise_id: int) -> list[Qualification]:
    return list(
        session.scalars(
            select(Qualification)
            .where(Qualification.enterprise_id == enterprise_id)
            .order_by(Qualification.issued_date, Qualification.id)
        )
    )


def contacts_of(session: Session, enterprise_id: int) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact).where(Contact.enterprise_id == enterprise_id).order_by(Contact.id)
        )
    )


def enterprise_by_credit_code(session: Session, credit_code: str) -> Enterprise | None:
    return session.scalars(select(Enterprise).where(Enterprise.credit_code == credit_code)).first()


def enterprise_page(
    session: Session, conditions: Sequence[ColumnElement[bool]], after_id: int | None, limit: int
) -> list[Enterprise]:
    stmt = select(Enterprise).where(and_(True, *conditions))
    if after_id is not None:
        stmt = stmt.where(Enterprise.id > after_id)
    return list(session.scalars(stmt.order_by(Enterprise.id).limit(limit + 1)))


def enterprise_names(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> list[tuple[int, str]]:
    stmt = select(Enterprise.id, Enterprise.name_normalized).where(and_(True, *conditions))
    return [(row[0], row[1]) for row in session.execute(stmt)]


def filtered_ids(
    session: Session, conditions: Sequence[ColumnElement[bool]], at_most: int
) -> list[int] | None:
    """Ids passing the filters, or None when there are more than ``at_most``."""
    ids = list(session.scalars(select(Enterprise.id).where(*conditions).limit(at_most + 1)))
    return None if len(ids) > at_most else ids


def existing_ids(
    session: Session, ids: Sequence[int], conditions: Sequence[ColumnElement[bool]]
) -> set[int]:
    if not ids:
        return set()
    stmt = select(Enterprise.id).where(Enterprise.id.in_(ids), *conditions)
    return set(session.scalars(stmt))


def enterprises_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Enterprise]:
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}


def project_page(
    session: Session, conditions: Sequence[ColumnElement[bool]], after_id: int | None, limit: int
) -> list[tuple[Project, str]]:
    stmt = (
        select(Project, Enterprise.name)
        .join(Enterprise, Enterprise.id == Project.enterprise_id)
        .where(and_(True, *conditions))
    )
    if after_id is not None:
        stmt = stmt.where(Project.id > after_id)
    return [(row[0], row[1]) for row in session.execute(stmt.order_by(Project.id).limit(limit + 1))]

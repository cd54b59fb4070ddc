"""The policies' rules and the enterprises' facts read from the database: one enterprise's
``rules.Facts`` (to show it its entitlements with their reasons), or the facts of many as the
batch engine's ``batch.Columns`` (to re-evaluate the library).

What counts as 民营 is the ownership type's ``private`` flag (the office's decision); an
enterprise with no ownership recorded is "not known". In the service area means registered
under one of its area-code prefixes. A loan's purpose is its kind (working capital or
project), its product and scheme those of the product it was made under. A grant counts for
the rule when approved (its approved amount) or paid (its paid amount)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from psycopg import sql as psql
from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from service.core import pgcopy
from service.core.settings import get_settings
from service.enterprises.models import Enterprise, Project, Qualification
from service.loans.models import Loan
from service.matching.scoring import in_service_area
from service.policies import columns_copy
from service.policies.batch import I64, Columns, Vocabulary, day_number, ranks
from service.policies.diff import Stored
from service.policies.models import (
    Entitlement,
    EntitlementStatus,
    GrantStatus,
    Policy,
    PolicyGrant,
    PolicyVersion,
)
from service.policies.parameters import Parameters, to_rule
from service.policies.rules import Facts, Granted, Held, LoanFact, ProjectFact, Rule
from service.products.models import Product, ProductVersion
from service.taxonomy.models import OwnershipType

_CHUNK = 5_000  # enterprise ids per IN list


def rule_of(
    policy: Policy,
    version: PolicyVersion,
    versions: Sequence[PolicyVersion] | None = None,
) -> Rule:
    """The version's rule. With the policy's ``versions``, its days end the day before the
    next version begins, and the policy's days (for being in force, and the loans it covers)
    run from the first version to the last one's end."""
    rule = to_rule(
        policy.code,
        version.version,
        policy.name,
        version.effective_from,
        version.effective_to,
        Parameters.model_validate(version.parameters),
    )
    if not versions:
        return rule
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version))
    later = [
        v
        for v in ordered
        if (v.effective_from, v.version) > (version.effective_from, version.version)
    ]
    end = version.effective_to
    if later:
        implicit = later[0].effective_from - timedelta(days=1)
        end = implicit if end is None else min(end, implicit)
    if end is not None and end < version.effective_from:
        end = version.effective_from  # a version superseded on its first day keeps that day
    return replace(
        rule,
        effective_to=end,
        policy_from=ordered[0].effective_from,
        policy_to=ordered[-1].effective_to,
    )


@dataclass(frozen=True)
class PolicyRules:
    policy: Policy
    in_force: PolicyVersion
    rules: tuple[Rule, ...]  # every version's, newest first

    @property
    def current(self) -> Rule:
        return next(r for r in self.rules if r.version == self.in_force.version)


def version_in_force(versions: Sequence[PolicyVersion], on: date) -> PolicyVersion | None:
    """The version that governs ``on``: the latest one begun by then (a later version ends an
    earlier one the day before it begins), unless it has ended."""
    begun = [v for v in versions if v.effective_from <= on]
    if not begun:
        return None
    latest = max(begun, key=lambda v: (v.effective_from, v.version))
    if latest.effective_to is not None and latest.effective_to < on:
        return None
    return latest


def rules_of(policy: Policy, versions: Sequence[PolicyVersion]) -> tuple[Rule, ...]:
    ordered = sorted(versions, key=lambda v: (v.effective_from, v.version), reverse=True)
    return tuple(rule_of(policy, v, versions) for v in ordered)


def rules_in_force(
    session: Session, on: date, codes: Iterable[str] | None = None
) -> list[PolicyRules]:
    """Each active policy in force on ``on``: its version then and every version's rule, by
    policy code."""
    query = select(Policy).where(col(Policy.active)).order_by(col(Policy.code))
    if codes is not None:
        query = query.where(col(Policy.code).in_(list(codes)))
    policies = list(session.scalars(query))
    versions: dict[str, list[PolicyVersion]] = {}
    for version in session.scalars(
        select(PolicyVersion).where(col(PolicyVersion.policy_code).in_([p.code for p in policies]))
    ):
        versions.setdefault(version.policy_code, []).append(version)
    out = []
    for policy in policies:
        mine = versions.get(policy.code, [])
        in_force = version_in_force(mine, on)
        if in_force is not None:
            out.append(PolicyRules(policy, in_force, rules_of(policy, mine)))
    return out


def _private_types(session: Session) -> dict[str, bool]:
    return {
        code: bool(private)
        for code, private in session.execute(
            select(col(OwnershipType.code), col(OwnershipType.private))
        )
    }


def _granted_amount(status: str, approved: int | None, paid: int | None) -> int | None:
    if status == GrantStatus.paid:
        return paid if paid is not None else approved
    if status == GrantStatus.approved:
        return approved
    return None


def _chunks(ids: Sequence[int] | None) -> list[Sequence[int] | None]:
    if ids is None:
        return [None]
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _rows(session: Session, query: Any, column: Any, ids: Sequence[int] | None) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(ids):
        q = query if chunk is None else query.where(column.in_(chunk))
        out += session.execute(q).all()
    return out


def _loan_query() -> Any:
    return (
        select(
            col(Loan.enterprise_id),
            col(Loan.id),
            col(Loan.contract_no),
            col(Product.code),
            col(ProductVersion.scheme),
            col(Loan.kind),
            col(Loan.principal_fen),
            col(Loan.rate_bp),
            col(Loan.disbursed_date),
            col(Loan.maturity_date),
            col(Loan.closed_date),
        )
        .outerjoin(Product, col(Product.id) == col(Loan.product_id))
        .outerjoin(
            ProductVersion,
            and_(
                col(ProductVersion.product_id) == col(Product.id),
                col(ProductVersion.version) == col(Product.current_version),
            ),
        )
    )


def _grant_query() -> Any:
    return select(
        col(PolicyGrant.enterprise_id),
        col(PolicyGrant.policy_code),
        col(PolicyGrant.period),
        col(PolicyGrant.status),
        col(PolicyGrant.approved_fen),
        col(PolicyGrant.paid_fen),
    ).where(
        or_(
            col(PolicyGrant.status) == GrantStatus.approved,
            col(PolicyGrant.status) == GrantStatus.paid,
        )
    )


def facts_of(session: Session, enterprise: Enterprise) -> Facts:
    """Everything the rules look at for one enterprise."""
    assert enterprise.id is not None
    library = read_facts(session, [enterprise.id])
    return library[0]


def read_facts(session: Session, enterprise_ids: Sequence[int]) -> list[Facts]:
    """The facts of these enterprises (in the order given; unknown ids are left out)."""
    ids = sorted(set(enterprise_ids))
    private_types = _private_types(session)
    prefixes = get_settings().service_area_prefixes
    base = _rows(
        session,
        select(
            col(Enterprise.id),
            col(Enterprise.ownership),
            col(Enterprise.registered_area_code),
            col(Enterprise.size_class),
        ),
        col(Enterprise.id),
        ids,
    )
    quals: dict[int, list[Held]] = {}
    for eid, type_code, issued in _rows(
        session,
        select(
            col(Qualification.enterprise_id),
            col(Qualification.type_code),
            col(Qualification.issued_date),
        ),
        col(Qualification.enterprise_id),
        ids,
    ):
        quals.setdefault(eid, []).append(Held(type_code, issued))
    projects: dict[int, list[ProjectFact]] = {}
    for eid, pid, name, kind, year, base_fen in _rows(
        session,
        select(
            col(Project.enterprise_id),
            col(Project.id),
            col(Project.name),
            col(Project.kind),
            col(Project.year),
            col(Project.equipment_investment_fen),
        ),
        col(Project.enterprise_id),
        ids,
    ):
        projects.setdefault(eid, []).append(ProjectFact(pid, name, str(kind), year, base_fen))
    loans: dict[int, list[LoanFact]] = {}
    for row in _rows(session, _loan_query(), col(Loan.enterprise_id), ids):
        eid, lid, contract, product, scheme, kind, principal, rate, start, maturity, closed = row
        loans.setdefault(eid, []).append(
            LoanFact(
                lid, contract, product, scheme, str(kind), principal, rate, start, maturity, closed
            )
        )
    granted: dict[int, list[Granted]] = {}
    for eid, code, period, status, approved, paid in _rows(
        session, _grant_query(), col(PolicyGrant.enterprise_id), ids
    ):
        amount = _granted_amount(status, approved, paid)
        if amount is not None:
            granted.setdefault(eid, []).append(Granted(code, period, amount))
    by_id = {
        eid: Facts(
            enterprise_id=eid,
            private=private_types.get(ownership) if ownership else None,
            in_area=in_service_area(area, prefixes),
            size_class=size,
            qualifications=tuple(quals.get(eid, ())),
            projects=tuple(projects.get(eid, ())),
            loans=tuple(loans.get(eid, ())),
            granted=tuple(granted.get(eid, ())),
        )
        for eid, ownership, area, size in base
    }
    return [by_id[eid] for eid in enterprise_ids if eid in by_id]


def read_columns(session: Session, enterprise_ids: Sequence[int] | None = None) -> Columns:
    """The facts of the library (or of these enterprises) as the batch engine's columns, read
    with one statement per kind of fact and no objects per row; the whole library on
    PostgreSQL by binary COPY (``columns_copy``)."""
    if enterprise_ids is None and session.get_bind().dialect.name == "postgresql":
        copied = columns_copy.read(session.connection().connection.driver_connection)
        if copied is not None:
            return copied
    return read_columns_by_rows(session, enterprise_ids)


def read_columns_by_rows(session: Session, enterprise_ids: Sequence[int] | None) -> Columns:
    """``read_columns`` on any database: rows read through SQLAlchemy, coded in Python."""
    ids = _sorted(enterprise_ids)
    private_types = _private_types(session)
    prefixes = get_settings().service_area_prefixes
    v = {
        name: Vocabulary()
        for name in ("sizes", "types", "kinds", "products", "schemes", "purposes", "policies")
    }
    base = _rows(
        session,
        select(
            col(Enterprise.id),
            col(Enterprise.ownership),
            col(Enterprise.registered_area_code),
            col(Enterprise.size_class),
        ).order_by(col(Enterprise.id)),
        col(Enterprise.id),
        ids,
    )
    enterprise_ids_array = np.fromiter((r[0] for r in base), dtype=I64, count=len(base))
    row_of = {int(eid): row for row, eid in enumerate(enterprise_ids_array)}
    private = np.fromiter(
        (-1 if not r[1] or r[1] not in private_types else int(private_types[r[1]]) for r in base),
        dtype=np.int8,
        count=len(base),
    )
    areas = {area: in_service_area(area, prefixes) for area in {r[2] for r in base}}
    in_area = np.fromiter((areas[r[2]] for r in base), dtype=bool, count=len(base))
    size = np.fromiter((v["sizes"].code(r[3]) for r in base), dtype=np.int32, count=len(base))

    def table(rows: list[Any], width: int, convert: Any) -> np.ndarray:
        out = np.array([convert(r) for r in rows if r[0] in row_of], dtype=I64)
        return out.reshape(-1, width)

    qa = table(
        _rows(
            session,
            select(
                col(Qualification.enterprise_id),
                col(Qualification.type_code),
                col(Qualification.issued_date),
            ),
            col(Qualification.enterprise_id),
            ids,
        ),
        3,
        lambda r: (row_of[r[0]], v["types"].code(r[1]), day_number(r[2])),
    )
    pa = table(
        _rows(
            session,
            select(
                col(Project.enterprise_id),
                col(Project.kind),
                col(Project.year),
                col(Project.equipment_investment_fen),
            ),
            col(Project.enterprise_id),
            ids,
        ),
        4,
        lambda r: (row_of[r[0]], v["kinds"].code(str(r[1])), r[2], -1 if r[3] is None else r[3]),
    )
    la = table(
        _rows(session, _loan_query(), col(Loan.enterprise_id), ids),
        8,
        lambda r: (
            row_of[r[0]],
            v["products"].code(r[3]),
            v["schemes"].code(r[4]),
            v["purposes"].code(str(r[5])),
            r[6],
            r[7],
            day_number(r[8]),
            day_number(r[9] if r[10] is None else min(r[9], r[10])),
        ),
    )
    grants = [
        (r[0], r[1], r[2], _granted_amount(r[3], r[4], r[5]))
        for r in _rows(session, _grant_query(), col(PolicyGrant.enterprise_id), ids)
    ]
    ga = table(
        [g for g in grants if g[3] is not None],
        4,
        lambda r: (
            row_of[r[0]],
            v["policies"].code(r[1]),
            0 if r[2] == "once" else int(r[2]),
            r[3],
        ),
    )
    return Columns(
        enterprise_ids=enterprise_ids_array,
        private=private,
        in_area=in_area,
        size=size,
        q_enterprise=qa[:, 0].astype(np.int32),
        q_type=qa[:, 1].astype(np.int32),
        q_day=qa[:, 2].astype(np.int32),
        q_rank=ranks(qa[:, 0], qa[:, 1], qa[:, 2]),
        p_enterprise=pa[:, 0].astype(np.int32),
        p_kind=pa[:, 1].astype(np.int32),
        p_year=pa[:, 2].astype(np.int32),
        p_base=pa[:, 3],
        l_enterprise=la[:, 0].astype(np.int32),
        l_product=la[:, 1].astype(np.int32),
        l_scheme=la[:, 2].astype(np.int32),
        l_purpose=la[:, 3].astype(np.int32),
        l_principal=la[:, 4],
        l_rate=la[:, 5],
        l_start=la[:, 6].astype(np.int32),
        l_end=la[:, 7].astype(np.int32),
        g_enterprise=ga[:, 0].astype(np.int32),
        g_policy=ga[:, 1].astype(np.int32),
        g_period=ga[:, 2].astype(np.int32),
        g_amount=ga[:, 3],
        **v,
    )


def read_entitlements(
    session: Session,
    enterprise_ids: Sequence[int] | None,
    codes: Sequence[str],
    periods: Sequence[str],
) -> Stored:
    """The stored entitlements of each policy's period (``codes[i]`` in ``periods[i]``) of
    these enterprises (None: all), coded as ``diff.Found`` codes them; the whole library on
    PostgreSQL by binary COPY."""
    if not codes:
        return Stored.empty()
    if enterprise_ids is None and session.get_bind().dialect.name == "postgresql":
        return _entitlements_copied(session, codes, periods)
    place = {(c, p): i for i, (c, p) in enumerate(zip(codes, periods, strict=True))}
    query = select(
        col(Entitlement.id),
        col(Entitlement.enterprise_id),
        col(Entitlement.policy_code),
        col(Entitlement.period),
        col(Entitlement.policy_version),
        col(Entitlement.amount_fen),
        col(Entitlement.status),
    ).where(
        or_(
            *(
                and_(col(Entitlement.policy_code) == c, col(Entitlement.period) == p)
                for c, p in place
            )
        )
    )
    rows = _rows(session, query, col(Entitlement.enterprise_id), _sorted(enterprise_ids))
    return Stored(
        id=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        enterprise=np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        policy=np.fromiter((place[(r[2], r[3])] for r in rows), dtype=np.int32, count=len(rows)),
        version=np.fromiter((r[4] for r in rows), dtype=np.int32, count=len(rows)),
        amount=np.fromiter((r[5] for r in rows), dtype=np.int64, count=len(rows)),
        current=np.fromiter(
            (r[6] == EntitlementStatus.current for r in rows), dtype=bool, count=len(rows)
        ),
    )


def _sorted(ids: Sequence[int] | None) -> list[int] | None:
    return None if ids is None else sorted(set(ids))


def _entitlements_copied(session: Session, codes: Sequence[str], periods: Sequence[str]) -> Stored:
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        rows = pgcopy.read(
            cursor,
            psql.SQL(
                "SELECT e.id::int8, e.enterprise_id::int8, (p.n - 1)::int4, "
                "e.policy_version::int4, e.amount_fen::int8, e.status = 'current' "
                "FROM policy_entitlement e JOIN unnest({codes}::text[], {periods}::text[]) "
                "WITH ORDINALITY AS p (code, period, n) "
                "ON p.code = e.policy_code AND p.period = e.period"
            )
            .format(codes=psql.Literal(list(codes)), periods=psql.Literal(list(periods)))
            .as_string(cursor),
            [
                ("id", ">i8"),
                ("e", ">i8"),
                ("p", ">i4"),
                ("v", ">i4"),
                ("a", ">i8"),
                ("current", "?"),
            ],
        )
    return Stored(
        id=rows["id"].astype(np.int64),
        enterprise=rows["e"].astype(np.int64),
        policy=rows["p"].astype(np.int32),
        version=rows["v"].astype(np.int32),
        amount=rows["a"].astype(np.int64),
        current=rows["current"].astype(bool),
    )

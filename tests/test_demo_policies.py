"""The demo's support policies (``service.demo_policies``): every policy has demo enterprises
entitled to it, each told once; awards in every state; the demo enterprise sees one of its own;
added once."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func
from sqlmodel import Session, col, select

from service.access.models import ApiKey, Role
from service.cli import run_migrations
from service.core.models import today_local
from service.models import __all__ as _models  # noqa: F401
from service.policies import store
from service.policies.models import (
    Entitlement,
    EntitlementStatus,
    GrantStatus,
    PolicyGrant,
    PolicyNotice,
)
from service.seeding import seed_demo, seed_reference
from tests.conftest import create_database, row_counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url, drop = create_database(tmp_path_factory.mktemp("demo-policies"))
    run_migrations("head", url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
        seed_demo(session)
    yield engine
    engine.dispose()
    drop()


def test_every_policy_has_entitled_demo_enterprises_each_told_once(demo: Any) -> None:
    with Session(demo) as session:
        codes = {r.policy.code for r in store.rules_in_force(session, today_local())}
        entitled = dict(
            session.exec(
                select(Entitlement.policy_code, func.count())
                .where(Entitlement.status == EntitlementStatus.current)
                .group_by(Entitlement.policy_code)
            ).all()
        )
        assert len(codes) == 10 and codes <= set(entitled), (codes, entitled)
        entitlements = session.exec(select(func.count()).select_from(Entitlement)).one()
        notices = session.exec(select(func.count()).select_from(PolicyNotice)).one()
        assert notices == entitlements
        assert (
            session.exec(select(func.count(func.distinct(PolicyNotice.entitlement_id)))).one()
            == notices
        )


def test_awards_in_every_state_within_their_entitlements(demo: Any) -> None:
    with Session(demo) as session:
        grants = list(session.exec(select(PolicyGrant).order_by(col(PolicyGrant.id))).all())
        assert {g.status for g in grants} == set(GrantStatus)
        for grant in grants:
            if grant.status == GrantStatus.paid:
                assert grant.paid_fen == grant.approved_fen and grant.paid_date is not None
            if grant.status in (GrantStatus.approved, GrantStatus.paid):
                assert grant.approved_fen and grant.approved_fen > 0


def test_the_demo_enterprise_is_entitled_to_something(demo: Any) -> None:
    with Session(demo) as session:
        key = session.exec(
            select(ApiKey).where(
                ApiKey.role == Role.enterprise, col(ApiKey.enterprise_id).is_not(None)
            )
        ).first()
        assert key is not None
        mine = session.exec(
            select(Entitlement).where(
                Entitlement.enterprise_id == key.enterprise_id,
                Entitlement.status == EntitlementStatus.current,
            )
        ).all()
        assert {e.policy_code for e in mine} >= {"srdi-first", "tech-loan-subsidy"}


def test_a_second_seed_adds_nothing(demo: Any) -> None:
    before = row_counts(demo)
    with Session(demo, expire_on_commit=False) as session:
        counts = seed_demo(session)
    assert counts["policy_grant.unchanged"] == 1
    assert row_counts(demo) == before

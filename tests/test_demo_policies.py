"""The demo's support policies (``service.demo_policies``): every policy has demo enterprises
entitled to it, each told once; awards in every state; the demo enterprise sees one of its own;
added once."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func, text
from sqlmodel import Session, col, select

from service.access.models import ApiKey, Role
from service.cli import run_migrations
from service.core.models import today_local
from service.models import __all__ as _models  # noqa: F401
from service.policies import columns_copy, jobs, store
from service.policies.batch import evaluate_policy_all
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


@pytest.fixture
def changed_demo(demo: Any) -> Iterator[Session]:
    """The demo library with the facts' odd corners added, in a transaction rolled back
    afterwards: enterprises with no ownership, no size, registered outside the service area;
    a loan with no product, one closed early, one closed after maturity; a paid award with no
    paid amount; projects with no investment."""
    connection = demo.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    for statement in (
        "UPDATE enterprise SET ownership = NULL WHERE id % 7 = 0",
        "UPDATE enterprise SET size_class = NULL WHERE id % 11 = 0",
        "UPDATE enterprise SET registered_area_code = '310101' WHERE id % 13 = 0",
        "UPDATE loan SET product_id = NULL WHERE id % 5 = 0",
        "UPDATE loan SET closed_date = disbursed_date + 30 WHERE id % 5 = 1"
        if demo.dialect.name == "postgresql"
        else "UPDATE loan SET closed_date = date(disbursed_date, '+30 days') WHERE id % 5 = 1",
        "UPDATE loan SET closed_date = maturity_date WHERE id % 5 = 2",
        "UPDATE policy_grant SET paid_fen = NULL WHERE status = 'paid'",
        "UPDATE project SET equipment_investment_fen = NULL WHERE id % 3 = 0",
    ):
        session.execute(text(statement))
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def test_the_library_read_at_once_equals_the_rows_read_one_by_one(changed_demo: Session) -> None:
    """On PostgreSQL the library is read by binary COPY; the rows, decoded, are those read
    row by row through SQLAlchemy (as a batch of enterprises and SQLite read them)."""
    session = changed_demo
    if session.get_bind().dialect.name == "postgresql":
        driver = session.connection().connection.driver_connection
        assert columns_copy.read(driver) is not None  # not sent back to the rows
    whole = store.read_columns(session, None)
    by_rows = store.read_columns_by_rows(session, None)
    listed = store.read_columns(session, whole.enterprise_ids.tolist())
    assert whole.count > 100
    assert whole.decoded() == by_rows.decoded() == listed.decoded()
    decoded = whole.decoded()
    assert any(e[1] == -1 for e in decoded["enterprises"])  # ownership not known
    assert any(not e[2] for e in decoded["enterprises"])  # outside the service area
    assert any(loan[1] is None for loan in decoded["loans"])  # no product
    on = today_local()
    for policy in store.rules_in_force(session, on):
        a = evaluate_policy_all(policy.rules, whole, on)
        b = evaluate_policy_all(policy.rules, by_rows, on)
        assert whole.enterprise_ids[a.rows].tolist() == by_rows.enterprise_ids[b.rows].tolist()
        assert a.amounts.tolist() == b.amounts.tolist()


def test_the_stored_entitlements_read_at_once_equal_those_read_by_enterprise(
    changed_demo: Session,
) -> None:
    session = changed_demo
    session.execute(text("UPDATE policy_entitlement SET status = 'lapsed' WHERE id % 4 = 0"))
    on = today_local()
    found = jobs.find(store.rules_in_force(session, on), store.read_columns(session, None), on)
    ids = [int(i) for i in session.execute(text("SELECT id FROM enterprise")).scalars()]
    whole = store.read_entitlements(session, None, found.codes, found.periods)
    listed = store.read_entitlements(session, ids, found.codes, found.periods)

    def rows(s: Any) -> list[tuple[Any, ...]]:
        columns = (s.id, s.enterprise, s.policy, s.version, s.amount, s.current)
        return sorted(zip(*(c.tolist() for c in columns), strict=True))

    assert len(whole) > 50 and rows(whole) == rows(listed)
    assert sum(1 for r in rows(whole) if not r[5]) > 0


def test_re_evaluating_the_changed_library_writes_what_the_rules_say(
    changed_demo: Session,
) -> None:
    """The whole library's run writes the difference (lapses, changes, new ones); a second
    run finds nothing left to write; what is stored is what each enterprise's own evaluation
    finds."""
    session = changed_demo
    on = today_local()
    first = jobs.reevaluate(session, None, trigger="daily", as_of=on)
    assert first["lapsed"] + first["changed"] + first["new"] > 0, first
    again = jobs.reevaluate(session, None, trigger="daily", as_of=on)
    assert {k: again[k] for k in ("new", "changed", "revived", "lapsed", "notified")} == {
        "new": 0,
        "changed": 0,
        "revived": 0,
        "lapsed": 0,
        "notified": 0,
    }
    rules = store.rules_in_force(session, on)
    columns = store.read_columns(session, None)
    found = jobs.find(rules, columns, on)
    expected = {
        (e, found.codes[p], found.periods[p], a)
        for e, p, a in zip(
            found.enterprise.tolist(), found.policy.tolist(), found.amount.tolist(), strict=True
        )
    }
    current = {
        (e.enterprise_id, e.policy_code, e.period, e.amount_fen)
        for e in session.exec(
            select(Entitlement).where(Entitlement.status == EntitlementStatus.current)
        ).all()
        if (e.policy_code, e.period) in set(zip(found.codes, found.periods, strict=True))
    }
    awarded_kept = {
        (e, c, p)
        for e, c, p in session.execute(
            text(
                "SELECT enterprise_id, policy_code, period FROM policy_grant "
                "WHERE status IN ('approved', 'paid')"
            )
        ).all()
    }
    assert expected <= current
    assert all((e, c, p) in awarded_kept for e, c, p, _ in current - expected)

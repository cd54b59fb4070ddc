"""Test database: a fresh one per run (SQLite file by default; PostgreSQL when
TEST_DATABASE_URL names a server), schema from `alembic upgrade head`, reference data seeded
once. Each test runs in a transaction that is rolled back (commits become savepoints)."""

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session


def create_database(tmp_root: Path) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database on the test backend, and how to drop it."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or make_url(base).get_backend_name() == "sqlite":
        path = tmp_root / f"test-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    url = make_url(base)
    name = f"finmatch_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def row_counts(target: Session | Engine) -> dict[str, int]:
    """How many rows every table of the schema holds (for "nothing was written" checks)."""
    from sqlalchemy import func, select

    import service.models  # noqa: F401  (every table in the metadata)
    from service.core.models import metadata

    def count(session: Session) -> dict[str, int]:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }

    if isinstance(target, Session):
        return count(target)
    with Session(target) as session:
        return count(session)


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The tables whose count changed, by how much."""
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = create_database(tmp_path_factory.mktemp("db"))
    os.environ["DATABASE_URL"] = url
    from service.core.database import get_engine
    from service.core.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    from service.cli import run_migrations

    run_migrations("head", url)
    from service.seeding import seed_reference

    with Session(get_engine(), expire_on_commit=False) as session:
        seed_reference(session)
    yield url
    get_engine().dispose()
    get_engine.cache_clear()
    drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    from service.core.database import get_engine

    return get_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def office_key(engine: Engine) -> str:
    """An office key, committed once for the whole run."""
    from service.access.models import Role
    from service.access.service import create_key

    with Session(engine, expire_on_commit=False) as session:
        return create_key(session, Role.office, "tests").key


@pytest.fixture
def app(session: Session) -> Any:
    from service.core.database import get_session
    from service.main import create_app

    app = create_app()
    app.dependency_overrides[get_session] = lambda: session
    app.state.open_session = lambda: nullcontext(session)
    app.state.async_pool = None  # the lead feed runs on the test's session too
    return app


@pytest.fixture
def client(app: Any, office_key: str) -> Iterator[TestClient]:
    """The API as the office (which may do everything); see ``as_role`` for the others."""
    with TestClient(app, headers={"Authorization": f"Bearer {office_key}"}) as test_client:
        yield test_client


@pytest.fixture
def anonymous(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def as_role(app: Any, session: Session) -> Callable[..., TestClient]:
    """``as_role("bank", bank_code="jsbank-wx")`` or ``as_role("enterprise", enterprise_id=7)``:
    a client holding a fresh key of that holder."""
    from service.access.models import Role
    from service.access.service import create_key

    clients: list[TestClient] = []

    def make(
        role: str, bank_code: str | None = None, enterprise_id: int | None = None
    ) -> TestClient:
        key = create_key(session, Role(role), f"tests {role}", bank_code, enterprise_id).key
        c = TestClient(app, headers={"Authorization": f"Bearer {key}"})
        clients.append(c)
        return c

    return make


# A public address (not a documentation one, which webhooks refuse) for names the tests use.
PUBLIC_TEST_ADDRESS = "93.184.216.34"


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never ask the real DNS (there may be no network): names under the reserved
    .example domain resolve to a public address, others to nothing. Tests that need other
    answers (rebinding, internal names) replace the resolver again."""
    import socket

    from service.leads import sender as client

    def resolve(host: str, port: int) -> list[str]:
        if host.rstrip(".").lower().endswith(".example"):
            return [PUBLIC_TEST_ADDRESS]
        raise socket.gaierror(socket.EAI_NONAME, f"no DNS in tests: {host}")

    monkeypatch.setattr(client, "resolve_host", resolve)

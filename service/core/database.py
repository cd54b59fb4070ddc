"""Engine and sessions. The schema itself comes only from Alembic (migrations/)."""

import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.core.settings import get_settings


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take control so
    # that SQLite transactions behave as on PostgreSQL (see SQLAlchemy's pysqlite notes).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a second writer waits (busy_timeout) instead
        # of failing when its read snapshot turns stale.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, echo: bool = False) -> Engine:
    if is_sqlite(url):
        _prepare_sqlite_file(url)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    settings = get_settings()
    # Enough connections for the request threads that run at once (uvicorn's thread pool runs
    # up to 40): connections opened beyond the pool are closed again after each use, and
    # opening one costs more than most requests.
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, settings.sql_echo)


def get_session() -> Iterator[Session]:
    """FastAPI dependency: one session per request; use cases commit themselves."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def serialize(target: Session | Connection, name: str) -> None:
    """Hold a cluster-wide lock named ``name`` until the transaction ends (PostgreSQL advisory
    lock), so work that rewrites the same derived rows never interleaves. SQLite needs none:
    every transaction there already holds the database's write lock."""
    connection = target.connection() if isinstance(target, Session) else target
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # a stable signed 32-bit key per name
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")


def among(session: Session, column: Any, ids: Sequence[Any]) -> Any:
    """``column IN ids``; on PostgreSQL as ``= ANY(array)``: one parameter whatever the count
    (the driver prepares a statement with 100 IN parameters more slowly than it runs it)."""
    from sqlalchemy import any_, bindparam

    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(f"ids_{column.key}", list(ids)))
    return column.in_(list(ids))

"""Engine and sessions. The schema itself comes only from Alembic (migrations/)."""

import time
import weakref
import zlib
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from psycopg.rows import namedtuple_row
from sqlalchemy import ClauseElement, Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.core.settings import get_settings

# The row lock of a use case that changes a row but not its key: FOR NO KEY UPDATE on
# PostgreSQL (SQLite has no row locks). Unlike FOR UPDATE it does not block another
# transaction inserting a row that refers to it (a foreign key check takes FOR KEY SHARE), so
# an enterprise locked for a change and a need of it being rematched (whose matches refer to
# the enterprise) cannot deadlock.
ROW_LOCK: dict[str, Any] = {"key_share": True}


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
        pool_pre_ping=settings.db_pre_ping,
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


@contextmanager
def rolled_back(session: Session) -> Iterator[Session]:
    """A session for a simulation: the use case runs as it would (its commits included) on
    ``session``'s connection, inside a savepoint that is rolled back at the end, so nothing of
    it persists, whatever tables it writes. The new session's commits are savepoints of their
    own within that one; it names the same caller in the audit log (whose entries go too)."""
    connection = session.connection()
    savepoint = connection.begin_nested()
    scratch = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=dict(session.info),
    )
    try:
        yield scratch
    finally:
        scratch.close()
        if savepoint.is_active:
            savepoint.rollback()


def serialize(target: Session | Connection, name: str) -> None:
    """Hold a cluster-wide lock named ``name`` until the transaction ends (PostgreSQL advisory
    lock), so work that rewrites the same derived rows never interleaves. SQLite needs none:
    every transaction there already holds the database's write lock."""
    connection = target.connection() if isinstance(target, Session) else target
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(name.encode()) - 2**31  # a stable signed 32-bit key per name
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")


def among(session: Session | str, column: Any, ids: Sequence[Any], name: str | None = None) -> Any:
    """``column IN ids``; on PostgreSQL as ``= ANY(array)``: one parameter whatever the count
    (the driver prepares a statement with 100 IN parameters more slowly than it runs it).
    With ``name``, the ids are left to a parameter of that name given at execution. The
    first argument is a session or the name of its dialect."""
    from sqlalchemy import any_, bindparam

    dialect = session if isinstance(session, str) else session.get_bind().dialect.name
    postgres = dialect == "postgresql"
    if name is not None:
        if postgres:
            return column == any_(bindparam(name))
        return column.in_(bindparam(name, expanding=True))
    if postgres:
        return column == any_(bindparam(f"ids_{column.key}", list(ids)))
    return column.in_(list(ids))


class Statement(NamedTuple):
    """A statement for ``fetch`` and ``fetch_all``: a key naming its SQL (compiled once per
    key on PostgreSQL), how to build it, and its parameters."""

    key: Hashable
    build: Callable[[], Executable | str]  # a str: PostgreSQL's own SQL, for the driver
    params: dict[str, Any]
    writes: bool = False


_compiled: dict[Hashable, str] = {}


def compiled_sql(dialect: Any, statement: Statement) -> str:
    """The statement's SQL for ``dialect`` (PostgreSQL's), compiled once per key."""
    sql = _compiled.get(statement.key)
    if sql is None:
        built = statement.build()
        if isinstance(built, str):  # PostgreSQL's own SQL, written for the driver
            sql = _compiled[statement.key] = built
        else:
            assert isinstance(built, ClauseElement)  # a select, insert, update or delete
            sql = _compiled[statement.key] = str(built.compile(dialect=dialect))
    return sql


def fetch(session: Session, statement: Statement) -> list[Any]:
    """The rows (with attribute access) of a read statement. On PostgreSQL its SQL is
    compiled once per key and run on the session's connection by the driver itself: for the
    reads that return many rows per request (a bank's pages of 100 leads), SQLAlchemy's
    statement handling and row processing cost more than the query. Such rows carry the
    driver's values (timestamps in the connection's time zone, JSON already parsed);
    elsewhere the statement runs through SQLAlchemy as usual."""
    return fetch_all(session, [statement])[0]


def fetch_all(session: Session, statements: Sequence[Statement]) -> list[list[Any]]:
    """Each statement's rows (none for a write), in order, as ``fetch``. On PostgreSQL the
    statements go to the server in one pipeline: one round trip for all of them."""
    if session.autoflush:
        session.flush()  # as SQLAlchemy would before a query: pending changes are seen
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        out = []
        for statement in statements:
            built = statement.build()
            assert not isinstance(built, str), "SQL written for PostgreSQL"
            result = connection.execute(built, statement.params)
            out.append(list(result.all()) if result.returns_rows else [])
        return out
    driver = connection.connection.driver_connection
    cursors = [driver.cursor(row_factory=namedtuple_row) for _ in statements]  # type: ignore[union-attr]
    try:
        if len(statements) == 1:
            # Outside a pipeline: psycopg takes a large result in pipeline mode more slowly.
            sql = compiled_sql(connection.dialect, statements[0])
            cursors[0].execute(sql, statements[0].params)
        else:
            with driver.pipeline():  # type: ignore[union-attr]
                for cursor, statement in zip(cursors, statements, strict=True):
                    cursor.execute(compiled_sql(connection.dialect, statement), statement.params)
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


class AsyncPool:
    """An asyncio pool of PostgreSQL connections (psycopg_pool), in autocommit, for the reads
    that run without a worker thread (the lead feed), opened on first use in the serving event loop
    and closed with the app. A connection idle for longer than ``IDLE_CHECK_SECONDS`` is
    pinged before use (with ``FINMATCH_DB_PRE_PING``): one that the server dropped meanwhile
    (a restart, a timeout) is replaced instead of failing a request, and busy connections
    cost no extra round trip."""

    IDLE_CHECK_SECONDS = 10.0

    def __init__(self, url: str) -> None:
        self.conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.pool: Any = None
        self._opening: Any = None
        self._returned: Any = None  # connection -> when it last went back to the pool

    async def get(self) -> Any:
        import asyncio

        from psycopg_pool import AsyncConnectionPool

        if self.pool is None:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                if self.pool is None:
                    settings = get_settings()
                    self._returned = weakref.WeakKeyDictionary()
                    pool = AsyncConnectionPool(
                        self.conninfo,
                        min_size=1,
                        max_size=settings.db_pool_size,
                        open=False,
                        max_idle=300,
                        check=self._check if settings.db_pre_ping else None,
                        reset=self._reset,
                        # each of the feed's statements stands alone: no BEGIN and COMMIT
                        kwargs={"autocommit": True},
                    )
                    await pool.open()
                    self.pool = pool
        return self.pool

    async def _check(self, connection: Any) -> None:
        returned = self._returned.get(connection)
        if returned is None or time.monotonic() - returned > self.IDLE_CHECK_SECONDS:
            await connection.execute("")  # raises on a connection the server dropped

    async def _reset(self, connection: Any) -> None:
        self._returned[connection] = time.monotonic()

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

"""How a full rematch stores its rows: on PostgreSQL a fresh table swapped in for the stored one
(same names, constraints, indexes, sequence, grants; readers and incremental rematches waiting
for it see the new rows), rewritten in place where something depends on the table; on SQLite
rewritten in place. A small synthetic library is committed for the module and removed after."""

import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlmodel import Session

from service.core.database import serialize
from service.enterprises.models import Enterprise, Qualification
from service.matching import store, upkeep
from service.matching.models import EnterpriseMatch, ScoringConfigRow
from service.matching.upkeep import full_rematch, rematch_all, rematch_enterprises
from service.synth import AS_OF, bulk_load

from .test_jobs import _expected, _least_qualified, _stored

ON = AS_OF


def _postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture(scope="module")
def library(engine: Engine):
    with Session(engine) as session:
        before = session.scalar(select(func.max(Enterprise.id))) or 0
        version = (session.scalar(select(func.max(ScoringConfigRow.version))) or 0) + 1
        current = session.get(ScoringConfigRow, version - 1)
        assert current is not None
        config = {**current.config, "top_per_enterprise": 3, "top_per_product": 5}
        session.add(ScoringConfigRow(version=version, config=config, note="test: short lists"))
        session.commit()
    bulk_load(engine, 40, projects=0, products=0, seed=91, progress=False, workers=0)
    with Session(engine) as session:
        ids = list(session.scalars(select(Enterprise.id).where(Enterprise.id > before)))
    full_rematch(engine, on=ON, progress=False)
    yield {"ids": ids}
    with Session(engine) as session:
        session.execute(delete(EnterpriseMatch))
        session.execute(delete(Qualification).where(Qualification.enterprise_id.in_(ids)))
        session.execute(text("DELETE FROM contact WHERE enterprise_id > :b"), {"b": before})
        session.execute(delete(Enterprise).where(Enterprise.id.in_(ids)))
        session.execute(delete(ScoringConfigRow).where(ScoringConfigRow.version == version))
        session.commit()


def _schema(engine: Engine) -> dict:
    """The stored table's make-up by name (what Alembic and later migrations see)."""
    with engine.connect() as c:
        one = c.exec_driver_sql
        return {
            "constraints": one(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'enterprise_match'::regclass ORDER BY 1"
            ).all(),
            "indexes": one(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = 'enterprise_match' ORDER BY 1"
            ).all(),
            "columns": one(
                "SELECT column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_name = 'enterprise_match' "
                "ORDER BY ordinal_position"
            ).all(),
            "sequence": one("SELECT pg_get_serial_sequence('enterprise_match', 'id')").scalar(),
            "acl": one(
                "SELECT relacl::text FROM pg_class WHERE oid = 'enterprise_match'::regclass"
            ).scalar(),
            "comment": one("SELECT obj_description('enterprise_match'::regclass)").scalar(),
            "fresh": one("SELECT to_regclass('enterprise_match_fresh')").scalar(),
        }


def _oid(engine: Engine) -> int:
    with engine.connect() as c:
        return c.exec_driver_sql("SELECT 'enterprise_match'::regclass::oid").scalar_one()


def test_the_full_rematch_stores_the_engine_rows_either_way(library, engine) -> None:
    stats = full_rematch(engine, on=ON, progress=False)
    assert stats["stored_by"] == ("swap" if _postgres(engine) else "rewrite")
    with Session(engine) as session:
        assert _stored(session) == _expected(session)
        ids = list(session.scalars(select(EnterpriseMatch.id)))
    assert len(ids) == len(set(ids)) == stats["rows"]


def test_binary_copy_writes_what_it_is_given(engine, session) -> None:
    if not _postgres(engine):
        pytest.skip("PostgreSQL's binary COPY")
    conn = session.connection()
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE copied (a bigint, b integer, c integer, d timestamptz)"
    )
    now = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)
    a = np.array([2**40, -1, 0, 7], dtype=np.int64)
    b = np.array([1, 2, 3, 4], dtype=np.int16)
    c = np.ma.masked_equal(np.array([0, 5, 0, 9], dtype=np.int32), 0)
    d = np.full(4, store._micros(now), dtype=np.int64)
    stream = store.binary_copy([(a, 8), (b, 4), (c, 4), (d, 8)], chunk_rows=3)
    store._copy(conn, "COPY copied FROM STDIN (FORMAT BINARY)", stream)
    rows = conn.exec_driver_sql("SELECT a, b, c, d FROM copied ORDER BY a").all()
    assert [tuple(r) for r in rows] == [
        (-1, 2, 5, now),
        (0, 3, None, now),
        (7, 4, 9, now),
        (2**40, 1, None, now),
    ]
    empty = store.binary_copy([(a[:0], 8), (c[:0], 4)])
    store._copy(conn, "COPY copied (a, c) FROM STDIN (FORMAT BINARY)", empty)
    assert conn.exec_driver_sql("SELECT count(*) FROM copied").scalar() == 4


def test_the_swapped_table_keeps_names_sequence_grants_and_comment(library, engine) -> None:
    if not _postgres(engine):
        pytest.skip("the swap is PostgreSQL's")
    from alembic import command

    from service.cli.database import _alembic_config

    with engine.begin() as c:
        c.exec_driver_sql("GRANT SELECT ON enterprise_match TO PUBLIC")
        c.exec_driver_sql("COMMENT ON TABLE enterprise_match IS 'stored ''profile'' matches'")
    try:
        before, oid = _schema(engine), _oid(engine)
        with engine.connect() as c:
            last = c.exec_driver_sql("SELECT max(id) FROM enterprise_match").scalar()
        stats = full_rematch(engine, on=ON, progress=False)
        assert stats["stored_by"] == "swap"
        assert _oid(engine) != oid  # a new table …
        assert _schema(engine) == before  # … made as the old one
        assert before["acl"] and "=r/" in before["acl"]
        assert before["comment"] == "stored 'profile' matches"
        with engine.connect() as c:
            low, high = c.exec_driver_sql("SELECT min(id), max(id) FROM enterprise_match").one()
            following = c.exec_driver_sql("SELECT nextval('enterprise_match_id_seq')").scalar()
        assert low == last + 1 and high == last + stats["rows"]  # ids go on from the sequence
        assert following == high + 1
    finally:
        with engine.begin() as c:
            c.exec_driver_sql("REVOKE SELECT ON enterprise_match FROM PUBLIC")
            c.exec_driver_sql("COMMENT ON TABLE enterprise_match IS NULL")
    # Alembic sees the schema the migrations made (the comment was the test's own).
    command.check(_alembic_config(engine.url.render_as_string(hide_password=False)))


def test_a_table_a_view_depends_on_is_rewritten_in_place(library, engine) -> None:
    if not _postgres(engine):
        pytest.skip("the swap is PostgreSQL's")
    with engine.begin() as c:
        c.exec_driver_sql(
            "CREATE VIEW enterprise_match_count AS SELECT count(*) AS n FROM enterprise_match"
        )
    try:
        oid = _oid(engine)
        stats = full_rematch(engine, on=ON, progress=False)
        assert stats["stored_by"] == "rewrite"
        assert _oid(engine) == oid
        with engine.connect() as c:
            assert (
                c.exec_driver_sql("SELECT n FROM enterprise_match_count").scalar() == stats["rows"]
            )
        with Session(engine) as session:
            assert _stored(session) == _expected(session)
    finally:
        with engine.begin() as c:
            c.exec_driver_sql("DROP VIEW enterprise_match_count")


def test_a_failed_store_leaves_the_stored_table_as_it_was(library, engine, monkeypatch) -> None:
    with Session(engine) as session:
        before = _stored(session)

    def broken(*_args, **_kwargs):
        yield b"not a binary COPY stream"

    monkeypatch.setattr(store, "binary_copy", broken)
    monkeypatch.setattr(store, "_insert", lambda *_args: 1 / 0)  # the in-place path (SQLite)
    with pytest.raises(Exception):  # noqa: B017 (the database's error, whichever it is)
        full_rematch(engine, on=ON, progress=False)
    with Session(engine) as session:
        assert _stored(session) == before
    if _postgres(engine):
        assert _schema(engine)["fresh"] is None


def _waiting(engine: Engine, pid: int) -> bool:
    with engine.connect() as c:
        kind = c.exec_driver_sql(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %(pid)s", {"pid": pid}
        ).scalar()
    return kind == "Lock"


def _until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_enterprise_rematch_during_the_full_one_lands_in_the_new_table(library, engine) -> None:
    """The enterprise changes after the full rematch read the library: its job waits for the
    stored matches' lock, then rewrites the enterprise's rows in the swapped-in table."""
    if not _postgres(engine):
        pytest.skip("two writers at once: PostgreSQL")
    with Session(engine) as session:
        target = _least_qualified(session, library["ids"])
    full = engine.connect()
    transaction = full.begin()
    try:
        rematch_all(full, on=ON)  # computed and swapped, not committed
        with Session(engine) as session:  # the change, committed meanwhile
            session.execute(
                update(Enterprise).where(Enterprise.id == target).values(credit_grade="AAA")
            )
            for code in ("high_tech", "tech_sme", "srdi_sme"):
                session.add(
                    Qualification(
                        enterprise_id=target, type_code=code, issued_date=ON - timedelta(days=30)
                    )
                )
            session.commit()
        job: dict = {}

        def run_job() -> None:
            with Session(engine) as session:
                job["pid"] = (
                    session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
                )
                serialize(session, upkeep.STORED_MATCHES_LOCK)  # as the job's runner does
                job["counts"] = rematch_enterprises(session, [target], on=ON)
                session.commit()

        thread = threading.Thread(target=run_job)
        thread.start()
        _until(lambda: "pid" in job and _waiting(engine, job["pid"]))
        assert "counts" not in job
        transaction.commit()
    finally:
        if transaction.is_active:
            transaction.rollback()
        full.close()
    thread.join(30)
    assert job["counts"]["inserted"] + job["counts"]["updated"] > 0
    with Session(engine) as session:
        assert _stored(session) == _expected(session)  # exact, as for any improvement


def test_a_reader_waiting_for_the_swap_reads_the_new_rows(library, engine) -> None:
    if not _postgres(engine):
        pytest.skip("readers during the swap: PostgreSQL")
    with engine.begin() as c:  # fewer rows than the rematch will store
        c.exec_driver_sql(
            "DELETE FROM enterprise_match WHERE product_id = (SELECT min(product_id) "
            "FROM enterprise_match)"
        )
    reader = engine.connect()
    holding = reader.begin()
    old = reader.exec_driver_sql("SELECT count(*) FROM enterprise_match").scalar()
    done: dict = {}

    def rematch() -> None:
        with engine.connect() as c:
            done["pid"] = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            c.commit()
            with c.begin():
                done["stats"] = rematch_all(c, on=ON)

    def read() -> None:
        with engine.connect() as c:
            done["reader"] = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            done["count"] = c.exec_driver_sql("SELECT count(*) FROM enterprise_match").scalar()

    writer = threading.Thread(target=rematch)
    writer.start()
    try:
        _until(lambda: "pid" in done and _waiting(engine, done["pid"]), 60)  # at LOCK TABLE
        second = threading.Thread(target=read)
        second.start()
        _until(lambda: "reader" in done and _waiting(engine, done["reader"]))
    finally:
        holding.commit()
        reader.close()
    writer.join(60)
    second.join(30)
    assert done["count"] == done["stats"]["rows"] > old


def test_rows_are_copied_frozen_where_the_transaction_allows_it(
    library, engine, monkeypatch
) -> None:
    if not _postgres(engine):
        pytest.skip("COPY FREEZE is PostgreSQL's")
    statements: list[str] = []
    copy = store._copy

    def spy(conn, statement, chunks):
        statements.append(statement)
        copy(conn, statement, chunks)

    monkeypatch.setattr(store, "_copy", spy)
    full_rematch(engine, on=ON, progress=False)
    assert "FREEZE" in statements[-1]
    # A cursor left open in the transaction rules FREEZE out: the rows are copied plainly.
    statements.clear()
    with engine.connect() as c, c.begin():
        c.exec_driver_sql("DECLARE held CURSOR WITH HOLD FOR SELECT 1")
        c.exec_driver_sql("DECLARE open_one CURSOR FOR SELECT 1")
        c.exec_driver_sql("FETCH 1 FROM open_one")
        assert rematch_all(c, on=ON)["stored_by"] == "swap"
        c.exec_driver_sql("CLOSE held")
    assert "FREEZE" not in statements[-1]
    with Session(engine) as session:
        assert _stored(session) == _expected(session)

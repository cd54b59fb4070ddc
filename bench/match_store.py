"""`finmatch match --all` on PostgreSQL: the whole command, its compute and its store, against
the in-database floor of the store.

    .venv/bin/python bench/match_store.py --enterprises 500000 --products 500 --rounds 3

Creates a fresh PostgreSQL database, migrates it, seeds the reference data (42 products) and
loads a synthetic library with `finmatch synth`'s loader (--enterprises, --products more
products). Then --rounds rounds of:

- the command: `finmatch match --all --on <synth's AS_OF>` run as a process of its own (wall
  time from start to exit, Python's start included), and the load, compute and store seconds
  it prints. The store writes the rows into a fresh table with a binary COPY, builds its
  constraints and indexes, and swaps it in for the stored table (service/matching/store.py);
- the floor: the same rows, already inside PostgreSQL (an unlogged copy of the stored table,
  made before timing), inserted with INSERT … SELECT into a fresh table of the same make, its
  constraints and indexes built afterwards with the same memory for sorts, ANALYZE, in one
  transaction: what the store would cost without moving the rows from Python to the server.

Prints the medians and the ratio store / floor, the load average before, during and after. At
the end it checks that the stored rows are exactly the engine's rows (the same scoring run in
this process) and that the schema (constraint and index names and definitions, defaults, the
id sequence's owner, grants) is what the migrations made, with `alembic check`; any mismatch
exits non-zero. --smoke runs a tiny library in seconds with the same checks. The database is
dropped at the end unless --keep is given."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR = "enterprise_match_floor"
STAGE = "enterprise_match_stage"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _schema(dsn: str) -> list:
    """What a swap must keep of the stored table, by name (not by oid)."""
    with psycopg.connect(dsn) as c:
        parts = [
            c.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'enterprise_match'::regclass ORDER BY 1"
            ).fetchall(),
            c.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'enterprise_match' "
                "ORDER BY 1"
            ).fetchall(),
            c.execute(
                "SELECT column_name, data_type, is_nullable, column_default, ordinal_position "
                "FROM information_schema.columns WHERE table_name = 'enterprise_match' ORDER BY 5"
            ).fetchall(),
            c.execute("SELECT pg_get_serial_sequence('enterprise_match', 'id')").fetchall(),
            c.execute(
                "SELECT relacl::text, relkind, relpersistence FROM pg_class "
                "WHERE oid = 'enterprise_match'::regclass"
            ).fetchall(),
        ]
    return parts


def _command(url: str, on: str) -> dict:
    """`finmatch match --all` as its own process: wall seconds and the figures it prints."""
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "400"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "finmatch"), "match", "--all", "--on", on],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"finmatch match --all failed:\n{done.stdout}\n{done.stderr}")
    figures = {
        key: float(value)
        for key, value in re.findall(r"'(\w+_seconds|rows)': ([0-9.]+)", done.stdout)
    }
    how = re.search(r"'stored_by': '(\w+)'", done.stdout)
    figures["wall"] = wall
    figures["stored_by"] = how[1] if how else "?"  # type: ignore[assignment]
    return figures


def _stage(dsn: str, dump: Path) -> None:
    """The stored rows, in their order, as an unlogged table and as a binary COPY file the
    server reads (the file on this machine: the server runs here)."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {STAGE}")
        c.execute(f"CREATE UNLOGGED TABLE {STAGE} AS SELECT * FROM enterprise_match")
        c.execute(f"ANALYZE {STAGE}")
        c.execute(f"COPY {STAGE} TO '{dump}' (FORMAT BINARY)")  # type: ignore[arg-type]


def _floor(dsn: str, source: str) -> float:
    """The same rows from inside PostgreSQL into a fresh table, then the same constraints and
    indexes as the stored table (built after the rows), in one transaction. ``source``:
    "insert" (INSERT … SELECT from the unlogged copy) or a server-side file (COPY … FREEZE
    from it: what the store does, without the rows coming from the client)."""
    from service.matching.store import INDEX_BUILD_MEMORY

    with psycopg.connect(dsn) as c:
        constraints = c.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'enterprise_match'::regclass AND contype <> 'c' ORDER BY contype"
        ).fetchall()
        indexes = c.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = "
            "'enterprise_match'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conindid = i.indexrelid)"
        ).fetchall()
        c.commit()
        started = time.perf_counter()
        c.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        c.execute(
            f"CREATE TABLE {FLOOR} (LIKE enterprise_match INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)"
        )
        if source == "insert":
            c.execute(f"INSERT INTO {FLOOR} SELECT * FROM {STAGE}")  # type: ignore[arg-type]
        else:
            c.execute(f"COPY {FLOOR} FROM '{source}' (FORMAT BINARY, FREEZE)")  # type: ignore[arg-type]
        for name, definition in constraints:
            c.execute(f"ALTER TABLE {FLOOR} ADD CONSTRAINT {name}_floor {definition}")
        for (definition,) in indexes:
            statement = re.sub(r"INDEX (\S+) ON (\S+)", rf"INDEX \1_floor ON {FLOOR}", definition)
            c.execute(statement)
        c.execute(f"ANALYZE {FLOOR}")
        c.commit()
        elapsed = time.perf_counter() - started
        c.execute(f"DROP TABLE {FLOOR}")
        c.commit()
    return elapsed


def _engine_rows(url: str, on: str) -> np.ndarray:
    """The engine's rows for the library, as the full rematch computes them."""
    from datetime import date

    from sqlmodel import Session

    from service.core.database import make_engine
    from service.matching import facts
    from service.matching.engine import match_all

    engine = make_engine(url)
    day = date.fromisoformat(on)
    with engine.connect() as conn:
        session = Session(bind=conn)
        config = facts.current_config(session, day)
        rules = [r for _, _, r in facts.catalogue(session)]
        arrays = facts.load_enterprise_arrays(
            conn,
            day,
            service_area=facts.service_area(),
            bridge=facts.bridge_states(conn, None, day, config.bridge_window_days),
        )
        session.close()
    engine.dispose()
    rows = match_all(arrays, rules, config).rows()
    table = np.stack(
        [
            rows[k].astype(np.int64)
            for k in (
                "enterprise_id",
                "product_id",
                "score_centi",
                "enterprise_rank",
                "product_rank",
            )
        ],
        axis=1,
    )
    return table[np.lexsort((table[:, 1], table[:, 0]))]


def _stored_rows(dsn: str) -> np.ndarray:
    with psycopg.connect(dsn) as c:
        rows = c.execute(
            "SELECT enterprise_id, product_id, score_centi, coalesce(enterprise_rank, 0), "
            "coalesce(product_rank, 0) FROM enterprise_match ORDER BY 1, 2"
        ).fetchall()
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def _check(url: str, dsn: str, on: str, schema_before: list) -> list[str]:
    from alembic import command
    from alembic.util.exc import CommandError

    from service.cli.database import _alembic_config

    problems = []
    expected, stored = _engine_rows(url, on), _stored_rows(dsn)
    if expected.shape != stored.shape or not np.array_equal(expected, stored):
        problems.append(f"stored rows differ from the engine's ({len(stored)} vs {len(expected)})")
    with psycopg.connect(dsn) as c:
        ids = c.execute("SELECT count(DISTINCT id), count(*) FROM enterprise_match").fetchone()
        assert ids is not None
        if ids[0] != ids[1]:
            problems.append("ids are not unique")
    if _schema(dsn) != schema_before:
        problems.append(f"schema changed: {schema_before} -> {_schema(dsn)}")
    try:
        command.check(_alembic_config(url))
    except CommandError as exc:
        problems.append(f"alembic check: {exc}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=500_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a tiny library, checks only")
    args = parser.parse_args()
    if args.smoke:
        args.enterprises, args.products, args.rounds = 3_000, 20, 2

    from sqlalchemy.engine import make_url

    name = f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    database = make_url(args.server).set(database=name)
    url = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    dsn = database.set(drivername="postgresql").render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"commit {commit}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    failed = False
    try:
        from sqlmodel import Session

        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.seeding import seed_reference
        from service.synth import AS_OF, run_synth

        started = time.perf_counter()
        run_migrations("head", url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_reference(session)
        engine.dispose()
        run_synth(url, args.enterprises, args.products, 0, 1, None)
        on = AS_OF.isoformat()
        schema_before = _schema(dsn)
        with psycopg.connect(dsn) as c:
            counts = c.execute(
                "SELECT (SELECT count(*) FROM enterprise), (SELECT count(*) FROM product)"
            ).fetchone()
        print(
            f"data: {counts[0]:,} enterprises x {counts[1]} products (setup "  # type: ignore[index]
            f"{time.perf_counter() - started:.0f} s); load average {_load()}"
        )
        runs: list[dict] = []
        floors: list[float] = []
        copies: list[float] = []
        dump = Path(f"/tmp/{name}.bin")
        for round_ in range(1, args.rounds + 1):
            figures = _command(url, on)
            _stage(dsn, dump)
            # Alternate which floor goes first (the second finds more of the rows cached).
            if round_ % 2:
                floor, copied = _floor(dsn, "insert"), _floor(dsn, str(dump))
            else:
                copied, floor = _floor(dsn, str(dump)), _floor(dsn, "insert")
            runs.append(figures)
            floors.append(floor)
            copies.append(copied)
            best = min(floor, copied)
            print(
                f"round {round_}: command {figures['wall']:.1f} s (load "
                f"{figures.get('load_seconds', 0):.1f} + compute "
                f"{figures.get('compute_seconds', 0):.1f} + store "
                f"{figures.get('store_seconds', 0):.1f} s, {int(figures.get('rows', 0)):,} rows, "
                f"{figures['stored_by']}); floor: INSERT … SELECT {floor:.1f} s, COPY FREEZE "
                f"from a server file {copied:.1f} s; store / best floor "
                f"{figures.get('store_seconds', 0) / best:.2f}; load average {_load()}"
            )
        store = statistics.median(r.get("store_seconds", 0) for r in runs)
        floor, copied = statistics.median(floors), statistics.median(copies)
        ratios = [
            r.get("store_seconds", 0) / min(f, k)
            for r, f, k in zip(runs, floors, copies, strict=True)
        ]
        print(
            f"median of {args.rounds}: command {statistics.median(r['wall'] for r in runs):.1f} s "
            f"(load {statistics.median(r.get('load_seconds', 0) for r in runs):.1f}, compute "
            f"{statistics.median(r.get('compute_seconds', 0) for r in runs):.1f}, store "
            f"{store:.1f} s); floor: INSERT … SELECT {floor:.1f} s, COPY FREEZE from a server "
            f"file {copied:.1f} s; store / INSERT floor {store / floor:.2f}, store / COPY floor "
            f"{store / copied:.2f}; median of the rounds' store / best floor "
            f"{statistics.median(ratios):.2f}"
        )
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f"DROP TABLE IF EXISTS {STAGE}")
        dump.unlink(missing_ok=True)
        problems = _check(url, dsn, on, schema_before)
        if any(r["stored_by"] != "swap" for r in runs):
            problems.append("the store did not swap a fresh table in")
        for problem in problems:
            print(f"FAILED: {problem}")
        failed = bool(problems)
        print(
            f"checks: {'FAILED' if failed else 'stored rows = engine rows, schema as migrated'}"
            f"; load average {_load()}"
        )
    finally:
        if not args.keep:
            with psycopg.connect(args.server, autocommit=True) as c:
                c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                c.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

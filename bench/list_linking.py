"""Linking a government list against a large library, on PostgreSQL, through the service.

    .venv/bin/python bench/list_linking.py --library 500000 --names 2000 --repeat 3

Creates a fresh PostgreSQL database, migrates it, seeds the reference data and loads a
synthetic library of --library enterprises (`finmatch synth`'s loader). Builds a list of
--names names as lists arrive: half taken from the library and written differently (the place
in brackets, another legal form, a province in front, full-width letters, the short form),
a quarter invented (not in the library), a quarter from the library with a typo or with
another city; no credit codes, so every row is linked by name. Then times
`service.lists.service.preview_import` exactly as `POST /lists/imports` calls it: reading the
CSV, fetching the library's names, building the blocking index, linking every row and writing
the entries, --repeat times (each a new list type, so none is a re-import). Prints each run's
seconds and the outcome counts, and their median. Drops the database unless --keep."""

import argparse
import os
import random
import statistics
import time
import uuid

import psycopg

QUALIFICATION_TYPES = ("little_giant", "srdi_sme", "high_tech", "tech_sme", "eaglet", "gazelle")


def _variant(rng: random.Random, name: str) -> str:
    core = name
    for form in ("股份有限公司", "有限责任公司", "有限公司"):
        if core.endswith(form):
            core = core[: -len(form)]
            break
    place = ""
    for prefix in ("无锡市", "无锡", "江阴市", "江阴", "宜兴市", "宜兴"):
        if core.startswith(prefix):
            place, core = prefix, core[len(prefix) :]
            break
    kind = rng.randrange(5)
    if kind == 0:
        return f"{core}（{place.removesuffix('市') or '无锡'}）有限公司"
    if kind == 1:
        return f"{place}{core}股份有限公司"
    if kind == 2:
        return f"江苏{place}{core}有限公司"
    if kind == 3:
        return core  # the short form
    return f"{place}{core}有限公司".replace("a", "ａ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=int, default=500_000)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    from sqlalchemy.engine import make_url

    name = f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    database = make_url(args.server).set(database=name)
    url = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    dsn = database.set(drivername="postgresql").render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    try:
        from sqlmodel import Session

        from service.access.audit import SYSTEM
        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.lists.service import preview_import
        from service.main import wire
        from service.seeding import seed_reference
        from service.synth import run_synth

        started = time.perf_counter()
        run_migrations("head", url)
        engine = make_engine(url)
        wire()
        with Session(engine) as session:
            seed_reference(session)
        run_synth(url, args.library, 0, 0, 1, None)
        with psycopg.connect(dsn) as c:
            names = [r[0] for r in c.execute("SELECT name FROM enterprise ORDER BY id")]
        print(
            f"data: {len(names):,} library names; set up in {time.perf_counter() - started:.1f} s"
        )
        rng = random.Random(7)
        seconds = []
        for run in range(args.repeat):
            rows = []
            for i in range(args.names):
                r = i % 4
                if r in (0, 1):
                    rows.append(_variant(rng, rng.choice(names)))
                elif r == 2:
                    rows.append(
                        f"无锡{rng.choice('甲乙丙丁戊己庚辛')}{rng.randrange(10**6)}号科技有限公司"
                    )
                else:
                    picked = rng.choice(names)
                    rows.append(
                        picked.replace("无锡", "苏州", 1)
                        if "无锡" in picked
                        else picked[:-1] + "司"
                    )
            content = ("企业名称\n" + "\n".join(rows) + "\n").encode("utf-8")
            with Session(engine, expire_on_commit=False) as session:
                t0 = time.perf_counter()
                record, _ = preview_import(
                    session,
                    SYSTEM,
                    content,
                    "bench.csv",
                    QUALIFICATION_TYPES[run % 6],
                    title=f"bench {run}",
                )
                seconds.append(time.perf_counter() - t0)
            print(f"  run {run + 1}: {seconds[-1]:6.2f} s  {record.rows:,} rows  {record.counts}")
        print(f"median {statistics.median(seconds):.2f} s over {len(seconds)} runs")
        engine.dispose()
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(args.server, autocommit=True) as c:
                c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                c.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()

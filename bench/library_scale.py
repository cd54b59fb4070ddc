"""Library at city scale: load a synthetic library with `finmatch synth`'s loader into a fresh
PostgreSQL database, then time the library's reads on it.

    .venv/bin/python bench/library_scale.py --enterprises 500000 --products 500

Prints the load time and rows per table, then median / p90 latencies (in process, through the
service functions) of: a filtered page, a qualification-on-date page, a fuzzy name search, and
a catalogue page. The database is dropped at the end unless --keep is given. Exits non-zero
when the tables do not hold what the loader said it loaded.

    .venv/bin/python bench/library_scale.py --smoke

does the same with 2,000 enterprises, 50 products and 3 repetitions, in seconds."""

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402


def _timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=500_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a run of seconds on small sizes")
    args = parser.parse_args()
    if args.smoke:  # small sizes, unless given explicitly
        parser.set_defaults(enterprises=2_000, products=50, repeat=3)
        args = parser.parse_args()

    name = f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    try:
        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.seeding import seed_reference
        from service.synth import run_synth

        run_migrations("head", url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_reference(session)
        started = time.perf_counter()
        counts = run_synth(url, args.enterprises, args.products, None, 1, None)
        load_seconds = time.perf_counter() - started
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
            rows = {
                t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("enterprise", "qualification", "contact", "project", "product")
            }
        print(
            f"load: {load_seconds:.1f} s for {args.enterprises:,} enterprises "
            f"({args.enterprises / load_seconds:,.0f}/s); rows: {rows}; synth said {counts}"
        )
        loaded = {
            "enterprise": args.enterprises,
            "qualification": counts["qualifications"],
            "contact": counts["contacts"],
            "project": counts["projects"],
        }
        wrong = [f"{t}: {rows[t]:,} rows, {n:,} loaded" for t, n in loaded.items() if rows[t] != n]
        if counts["enterprises"] != args.enterprises or rows["product"] < args.products:
            wrong.append(f"asked for {args.enterprises:,} enterprises, {args.products} products")
        if wrong:
            raise SystemExit("the load is not what was asked: " + "; ".join(wrong))

        from service.access.audit import SYSTEM
        from service.core.pagination import PageParams
        from service.enterprises.service import EnterpriseFilters, list_enterprises
        from service.products.service import ProductFilters, list_products

        page = PageParams(limit=50)
        with Session(engine) as session:
            cases = {
                "page: cluster=ic, district=xinwu, size=small": lambda: list_enterprises(
                    session,
                    EnterpriseFilters(cluster="ic", district="xinwu", size_class="small"),
                    page,
                    SYSTEM,
                ),
                "page: qualification=high_tech valid today": lambda: list_enterprises(
                    session, EnterpriseFilters(qualification="high_tech"), page, SYSTEM
                ),
                "fuzzy name search over the whole library": lambda: list_enterprises(
                    session, EnterpriseFilters(name="无锡华光微电子股份有限公司"), page, SYSTEM
                ),
                "fuzzy name search within cluster=textile": lambda: list_enterprises(
                    session, EnterpriseFilters(name="江阴华光纺织", cluster="textile"), page, SYSTEM
                ),
                "catalogue page (50 products)": lambda: list_products(
                    session, ProductFilters(), page
                ),
            }
            for label, fn in cases.items():
                median, p90 = _timed(fn, args.repeat)
                print(f"{label:<48} median {median:8.1f} ms   p90 {p90:8.1f} ms")
        engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as c:
                c.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        else:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()

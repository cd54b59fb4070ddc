"""The renewal reminder run over a large loan book on PostgreSQL.

    .venv/bin/python bench/reminders_run.py --loans 1000000 --repeat 3

Creates a fresh PostgreSQL database, migrates it, seeds the reference data and a synthetic
library (--enterprises, with the seed's banks and --products products), then loads --loans
active loans in one INSERT … SELECT generate_series: spread over the banks and enterprises,
one in five a project loan, maturities spread evenly over the year from --as-of - 10 days (so
about one loan in eight is within the reminder window), and gives half the banks a webhook
endpoint (so the run writes the outbox too). Then times, with `service.loans.reminders.
run_reminders` exactly as `finmatch reminders run` calls it:

- **first run** on --as-of over the whole book (every stage already due is sent: the heaviest
  case, as after a long downtime or a first import), --repeat times, deleting what the run wrote
  (reminders, events, deliveries, cases) between repeats;
- **again** the same day (nothing is due: idempotent);
- **next day** (only the stages that fell due that day).

Prints each run's seconds, the reminders, events and webhook deliveries it wrote, and the
median of the first runs. The database is dropped at the end unless --keep is given. Exits
non-zero when the runs disagree: each first run must write the same reminders, one event each,
and the same day again nothing.

    .venv/bin/python bench/reminders_run.py --smoke

does the same with 3,000 loans over 300 enterprises, two first runs, in seconds."""

import argparse
import os
import statistics
import time
import uuid
from datetime import date, timedelta

import psycopg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 12, 1))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a run of seconds on small sizes")
    args = parser.parse_args()
    if args.smoke:  # small sizes, unless given explicitly
        parser.set_defaults(loans=3_000, enterprises=300, products=20, repeat=2)
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

        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.loans.reminders import run_reminders
        from service.main import wire
        from service.seeding import seed_reference
        from service.synth import run_synth

        started = time.perf_counter()
        run_migrations("head", url)
        engine = make_engine(url)
        wire()
        with Session(engine) as session:
            seed_reference(session)
        run_synth(url, args.enterprises, args.products, 0, 1, None)
        with psycopg.connect(dsn) as c:
            _load(c, args.loans, args.as_of)
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("VACUUM ANALYZE loan")
            banks, hooks = c.execute(
                "SELECT count(DISTINCT bank_code), "
                "(SELECT count(*) FROM webhook_endpoint) FROM loan"
            ).fetchone()
        print(
            f"data: {args.loans:,} active loans of {banks} banks ({hooks} with a webhook) over "
            f"{args.enterprises:,} enterprises; set up in {time.perf_counter() - started:.1f} s"
        )

        def timed(as_of: date, label: str) -> tuple[float, int, int]:
            with Session(engine, expire_on_commit=False) as session:
                t0 = time.perf_counter()
                run = run_reminders(session, as_of, trigger="bench")
                seconds = time.perf_counter() - t0
            with psycopg.connect(dsn) as c:
                events, deliveries = c.execute(
                    "SELECT (SELECT count(*) FROM bank_event WHERE type = 'loan.reminder'), "
                    "(SELECT count(*) FROM webhook_delivery)"
                ).fetchone()
            print(
                f"  {label:<24} as of {as_of}: {seconds:6.2f} s  {run.reminders:>8,} reminders "
                f"({run.late:,} late); in all {events:,} reminder events, "
                f"{deliveries:,} deliveries"
            )
            return seconds, run.reminders, events

        firsts = []
        for i in range(args.repeat):
            if i:
                _forget(dsn)
            firsts.append(timed(args.as_of, f"first run {i + 1}"))
        again = timed(args.as_of, "again, same day")
        next_day = timed(args.as_of + timedelta(days=1), "next day")
        print(
            f"first run: median {statistics.median(t for t, _, _ in firsts):.2f} s of {len(firsts)}"
        )
        engine.dispose()
        wrong = []
        if not firsts[0][1] or len({(n, events) for _, n, events in firsts}) != 1:
            wrong.append(f"first runs wrote {[(n, events) for _, n, events in firsts]}")
        if firsts[0][1] != firsts[0][2]:
            wrong.append("a first run's reminders and events differ")
        if again[1:] != (0, firsts[-1][2]):
            wrong.append(f"the same day again wrote {again[1]} reminders")
        if next_day[2] != firsts[-1][2] + next_day[1]:
            wrong.append("the next day's reminders and events differ")
        if wrong:
            raise SystemExit("; ".join(wrong))
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


def _load(c: psycopg.Connection, n: int, as_of: date) -> None:
    banks = [r[0] for r in c.execute("SELECT code FROM bank ORDER BY code")]
    c.execute(
        """
        INSERT INTO loan (bank_code, contract_no, enterprise_id, kind, principal_fen, rate_bp,
                          disbursed_date, maturity_date, status, source, version,
                          created_at, updated_at)
        SELECT b.codes[1 + g %% cardinality(b.codes)],
               'BENCH-' || g,
               e.ids[1 + (g::bigint * 7919) %% cardinality(e.ids)],
               CASE WHEN g %% 5 = 0 THEN 'project' ELSE 'working_capital' END,
               (10 + g %% 490) * 1000000::bigint,
               280 + g %% 200,
               %(as_of)s::date - 355 + (g %% 365),
               %(as_of)s::date - 10 + (g %% 365),
               'active', 'import', 1, now(), now()
        FROM generate_series(1, %(n)s) AS g,
             (SELECT array_agg(code ORDER BY code) AS codes FROM bank) AS b,
             (SELECT array_agg(id ORDER BY id) AS ids FROM enterprise) AS e
        """,
        {"n": n, "as_of": as_of},
    )
    for i, bank in enumerate(banks[::2]):
        c.execute(
            "INSERT INTO webhook_endpoint (bank_code, url, secret, enabled, version, "
            "created_at, updated_at) VALUES (%s, %s, %s, true, 1, now(), now())",
            (bank, f"http://127.0.0.1:9/bank-{i}", "whsec_" + "A" * 32),
        )
    c.commit()


def _forget(dsn: str) -> None:
    """Undo what the runs wrote, so the next first run starts from the same book."""
    with psycopg.connect(dsn) as c:
        c.execute(
            "TRUNCATE webhook_attempt, webhook_delivery, job, bank_event, renewal_case, "
            "loan_reminder, reminder_run"
        )
        c.execute("UPDATE bank_feed SET last_seq = 0")
        c.commit()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()

"""Support policies at city scale: re-evaluating every enterprise's entitlements under every
policy in force (`service.policies.jobs.reevaluate`, the batch engine) on PostgreSQL.

    .venv/bin/python bench/policy_eval.py --enterprises 500000 --policies 50 --rounds 3

Creates a fresh PostgreSQL database, migrates it, seeds the reference data (the catalogue's
42 products, the city's 9 policies) and loads a synthetic library with `finmatch synth`'s
loader; adds with set-based SQL the facts it does not give (bench/apps/policy_library.py:
recognitions only the policies name, large transformation projects of last year, --loans
loans under the catalogue's products, awards already recorded) and synthetic policies up to
--policies (interest subsidies, awards, transformation variants). Then, as of synth's AS_OF,
--rounds times each (medians printed):

- **first run** on an empty entitlement table (every entitlement and its notice written,
  emptied between rounds): first a reference writer on a connection of its own
  (bench/apps/policy_writes.py: the engine's result by binary COPY, then one INSERT … ON
  CONFLICT … RETURNING feeding the notices), then `reevaluate(session, None, trigger="policy")` and commit. Below
  --job-whole-below enterprises (2 million) the job runs over the library; from there on it
  runs on --slice enterprises whose entitlements were deleted, the rest of the table in place,
  and the time for the library is estimated from it (printed as an estimate);
- **steady**: the same again, nothing changed (the library read, every policy evaluated, no
  difference written): the figure the target of 10 s for 500,000 enterprises and 50 policies
  is about; then the same steps one by one, timed apart: the rules and the facts read
  (`store.rules_in_force`, `store.read_columns`: binary COPY into numpy on PostgreSQL), every
  policy evaluated (`jobs.find`), the difference found and written (`jobs.write`: the stored
  entitlements by binary COPY, compared in numpy);
- **new version**: the office adds a version of the interest subsidy with the most
  entitlements (its share moved by round), then the library is re-evaluated: every
  entitlement of that policy changed, none new;
- **targeted**: --batch enterprises re-evaluated as a trigger job does, one in ten of them
  given a new 专精特新 recognition first;
- the **set-based baseline**: each award policy evaluated inside PostgreSQL by one statement
  (window functions rank an enterprise's awards of a type; the versions' days, 民营, area,
  size; less the awards recorded), `SELECT count(*), sum(amount)` per policy, against the
  batch engine on the same policies; their ratio;
- the **library read** both ways side by side: by binary COPY as the job reads it on
  PostgreSQL, and row by row through SQLAlchemy as on SQLite (`store.read_columns_by_rows`),
  checked to give the same facts.

Prints the peak RSS of this process and the load average (the machine may be shared). Exits
non-zero when a check fails: the first run writes one notice per entitlement; the steady run
writes nothing; the stored current entitlements are exactly the batch engine's; on --sample
random enterprises `rules.evaluate_policy` over `store.read_facts` finds the same policies
and amounts; the set-based baseline finds the same enterprises and amounts as the engine; the
COPY read's facts equal the row-by-row read's. The database is dropped at the end (also on Ctrl-C) unless
--keep is given.

    .venv/bin/python bench/policy_eval.py --smoke

does the same with 3,000 enterprises, 12 policies and one round, in seconds."""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "apps"))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _rss() -> str:
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"


def _median(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=500_000)
    parser.add_argument("--policies", type=int, default=50)
    parser.add_argument("--loans", type=int, help="default: 3 for every 5 enterprises")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument(
        "--job-whole-below",
        type=int,
        default=2_000_000,
        help="libraries this large or larger time the job's first run on --slice enterprises",
    )
    parser.add_argument("--slice", type=int, default=5_000)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a run of seconds on small sizes")
    args = parser.parse_args()
    if args.smoke:  # small sizes, unless given explicitly
        parser.set_defaults(enterprises=3_000, policies=12, rounds=1)
        args = parser.parse_args()
    if args.loans is None:
        args.loans = args.enterprises * 3 // 5

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
    print(
        f"commit {commit}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average {_load()}"
    )
    problems: list[str] = []
    try:
        problems = _run(args, url, dsn)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(args.server, autocommit=True) as c:
                c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                c.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
    for problem in problems:
        print(f"FAILED: {problem}")
    sys.exit(1 if problems else 0)


def _run(args: argparse.Namespace, url: str, dsn: str) -> list[str]:
    from policy_library import add_facts, add_grants, insert_policies, synthetic_policies
    from policy_writes import write_new
    from sqlmodel import Session

    from service.cli import run_migrations
    from service.core.database import make_engine
    from service.policies import jobs, store
    from service.policies.batch import evaluate_policy_all
    from service.policies.rules import Scheme
    from service.seeding import seed_reference
    from service.synth import AS_OF, run_synth

    as_of = AS_OF
    started = time.perf_counter()
    run_migrations("head", url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_reference(session)
    run_synth(url, args.enterprises, 0, None, 1, None)
    with psycopg.connect(dsn) as c:
        seeded = c.execute("SELECT count(*) FROM policy").fetchone()[0]  # type: ignore[index]
        insert_policies(c, synthetic_policies(max(0, args.policies - seeded)))
        counts = add_facts(c, args.loans, as_of)
        counts["grants"] = add_grants(c, as_of)
        c.commit()
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
        counts["tech projects last year"] = c.execute(
            "SELECT count(*) FROM project WHERE kind = 'tech_transformation' AND year = %s",
            (as_of.year - 1,),
        ).fetchone()[0]  # type: ignore[index]
    with Session(engine) as session:
        rules = store.rules_in_force(session, as_of)
    by_scheme = {s.value: sum(p.current.scheme == s for p in rules) for s in Scheme}
    print(
        f"data: {args.enterprises:,} enterprises, {counts['qualifications']:,} qualifications, "
        f"{counts['projects']:,} projects ({counts['tech projects last year']:,} technology "
        f"transformation of {as_of.year - 1}), {counts['loans']:,} loans, {counts['grants']:,} "
        f"grants; {len(rules)} policies in force on {as_of} {by_scheme} (setup "
        f"{time.perf_counter() - started:.0f} s); load average {_load()}"
    )
    problems: list[str] = []

    def reevaluate(ids: list[int] | None, trigger: str) -> tuple[float, dict[str, Any]]:
        with Session(engine) as session:
            t0 = time.perf_counter()
            result = jobs.reevaluate(session, ids, trigger=trigger, as_of=as_of)
            session.commit()
            return time.perf_counter() - t0, result

    # a. The first run: every entitlement new. The reference writer first (COPY, one
    # statement), then the job itself over the library, or on slices above a size where its
    # first run takes too long to repeat (it then finds the rest of the table written).
    def empty() -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("TRUNCATE policy_notice, policy_entitlement RESTART IDENTITY")
            c.execute("VACUUM ANALYZE policy_notice, policy_entitlement")

    copies = []
    for round_ in range(1, args.rounds + 1):
        empty()
        with Session(engine) as session:
            t0 = time.perf_counter()
            policies = store.rules_in_force(session, as_of)
            columns = store.read_columns(session, None)
            written = write_new(dsn, jobs.find(policies, columns, as_of), "policy")
            copies.append(time.perf_counter() - t0)
        print(
            f"first run, reference writer {round_}: {copies[-1]:6.2f} s (read, evaluate, COPY "
            f"and one INSERT … RETURNING): {written[0]:,} entitlements, {written[1]:,} notices"
        )
    firsts: list[float] = []
    first: dict[str, Any] = {"entitled": written[0], "new": written[0], "notified": written[1]}
    whole = args.enterprises < args.job_whole_below
    if whole:
        empty()
    ids_in_order = columns.enterprise_ids.tolist()
    per_row = []
    for round_ in range(1, args.rounds + 1):
        if whole and round_ > 1:
            empty()
        piece = None if whole else ids_in_order[(round_ - 1) * args.slice : round_ * args.slice]
        if piece is not None:
            with psycopg.connect(dsn) as c:
                c.execute("DELETE FROM policy_notice WHERE enterprise_id = ANY(%s)", (piece,))
                c.execute("DELETE FROM policy_entitlement WHERE enterprise_id = ANY(%s)", (piece,))
        seconds, result = reevaluate(piece, "policy")
        if whole:
            first = result
        firsts.append(seconds)
        per_row.append(seconds / max(1, result["new"]) * 1000)
        print(
            f"first run, the job {round_}: {seconds:6.2f} s for "
            f"{'the library' if whole else f'{len(piece):,} enterprises'}: "  # type: ignore[arg-type]
            f"{result['entitled']:,} entitled, {result['new']:,} new, {result['notified']:,} "
            f"notices ({per_row[-1]:.2f} ms a new entitlement); peak RSS {_rss()}; "
            f"load average {_load()}"
        )
    if not whole:
        print(
            f"first run, the job: not run over the library at this size; at the median "
            f"{statistics.median(per_row):.2f} ms a new entitlement its {first['new']:,} would "
            f"take about {statistics.median(per_row) * first['new'] / 60_000:.0f} min"
        )
    with psycopg.connect(dsn, autocommit=True) as c:
        stored = c.execute(
            "SELECT (SELECT count(*) FROM policy_entitlement), (SELECT count(*) FROM policy_notice)"
        ).fetchone()
        c.execute("VACUUM ANALYZE policy_notice, policy_entitlement")
    assert stored is not None
    if not (stored[0] == stored[1] == first["new"] == first["entitled"] == written[0]):
        problems.append(f"first run: {stored} entitlements/notices stored, result {first}")
    if whole and first["notified"] != stored[1]:
        problems.append(f"first run: {stored[1]:,} notices written, result says {first}")

    # b. Steady state: nothing changed, nothing to write.
    steadies = []
    for round_ in range(1, args.rounds + 1):
        seconds, steady = reevaluate(None, "daily")
        steadies.append(seconds)
        wrote = {k: steady[k] for k in ("new", "changed", "revived", "lapsed", "notified")}
        if any(wrote.values()):
            problems.append(f"steady run {round_} wrote {wrote}")
        print(
            f"steady {round_}: {seconds:6.2f} s  {steady['entitled']:,} entitled, wrote {wrote}; "
            f"peak RSS {_rss()}; load average {_load()}"
        )
    parts: dict[str, list[float]] = {"rules": [], "read": [], "evaluate": [], "write": []}
    columns = None
    for round_ in range(1, args.rounds + 1):
        columns = None  # the previous round's arrays freed before this round reads
        with Session(engine) as session:
            t_rules, policies = _timed(lambda: store.rules_in_force(session, as_of))
            t_read, columns = _timed(lambda: store.read_columns(session, None))
            t0 = time.perf_counter()
            found = jobs.find(policies, columns, as_of)
            t_eval = time.perf_counter() - t0
            t0 = time.perf_counter()
            wrote = jobs.write(session, None, found, "daily")
            t_write = time.perf_counter() - t0
            session.commit()
        for key, value in zip(parts, (t_rules, t_read, t_eval, t_write), strict=True):
            parts[key].append(value)
        if wrote["new"] or wrote["changed"] or wrote["lapsed"] or wrote["revived"]:
            problems.append(f"steady run by steps {round_} wrote {wrote}")
        print(
            f"steady by steps {round_}: rules {t_rules:.2f} s, read_columns {t_read:.2f} s, "
            f"evaluate {len(policies)} policies {t_eval:.2f} s, diff and write {t_write:.2f} s; "
            f"peak RSS {_rss()}"
        )
    assert columns is not None

    # b2. A new version of the interest subsidy with the most entitlements (its share moved),
    # as the office adds one: every enterprise re-evaluated, its entitlements' amounts changed.
    changes = []
    for round_ in range(1, args.rounds + 1):
        seconds, changed, code = _new_version(engine, as_of, round_, reevaluate)
        changes.append(seconds)
        wrote = {k: changed[k] for k in ("new", "changed", "revived", "lapsed", "notified")}
        if not changed["changed"] or changed["new"] or changed["notified"]:
            problems.append(f"new version {round_} of {code} wrote {wrote}")
        print(
            f"new version {round_} of {code}: {seconds:6.2f} s, wrote {wrote}; peak RSS "
            f"{_rss()}; load average {_load()}"
        )

    # c. Targeted: a trigger job's batch, some of it with a new recognition.
    rng = random.Random(7)
    all_ids = columns.enterprise_ids.tolist()
    targeted = []
    for round_ in range(1, args.rounds + 1):
        ids = sorted(rng.sample(all_ids, min(args.batch, len(all_ids))))
        with psycopg.connect(dsn) as c:
            c.execute(
                "INSERT INTO qualification (enterprise_id, type_code, issued_date, source, "
                "created_at) SELECT unnest(%s::int[]), 'srdi_sme', %s, '基准测试补充', now() "
                "ON CONFLICT DO NOTHING",
                (ids[::10], as_of - timedelta(days=round_)),
            )
        seconds, result = reevaluate(ids, "qualification")
        targeted.append(seconds)
        print(
            f"targeted {round_}: {seconds:6.2f} s for {len(ids)} enterprises: "
            f"{result['entitled']:,} entitled, {result['new']} new, {result['changed']} "
            f"changed, {result['lapsed']} lapsed"
        )
    print(
        f"median of {args.rounds}: steady {_median(steadies)} "
        f"(rules {_median(parts['rules'])}, read_columns {_median(parts['read'])}, evaluate "
        f"{_median(parts['evaluate'])}, diff and write {_median(parts['write'])}), new version "
        f"{_median(changes)}, targeted "
        f"{args.batch} {_median(targeted)}, first run: reference writer {_median(copies)}, "
        f"the job {_median(firsts)} ({'library' if whole else f'{args.slice:,} enterprises'}); "
        f"peak RSS {_rss()}; load average {_load()}"
    )

    # The library as it now is: the engine's view, and the checks against it.
    with Session(engine) as session:
        policies = store.rules_in_force(session, as_of)
        t_read, columns = _timed(lambda: store.read_columns(session, None))
    results = {p.policy.code: evaluate_policy_all(p.rules, columns, as_of) for p in policies}
    engine_rows = {
        (int(e), code, int(a))
        for code, r in results.items()
        for e, a in zip(columns.enterprise_ids[r.rows], r.amounts, strict=True)
    }
    problems += _check_stored(dsn, engine_rows, {code: r.period for code, r in results.items()})
    problems += _check_sample(engine, policies, columns, results, args.sample, as_of)
    problems += _baseline(dsn, policies, columns, results, as_of, args.rounds)
    problems += _reads(engine, columns, args.rounds)
    engine.dispose()
    print(
        "checks: "
        + (
            "FAILED"
            if problems
            else "first run = one notice per entitlement, steady run wrote nothing, stored = "
            "engine, sample = rules, set-based = engine, COPY read = rows read"
        )
        + f"; peak RSS {_rss()}; load average {_load()}"
    )
    return problems


def _new_version(
    engine: Any, as_of: date, round_: int, reevaluate: Callable[..., Any]
) -> tuple[float, dict[str, Any], str]:
    """Adds a version (in force from ``as_of``) to the interest subsidy with the most current
    entitlements, its share moved up or down by round, through
    ``service.add_version`` as the office does; times the library's re-evaluation."""
    from sqlalchemy import text
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.policies import service, store
    from service.policies.rules import Scheme
    from service.policies.schemas import VersionCreate

    with Session(engine) as session:
        counts = dict(
            session.execute(  # type: ignore[arg-type]
                text(
                    "SELECT policy_code, count(*) FROM policy_entitlement "
                    "WHERE status = 'current' GROUP BY policy_code"
                )
            ).all()
        )
        subsidies = [
            r
            for r in store.rules_in_force(session, as_of)
            if r.current.scheme == Scheme.interest_subsidy
        ]
        current = max(subsidies, key=lambda r: (counts.get(r.policy.code, 0), r.policy.code))
        code = current.policy.code
        version = service.parameters_of(current.in_force)
        version.share_bp = max(1, version.share_bp + (100 if round_ % 2 else -100))
        service.add_version(
            session,
            SYSTEM,
            code,
            VersionCreate(effective_from=as_of, parameters=version, note=f"round {round_}"),
        )
    seconds, result = reevaluate(None, "policy")
    return seconds, result, code


def _check_stored(dsn: str, engine_rows: set, periods: dict[str, str]) -> list[str]:
    with psycopg.connect(dsn) as c:
        rows = c.execute(
            "SELECT enterprise_id, policy_code, amount_fen, period FROM policy_entitlement "
            "WHERE status = 'current'"
        ).fetchall()
    stored = {(e, code, a) for e, code, a, period in rows if periods.get(code) == period}
    if stored != engine_rows:
        return [
            f"stored current entitlements differ from the engine's: {len(stored - engine_rows)} "
            f"only stored, {len(engine_rows - stored)} only the engine's"
        ]
    return []


def _check_sample(
    engine: Any, policies: list, columns: Any, results: dict, sample: int, as_of: date
) -> list[str]:
    """``rules.evaluate_policy`` one enterprise at a time equals the engine on a sample."""
    from sqlmodel import Session

    from service.policies import store
    from service.policies.rules import evaluate_policy

    rng = random.Random(11)
    ids = sorted(rng.sample(columns.enterprise_ids.tolist(), min(sample, columns.count)))
    row_of = {int(e): i for i, e in enumerate(columns.enterprise_ids)}
    with Session(engine) as session:
        library = store.read_facts(session, ids)
    by_engine: dict[int, dict[str, int]] = {e: {} for e in ids}
    for code, r in results.items():
        entitled = dict(zip(r.rows.tolist(), r.amounts.tolist(), strict=True))
        for e in ids:
            if row_of[e] in entitled:
                by_engine[e][code] = entitled[row_of[e]]
    wrong = 0
    entitled_seen = 0
    for facts in library:
        one = {}
        for p in policies:
            ev = evaluate_policy(p.rules, facts, as_of)
            if ev.eligible and ev.amount_fen > 0:
                one[p.policy.code] = ev.amount_fen
        entitled_seen += len(one)
        if one != by_engine[facts.enterprise_id]:
            wrong += 1
            if wrong <= 3:
                print(
                    f"  enterprise {facts.enterprise_id}: rules {one}, engine {by_engine[facts.enterprise_id]}"
                )
    print(
        f"sample: {len(library)} enterprises, {entitled_seen} entitlements by rules.evaluate_policy"
        f" over store.read_facts; {wrong} differ from the engine"
    )
    if len(library) != len(ids) or wrong:
        return [f"sample: {wrong} of {len(ids)} enterprises differ from the engine"]
    return []


def _baseline(
    dsn: str, policies: list, columns: Any, results: dict, as_of: date, rounds: int
) -> list[str]:
    """The award policies in one statement each inside PostgreSQL, against the engine."""
    from policy_library import award_sql

    from service.core.settings import get_settings
    from service.policies.batch import evaluate_policy_all

    prefixes = get_settings().service_area_prefixes
    statements = {p.policy.code: award_sql(p, as_of, prefixes) for p in policies}
    awards = [p for p in policies if statements[p.policy.code]]
    skipped = [
        p.policy.code
        for p in policies
        if p.current.scheme == "qualification_award" and not statements[p.policy.code]
    ]
    problems = []
    sql_times, engine_times = [], []
    with psycopg.connect(dsn) as c:
        for _ in range(rounds):
            t0 = time.perf_counter()
            for p in awards:
                c.execute(f"SELECT count(*), sum(amount) FROM ({statements[p.policy.code]}) x")  # type: ignore[arg-type]
            sql_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for p in awards:
                evaluate_policy_all(p.rules, columns, as_of)
            engine_times.append(time.perf_counter() - t0)
        entitled = 0
        for p in awards:
            rows = c.execute(statements[p.policy.code]).fetchall()  # type: ignore[arg-type]
            r = results[p.policy.code]
            mine = set(
                zip(columns.enterprise_ids[r.rows].tolist(), r.amounts.tolist(), strict=True)
            )
            entitled += len(rows)
            if set(rows) != mine or len(rows) != len(mine):
                problems.append(
                    f"set-based {p.policy.code}: {len(set(rows) - mine)} only in SQL, "
                    f"{len(mine - set(rows))} only the engine's"
                )
    sql, mine = statistics.median(sql_times), statistics.median(engine_times)
    print(
        f"set-based baseline, {len(awards)} award policies ({entitled:,} entitlements"
        f"{', not expressed: ' + ', '.join(skipped) if skipped else ''}): PostgreSQL "
        f"{sql:.2f} s, batch engine {mine:.3f} s on columns already read; PostgreSQL / engine "
        f"{sql / mine:.0f}x (median of {rounds})"
    )
    return problems


def _reads(engine: Any, columns: Any, rounds: int) -> list[str]:
    """The library's facts read as the job reads them on PostgreSQL (binary COPY into numpy,
    ``store.read_columns``) and row by row through SQLAlchemy as on SQLite
    (``store.read_columns_by_rows``), side by side in rounds; the two checked equal."""
    from sqlmodel import Session

    from service.policies import store

    copied, by_rows = [], []
    rows = None
    for _ in range(rounds):
        with Session(engine) as session:
            t, _columns = _timed(lambda: store.read_columns(session, None))
            copied.append(t)
            rows = None
            t, rows = _timed(lambda: store.read_columns_by_rows(session, None))
            by_rows.append(t)
    assert rows is not None
    equal = columns.decoded() == rows.decoded()
    ratios = [b / a for a, b in zip(copied, by_rows, strict=True)]
    print(
        f"library read, median of {rounds}: binary COPY {_median(copied)}, row by row "
        f"{_median(by_rows)}, row by row / COPY {statistics.median(ratios):.1f}x; "
        f"{'equal' if equal else 'DIFFERENT'} facts; peak RSS {_rss()}"
    )
    return [] if equal else ["the COPY read's facts differ from the row-by-row read's"]


if __name__ == "__main__":
    main()

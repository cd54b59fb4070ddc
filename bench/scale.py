"""The matching engine and its stored matches at provincial scale: millions of enterprises ×
1,000 products, for docs/SCALE.md.

    .venv/bin/python bench/scale.py engine --enterprises 2000000 --products 1000 --reference 0
    .venv/bin/python bench/scale.py store --enterprises 2000000 --products 1000

``engine``: no database. The library is the first N enterprises of `finmatch synth`'s generator
as the engine's arrays (``bench/match_engine.py``'s data, drawn in worker processes, not
counted), the catalogue its first P products. Prints the median time of ``engine.match_all``,
its tracemalloc peak, the process's ru_maxrss, the library arrays' size, the rows kept and the
time of ``Matches.rows``; with ``--reference R`` also the plain reference kernel R times and
whether both give identical top-K lists (it takes about 12 s at 500,000 × 500 and grows with
enterprises × products).

``store``: a fresh PostgreSQL database, `finmatch migrate`, `seed`, `synth --enterprises N
--products P` (timed), then `finmatch match --all --on 2026-11-01` (``--runs`` times: the first
into an empty table, the others replacing every row), each as its own process (wall time, the
load / compute / store seconds it prints, its peak RSS); the stored table's size and rows; then
in process, through the use cases: a page of a product's prospects (the feed a bank reads from
the stored matches) and one enterprise's recommendations. The database is dropped at the end
unless ``--keep``; ``--database NAME --skip-load`` reuses a kept one.

Every figure is printed with the load average of the moment (the machine is shared)."""

import argparse
import gc
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ON = "2026-11-01"  # the synthetic library's AS_OF


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- engine ----------------------------------------------------------------------------------


def run_engine(args: argparse.Namespace) -> bool:
    import numpy as np
    from match_engine import catalogue, library_arrays, reference_kernel, scoring_config

    from service.matching.engine import match_all

    config = scoring_config()
    started = time.perf_counter()
    arrays = library_arrays(args.enterprises, args.workers)
    products = catalogue(args.products)
    nbytes = sum(v.nbytes for v in vars(arrays).values() if isinstance(v, np.ndarray))
    print(
        f"data: {len(arrays):,} enterprises × {len(products)} products, generated in "
        f"{time.perf_counter() - started:.1f} s (not counted); library arrays {mib(nbytes)}; "
        f"ru_maxrss before the engine {rss_mib():,.0f} MiB; {load()}",
        flush=True,
    )
    times, cpu = [], []
    matches = None
    for _ in range(args.repeat):
        matches = None
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        matches = match_all(arrays, products, config)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        print(f"  match_all {times[-1]:.2f} s, CPU {cpu[-1]:.2f} s ({load()})", flush=True)
    rss_engine = rss_mib()
    matches = None
    gc.collect()
    tracemalloc.start()
    matches = match_all(arrays, products, config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = int((matches.top_products >= 0).sum())
    prospects = sum(len(pos) for pos, _ in matches.prospects)
    print(
        f"engine match_all: median {statistics.median(times):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}), CPU median {statistics.median(cpu):.2f} s; kept {kept:,} enterprise matches, "
        f"{prospects:,} product prospects; tracemalloc peak {mib(peak)}; "
        f"ru_maxrss after the engine runs {rss_engine:,.0f} MiB; {load()}",
        flush=True,
    )
    row_times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = matches.rows()
        row_times.append(time.perf_counter() - t)
        del rows
    tracemalloc.start()
    rows = matches.rows()
    _, rows_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_rows = len(rows["enterprise_id"])
    del rows
    print(
        f"rows for storage (Matches.rows): median {statistics.median(row_times):.2f} s for "
        f"{n_rows:,} rows ({n_rows / len(arrays):.2f} per enterprise), tracemalloc peak "
        f"{mib(rows_peak)}; ru_maxrss {rss_mib():,.0f} MiB; {load()}",
        flush=True,
    )
    ok = kept > 0 and n_rows >= kept
    if args.reference:
        ref_times, ref_cpu = [], []
        same = True
        for _ in range(args.reference):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            ref_p, ref_s, ref_prospects = reference_kernel(arrays, products, config)
            ref_times.append(time.perf_counter() - t)
            ref_cpu.append(time.process_time() - c)
            print(
                f"  reference {ref_times[-1]:.2f} s, CPU {ref_cpu[-1]:.2f} s ({load()})", flush=True
            )
            same &= (
                np.array_equal(ref_p, matches.top_products)
                and np.array_equal(ref_s, matches.top_scores)
                and all(
                    np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                    for a, b in zip(ref_prospects, matches.prospects, strict=True)
                )
            )
            del ref_p, ref_s, ref_prospects
        ratio = statistics.median(ref_times) / statistics.median(times)
        ratio_cpu = statistics.median(ref_cpu) / statistics.median(cpu)
        print(
            f"reference kernel: median {statistics.median(ref_times):.2f} s "
            f"(runs {', '.join(f'{t:.2f}' for t in ref_times)}), CPU median "
            f"{statistics.median(ref_cpu):.2f} s; ratio reference / engine {ratio:.1f}× "
            f"(CPU {ratio_cpu:.1f}×); identical top-K lists: {same}; {load()}",
            flush=True,
        )
        ok &= same
    print(f"process ru_maxrss at the end: {rss_mib():,.0f} MiB")
    return ok


# --- store -----------------------------------------------------------------------------------


CODE = ROOT  # the source tree the `finmatch` commands run from (--code)


@dataclass
class Ran:
    wall: float  # seconds
    out: str
    rss: float  # peak RSS of the command's process, MiB
    cpu: float  # CPU seconds of the command's process (user + system)
    server: float  # CPU seconds of the PostgreSQL server processes serving its database


class ServerCpu:
    """CPU time of the server processes of one database (the server runs on this machine),
    sampled from /proc twice a second while a command runs: backends (and their parallel
    workers) end with the command, so each one's last sample counts."""

    def __init__(self, database: str) -> None:
        self.tag = f" {database} "
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if not command.startswith("postgres: "):
                    continue
                ours = self.tag in command or any(
                    f"parallel worker for PID {pid}" in command for pid in list(self.seen)
                )
                if ours:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    self.seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError):
                continue

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self._sample()

    def __enter__(self) -> "ServerCpu":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def cli(url: str, *words: str) -> Ran:
    """Run `finmatch WORDS` as its own process: wall seconds, its output, its peak RSS and CPU
    time, and its database server processes' CPU time."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(CODE)}
    database = url.rsplit("/", 1)[1]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log, ServerCpu(database) as server:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *words],
            cwd=CODE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS and CPU
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        out = log.read()
    if proc.returncode:
        raise SystemExit(f"finmatch {' '.join(words)} failed ({proc.returncode}):\n{out[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Ran(wall, out, usage.ru_maxrss / 1024, cpu, server.seconds)


def figures(out: str) -> dict[str, float]:
    """The numbers `finmatch match --all` prints in its stats (rich's rendering of a dict)."""
    return {k: float(v) for k, v in re.findall(r"'(\w+)': (-?[\d.]+)", out)}


BACKEND: list[int] = []  # the server process of the reads' session


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """Median and p90 wall milliseconds of ``fn``, and its CPU milliseconds per call, this
    process's and its server process's together (the machine is shared: CPU is the figure
    that load does not inflate much)."""
    samples = []
    cpu = time.process_time() + sum(process_cpu(pid) for pid in BACKEND)
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    cpu = time.process_time() + sum(process_cpu(pid) for pid in BACKEND) - cpu
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))], cpu / repeat * 1000


def table_sizes(conn) -> list[tuple[str, int]]:
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC LIMIT 8"
        )
    ).all()
    return [(r[0], int(r[1])) for r in rows]


def match_table(conn) -> dict:
    from sqlalchemy import text

    one = conn.execute(
        text(
            "SELECT count(*), count(enterprise_rank), count(product_rank), "
            "pg_relation_size('enterprise_match'), pg_indexes_size('enterprise_match'), "
            "pg_total_relation_size('enterprise_match') FROM enterprise_match"
        )
    ).one()
    indexes = conn.execute(
        text(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = 'enterprise_match'::regclass ORDER BY 1"
        )
    ).all()
    return {
        "rows": one[0],
        "enterprise_rank": one[1],
        "product_rank": one[2],
        "heap": one[3],
        "indexes": one[4],
        "total": one[5],
        "each": {name: int(size) for name, size in indexes},
    }


def reads(url: str, enterprises: int, repeat: int, rematch: int) -> bool:
    from sqlalchemy import text
    from sqlmodel import Session

    from service.access.audit import SYSTEM
    from service.core.database import make_engine
    from service.core.pagination import PageParams
    from service.matching.prospects import prospects
    from service.matching.recommendations import recommend_for_enterprise

    engine = make_engine(url)
    ok = True
    with Session(engine) as session:
        BACKEND[:] = [session.execute(text("SELECT pg_backend_pid()")).scalar_one()]
        busiest = session.execute(
            text(
                "SELECT p.code, count(*) FROM enterprise_match m JOIN product p "
                "ON p.id = m.product_id GROUP BY p.code ORDER BY 2 DESC LIMIT 1"
            )
        ).one()
        codes = list(session.scalars(text("SELECT code FROM product WHERE status = 'active'")))
        rng = Random(11)
        for label, code in (
            (f"the product with the most stored rows ({busiest[1]:,})", busiest[0]),
            ("a product drawn at random", rng.choice(codes)),
        ):
            first = prospects(session, code, PageParams(limit=50), SYSTEM)
            ok &= len(first.items) > 0 or code != busiest[0]
            median, p90, cpu = timed(
                lambda code=code: prospects(session, code, PageParams(limit=50), SYSTEM), repeat
            )
            second = PageParams(limit=50, cursor=first.next_cursor)
            m2, p2, cpu2 = timed(lambda c=code, s=second: prospects(session, c, s, SYSTEM), repeat)
            session.rollback()
            print(
                f"prospects page of 50, {label}: median {median:.1f} ms, p90 {p90:.1f} ms, "
                f"CPU {cpu:.1f} ms; second page median {m2:.1f} ms, p90 {p2:.1f} ms, CPU "
                f"{cpu2:.1f} ms (CPU: here + server, per call); {load()}",
                flush=True,
            )
        ids = [rng.randint(1, enterprises) for _ in range(repeat)]
        recommend_for_enterprise(session, ids[0], SYSTEM)  # the per-process catalogue copy
        got = []
        it = iter(ids)

        def one() -> None:
            got.append(len(recommend_for_enterprise(session, next(it), SYSTEM).items))
            session.rollback()

        median, p90, cpu = timed(one, repeat)
        ok &= any(got)
        print(
            f"one enterprise's recommendations ({repeat} enterprises drawn at random, "
            f"median {statistics.median(got):.0f} products): median {median:.1f} ms, "
            f"p90 {p90:.1f} ms, CPU {cpu:.1f} ms; {load()}",
            flush=True,
        )
        stored = text(
            "SELECT product_id, score_centi FROM enterprise_match WHERE enterprise_id = :e "
            "AND enterprise_rank IS NOT NULL ORDER BY enterprise_rank"
        )
        it = iter(ids)
        median, p90, cpu = timed(lambda: session.execute(stored, {"e": next(it)}).all(), repeat)
        print(
            f"one enterprise's stored top products (SQL): median {median:.2f} ms, "
            f"p90 {p90:.2f} ms, CPU {cpu:.2f} ms; {load()}",
            flush=True,
        )
        if rematch:
            # A product change's job on the whole library (its transaction rolled back).
            from service.matching import upkeep

            product_id = session.scalar(
                text("SELECT id FROM product WHERE code = :c"), {"c": busiest[0]}
            )
            samples = []
            for _ in range(rematch):
                t = time.perf_counter()
                stats = upkeep.rematch_product(session, product_id, on=date.fromisoformat(ON))
                samples.append(time.perf_counter() - t)
                session.rollback()
            print(
                f"rematch_product of the product with the most stored rows: "
                f"{', '.join(f'{s:.1f}' for s in samples)} s ({stats}); {load()}",
                flush=True,
            )
    engine.dispose()
    return ok


def run_store(args: argparse.Namespace) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    print(
        f"disk free on {ROOT}: {shutil.disk_usage(ROOT).free / 2**30:.1f} GiB; {load()}",
        flush=True,
    )
    name = args.database or f"finmatch_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    if not args.skip_load:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    ok = True
    try:
        if not args.skip_load:
            cli(url, "migrate")
            cli(url, "seed")
            print(f"database {name}: migrated and seeded", flush=True)
            ran = cli(
                url,
                "synth",
                "--enterprises",
                str(args.enterprises),
                "--products",
                str(args.products),
            )
            wall, done = ran.wall, figures(ran.out)
            print(
                f"synth: {wall:.1f} s wall for {args.enterprises:,} enterprises × "
                f"{args.products} products ({args.enterprises / wall:,.0f} enterprises/s); "
                f"loader said {json.dumps(done)}; peak RSS {ran.rss:,.0f} MiB, CPU "
                f"{ran.cpu:.0f} s (the loader and its workers) + {ran.server:.0f} s server; "
                f"{load()}",
                flush=True,
            )
        engine = create_engine(url)
        with engine.connect() as c:
            print(
                "tables before matching: "
                + ", ".join(f"{t} {mib(s)}" for t, s in table_sizes(c))
                + f"; database {mib(c.execute(text('SELECT pg_database_size(current_database())')).scalar_one())}",
                flush=True,
            )
        for run in range(1, args.runs + 1):
            before = load()
            ran = cli(url, "match", "--all", "--on", ON)
            stats = figures(ran.out)
            seconds = {k: v for k, v in stats.items() if k.endswith("_seconds")}
            print(
                f"match --all run {run}: {ran.wall:.1f} s wall, CPU {ran.cpu:.1f} s command + "
                f"{ran.server:.1f} s server; {json.dumps(seconds)}; rows "
                f"{stats.get('rows', 0):,.0f}; peak RSS of the process {ran.rss:,.0f} MiB; "
                f"{before} → {load()}",
                flush=True,
            )
            ok &= stats.get("rows", 0) > 0
            with engine.connect() as c:
                size = match_table(c)
                print(
                    f"  enterprise_match: {size['rows']:,} rows ({size['enterprise_rank']:,} "
                    f"enterprise matches, {size['product_rank']:,} prospects); heap "
                    f"{mib(size['heap'])}, indexes {mib(size['indexes'])}, total "
                    f"{mib(size['total'])} ({size['total'] / max(size['rows'], 1):.0f} B/row); "
                    + ", ".join(f"{k} {mib(v)}" for k, v in size["each"].items()),
                    flush=True,
                )
        with engine.connect() as c:
            print(
                f"database after: {mib(c.execute(text('SELECT pg_database_size(current_database())')).scalar_one())}",
                flush=True,
            )
        engine.dispose()
        if args.runs:  # reads need stored matches
            ok &= reads(url, args.enterprises, args.repeat, args.product_rematch)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as c:
                c.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            print(f"dropped database {name}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="both parts at a small size")
    sub = parser.add_subparsers(dest="what")
    engine = sub.add_parser("engine", help="engine compute and memory, no database")
    engine.add_argument("--enterprises", type=int, default=1_000_000)
    engine.add_argument("--products", type=int, default=1000)
    engine.add_argument("--repeat", type=int, default=3)
    engine.add_argument("--reference", type=int, default=1, help="reference kernel runs (0: none)")
    engine.add_argument("--workers", type=int, default=2)
    store = sub.add_parser("store", help="synth load, match --all and reads on PostgreSQL")
    store.add_argument("--enterprises", type=int, default=1_000_000)
    store.add_argument("--products", type=int, default=1000)
    store.add_argument("--runs", type=int, default=2, help="runs of finmatch match --all")
    store.add_argument("--repeat", type=int, default=30, help="repetitions of each read")
    store.add_argument("--server", default=SERVER)
    store.add_argument("--database", help="database name (with --skip-load: an existing one)")
    store.add_argument("--skip-load", action="store_true")
    store.add_argument("--keep", action="store_true")
    store.add_argument(
        "--product-rematch", type=int, default=1, help="runs of rematch_product (0: none)"
    )
    store.add_argument(
        "--code", type=Path, default=ROOT, help="run the finmatch commands from this source tree"
    )
    for p in (engine, store):
        p.add_argument("--smoke", action="store_true", help="a small size, in seconds")
    args = parser.parse_args()
    if args.what is None:
        if not args.smoke:
            parser.error("say engine or store (or --smoke for both at a small size)")
        parts = [parser.parse_args([what, "--smoke"]) for what in ("engine", "store")]
    else:
        parts = [args]
    for part in parts:
        if part.smoke:
            small = part.what == "engine"
            part.enterprises, part.products = (20_000, 60) if small else (3_000, 40)
            part.repeat = min(part.repeat, 2 if small else 5)
        print(f"bench/scale.py {part.what}: {vars(part)}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        if part.what == "store":
            global CODE
            CODE = part.code.resolve()
        ok = run_engine(part) if part.what == "engine" else run_store(part)
        if not ok:
            raise SystemExit("check failed")


if __name__ == "__main__":
    main()

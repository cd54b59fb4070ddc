"""Linking a government list against a large library, on PostgreSQL, through the service, side
by side with comparing every list name with every library name.

    .venv/bin/python bench/list_linking.py --library 500000 --names 2000 --repeat 3
    .venv/bin/python bench/list_linking.py --smoke

Creates a fresh PostgreSQL database, migrates it, seeds the reference data and loads a
synthetic library of --library enterprises (`finmatch synth`'s loader; --database reuses a
database loaded before, and keeps it). Builds lists as lists arrive: half the names taken from
the library and written differently (the place in brackets, another legal form, a province in
front, full-width letters, the short form), a quarter invented (not in the library), a quarter
from the library, with another city when it names Wuxi; no credit codes, so every row is linked by name. Each of
--repeat rounds times, in this one process:

- cold: the process's copy of the library dropped, `service.lists.service.preview_import`
  exactly as `POST /lists/imports` calls it: reading the CSV, fetching every enterprise's
  name, building the blocking index, linking every row and writing the entries;
- warm: --changes enterprises added and as many renamed through the service, then a second
  list of --names names (the last 2 × --changes of them the added and renamed enterprises'
  names) imported the same way: the copy brought up to date (only the changed rows are read),
  linking, writing. Every added or renamed enterprise must be linked automatically;
- brute force: `rapidfuzz.process.cdist` of the cold list's normalised names against every
  library name's normalised name with `fuzz.ratio`, the linker's scorer, keeping the best per
  name (in chunks of 100 names, --workers threads: 1, as the linker uses).

Each import is a new list type or title, so none is a re-import. Prints each round, the
medians, and cold and warm as a share of brute force. After the first cold import (untimed),
checks that blocking costs no result: every name of that list is linked again with, as
candidates, every library name whose ratio reaches the floor of the candidates shown (found by
brute force): the outcome, and the enterprise linked automatically, must be the service's
(it prints too how often the first candidate proposed and its score are the same: among
candidates of equal score, blocking may read another first); and prints precision and recall of the automatic links against what the list was built from (a
name from the library is that enterprise; invented and other-city names are not). Exits
non-zero when a check fails. Drops the database unless --keep or --database."""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUALIFICATION_TYPES = ("little_giant", "srdi_sme", "high_tech", "tech_sme", "eaglet", "gazelle")
RARE = "澄芮翊珞璟琮骁铖钰炜煜昶晞晟暄曦玥瑾瑜璞珂琪瑭璐"  # uncommon characters for new names


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


def _list(rng: random.Random, library: list[tuple[int, str]], size: int) -> list[tuple[str, Any]]:
    """(list name, what it was built from: an enterprise id, or None for another company)."""
    rows: list[tuple[str, Any]] = []
    for i in range(size):
        r = i % 4
        if r in (0, 1):
            enterprise_id, name = rng.choice(library)
            rows.append((_variant(rng, name), enterprise_id))
        elif r == 2:
            rows.append(
                (f"无锡{rng.choice('甲乙丙丁戊己庚辛')}{rng.randrange(10**6)}号科技有限公司", None)
            )
        else:
            enterprise_id, picked = rng.choice(library)
            if "无锡" in picked:
                rows.append((picked.replace("无锡", "苏州", 1), None))
            else:  # as the first version of this benchmark wrote it: the same name
                rows.append((picked[:-1] + "司", enterprise_id))
    return rows


def _csv(title: str, names: list[str]) -> bytes:
    """A list with a title line above its header: never the same file twice."""
    return (f"{title}\n企业名称\n" + "\n".join(names) + "\n").encode("utf-8")


def _new_name(rng: random.Random, taken: set[str]) -> str:
    """A name no enterprise has (four uncommon characters: nor one alike)."""
    while True:
        trade = "".join(rng.choice(RARE) for _ in range(4))
        name = f"无锡{trade}{rng.choice(('精密机械', '新材料', '微电子', '生物医药'))}有限公司"
        if name not in taken:
            taken.add(name)
            return name


def _change_library(session: Any, rng: random.Random, library: list[tuple[int, str]], n: int):
    """Add n enterprises and rename n: [(enterprise id, its name now)]."""
    from service.enterprises.exceptions import DuplicateCreditCode
    from service.enterprises.schemas import EnterpriseCreate, EnterpriseUpdate
    from service.enterprises.service import create_enterprise, update_enterprise
    from service.synth.codes import credit_code, org_check_character

    changed = []
    taken = {name for _, name in library}
    while len(changed) < n:
        body = f"{rng.randrange(10**8):08d}"
        name = _new_name(rng, taken)
        try:
            made = create_enterprise(
                session,
                EnterpriseCreate(
                    credit_code=credit_code("320214", body + org_check_character(body)),
                    name=name,
                ),
            )
        except DuplicateCreditCode:
            continue
        assert made.id is not None
        changed.append((made.id, name))
    for enterprise_id, _ in rng.sample(library, n):
        name = _new_name(rng, taken)
        update_enterprise(session, enterprise_id, EnterpriseUpdate(name=name))
        changed.append((enterprise_id, name))
    return changed


def _brute_force(cores: list[str], library_cores: list[str], workers: int) -> Any:
    """The best library position and its ratio for each name, comparing with every one."""
    import numpy as np
    from rapidfuzz import fuzz, process

    best = np.empty(len(cores), dtype=np.int64)
    ratio = np.empty(len(cores), dtype=np.float32)
    for start in range(0, len(cores), 100):
        scores = process.cdist(
            cores[start : start + 100],
            library_cores,
            scorer=fuzz.ratio,
            dtype=np.float32,
            workers=workers,
        )
        best[start : start + 100] = scores.argmax(axis=1)
        ratio[start : start + 100] = scores.max(axis=1)
    return best, ratio


class _Everything:
    """The index, offering as candidates every library name of a ratio that can be shown."""

    def __init__(self, index: Any, found: dict[str, list[int]]) -> None:
        self._index, self._found = index, found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def candidates(self, core: str) -> list[int]:
        return self._found[core]


def _check(session: Any, import_id: int, rows: list[tuple[str, Any]], workers: int) -> bool:
    """The service's decisions against linking with every library name as a candidate;
    precision and recall of both against what the list was built from."""
    import numpy as np
    from rapidfuzz import fuzz, process

    from service.lists import link_cache, linking
    from service.taxonomy.names import normalize_company_name

    index = link_cache.library_index(session)
    library = (
        session.connection()
        .exec_driver_sql("SELECT id, name_normalized FROM enterprise ORDER BY id")
        .all()
    )
    positions = [index.position(r[0]) for r in library]
    library_cores = [r[1] for r in library]
    cores = sorted({normalize_company_name(name) for name, _ in rows})
    found: dict[str, list[int]] = {}
    for start in range(0, len(cores), 100):
        scores = process.cdist(
            cores[start : start + 100],
            library_cores,
            scorer=fuzz.ratio,
            dtype=np.float32,
            workers=workers,
            score_cutoff=linking.SHOWN_FROM - 0.02,
        )
        for i, row in enumerate(scores):
            found[cores[start + i]] = [positions[p] for p in np.nonzero(row)[0].tolist()]
    everything = _Everything(index, found)
    entries = {
        r[0]: r[1:]
        for r in session.connection().exec_driver_sql(
            f'SELECT "row", match, enterprise_id, candidates FROM list_entry WHERE import_id = '
            f"{int(import_id)}"
        )
    }
    agree = same_top = 0
    tally = {"fast": [0, 0, 0], "reference": [0, 0, 0]}  # right, wrong, of the library's
    shown = []
    for line, (name, source) in enumerate(rows, start=3):
        match, enterprise_id, candidates = entries[line]
        reference = linking.link(everything, name)  # type: ignore[arg-type]
        first = candidates[0] if candidates else None
        fast = (
            str(match),
            first["enterprise_id"] if first else None,
            first["score"] if first else None,
        )
        slow = (
            reference.outcome,
            reference.best.enterprise_id if reference.best else None,
            reference.best.score if reference.best else None,
        )
        same_top += fast == slow
        decided = fast[0] == slow[0] and (fast[0] != "auto" or fast[1] == slow[1])
        agree += decided
        if fast != slow and len(shown) < 5:
            shown.append(f"    {name}: service {fast}, every name {slow}")
        for label, (outcome, linked) in (
            ("fast", (fast[0], enterprise_id)),
            ("reference", (slow[0], slow[1])),
        ):
            counts = tally[label]
            counts[2] += source is not None
            if outcome == "auto":
                counts[0 if linked == source else 1] += 1
    print(
        f"as with every library name a candidate: the same outcome (and link) for {agree} of "
        f"{len(rows)} names, the same first candidate and score for {same_top}"
    )
    for line in shown:
        print(line)
    for label, (right, wrong, of) in tally.items():
        print(
            f"  {label:<9} automatic links: precision {right / max(1, right + wrong):.3f} "
            f"({right} right, {wrong} wrong), recall {right / max(1, of):.3f} of {of}"
        )
    return agree == len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=int, default=500_000)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="brute force threads")
    parser.add_argument("--smoke", action="store_true", help="5,000 enterprises, 200 names")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", help="an existing database to use, kept")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.library, args.names, args.repeat, args.changes = 5000, 200, 2, 10

    from sqlalchemy.engine import make_url

    name = args.database or f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    if not args.database:
        with psycopg.connect(args.server, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    database = make_url(args.server).set(database=name)
    url = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    dsn = database.set(drivername="postgresql").render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    ok = True
    try:
        from rapidfuzz import process  # noqa: F401  (loaded before any timing)
        from sqlmodel import Session

        from service.access.audit import SYSTEM
        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.lists import link_cache
        from service.lists.service import preview_import
        from service.main import wire
        from service.seeding import seed_reference
        from service.synth import run_synth
        from service.taxonomy.names import normalize_company_name

        started = time.perf_counter()
        engine = make_engine(url)
        wire()
        if not args.database:
            run_migrations("head", url)
            with Session(engine) as session:
                seed_reference(session)
            run_synth(url, args.library, 0, 0, 1, None)
        with psycopg.connect(dsn) as c:
            library = [
                (r[0], r[1]) for r in c.execute("SELECT id, name FROM enterprise ORDER BY id")
            ]
        print(
            f"data: {len(library):,} library names; set up in "
            f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.2f}"
        )
        rng = random.Random(7)  # the cold lists, as the first version of this benchmark
        # the changes to the library and the warm lists (new ones in a database used before)
        changes = random.Random(len(library))
        cold, warm, brute = [], [], []
        for run in range(args.repeat):
            tag = uuid.uuid4().hex[:6]
            rows = _list(rng, library, args.names)
            link_cache.forget()
            with Session(engine, expire_on_commit=False) as session:
                t0 = time.perf_counter()
                record, _ = preview_import(
                    session,
                    SYSTEM,
                    _csv(f"bench {tag} cold", [n for n, _ in rows]),
                    "bench.csv",
                    QUALIFICATION_TYPES[run % 6],
                    title=f"bench {tag} cold",
                )
                cold.append(time.perf_counter() - t0)
            if run == 0:  # before the library changes, against the library it was linked to
                with Session(engine, expire_on_commit=False) as session:
                    ok = _check(session, record.id or 0, rows, args.workers) and ok
            with Session(engine, expire_on_commit=False) as session:
                changed = _change_library(session, changes, library, args.changes)
            later = _list(changes, library, args.names - len(changed))
            later += [(n, e) for e, n in changed]
            with Session(engine, expire_on_commit=False) as session:
                t0 = time.perf_counter()
                second, _ = preview_import(
                    session,
                    SYSTEM,
                    _csv(f"bench {tag} warm", [n for n, _ in later]),
                    "bench.csv",
                    QUALIFICATION_TYPES[run % 6],
                    title=f"bench {tag} warm",
                )
                warm.append(time.perf_counter() - t0)
                linked = dict(
                    session.connection()
                    .exec_driver_sql(
                        f'SELECT "row", enterprise_id FROM list_entry WHERE import_id = '
                        f"{int(second.id or 0)} AND match = 'auto'"
                    )
                    .all()
                )
            first_changed = len(later) - len(changed) + 3
            missed = [
                n
                for line, (n, e) in enumerate(later[-len(changed) :], start=first_changed)
                if linked.get(line) != e
            ]
            if missed:
                ok = False
                print(f"  added or renamed, not linked to it: {missed[:5]}")
            with psycopg.connect(dsn) as c:
                library_cores = [
                    r[0] for r in c.execute("SELECT name_normalized FROM enterprise ORDER BY id")
                ]
            cores = [normalize_company_name(n) for n, _ in rows]
            t0 = time.perf_counter()
            _brute_force(cores, library_cores, args.workers)
            brute.append(time.perf_counter() - t0)
            print(
                f"  round {run + 1}: cold {cold[-1]:6.2f} s  warm {warm[-1]:6.2f} s  "
                f"brute force {brute[-1]:6.2f} s  ({len(library_cores):,} names; cold "
                f"{record.counts}, warm {second.counts}; load {os.getloadavg()[0]:.2f})"
            )
            now = dict(changed)
            library = [(e, now.pop(e, n)) for e, n in library] + list(now.items())
        median_brute = statistics.median(brute)
        print(
            f"median over {args.repeat} rounds: cold {statistics.median(cold):.2f} s, warm "
            f"{statistics.median(warm):.2f} s, brute force {median_brute:.2f} s; cold "
            f"{statistics.median(cold) / median_brute:.2f}x, warm "
            f"{statistics.median(warm) / median_brute:.2f}x brute force"
        )
        engine.dispose()
    finally:
        if args.keep or args.database:
            print(f"kept database {name}")
        else:
            with psycopg.connect(args.server, autocommit=True) as c:
                c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
                c.execute(f'DROP DATABASE IF EXISTS "{name}"')
    if not ok:
        print("FAILED")
        sys.exit(1)


if __name__ == "__main__":
    main()

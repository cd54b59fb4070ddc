"""Bulk import of the enterprise library at city scale: a 100,000-row spreadsheet previewed
and committed into an empty library on PostgreSQL, then imported again (every row unchanged).

    .venv/bin/python bench/enterprise_import.py --rows 100000

Creates a fresh PostgreSQL database, migrates it and seeds the reference data. The file is
the first --rows enterprises of `finmatch synth`'s generator (seed 1) written as the office
would keep them, one row each with 17 columns (统一社会信用代码, 企业名称, 所属地区 by name,
行业代码, 产业集群, 控股情况, 从业人员（人）, 营业收入（万元）, 资产总额（万元）, 成立日期,
信用等级, 联系人, 联系电话, 资质 as "高新技术企业 2024-12-01；…", and for half of them
是否同意向银行共享 with 申报表编号 and 申报表签署日期), as XLSX (cluster and ownership by
name) and as CSV in UTF-8 (cluster and ownership by code, to stay within the reader's 20 MB).
The files are made in a child process, so that this process's memory is the import's alone.

Phases, each through the use cases in process as the office (`finmatch enterprises import`
does the same), the app wired as `finmatch` wires it (audit log, matching's listeners):

1. preview of the CSV: every row checked and compared with the (empty) library;
2. commit: 100,000 enterprises, their qualifications and contacts created in one
   transaction, each audited, matching told once;
3. re-import of the CSV: preview (every row unchanged) and commit (nothing written);
4. re-import of the XLSX: the same.

Prints per phase the wall time, the peak resident memory during the phase (VmHWM, reset
before each phase through /proc/self/clear_refs) and, with --trace, the peak of memory
allocated by Python (tracemalloc, which slows the run about twofold: its times are not the
figures). The database is dropped at the end unless --keep is given. Exits non-zero when a
phase does not do what it should (every row created, then every row unchanged and nothing
written).

    .venv/bin/python bench/enterprise_import.py --smoke

does the same with 1,500 rows (two of the import's batches of a thousand), in seconds."""

import argparse
import contextlib
import csv
import io
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所属地区",
    "行业代码",
    "产业集群",
    "控股情况",
    "从业人员（人）",
    "营业收入（万元）",
    "资产总额（万元）",
    "成立日期",
    "信用等级",
    "联系人",
    "联系电话",
    "资质",
    "是否同意向银行共享",
    "申报表编号",
    "申报表签署日期",
]


def _wan(fen: int | None) -> str:
    """An amount in 万元, exactly (to the fen: up to six decimals)."""
    if fen is None:
        return ""
    return format((Decimal(fen) / 1_000_000).normalize(), "f")


def _rows(n: int) -> Iterator[tuple[list[Any], list[Any]]]:
    """Each enterprise as a CSV row and as an XLSX row: the XLSX names the district, the
    cluster and the ownership as people write them; the CSV gives the cluster and the
    ownership by code (both are accepted), which keeps 100,000 rows within the reader's
    20 MB (with the names the CSV is 21.6 MB)."""
    import json

    from service.core.settings import project_root
    from service.synth import generate_enterprises

    reference = project_root() / "seed" / "reference"
    names: dict[str, dict[str, str]] = {}
    for kind in ("districts", "clusters", "ownership_types", "qualification_types"):
        items = json.loads((reference / f"{kind}.json").read_text())
        names[kind] = {i["code"]: i["name"] for i in items}
    for i, e in enumerate(generate_enterprises(n, 1)):
        contact = (e["contacts"] or [{}])[0]
        quals = "；".join(
            f"{names['qualification_types'][q['type_code']]} {q['issued_date']}"
            for q in e["qualifications"][:2]
        )
        consent = i % 2 == 0
        row = [
            e["credit_code"],
            e["name"],
            names["districts"].get(e["district_code"] or "", ""),
            e["industry_code"] or "",
            e["cluster_code"] or "",
            e["ownership"] or "",
            e["employees"] if e["employees"] is not None else "",
            _wan(e["revenue_fen"]),
            _wan(e["total_assets_fen"]),
            e["established_date"] or "",
            e["credit_grade"] or "",
            contact.get("name", ""),
            contact.get("phone", ""),
            quals,
            "是" if consent else "",
            f"RK2026-{i:06d}" if consent else "",
            "2026-06-30" if consent else "",
        ]
        named = list(row)
        named[4] = names["clusters"].get(e["cluster_code"] or "", "")
        named[5] = names["ownership_types"].get(e["ownership"] or "", "")
        yield row, named


def make_files(n: int, folder: str) -> None:
    """The CSV and the XLSX of the first ``n`` synthetic enterprises (in a child process)."""
    from openpyxl import Workbook

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("企业库")
    sheet.append(HEADER)
    for row, named in _rows(n):
        writer.writerow(row)
        sheet.append(named)
    Path(folder, "library.csv").write_bytes(buffer.getvalue().encode("utf-8"))
    book.save(Path(folder, "library.xlsx"))


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux: the peak is the process's
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


BACKENDS: list[int] = []  # the PostgreSQL server processes that served the phase


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process of this machine (the server runs here too)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _phase(name: str, trace: bool, work: Callable[[], Any]) -> Any:
    """Run one phase; print its wall time, this process's CPU time and its server process's
    (their sum is about what the phase takes on a machine with nothing else to do: the
    machine is shared, and its load is printed too), and the peak memory."""
    _reset_peak()
    before = _rss_mb()
    if trace:
        tracemalloc.start()
    BACKENDS.clear()
    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = sum(end - begin for _, begin, end in result[-1]) if result else 0.0
    traced = ""
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        traced = f", tracemalloc peak {peak / 1024 / 1024:,.1f} MB"
    print(
        f"{name:<30} {seconds:6.1f} s wall (load {load:.1f}); CPU {cpu:5.1f} s here + "
        f"{server:5.1f} s server; RSS {before:,.0f} → peak {_peak_rss_mb():,.0f} MB{traced}",
        flush=True,
    )
    return result[:-1]


def _expect(phase: str, counts: dict[str, int], **wanted: int) -> None:
    """Stop the run (the database is dropped on the way out) when a phase's counts are not
    what it should have done."""
    got = {key: counts.get(key, 0) for key in wanted}
    if got != wanted:
        raise SystemExit(f"{phase}: {got}, expected {wanted}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--trace", action="store_true", help="Also measure with tracemalloc")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a run of seconds on 1,500 rows")
    args = parser.parse_args()
    if args.smoke:  # a small file, unless --rows is given
        parser.set_defaults(rows=1_500)
        args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="finmatch_import_")
    try:
        run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: str) -> None:
    started = time.perf_counter()
    child = multiprocessing.get_context("spawn").Process(
        target=make_files, args=(args.rows, folder)
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit("could not make the files")
    files = {name: Path(folder, f"library.{name}").read_bytes() for name in ("csv", "xlsx")}
    print(
        f"files of {args.rows:,} rows × {len(HEADER)} columns made in "
        f"{time.perf_counter() - started:.1f} s: CSV {len(files['csv']) / 1e6:.1f} MB, "
        f"XLSX {len(files['xlsx']) / 1e6:.1f} MB"
    )

    name = f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    try:
        os.environ["DATABASE_URL"] = url
        from service.access.audit import SYSTEM
        from service.cli import run_migrations
        from service.core.database import get_engine
        from service.core.settings import get_settings
        from service.enterprises.import_service import commit_import, preview_import
        from service.enterprises.models import ImportKind
        from service.main import wire
        from service.seeding import seed_reference

        get_settings.cache_clear()
        get_engine.cache_clear()
        run_migrations("head", url)
        engine = get_engine()
        with Session(engine) as session:
            seed_reference(session)
        wire()

        def backend(session: Session) -> tuple[int, float]:
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            return pid, _cpu_seconds(pid)

        def preview(fmt: str) -> Any:
            with Session(engine, expire_on_commit=False) as session:
                pid, begin = backend(session)
                record = preview_import(
                    session, SYSTEM, ImportKind.enterprise, files[fmt], f"library.{fmt}"
                )
                return record.id, record.counts, [(pid, begin, _cpu_seconds(pid))]

        def commit(import_id: int) -> Callable[[], Any]:
            def run() -> Any:
                with Session(engine, expire_on_commit=False) as session:
                    pid, begin = backend(session)
                    record = commit_import(session, SYSTEM, ImportKind.enterprise, import_id)
                    return record.applied, [(pid, begin, _cpu_seconds(pid))]

            return run

        print(f"PostgreSQL database {name}; phases:")
        total = time.perf_counter()
        n = args.rows
        first, counts = _phase("1 preview CSV (empty library)", args.trace, lambda: preview("csv"))
        print(f"    {counts}")
        _expect("preview", counts, create=n, update=0, unchanged=0, rejected=0)
        (applied,) = _phase("2 commit", args.trace, commit(first))
        print(f"    {applied}")
        _expect("commit", applied, create=n, update=0)
        print(f"  preview + commit: {time.perf_counter() - total:.1f} s")
        for step, fmt in (("3", "csv"), ("4", "xlsx")):
            label = fmt.upper()
            again, counts = _phase(
                f"{step} re-import {label}: preview", args.trace, lambda f=fmt: preview(f)
            )
            print(f"    {counts}")
            _expect(f"re-import {label}", counts, create=0, update=0, unchanged=n, rejected=0)
            (applied,) = _phase(f"  re-import {label}: commit", args.trace, commit(again))
            print(f"    {applied}")
            _expect(f"re-import {label}: commit", applied, create=0, update=0)
        with engine.connect() as c:
            tables = {
                t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("enterprise", "qualification", "contact", "audit_entry", "job")
            }
            versions = c.execute(text("SELECT max(version) FROM enterprise")).scalar_one()
        print(f"rows: {tables}; highest enterprise version {versions}")
        engine.dispose()
        if tables["enterprise"] != n or versions != 1:
            raise SystemExit(f"{tables['enterprise']:,} enterprises of version {versions}")
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


if __name__ == "__main__":
    main()

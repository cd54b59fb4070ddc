"""``bulk_load``: a synthetic library of any size into a database that holds the reference data,
batch by batch, with a progress bar. Large loads draw and prepare the next chunks in worker
processes (started with "spawn") while this process writes; the library is the same whatever
the number of workers. After a load on PostgreSQL the tables are analysed, so that benchmark
queries right after it get real plans."""

import math
import multiprocessing
import os
from array import array
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, text

from service.synth.generator import AS_OF, CHUNK, Generator, default_project_count
from service.synth.products import generate_products
from service.synth.reference import Reference, reference_from_db
from service.synth.writing import Rows, check_reference, load_products, prepare, write_batch

BATCH_SIZE = 5_000


def _progress(enabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="cyan")

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


# Worker processes draw and prepare chunks; the parent writes them.
_worker: dict[str, Any] = {}


def _worker_start(seed: int, reference: Reference, as_of: date, project_rate: float) -> None:
    generator = Generator(seed, reference, as_of)
    _worker.update(generator=generator, mix=generator.size_mix(project_rate))


def _worker_chunk(number: int, counts: bytes) -> list[Rows]:
    generator: Generator = _worker["generator"]
    now = datetime.now(UTC)
    return [
        prepare(generator, e, p, now)
        for e, p in generator.chunk(number, array("H", counts), _worker["mix"])
    ]


def default_workers(enterprises: int) -> int:
    """Large loads draw in worker processes (measured on 2 cores: 2 workers beat 1 even though
    they share the cores with the writer and PostgreSQL); small loads run in-process."""
    if enterprises <= 4 * BATCH_SIZE:
        return 0
    return max(1, min(4, os.cpu_count() or 2))


def _prepared_chunks(
    generator: Generator, enterprises: int, projects: int, workers: int, window: int = 16
) -> Iterator[list[Rows]]:
    """Prepared chunks in index order, drawn in ``workers`` processes (0: in this one)."""
    counts = generator.project_counts(enterprises, projects, generator.seed)
    rate = projects / enterprises if enterprises else 0.0
    chunks = math.ceil(enterprises / CHUNK)

    def counts_of(number: int) -> array:
        return counts[number * CHUNK : (number + 1) * CHUNK]

    if workers <= 0:
        mix = generator.size_mix(rate)
        for number in range(chunks):
            now = datetime.now(UTC)
            yield [
                prepare(generator, e, p, now)
                for e, p in generator.chunk(number, counts_of(number), mix)
            ]
        return
    context = multiprocessing.get_context("spawn")  # no fork under the progress thread
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_start,
        initargs=(generator.seed, generator.reference, generator.as_of, rate),
    ) as pool:
        ahead: deque[Future] = deque()
        submitted = 0
        # A bounded window (more than a batch) keeps the workers busy while a batch is written,
        # and memory flat however far they run ahead.
        while submitted < chunks or ahead:
            while submitted < chunks and len(ahead) < window:
                ahead.append(pool.submit(_worker_chunk, submitted, counts_of(submitted).tobytes()))
                submitted += 1
            yield ahead.popleft().result()


def bulk_load(
    engine: Engine,
    enterprises: int,
    projects: int | None = None,
    products: int = 0,
    seed: int = 1,
    *,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    workers: int | None = None,
    as_of: date = AS_OF,
) -> dict[str, int]:
    """Load a synthetic library straight into the tables (no per-row use case): enterprises
    with their derived columns and the consent of those that signed a 入库申报 form (recorded
    by the office at the load time, as ``enterprises.create_enterprise`` records it),
    qualifications, contacts, projects (with the key-project list they are on), and products
    with their version 1.

    One transaction per batch. Enterprises whose credit code is already present are skipped
    with their qualifications, contacts and projects, so a re-run with the same seed adds
    nothing and an interrupted run resumes; products whose code exists are skipped likewise.
    Enterprise ids come from the table's sequence (nextval) on PostgreSQL and after MAX(id)
    inside the write transaction on SQLite.

    For large loads (see default_workers) worker processes draw the next chunks while this
    process writes; they are started with "spawn", so a script that calls this at import time
    needs the usual ``if __name__ == "__main__":`` guard (the `finmatch` command has it). The
    library is the same whatever the number of workers."""
    if projects is None:
        projects = default_project_count(enterprises)
    if workers is None:
        workers = default_workers(enterprises)
    with engine.connect() as conn:
        check_reference(conn, need_banks=products > 0)
        reference = reference_from_db(conn)
        banks = list(conn.execute(text("SELECT code, kind FROM bank ORDER BY code")))
    generator = Generator(seed, reference, as_of)
    counts = dict.fromkeys(
        (
            "enterprises",
            "qualifications",
            "contacts",
            "projects",
            "products",
            "skipped_enterprises",
            "skipped_products",
        ),
        0,
    )

    def write(batch: list[Rows]) -> None:
        for key, value in write_batch(engine, batch).items():
            counts[key] += value

    with _progress(progress) as bar:
        task = bar.add_task("企业 enterprises", total=enterprises)
        batch: list[Rows] = []
        done = 0
        window = 2 * math.ceil(batch_size / CHUNK) + 2 * workers
        for rows in _prepared_chunks(generator, enterprises, projects, workers, window):
            batch.extend(rows)
            if len(batch) >= batch_size:
                write(batch)
                done += len(batch)
                batch = []
                bar.update(task, completed=done)
        if batch:
            write(batch)
            bar.update(task, completed=done + len(batch))
        if products:
            task = bar.add_task("产品 products", total=products)
            own = [code for code, kind in banks if kind != "fund"]
            funds = [code for code, kind in banks if kind == "fund"]
            items = generate_products(
                products, own or funds, seed, fund_codes=funds, reference=reference, as_of=as_of
            )
            loaded = 0
            while loaded < products:
                chunk = list(islice(items, min(1000, products - loaded)))
                loaded += len(chunk)
                added, skipped = load_products(engine, chunk)
                counts["products"] += added
                counts["skipped_products"] += skipped
                bar.update(task, completed=loaded)
    if engine.dialect.name == "postgresql" and (counts["enterprises"] or counts["products"]):
        # Fresh statistics, so that benchmark queries right after the load get real plans
        # rather than waiting for autovacuum.
        with engine.begin() as conn:
            conn.execute(
                text(
                    "ANALYZE enterprise, qualification, contact, project, product, product_version"
                )
            )
    return counts

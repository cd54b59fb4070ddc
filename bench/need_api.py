"""One financing need against the whole catalogue: in process and through the API on
PostgreSQL.

    .venv/bin/python bench/need_api.py --products 500

Creates a fresh PostgreSQL database, seeds the reference catalogue and tops it up with
synthetic products to --products active products, posts one need, then measures (after a
warm-up) the median and p90 of: scoring the need against every product in process (the pure
scoring loop), the whole recommendation use case in process, and
GET /api/v1/needs/{id}/recommendations through uvicorn with one keep-alive client. The database
is dropped at the end. Exits non-zero when the need has no eligible product or the endpoint's
answer differs from the use case's in process.

    .venv/bin/python bench/need_api.py --smoke

does the same with 60 products over 300 enterprises, 5 timed calls each, in seconds."""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402


def _stats(samples: list[float]) -> str:
    samples = sorted(samples)
    return (
        f"median {statistics.median(samples):7.2f} ms   "
        f"p90 {samples[int(0.9 * (len(samples) - 1))]:7.2f} ms   (n={len(samples)})"
    )


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--enterprises", type=int, default=2000, help="synthetic library")
    parser.add_argument("--smoke", action="store_true", help="a run of seconds on small sizes")
    args = parser.parse_args()
    if args.smoke:  # small sizes, unless given explicitly
        parser.set_defaults(products=60, repeat=5, enterprises=300)
        args = parser.parse_args()
    warmup = min(20, args.repeat)

    name = f"finmatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        from service.access.models import Role
        from service.access.service import create_key
        from service.cli import run_migrations
        from service.core.database import make_engine
        from service.enterprises.models import Enterprise
        from service.matching import facts, scoring
        from service.matching.catalogue import Catalogue
        from service.matching.recommendations import recommend_for_need
        from service.matching.schemas import NeedCreate
        from service.matching.service import create_need
        from service.matching.wiring import connect
        from service.products.models import Product
        from service.seeding import seed_reference
        from service.synth import run_synth

        connect()
        run_migrations("head", url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            seed_reference(session)
            present = session.scalar(select(func.count()).select_from(Product)) or 0
        run_synth(url, args.enterprises, max(0, args.products - present), None, 7, None)
        with Session(engine, expire_on_commit=False) as session:
            enterprise = session.scalars(
                select(Enterprise).where(Enterprise.cluster_code == "ic").limit(1)
            ).one()
            need = create_need(
                session,
                NeedCreate(
                    enterprise_id=enterprise.id,
                    amount_fen=300_000_000,
                    term_months=12,
                    purpose="working_capital",
                    collateral=["none"],
                    consent_share_details=True,
                ),
            )
            key = create_key(session, Role.office, "need_api bench").key
            catalogue = Catalogue.load(session)
            subject = catalogue.enterprise_facts(session, enterprise)
            need_facts = facts.need_facts(need, catalogue.config)
            eligible = len(scoring.rank(catalogue.score_all(subject, need_facts)))
            print(
                f"catalogue: {len(catalogue.offers)} active products; "
                f"eligible for the need: {eligible}"
            )
            if not eligible:
                raise SystemExit("no product is eligible for the need: nothing is measured")
            _timed(lambda: catalogue.score_all(subject, need_facts), warmup)
            print(
                "score one need against the catalogue (in process)   ",
                _stats(_timed(lambda: catalogue.score_all(subject, need_facts), args.repeat)),
            )
            _timed(lambda: recommend_for_need(session, need.id), warmup)
            print(
                "recommendation use case (in process, PostgreSQL)    ",
                _stats(_timed(lambda: recommend_for_need(session, need.id), args.repeat)),
            )
            expected = recommend_for_need(session, need.id).model_dump(mode="json")
        engine.dispose()

        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "service.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=10,
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            deadline = time.monotonic() + 60  # the machine is shared: start-up can be slow
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"uvicorn exited with {server.returncode}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("uvicorn did not answer /healthz within 60 s")
                time.sleep(0.1)
            path = f"/api/v1/needs/{need.id}/recommendations"
            answer = client.get(path)
            if answer.status_code != 200 or answer.json() != expected:
                raise SystemExit(
                    f"GET {path} answered {answer.status_code}, not the use case's "
                    f"recommendations: {answer.text[:500]}"
                )
            _timed(lambda: client.get(path), min(30, args.repeat))
            print(
                "GET /needs/{id}/recommendations (uvicorn, PostgreSQL)",
                _stats(_timed(lambda: client.get(path).raise_for_status(), args.repeat)),
            )
        print(f"date {date.today()}, python {sys.version.split()[0]}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        with admin.connect() as c:
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


if __name__ == "__main__":
    main()

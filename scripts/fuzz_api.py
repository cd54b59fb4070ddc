"""Schemathesis over the whole API, as the office, a bank and an enterprise.

A fresh database (SQLite, or a fresh one on the PostgreSQL server TEST_DATABASE_URL names,
dropped afterwards) with the reference data and the demo library; the app served by uvicorn
on a free port; then `schemathesis run` over /openapi.json once per role with that role's key,
every phase (examples, coverage, fuzzing, stateful), positive and negative data, time-bounded
(--max-time per role). It fails when a check fails: by default no server error and every answer
as the document says (status code, content type, headers, body schema).

    ./scripts/fuzz                         # SQLite, all three roles, 120 s each
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres ./scripts/fuzz
    ./scripts/fuzz --roles bank --max-time 600 --checks all
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


# Schemathesis's command, with one guard: on Python 3.11, Hypothesis's description of a lambda
# (only for its own messages) can hit CPython's "AST constructor recursion depth mismatch"
# (a CPython 3.11 bug) deep inside a multipart schema, which would end the run with a
# runtime error that says nothing about the API. There the lambda is named "<unknown>".
SCHEMATHESIS = """
import sys
if sys.version_info < (3, 12):
    from hypothesis.internal import lambda_sources
    describe = lambda_sources._lambda_description
    def guarded(f, *args, **kwargs):
        try:
            return describe(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"
    lambda_sources._lambda_description = guarded
from schemathesis.cli import schemathesis
sys.argv[0] = "schemathesis"
sys.exit(schemathesis())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", default="office,bank,enterprise")
    parser.add_argument("--max-time", type=int, default=120, help="seconds per role")
    parser.add_argument("--checks", default=DEFAULT_CHECKS)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--out", default=str(ROOT / "var" / "fuzz"), help="reports go here")
    args = parser.parse_args()

    from tests.conftest import create_database

    tmp = Path(tempfile.mkdtemp(prefix="finmatch-fuzz-"))
    url, drop = create_database(tmp)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    env = {**os.environ, "DATABASE_URL": url, "FINMATCH_JOBS_INLINE": "true"}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        keys = _prepare(url)
        port = _free_port()
        log = (out / f"{backend}-server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory"]
            + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        _wait(base)
        results = {}
        for role in args.roles.split(","):
            started = time.monotonic()
            report = out / f"{backend}-{role}.txt"
            command = [
                sys.executable,
                "-c",
                SCHEMATHESIS,
                "run",
                f"{base}/openapi.json",
                "--header",
                f"Authorization: Bearer {keys[role]}",
                "--checks",
                args.checks,
                "--max-time",
                str(args.max_time),
                "--workers",
                args.workers,
                "--seed",
                args.seed,
                "--suppress-health-check",
                "all",
                "--request-timeout",
                "60",
                "--no-color",
            ]
            with report.open("w") as sink:
                code = subprocess.run(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
            results[role] = (code.returncode, time.monotonic() - started, report)
        print(f"schemathesis on {backend} ({args.max_time} s per role; checks: {args.checks})")
        for role, (code, seconds, report) in results.items():
            summary = _summary(report)
            verdict = "passed" if code == 0 else "FAILED"
            print(f"  {role:<10} {verdict:<7} {seconds:6.0f} s  {summary}  ({report})")
        return 0 if all(code == 0 for code, _, _ in results.values()) else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        drop()
        shutil.rmtree(tmp, ignore_errors=True)


def _prepare(url: str) -> dict[str, str]:
    """Migrate, seed the reference data and the demo library, and make a key per role."""
    os.environ["DATABASE_URL"] = url
    from sqlmodel import Session

    from service.access.models import Role
    from service.access.service import create_key
    from service.cli import run_migrations
    from service.core.database import get_engine
    from service.core.settings import get_settings
    from service.seeding import seed_demo, seed_reference

    get_settings.cache_clear()
    get_engine.cache_clear()
    run_migrations("head", url)
    with Session(get_engine(), expire_on_commit=False) as session:
        seed_reference(session)
        seed_demo(session)
        session.commit()
        keys = {
            "office": create_key(session, Role.office, "fuzz").key,
            "bank": create_key(session, Role.bank, "fuzz", bank_code="jsbank-wx").key,
            "enterprise": create_key(session, Role.enterprise, "fuzz", enterprise_id=1).key,
        }
    get_engine().dispose()
    return keys


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def _summary(report: Path) -> str:
    """Schemathesis's own one-line result (e.g. '1234 passed in 120.01s')."""
    lines = [line.strip() for line in report.read_text().splitlines() if line.strip()]
    tail = [line for line in lines if " passed" in line or " failed" in line]
    return tail[-1].strip("= ") if tail else (lines[-1] if lines else "no output")


if __name__ == "__main__":
    sys.exit(main())

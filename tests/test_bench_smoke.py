"""scripts/bench-smoke: every benchmark at its --smoke size, failing by name."""

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "scripts" / "bench-smoke"

PASSES = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--smoke", action="store_true")
assert parser.parse_args().smoke
print("figures")
"""
CHECK_FAILS = """
import argparse, sys
parser = argparse.ArgumentParser()
parser.add_argument("--smoke", action="store_true")
parser.parse_args()
sys.exit("checks failed: engine and reference differ")
"""
NO_SMOKE = """
import argparse
argparse.ArgumentParser().parse_args()
"""
# Knows the word but not the option: argparse refuses it.
REFUSES_SMOKE = """
import argparse
argparse.ArgumentParser(description="no --smoke yet").parse_args()
"""
# Hangs; on the runner's interrupt it cleans up (as the scripts drop their database).
HANGS = """
import argparse, sys, time
from pathlib import Path
parser = argparse.ArgumentParser()
parser.add_argument("--smoke", action="store_true")
parser.parse_args()
try:
    time.sleep(60)
finally:
    Path(sys.argv[0]).with_suffix(".cleaned").write_text("yes")
"""


def run(
    folder: Path, *args: str, timeout: str = "60", extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CI": "",  # outside CI a database that appears during the run is only reported
        **(extra or {}),
        "BENCH_DIR": str(folder),
        "BENCH_SMOKE_TIMEOUT": timeout,
        "BENCH_SMOKE_LOGS": str(folder / "logs"),
    }
    return subprocess.run(
        [str(RUNNER), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def bench(folder: Path, **scripts: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in scripts.items():
        (folder / f"{name}.py").write_text(text)
    return folder


def test_every_script_passing_is_success_with_its_time(tmp_path: Path) -> None:
    folder = bench(tmp_path / "bench", first=PASSES, second=PASSES)
    result = run(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("first", "second"):
        line = next(x for x in result.stdout.splitlines() if f"{name}.py" in x)
        assert re.search(r" ok +[0-9.]+ s +\(CPU +[0-9.]+ s\)$", line), line
    assert "2 benchmarks in" in result.stdout
    assert "figures" in (folder / "logs" / "first.log").read_text()


def test_failing_and_missing_smoke_are_named_and_fail_the_run(tmp_path: Path) -> None:
    folder = bench(
        tmp_path / "bench",
        good=PASSES,
        broken=CHECK_FAILS,
        plain=NO_SMOKE,
        refuses=REFUSES_SMOKE,
    )
    result = run(folder)
    assert result.returncode == 1
    out = result.stdout
    summary = out.split("FAILED benchmarks at --smoke size:")[1]
    assert f"{folder}/broken.py (exit 1)" in summary
    assert f"{folder}/plain.py (takes no --smoke)" in summary
    assert f"{folder}/refuses.py (takes no --smoke)" in summary
    assert "good.py" not in summary
    assert "checks failed: engine and reference differ" in out  # the log's tail is shown


def test_a_script_past_the_limit_is_interrupted_and_can_clean_up(tmp_path: Path) -> None:
    folder = bench(tmp_path / "bench", slow=HANGS)
    result = run(folder, timeout="2")
    assert result.returncode == 1
    assert "timed out after 2 s" in result.stdout
    assert (folder / "slow.cleaned").read_text() == "yes"


def test_named_scripts_only(tmp_path: Path) -> None:
    folder = bench(tmp_path / "bench", chosen=PASSES, other=CHECK_FAILS)
    result = run(folder, str(folder / "chosen.py"))
    assert result.returncode == 0, result.stdout
    assert "other.py" not in result.stdout


def test_no_scripts_fails(tmp_path: Path) -> None:
    result = run(bench(tmp_path / "bench"))
    assert result.returncode == 1
    assert "no benchmark scripts" in result.stderr


def test_a_named_script_that_does_not_exist_fails(tmp_path: Path) -> None:
    folder = bench(tmp_path / "bench")
    result = run(folder, str(folder / "absent.py"))
    assert result.returncode == 1
    assert "absent.py (no such file)" in result.stdout


SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# Creates a database and "forgets" to drop it.
LEAKS = """
import argparse, sys
import psycopg
parser = argparse.ArgumentParser()
parser.add_argument("--smoke", action="store_true")
parser.parse_args()
with psycopg.connect("%s", autocommit=True) as c:
    c.execute('CREATE DATABASE "%s"')
"""


def test_a_database_left_behind_fails_the_run_in_ci(tmp_path: Path) -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(SERVER, connect_timeout=3).close()
    except psycopg.Error:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"finmatch_smoke_leak_{uuid.uuid4().hex[:8]}"
    folder = bench(tmp_path / "bench", leaks=LEAKS % (SERVER, name))
    try:
        result = run(folder, extra={"CI": "true"})
    finally:
        with psycopg.connect(SERVER, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
    assert result.returncode == 1, result.stdout
    summary = result.stdout.split("FAILED benchmarks")[1]
    assert any("databases left behind:" in x and name in x.split() for x in summary.splitlines())

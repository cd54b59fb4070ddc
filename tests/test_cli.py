"""The `finmatch` console command, run as a user would."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FINMATCH = shutil.which("finmatch") or str(Path(sys.executable).parent / "finmatch")


def _run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "200"}
    return subprocess.run(
        [FINMATCH, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run("--help", db=tmp_path / "x.db")
    assert result.returncode == 0
    for command in ("serve", "migrate", "seed", "synth", "match", "worker"):
        assert command in result.stdout
    serve = _run("serve", "--help", db=tmp_path / "x.db")
    assert "--host" in serve.stdout and "--port" in serve.stdout


def test_migrate_then_seed_twice_on_a_new_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "dir" / "finmatch.db"  # directories are created on demand
    assert _run("migrate", db=db).returncode == 0
    first = _run("seed", db=db)
    assert first.returncode == 0, first.stderr
    second = _run("seed", db=db)
    assert second.returncode == 0, second.stderr
    rows = [line for line in second.stdout.splitlines() if line.startswith("│")]
    assert rows and all(cells.split("│")[2].strip() == "0" for cells in rows), second.stdout
    assert all(cells.split("│")[3].strip() == "0" for cells in rows), second.stdout


@pytest.mark.parametrize("args", [["synth", "--enterprises", "-1"], ["serve", "--port", "x"]])
def test_bad_arguments_are_refused(tmp_path: Path, args: list[str]) -> None:
    result = _run(*args, db=tmp_path / "x.db")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_match_all_after_seeding_the_demo(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert _run("migrate", db=db).returncode == 0
    assert _run("seed", "--demo", db=db).returncode == 0
    result = _run("match", "--all", db=db)
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(db) as c:
        rows, versions = c.execute(
            "SELECT count(*), count(DISTINCT config_version) FROM enterprise_match"
        ).fetchone()
        assert rows > 0 and versions == 1
        top = c.execute("SELECT max(enterprise_rank) FROM enterprise_match").fetchone()[0]
        assert top <= 10
    refused = _run("match", db=db)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr


def test_worker_once_runs_what_is_queued(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "worker.db"
    assert _run("migrate", db=db).returncode == 0
    assert _run("seed", db=db).returncode == 0
    with sqlite3.connect(db) as c:
        product_id = c.execute("SELECT min(id) FROM product").fetchone()[0]
        c.execute(
            "INSERT INTO job (kind, key, payload, status, attempts, run_after, created_at) "
            "VALUES ('matching.product_changed', ?, ?, 'queued', 0, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (str(product_id), f'{{"product_id": {product_id}}}'),
        )
    result = _run("worker", "--once", db=db)
    assert result.returncode == 0, result.stderr
    assert "jobs run:" in result.stdout
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT kind, status, attempts FROM job ORDER BY id").fetchall()
    # the queued rematch, then the periodic jobs the worker queues itself
    assert rows == [
        ("matching.product_changed", "done", 1),
        ("leads.deadline_check", "done", 1),
        ("loans.reminders", "done", 1),
        ("requests.overdue_check", "done", 1),
        ("policies.daily", "done", 1),
    ]
    assert _run("worker", "--poll", "0", db=db).returncode != 0


def test_loans_import_and_reminders_run(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "loans.db"
    assert _run("migrate", db=db).returncode == 0
    assert _run("seed", "--demo", db=db).returncode == 0
    with sqlite3.connect(db) as c:
        codes = [r[0] for r in c.execute("SELECT credit_code FROM enterprise ORDER BY id LIMIT 2")]
        demo_loans = c.execute("SELECT count(*) FROM loan WHERE contract_no LIKE 'DEMO-%'")
        assert demo_loans.fetchone()[0] == 6
    sheet = tmp_path / "loans.csv"
    sheet.write_text(
        "合同编号,统一社会信用代码,本金（元）,利率(%),放款日,到期日\n"
        f"CLI-1,{codes[0]},1000000,3.45,2026-01-05,2026-03-09\n"
        f"CLI-2,{codes[1]},abc,3.45,2026-01-05,2026-03-09\n",
        encoding="utf-8",
    )
    checked = _run("loans", "import", str(sheet), "--bank", "jsbank-wx", "--dry-run", db=db)
    assert checked.returncode == 1 and "row 3 (CLI-2)" in checked.stdout
    assert "1 created, 0 updated, 0 unchanged, 1 rejected" in checked.stdout
    done = _run("loans", "import", str(sheet), "--bank", "jsbank-wx", db=db)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    again = _run("loans", "import", str(sheet), "--bank", "jsbank-wx", db=db)
    assert "0 created, 0 updated, 1 unchanged" in again.stdout
    bad = _run("reminders", "run", "--as-of", "2026-02-30", db=db)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    first = _run("reminders", "run", "--as-of", "2026-02-14", db=db)
    assert first.returncode == 0, first.stderr
    # the 30-day reminder (due 02-06) is late, the 15-day one (the make-up Saturday) on time
    assert "2 reminders sent (1 late)" in first.stdout
    assert "0 reminders sent" in _run("reminders", "run", "--as-of", "2026-02-14", db=db).stdout


def test_lists_import_and_releases(tmp_path: Path) -> None:
    import json

    db = tmp_path / "lists.db"
    assert _run("migrate", db=db).returncode == 0
    assert _run("seed", "--demo", db=db).returncode == 0
    from service.core.settings import project_root

    demo = json.loads((project_root() / "seed" / "demo" / "enterprises.json").read_text("utf-8"))
    sheet = tmp_path / "瞪羚.csv"
    lines = ["2026年无锡市瞪羚企业名单", "序号,企业名称"]
    lines += [
        f"{i},{e['name'].replace('有限公司', '股份有限公司')}" for i, e in enumerate(demo[:5])
    ]
    lines.append("9,无锡从未登记过的企业有限公司")
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = _run("lists", "import", str(sheet), "--type", "gazelle", "--commit", db=db)
    assert first.returncode == 0, first.stderr
    assert "6 rows" in first.stdout and "5 by name" in first.stdout and "1 new" in first.stdout
    again = _run("lists", "import", str(sheet), "--type", "gazelle", db=db)
    assert "already imported" in again.stdout
    bad = _run("lists", "import", str(sheet), "--type", "nope", db=db)
    assert bad.returncode == 2 and "unknown_qualification_type" in bad.stdout
    published = _run("releases", "publish", "--note", "首版", db=db)
    assert published.returncode == 0 and "release 1:" in published.stdout


def _run_on(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [FINMATCH, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _post_a_need(url: str) -> None:
    """Through the API on that database, as the demo office: a bank, a product and a need
    that goes to it, so there is a lead whose first contact is due in three working days."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from service.core.database import get_session, make_engine
    from service.main import create_app
    from service.seeding import DEMO_KEYS
    from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload

    engine = make_engine(url)

    def session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as opened:
            yield opened

    app = create_app()
    app.dependency_overrides[get_session] = session
    app.state.open_session = lambda: Session(engine, expire_on_commit=False)
    app.state.async_pool = None
    office = {"Authorization": f"Bearer {DEMO_KEYS['office']}"}
    try:
        with TestClient(app, headers=office) as client:
            bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
            product = product_payload(
                bank,
                eligibility={"clusters_included": ["ic"]},
                amount_min_fen=10_000_000,
                amount_max_fen=5_000_000_000,
            )
            client.post("/api/v1/products", json=product).raise_for_status()
            firm = create_enterprise(client, **LARGE_IC)
            need = {
                "enterprise_id": firm["id"],
                "amount_fen": 200_000_000,
                "term_months": 12,
                "purpose": "working_capital",
                "collateral": ["none"],
                "consent_share_details": True,
                "max_banks": 1,
            }
            client.post("/api/v1/needs", json=need).raise_for_status()
            assert client.get("/api/v1/leads").json()["items"]
    finally:
        engine.dispose()


def test_a_future_as_of_is_refused_and_simulate_writes_nothing(tmp_path: Path) -> None:
    """On the test backend (SQLite, or PostgreSQL with TEST_DATABASE_URL): a run as of a
    date after today is refused with nothing written; with --simulate it tells what it would
    do, and still nothing is written in any table."""
    import re
    from datetime import timedelta

    from sqlalchemy import create_engine

    from service.core.models import today_local
    from tests.conftest import changed, create_database, row_counts

    url, drop = create_database(tmp_path)
    engine = create_engine(url)
    try:
        assert _run_on(url, "migrate").returncode == 0
        seeded = _run_on(url, "seed", "--demo")  # demo loans maturing in 6 … 200 days
        assert seeded.returncode == 0, seeded.stderr
        _post_a_need(url)
        before = row_counts(engine)
        future = (today_local() + timedelta(days=60)).isoformat()

        for command in (["reminders", "run"], ["leads", "check-deadlines"]):
            refused = _run_on(url, *command, "--as-of", future)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert "future_as_of" in refused.stdout and "--simulate" in refused.stdout
            assert "Traceback" not in refused.stderr
        assert changed(before, row_counts(engine)) == {}

        reminders = _run_on(url, "reminders", "run", "--as-of", future, "--simulate")
        assert reminders.returncode == 0, reminders.stderr
        found = re.search(r"nothing written: (\d+) reminders would be sent", reminders.stdout)
        assert found and int(found.group(1)) > 0, reminders.stdout
        assert "DEMO-" in reminders.stdout  # the list of what would be sent
        deadlines = _run_on(url, "leads", "check-deadlines", "--as-of", future, "--simulate")
        assert deadlines.returncode == 0, deadlines.stderr
        with engine.connect() as c:  # the posted need's lead and the demo's open untouched ones
            waiting = c.exec_driver_sql(
                "SELECT count(*) FROM lead WHERE status IN ('new', 'viewed')"
                " AND sla_breached_at IS NULL"
            ).scalar_one()
        assert waiting >= 1
        assert f"nothing written: {waiting} lead(s) would be flagged" in deadlines.stdout
        today = _run_on(url, "reminders", "run", "--simulate")  # today: allowed, none due
        assert "nothing written: 0 reminders would be sent" in today.stdout, today.stdout
        overdue = _run_on(url, "requests", "check-overdue", "--as-of", future)
        assert overdue.returncode == 2 and "future_as_of" in overdue.stdout, overdue.stdout
        assert changed(before, row_counts(engine)) == {}
        first = _run_on(url, "requests", "check-overdue")
        assert first.returncode == 0 and "request(s) escalated" in first.stdout, first.stderr
        again = _run_on(url, "requests", "check-overdue")
        assert "0 overdue request(s) escalated" in again.stdout, again.stdout
    finally:
        engine.dispose()
        drop()

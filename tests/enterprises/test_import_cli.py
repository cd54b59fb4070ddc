"""`finmatch enterprises import` and `finmatch projects import`, run as a user would."""

import sqlite3
from pathlib import Path

from tests.factories import credit_code
from tests.test_cli import _run


def test_enterprises_then_projects_import_preview_and_commit(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    assert _run("migrate", db=db).returncode == 0
    assert _run("seed", db=db).returncode == 0
    good, other = credit_code(), credit_code()
    enterprises = tmp_path / "企业库.csv"
    enterprises.write_text(
        "统一社会信用代码,企业名称,营业收入（万元）,资质\n"
        f"{good},无锡命令行有限公司,3000,高新技术企业 2024-12-01\n"
        f"{other},无锡另一家有限公司,1.5亿,\n"
        "91320200134757148K,坏代码公司,-1,\n",
        encoding="utf-8",
    )
    preview = _run("enterprises", "import", str(enterprises), db=db)
    assert preview.returncode == 1, preview.stderr  # a row was rejected
    assert "2 create" in preview.stdout and "1 rejected" in preview.stdout
    assert "preview only" in preview.stdout
    assert "第 4 行：统一社会信用代码" in preview.stdout
    assert "invalid_credit_code_checksum" in preview.stdout
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM enterprise").fetchone() == (0,)
    committed = _run("enterprises", "import", str(enterprises), "--commit", db=db)
    assert committed.returncode == 1 and "committed" in committed.stdout
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM enterprise").fetchone() == (2,)
        assert c.execute("SELECT count(*) FROM qualification").fetchone() == (1,)
    again = _run("enterprises", "import", str(enterprises), "--commit", db=db)
    assert "0 create" in again.stdout and "2 unchanged" in again.stdout, again.stdout

    projects = tmp_path / "项目库.xlsx"
    from tests.spreadsheets import xlsx

    projects.write_bytes(
        xlsx(
            [
                ["统一社会信用代码", "项目名称", "项目类型", "总投资（万元）", "年度"],
                [good, "命令行技改项目", "技术改造", 5000, 2026],
            ]
        )
    )
    done = _run("projects", "import", str(projects), "--commit", db=db)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 create" in done.stdout
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT name, kind FROM project").fetchall() == [
            ("命令行技改项目", "tech_transformation")
        ]


def test_a_file_that_cannot_be_read_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    assert _run("migrate", db=db).returncode == 0
    bad = tmp_path / "x.csv"
    bad.write_text("企业名称\n无锡甲\n", encoding="utf-8")
    result = _run("enterprises", "import", str(bad), db=db)
    assert result.returncode == 2 and "missing_columns" in result.stdout
    missing = _run("projects", "import", str(tmp_path / "nope.csv"), db=db)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr

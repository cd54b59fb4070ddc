"""`finmatch seed` loads the reference data and the demo library; a second run changes nothing."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from service.cli import run_migrations
from service.core.settings import project_root
from service.models import __all__ as _models  # noqa: F401
from service.seeding import seed_demo, seed_reference
from service.taxonomy.credit_code import parse_credit_code
from tests.conftest import create_database

TABLES = [
    "cluster",
    "district",
    "qualification_type",
    "ownership_type",
    "size_industry",
    "size_threshold",
    "lpr_rate",
    "bank",
    "product",
    "product_version",
    "enterprise",
    "qualification",
    "contact",
    "project",
]


@pytest.fixture(scope="module")
def seeded_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    url, drop = create_database(tmp_path_factory.mktemp("seed"))
    run_migrations("head", url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        first = seed_reference(session) + seed_demo(session)
    yield engine, first
    engine.dispose()
    drop()


def _snapshot(engine) -> dict[str, list]:
    with engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            for t in TABLES
        }


def test_reference_data_is_complete(seeded_engine) -> None:
    engine, _ = seeded_engine
    with engine.connect() as c:
        count = lambda sql: c.execute(text(sql)).scalar_one()  # noqa: E731
        assert count("SELECT count(*) FROM cluster") == 15
        tiers = dict(c.execute(text("SELECT tier, count(*) FROM cluster GROUP BY tier")).all())
        assert tiers == {"landmark": 4, "advantage": 6, "future": 5}
        assert count("SELECT count(*) FROM district") == 8
        assert count("SELECT count(*) FROM size_industry") == 15
        assert count("SELECT count(*) FROM size_threshold") == 45
        assert count("SELECT count(*) FROM ownership_type") == 6
        assert count("SELECT count(*) FROM bank WHERE kind <> 'fund'") >= 12
        assert count("SELECT count(*) FROM product") >= 30
        schemes = {r[0] for r in c.execute(text("SELECT DISTINCT scheme FROM product_version"))}
        assert {"xikedai", "xixindai", "zhuanjingtexin", "sukedai", "bridge_fund"} <= schemes


def test_demo_library_size_and_codes(seeded_engine) -> None:
    engine, _ = seeded_engine
    with engine.connect() as c:
        codes = [r[0] for r in c.execute(text("SELECT credit_code FROM enterprise"))]
        assert len(codes) >= 300
        for code in codes:
            parse_credit_code(code)
        assert c.execute(text("SELECT count(*) FROM project")).scalar_one() >= 150
        districts = c.execute(text("SELECT count(DISTINCT district_code) FROM enterprise"))
        assert districts.scalar_one() == 8
        clusters = c.execute(text("SELECT count(DISTINCT cluster_code) FROM enterprise"))
        assert clusters.scalar_one() >= 12
        ownership = dict(
            c.execute(text("SELECT ownership, count(*) FROM enterprise GROUP BY ownership")).all()
        )
        assert ownership["private"] > len(codes) * 0.7
        assert {"state", "collective", "hmt", "foreign"} <= set(ownership)
        sizes = dict(
            c.execute(text("SELECT size_class, count(*) FROM enterprise GROUP BY size_class")).all()
        )
        assert sizes.get("small", 0) + sizes.get("micro", 0) > sizes.get("medium", 0)
        assert sizes.get("large", 0) > 0


def test_second_run_changes_nothing(seeded_engine) -> None:
    engine, first = seeded_engine
    assert first["enterprise.created"] >= 300
    before = _snapshot(engine)
    with Session(engine, expire_on_commit=False) as session:
        again = seed_reference(session) + seed_demo(session)
    assert not [k for k, v in again.items() if v and not k.endswith(".unchanged")], again
    assert _snapshot(engine) == before


def test_seed_files_are_where_the_loader_looks() -> None:
    assert (project_root() / "seed" / "reference" / "clusters.json").is_file()
    assert Path(project_root() / "seed" / "demo").is_dir()

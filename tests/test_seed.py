"""`finmatch seed` loads the reference data and the demo library; a second run changes nothing.
The synthetic library's bulk load (`finmatch synth`) writes what the create path would."""

import json
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session

from service.access.audit import SYSTEM
from service.cli import run_migrations
from service.core.settings import project_root
from service.models import __all__ as _models  # noqa: F401
from service.seeding import DEMO_KEYS, seed_demo, seed_reference
from service.synth import bulk_load, generate_library
from service.taxonomy.credit_code import parse_credit_code
from tests.conftest import create_database

DEMO = project_root() / "seed" / "demo"

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


def _demo(name: str) -> list[dict[str, Any]]:
    return json.loads((DEMO / name).read_text("utf-8"))


def test_demo_consent_is_recorded_from_the_forms_by_the_office(seeded_engine) -> None:
    engine, _ = seeded_engine
    with engine.connect() as c:
        stored = {
            r[0]: r[1:]
            for r in c.execute(
                text(
                    "SELECT credit_code, share_with_banks, consent_source, consent_recorded_by, "
                    "consent_recorded_at, consent_form_ref, consent_form_signed_on FROM enterprise"
                )
            )
        }
        listed = {
            (r[0], r[1]): r[2]
            for r in c.execute(
                text(
                    "SELECT e.credit_code, p.name, p.listed_in FROM project p "
                    "JOIN enterprise e ON e.id = p.enterprise_id"
                )
            )
        }
    for e in _demo("enterprises.json"):
        shared, source, by, at, ref, signed = stored[e["credit_code"]]
        if "consent_form_ref" not in e:
            assert (shared, source, by, at, ref, signed) == (False, None, None, None, None, None)
            continue
        assert bool(shared) is e["share_with_banks"]
        assert (source, by, ref) == ("office_form", SYSTEM.ref, e["consent_form_ref"])
        assert at is not None
        assert str(signed)[:10] == e["consent_form_signed_on"]
    projects = _demo("projects.json")
    assert {(p["enterprise_credit_code"], p["name"]): p["listed_in"] for p in projects} == listed


def _pages(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = client.get(
            url, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


def test_a_bank_sees_private_facts_of_the_consenting_demo_enterprises_only(seeded_engine) -> None:
    """Through the API with the demo keys: the office publishes a release of the demo library;
    the demo bank gets every enterprise's public facts, the private ones of those that shared
    on their form only, every listed project's public facts, and the other projects only of
    enterprises that shared."""
    from service.core.database import get_session
    from service.main import create_app

    engine, _ = seeded_engine
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app()
    app.dependency_overrides[get_session] = lambda: session
    app.state.open_session = lambda: nullcontext(session)
    app.state.async_pool = None
    try:
        office = TestClient(app, headers={"Authorization": f"Bearer {DEMO_KEYS['office']}"})
        bank = TestClient(app, headers={"Authorization": f"Bearer {DEMO_KEYS['bank']}"})
        published = office.post("/api/v1/releases", json={"note": "演示"})
        assert published.status_code == 201, published.text
        url = f"/api/v1/releases/{published.json()['number']}/items"

        demo = _demo("enterprises.json")
        sharing = {e["credit_code"] for e in demo if e.get("share_with_banks")}
        declined = {e["credit_code"] for e in demo if e.get("share_with_banks") is False}
        assert sharing and declined
        seen = {i["data"]["credit_code"]: i["data"] for i in _pages(bank, url, kind="enterprise")}
        assert set(seen) == {e["credit_code"] for e in demo}
        private = {code for code, data in seen.items() if "revenue_fen" in data}
        assert private == sharing
        for code, data in seen.items():
            assert ("contacts" in data) is ("credit_grade" in data) is (code in sharing)

        projects = _demo("projects.json")
        ids = {code: data["id"] for code, data in seen.items()}
        shown = {
            (i["data"]["enterprise_id"], i["data"]["name"]): i["data"]
            for i in _pages(bank, url, kind="project")
        }
        for p in projects:
            key = (ids[p["enterprise_credit_code"]], p["name"])
            owner_shares = p["enterprise_credit_code"] in sharing
            if not (p["listed_in"] or owner_shares):
                assert key not in shown
                continue
            data = shown[key]
            assert data["listed_in"] == p["listed_in"]
            assert ("financing_need_fen" in data) is owner_shares
        listed_of_others = [
            p for p in projects if p["listed_in"] and p["enterprise_credit_code"] not in sharing
        ]
        assert listed_of_others, "the demo should show a listed project of a non-sharing enterprise"
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def test_the_bulk_load_records_the_forms_and_lists_as_the_create_path_does(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url, drop = create_database(tmp_path_factory.mktemp("bulk"))
    run_migrations("head", url)
    engine = create_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            seed_reference(session)
        counts = bulk_load(engine, 400, 200, seed=31, progress=False, workers=0)
        assert counts["enterprises"] == 400 and counts["projects"] == 200
        enterprises, projects = generate_library(400, 200, seed=31)
        with engine.connect() as c:
            stored = {
                r[0]: r[1:]
                for r in c.execute(
                    text(
                        "SELECT credit_code, share_with_banks, consent_source, "
                        "consent_recorded_by, consent_recorded_at, consent_form_ref, "
                        "consent_form_signed_on FROM enterprise"
                    )
                )
            }
            listed = {
                (r[0], r[1]): r[2]
                for r in c.execute(
                    text(
                        "SELECT e.credit_code, p.name, p.listed_in FROM project p "
                        "JOIN enterprise e ON e.id = p.enterprise_id"
                    )
                )
            }
        recorded = 0
        for e in enterprises:
            shared, source, by, at, ref, signed = stored[e["credit_code"]]
            if "consent_form_ref" not in e:
                assert (shared, source, by, at, ref, signed) == (
                    False,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
                continue
            recorded += 1
            assert bool(shared) is e["share_with_banks"]
            assert (source, by, ref) == ("office_form", SYSTEM.ref, e["consent_form_ref"])
            assert at is not None
            assert date.fromisoformat(str(signed)[:10]).isoformat() == e["consent_form_signed_on"]
        assert recorded > 100
        assert listed == {
            (p["enterprise_credit_code"], p["name"]): p["listed_in"] for p in projects
        }
        assert any(listed.values())
    finally:
        engine.dispose()
        drop()

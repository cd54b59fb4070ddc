"""On PostgreSQL the database builds the lead feed's JSON (``leads.feed_json``); it must answer
exactly what ``feed.shown`` builds in Python, the path on SQLite: the same fields with the same
values and the same JSON types (a score of 85 is 85.0), for every holder, filter and page size,
over the demo's half year of leads (every status, reasons, breaches, assignees) made harder
still: whole and tiny scores, timestamps with and without microseconds, notes with quotes,
backslashes, line breaks and control characters, expired and repeated qualifications,
contacts with blanks, and an enterprise that shares with banks without a consented lead. The
audit entry each path writes for a bank's read is the same too."""

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.access.models import Role
from service.access.service import create_key
from service.cli import run_migrations
from service.core.database import make_engine
from service.core.models import utcnow
from service.core.pagination import PageParams
from service.leads import feed
from service.seeding import seed_demo, seed_reference
from tests.conftest import create_database

pytestmark = pytest.mark.skipif(
    make_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://").get_backend_name() != "postgresql",
    reason="the database builds the feed's JSON on PostgreSQL only",
)

HARDER = [
    # whole, tiny and odd scores
    "UPDATE lead SET score_centi = 8500 WHERE id % 7 = 0",
    "UPDATE lead SET score_centi = 1 WHERE id % 11 = 0",
    "UPDATE lead SET score_centi = 0 WHERE id % 13 = 0",
    "UPDATE lead SET score_centi = 10000 WHERE id % 17 = 0",
    # timestamps on the whole second, and with microseconds that end in zeros
    "UPDATE lead SET updated_at = date_trunc('second', updated_at) WHERE id % 2 = 0",
    "UPDATE lead SET created_at = date_trunc('second', created_at) + interval '120 microseconds'"
    " WHERE id % 3 = 0",
    "UPDATE lead SET viewed_at = date_trunc('second', created_at) + interval '0.5 seconds'"
    " WHERE id % 5 = 0",
    # notes a JSON writer must escape
    "UPDATE lead SET note = E'他说 \"马上\"\\\\n第二行\\n\\t制表 \\u0001 \\u2028 end' WHERE id % 4 = 1",
    "UPDATE lead SET note = '' WHERE id % 9 = 2",
    # a qualification that expired, one issued twice (both valid), one not yet issued
    "INSERT INTO qualification (enterprise_id, type_code, issued_date, expires_date, source,"
    " created_at) SELECT enterprise_id, type_code, issued_date - 400, issued_date - 1, source,"
    " created_at FROM qualification WHERE id % 3 = 0",
    "INSERT INTO qualification (enterprise_id, type_code, issued_date, expires_date, source,"
    " created_at) SELECT enterprise_id, type_code, issued_date + 1000, NULL, source, created_at"
    " FROM qualification WHERE id % 5 = 0",
    # leads without a need (prospects): who the enterprise is shows even without consent
    "INSERT INTO lead (subject_key, need_id, enterprise_id, bank_code, product_id,"
    " product_version, config_version, score_centi, source, status, consented, version, seq,"
    " contact_due_date, created_at, updated_at) SELECT DISTINCT ON (enterprise_id, bank_code)"
    " 'enterprise:' || enterprise_id, NULL, enterprise_id, bank_code, product_id,"
    " product_version, config_version, score_centi, 'prospect', 'new', false, 1,"
    " 1000000 + id, contact_due_date, created_at, updated_at FROM lead WHERE id % 6 = 0",
    # needs whose consent was withdrawn: anonymous unless the enterprise shares with banks
    "UPDATE lead SET consented = false WHERE id % 8 = 3 AND need_id IS NOT NULL",
    # contacts with blanks
    "UPDATE contact SET title = NULL, email = NULL WHERE id % 2 = 0",
    # sharing with banks without a consented lead
    "UPDATE enterprise SET share_with_banks = NOT coalesce(share_with_banks, false)"
    " WHERE id % 3 = 0",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url, drop = create_database(Path(tmp_path_factory.mktemp("feed-json")))
    run_migrations("head", url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
        seed_demo(session)
        for statement in HARDER:
            session.execute(text(statement))
        session.commit()
    try:
        yield engine
    finally:
        engine.dispose()
        drop()


def _page(engine: Engine, key: str, in_database: bool, limit: int, **filters: Any) -> Any:
    return _page_at(engine, key, in_database, limit, None, **filters)


def _walk(engine: Engine, key: str, in_database: bool, limit: int, **filters: Any) -> list[Any]:
    pages, cursor = [], None
    while True:
        page = _page_at(engine, key, in_database, limit, cursor, **filters)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def _page_at(
    engine: Engine, key: str, in_database: bool, limit: int, cursor: str | None, **filters: Any
) -> Any:
    with Session(engine, expire_on_commit=False) as session:
        steps = feed.pull(
            "postgresql",
            f"Bearer {key}",
            feed.LeadFilters(**filters),
            PageParams(limit=limit, cursor=cursor),
            date.today(),
            utcnow(),
            in_database=in_database,
        )
        return json.loads(feed.run(session, steps))


def _exact(value: Any) -> str:
    """The value written out so that 85 and 85.0, or 1 and true, differ."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _keys(engine: Engine) -> dict[str, str]:
    with Session(engine, expire_on_commit=False) as session:
        banks = session.execute(text("SELECT DISTINCT bank_code FROM lead ORDER BY 1")).scalars()
        firm = session.execute(
            text("SELECT enterprise_id FROM lead GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        keys = {f"bank:{b}": create_key(session, Role.bank, "json", b).key for b in banks}
        keys["office"] = create_key(session, Role.office, "json").key
        keys["enterprise"] = create_key(session, Role.enterprise, "json", None, firm).key
        session.commit()
    return keys


def test_the_database_builds_the_same_pages_as_python(demo: Engine) -> None:
    keys = _keys(demo)
    assert len(keys) >= 4
    compared = 0
    for who, key in keys.items():
        for limit, filters in [
            (100, {}),
            (7, {}),
            (1, {"status": "new"}),
            (50, {"status": "disbursed"}),
            (50, {"status": "declined"}),
            (50, {"assignee": "none"}),
            (50, {"updated_since": utcnow().replace(year=2000)}),
        ]:
            python = _walk(demo, key, False, limit, **filters)
            database = _walk(demo, key, True, limit, **filters)
            assert _exact(database) == _exact(python), (who, limit, filters)
            compared += sum(len(page["items"]) for page in python)
    assert compared > 1000


def test_the_pages_cover_every_kind_of_value(demo: Engine) -> None:
    keys = _keys(demo)
    items = [
        item
        for who, key in keys.items()
        if who.startswith("bank:")
        for page in _walk(demo, key, True, 100)
        for item in page["items"]
    ]
    scores = {type(item["score"]) for item in items}
    assert scores == {float}
    assert any(item["score"] == 85.0 for item in items)
    assert any(item["need"] is None and not item["consented"] for item in items)
    assert any(item["need"] is None and item["enterprise"]["name"] for item in items)
    assert any(item["assignee"] is not None for item in items)
    assert any(item["enterprise"]["name"] is None for item in items)  # anonymous need
    assert any(item["enterprise"]["contacts"] for item in items)
    assert any(item["sla_breached"] for item in items)
    assert any("\n" in (item["note"] or "") for item in items)
    stamps = [item["updated_at"] for item in items]
    assert any(len(s) == 20 for s in stamps) and any(len(s) == 27 for s in stamps)
    assert all(s.endswith("Z") for s in stamps)


def test_a_banks_read_is_audited_alike(demo: Engine) -> None:
    keys = _keys(demo)
    bank = next(key for who, key in keys.items() if who.startswith("bank:"))

    def last_read() -> Any:
        with Session(demo) as session:
            return session.execute(
                text(
                    "SELECT actor_key_id, actor_role, actor_bank_code, action, subject_type,"
                    " subject_id, enterprise_ids FROM audit_entry WHERE action = 'read'"
                    " ORDER BY id DESC LIMIT 1"
                )
            ).one()

    _page(demo, bank, False, 100)
    python = last_read()
    _page(demo, bank, True, 100)
    database = last_read()
    assert tuple(database) == tuple(python)
    assert python.enterprise_ids
    # the office's reads are not audited as a bank's: neither path writes one
    with Session(demo) as session:
        before = session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
    _page(demo, keys["office"], True, 100)
    _page(demo, keys["office"], False, 100)
    with Session(demo) as session:
        after = session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
    assert after == before

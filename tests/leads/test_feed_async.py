"""The lead feed on its asyncio PostgreSQL pool (the served app's path) answers exactly as on a
session (the path every other test takes): the same pages, cursors, filters and errors, and
it audits reads and closes its pool with the app. On a database of its own, whose rows are
committed: the pool's connections cannot see a test's open transaction."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.access.models import Role
from service.access.service import create_key, revoke_key
from service.cli import run_migrations
from service.core.database import AsyncPool, get_session, make_engine
from service.main import create_app
from service.seeding import seed_reference
from tests.conftest import create_database
from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload

pytestmark = pytest.mark.skipif(
    make_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://").get_backend_name() != "postgresql",
    reason="the lead feed's asyncio pool exists on PostgreSQL only",
)


class Fresh:
    def __init__(self, url: str, engine: Engine, office: str) -> None:
        self.url, self.engine, self.office = url, engine, office

    def app(self, pooled: bool) -> Any:
        app = create_app()

        def sessions() -> Iterator[Session]:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session

        app.dependency_overrides[get_session] = sessions
        app.state.open_session = lambda: Session(self.engine, expire_on_commit=False)
        app.state.async_pool = AsyncPool(self.url) if pooled else None
        return app

    def key(
        self, role: Role, bank_code: str | None = None, enterprise_id: int | None = None
    ) -> str:
        with Session(self.engine, expire_on_commit=False) as session:
            return create_key(session, role, "feed test", bank_code, enterprise_id).key


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[Fresh]:
    url, drop = create_database(Path(tmp_path_factory.mktemp("feed")))
    run_migrations("head", url)
    own = make_engine(url)
    with Session(own, expire_on_commit=False) as session:
        seed_reference(session)
        session.commit()
        office = create_key(session, Role.office, "feed test").key
    try:
        yield Fresh(url, own, office)
    finally:
        own.dispose()
        drop()


@pytest.fixture(scope="module")
def world(fresh: Fresh) -> dict[str, Any]:
    """Two banks; eight enterprises with needs (one withdraws its consent), so leads."""
    with TestClient(fresh.app(False), headers={"Authorization": f"Bearer {fresh.office}"}) as c:
        banks = [c.post("/api/v1/banks", json=bank_payload()).json()["code"] for _ in range(2)]
        products = []
        for bank in banks:
            payload = product_payload(
                bank,
                eligibility={"clusters_included": ["ic"]},
                amount_min_fen=10_000_000,
                amount_max_fen=5_000_000_000,
            )
            response = c.post("/api/v1/products", json=payload)
            assert response.status_code == 201, response.text
            products.append(response.json()["code"])
        firms = [create_enterprise(c, **LARGE_IC) for _ in range(8)]
        for firm in firms:
            response = c.post(
                "/api/v1/needs",
                json={
                    "enterprise_id": firm["id"],
                    "amount_fen": 200_000_000,
                    "term_months": 12,
                    "purpose": "working_capital",
                    "collateral": ["none"],
                    "consent_share_details": True,
                    "max_banks": 2,
                },
            )
            assert response.status_code == 201, response.text
            if firm is firms[-1]:
                c.patch(
                    f"/api/v1/needs/{response.json()['id']}",
                    json={"consent_share_details": False},
                )
    return {"banks": banks, "products": products, "firms": firms}


def _pull(fresh: Fresh, pooled: bool, key: str, queries: list[dict[str, Any]]) -> list[Any]:
    """Each query's (status, body), on one app."""
    out = []
    with TestClient(fresh.app(pooled), headers={"Authorization": f"Bearer {key}"}) as client:
        for params in queries:
            response = client.get("/api/v1/leads", params=params)
            out.append((response.status_code, response.json()))
    return out


def _walk(fresh: Fresh, pooled: bool, key: str, **params: Any) -> list[dict]:
    """Every lead, two per page, following next_cursor."""
    items: list[dict] = []
    with TestClient(fresh.app(pooled), headers={"Authorization": f"Bearer {key}"}) as client:
        cursor = None
        while True:
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            response = client.get("/api/v1/leads", params=query)
            assert response.status_code == 200, response.text
            items += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return items


def test_the_pool_answers_as_a_session_for_every_holder_and_filter(
    fresh: Fresh, world: dict[str, Any]
) -> None:
    bank = fresh.key(Role.bank, bank_code=world["banks"][0])
    firm = fresh.key(Role.enterprise, enterprise_id=world["firms"][0]["id"])
    queries: list[dict[str, Any]] = [
        {"limit": 3},
        {"limit": 100, "status": "new"},
        {"limit": 100, "status": "approved"},
        {"limit": 100, "product": world["products"][0]},
        {"limit": 100, "updated-since": "2020-01-01T00:00:00Z"},
        {"limit": 100, "updated-since": "2999-01-01T00:00:00Z"},
        {"limit": 100, "assignee": "none"},
        {"limit": 100, "assignee": "12"},
    ]
    for key in (bank, firm, fresh.office):
        extra = [{"limit": 100, "bank": world["banks"][1]}] if key == fresh.office else []
        session_answers = _pull(fresh, False, key, queries + extra)
        pooled_answers = _pull(fresh, True, key, queries + extra)
        assert pooled_answers == session_answers
        assert all(status == 200 for status, _ in pooled_answers)
    # the bank's feed, walked page by page, is the same whole list either way
    walked = _walk(fresh, True, bank)
    assert walked == _walk(fresh, False, bank)
    assert len(walked) == 8 and len({lead["id"] for lead in walked}) == 8
    assert [lead["seq"] for lead in walked] == sorted(lead["seq"] for lead in walked)
    hidden = [lead for lead in walked if not lead["consented"]]
    assert len(hidden) == 1 and hidden[0]["enterprise"]["name"] is None
    assert all(lead["enterprise"]["contacts"] for lead in walked if lead["consented"])
    # an enterprise sees its own leads only
    (_, page), *_ = _pull(fresh, True, firm, [{"limit": 100}])
    assert {lead["enterprise"]["enterprise_id"] for lead in page["items"]} == {
        world["firms"][0]["id"]
    }


def test_the_pool_refuses_as_a_session(fresh: Fresh, world: dict[str, Any]) -> None:
    bank = fresh.key(Role.bank, bank_code=world["banks"][0])
    revoked = fresh.key(Role.bank, bank_code=world["banks"][0])
    with Session(fresh.engine) as session:
        revoke_key(session, revoked.split("_")[1])
    cases = [
        (None, {}, 401, "missing_api_key"),
        ("Basic abc", {}, 401, "invalid_authorization"),
        ("Bearer fmk_nosuchkey_secret", {}, 401, "invalid_api_key"),
        (f"Bearer {bank}x", {}, 401, "invalid_api_key"),
        (f"Bearer {revoked}", {}, 401, "revoked_api_key"),
        (f"Bearer {bank}", {"product": "no-such-product"}, 404, None),
        (f"Bearer {bank}", {"cursor": "not-a-cursor"}, 422, "invalid_cursor"),
        (f"Bearer {bank}", {"cursor": "WyJ4Il0"}, 422, "invalid_cursor"),  # ["x"]
        (f"Bearer {bank}", {"status": "lost"}, 422, None),
        (f"Bearer {bank}", {"assignee": "me"}, 422, "invalid_assignee_filter"),
    ]
    answers = {}
    for pooled in (False, True):
        with TestClient(fresh.app(pooled)) as client:
            for header, params, status, code in cases:
                headers = {"Authorization": header} if header else {}
                response = client.get("/api/v1/leads", params=params, headers=headers)
                assert response.status_code == status, (pooled, header, params, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
                if code:
                    assert response.json()["code"] == code
                answers.setdefault((header, str(params)), []).append(response.json())
    assert all(session == pooled for session, pooled in answers.values())


def test_the_pool_audits_reads_and_records_key_use(fresh: Fresh, world: dict[str, Any]) -> None:
    bank = fresh.key(Role.bank, bank_code=world["banks"][1])
    (status, page), *_ = _pull(fresh, True, bank, [{"limit": 100}])
    assert status == 200
    read = sorted(
        lead["enterprise"]["enterprise_id"] for lead in page["items"] if lead["consented"]
    )
    assert len(read) == 7
    with TestClient(fresh.app(False), headers={"Authorization": f"Bearer {fresh.office}"}) as c:
        entries = c.get(
            "/api/v1/audit", params={"action": "read", "bank_code": world["banks"][1]}
        ).json()["items"]
        mine = [e for e in entries if sorted(e["enterprise_ids"] or []) == read]
        assert len(mine) == 1 and mine[0]["actor_role"] == "bank"
        keys = c.get("/api/v1/keys", params={"bank_code": world["banks"][1]}).json()
        used = [k for k in keys if bank.split("_")[1] == k["prefix"]]
        assert used and used[0]["last_used_at"] is not None


def test_the_pool_opens_on_first_use_and_closes_with_the_app(
    fresh: Fresh, world: dict[str, Any]
) -> None:
    app = fresh.app(True)
    with TestClient(app, headers={"Authorization": f"Bearer {fresh.office}"}) as client:
        assert app.state.async_pool.pool is None
        assert client.get("/api/v1/leads").status_code == 200
        assert app.state.async_pool.pool is not None
    assert app.state.async_pool.pool is None


def test_a_connection_the_server_dropped_is_replaced_not_failed(
    fresh: Fresh, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AsyncPool, "IDLE_CHECK_SECONDS", 0.0)  # check every connection
    app = fresh.app(True)
    with TestClient(app, headers={"Authorization": f"Bearer {fresh.office}"}) as client:
        assert client.get("/api/v1/leads").status_code == 200
        with fresh.engine.connect() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert dropped >= 1
        assert client.get("/api/v1/leads").status_code == 200


# --- the bank's lane: its plain feed request in one statement (service.leads.feed_lane) ------


def _lane_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests the lane answered itself (a list of one count)."""
    from service.leads.feed_lane import FeedLane

    answered = [0]
    original = FeedLane.answer

    async def counted(send: Any, body: bytes) -> None:
        answered[0] += 1
        await original(send, body)

    monkeypatch.setattr(FeedLane, "answer", staticmethod(counted))
    return answered


def test_the_lane_answers_a_banks_pages_as_the_route(
    fresh: Fresh, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = fresh.key(Role.bank, bank_code=world["banks"][0])
    answered = _lane_count(monkeypatch)
    queries: list[dict[str, Any]] = [{}, {"limit": 1}, {"limit": 3}, {"limit": 100}]
    lane = _pull(fresh, True, bank, queries)
    assert answered[0] == len(queries)
    route = _pull(fresh, False, bank, queries)
    assert lane == route
    walked = _walk(fresh, True, bank)
    assert answered[0] == len(queries) + 4  # every page of the walk: 8 leads, 2 a page
    assert walked == _walk(fresh, False, bank)


def test_the_lane_leaves_everything_else_to_the_route(
    fresh: Fresh, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = fresh.key(Role.bank, bank_code=world["banks"][0])
    revoked = fresh.key(Role.bank, bank_code=world["banks"][0])
    firm = fresh.key(Role.enterprise, enterprise_id=world["firms"][0]["id"])
    with Session(fresh.engine) as session:
        revoke_key(session, revoked.split("_")[1])
    answered = _lane_count(monkeypatch)
    cases: list[tuple[str | None, str, int, str | None]] = [
        (None, "", 401, "missing_api_key"),
        ("Basic abc", "", 401, "invalid_authorization"),
        (f"Bearer {bank}x", "", 401, "invalid_api_key"),
        (f"Bearer {revoked}", "", 401, "revoked_api_key"),
        (f"Bearer {bank}", "status=new", 200, None),
        (f"Bearer {bank}", "limit=0", 422, None),
        (f"Bearer {bank}", "limit=abc", 422, None),
        (f"Bearer {bank}", "limit=1000000", 422, "limit_too_large"),
        (f"Bearer {bank}", "limit=2&limit=3", 200, None),
        (f"Bearer {bank}", "limit=02", 200, None),
        (f"Bearer {bank}", "cursor=not-a-cursor", 422, "invalid_cursor"),
        (f"Bearer {bank}", "cursor=WyJ4Il0", 422, "invalid_cursor"),  # ["x"]
        (f"Bearer {bank}", "cursor=", 200, None),
        (f"Bearer {bank}", "cursor=WzFd&cursor=WzJd", 200, None),
        (f"Bearer {bank}", "nope=1", 422, "unknown_parameter"),
        (f"Bearer {firm}", "", 200, None),
        (f"Bearer {fresh.office}", "limit=5", 200, None),
    ]
    answers: dict[str, list[Any]] = {}
    for pooled in (False, True):
        with TestClient(fresh.app(pooled)) as client:
            for header, query, status, code in cases:
                headers = {"Authorization": header} if header else {}
                response = client.get(f"/api/v1/leads?{query}", headers=headers)
                assert response.status_code == status, (pooled, header, query, response.text)
                if code:
                    assert response.json()["code"] == code
                answers.setdefault(f"{header} {query}", []).append(response.json())
    assert answered[0] == 0  # none of these was the lane's
    assert all(route == lane for route, lane in answers.values())


def test_the_lane_audits_and_records_the_keys_use(
    fresh: Fresh, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = fresh.key(Role.bank, bank_code=world["banks"][1])
    answered = _lane_count(monkeypatch)

    def reads() -> list[Any]:
        with fresh.engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT actor_key_id, actor_bank_code, enterprise_ids FROM audit_entry"
                        " WHERE action = 'read' AND actor_bank_code = :bank ORDER BY id"
                    ),
                    {"bank": world["banks"][1]},
                )
            )

    before = reads()
    (status, page), *_ = _pull(fresh, True, bank, [{"limit": 100}])
    assert status == 200 and answered[0] == 1
    new = reads()[len(before) :]
    shown = sorted(
        lead["enterprise"]["enterprise_id"] for lead in page["items"] if lead["consented"]
    )
    assert len(new) == 1 and sorted(new[0].enterprise_ids) == shown
    with fresh.engine.connect() as connection:
        key_id, used = connection.execute(
            text("SELECT id, last_used_at FROM api_key WHERE prefix = :p"),
            {"p": bank.split("_")[1]},
        ).one()
    assert new[0].actor_key_id == key_id and used is not None


def test_the_route_answers_when_the_lanes_statement_fails(
    fresh: Fresh, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.leads import feed_json

    bank = fresh.key(Role.bank, bank_code=world["banks"][0])
    monkeypatch.setattr(
        feed_json, "raw_sql_of", lambda statement: ("SELECT no_such_column FROM lead", ())
    )
    (status, page), *_ = _pull(fresh, True, bank, [{"limit": 100}])
    assert status == 200 and len(page["items"]) == 8

"""Leads under concurrency, on real separate connections to a database of their own: two
writers from one version, changes that both apply, the feed paged while leads arrive, and
two offers racing for the same need and bank."""

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal
from service.access.service import create_key
from service.core.concurrency import PreconditionFailed
from service.core.database import AsyncPool
from service.core.errors import AppError
from service.core.models import today_local, utcnow
from service.core.pagination import PageParams
from service.enterprises.schemas import EnterpriseCreate
from service.enterprises.service import create_enterprise
from service.leads import feed, lifecycle
from service.leads.models import BankEvent, Lead, LeadSource
from service.leads.schemas import StatusChange
from service.products.schemas import BankCreate, ProductCreate
from service.products.service import create_bank, create_product
from tests.conftest import create_database
from tests.factories import bank_payload, enterprise_payload, product_payload


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from service.cli import run_migrations
    from service.core.database import make_engine
    from service.main import wire
    from service.seeding import seed_reference

    url, drop = create_database(Path(tmp_path_factory.mktemp("races")))
    run_migrations("head", url)
    engine = make_engine(url)
    wire()
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
    yield engine
    engine.dispose()
    drop()


@pytest.fixture(scope="module")
def bank(engine: Engine) -> tuple[str, int]:
    with Session(engine, expire_on_commit=False) as session:
        code = create_bank(session, BankCreate.model_validate(bank_payload())).code
        product = create_product(session, ProductCreate.model_validate(product_payload(code)))
        return code, product.id  # type: ignore[return-value]


def _enterprise(engine: Engine) -> int:
    with Session(engine, expire_on_commit=False) as session:
        return create_enterprise(session, EnterpriseCreate.model_validate(enterprise_payload())).id  # type: ignore[return-value]


def _lead(session: Session, enterprise_id: int, product_id: int) -> Lead:
    lead = lifecycle.make_lead(
        session,
        enterprise_id=enterprise_id,
        need_id=None,
        product_id=product_id,
        product_version=1,
        config_version=1,
        score_centi=5000,
        source=LeadSource.application,
        consented=True,
    )
    session.commit()
    return lead


def _race(engine: Engine, work: Callable[[Session], Any], n: int = 2) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                results[i] = work(session)
            except AppError as exc:
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_writers_from_one_version_one_wins(engine: Engine, bank: tuple[str, int]) -> None:
    code, product_id = bank
    with Session(engine, expire_on_commit=False) as session:
        lead = _lead(session, _enterprise(engine), product_id)
    banker = Principal(Role.bank, None, code)
    results = _race(
        engine,
        lambda s: lifecycle.change_status(s, banker, lead.id, StatusChange(status="viewed"), 1),  # type: ignore[arg-type]
    )
    assert sum(isinstance(r, Lead) for r in results) == 1
    assert sum(isinstance(r, PreconditionFailed) for r in results) == 1
    with Session(engine) as session:
        assert session.get(Lead, lead.id).version == 2  # type: ignore[union-attr]


def test_two_unconditional_changes_both_count(engine: Engine, bank: tuple[str, int]) -> None:
    code, product_id = bank
    with Session(engine, expire_on_commit=False) as session:
        lead = _lead(session, _enterprise(engine), product_id)
    banker = Principal(Role.bank, None, code)
    changes = iter([StatusChange(status="viewed"), StatusChange(status="contacted")])
    lock = threading.Lock()

    def work(s: Session) -> Any:
        with lock:
            change = next(changes)
        return lifecycle.change_status(s, banker, lead.id, change)  # type: ignore[arg-type]

    results = _race(engine, work)
    # whichever went first, nothing was lost: either both applied (viewed, then contacted) or
    # contacted came first and viewed was then refused as a step backwards
    with Session(engine) as session:
        final = session.get(Lead, lead.id)
        assert final is not None and final.status == "contacted"
        events = session.scalars(select(BankEvent).where(BankEvent.lead_id == lead.id)).all()
    applied = [r for r in results if isinstance(r, Lead)]
    assert final.version == 1 + len(applied)
    assert len(events) == 1 + len(applied)  # lead.created + one per applied change


def test_one_open_lead_per_subject_and_bank_under_a_race(
    engine: Engine, bank: tuple[str, int]
) -> None:
    _, product_id = bank
    enterprise_id = _enterprise(engine)
    results = _race(engine, lambda s: _lead(s, enterprise_id, product_id), n=3)
    assert sum(isinstance(r, Lead) for r in results) == 1
    assert all(isinstance(r, Lead | AppError) for r in results)


def test_the_feed_loses_and_repeats_nothing_while_leads_arrive(
    engine: Engine, bank: tuple[str, int]
) -> None:
    code, product_id = bank
    enterprises = [_enterprise(engine) for _ in range(40)]
    with Session(engine, expire_on_commit=False) as session:
        before = set(session.scalars(select(Lead.id).where(Lead.bank_code == code)))
        authorization = f"Bearer {create_key(session, Role.bank, 'races', code).key}"
    created: list[int] = []
    done = threading.Event()

    def writer(ids: list[int]) -> None:
        for enterprise_id in ids:
            with Session(engine, expire_on_commit=False) as s:
                created.append(_lead(s, enterprise_id, product_id).id)  # type: ignore[arg-type]

    seen: list[int] = []
    postgres = engine.dialect.name == "postgresql"

    async def read_feed() -> None:
        """The bank's feed as the served app reads it: on PostgreSQL through the asyncio
        pool, elsewhere on a session."""
        pool = AsyncPool(engine.url.render_as_string(hide_password=False)) if postgres else None
        cursor = None
        quiet = 0
        try:
            while quiet < 2:
                params = PageParams(limit=7, cursor=cursor)
                steps = feed.pull(
                    engine.dialect.name,
                    authorization,
                    feed.LeadFilters(),
                    params,
                    today_local(),
                    utcnow(),
                )
                if pool is not None:
                    async with (await pool.get()).connection() as connection:
                        body = await feed.run_async(connection, engine.dialect, steps)
                else:
                    with Session(engine) as s:
                        body = feed.run(s, steps)
                page = json.loads(body)
                seen.extend(item["id"] for item in page["items"] if item["id"] not in before)
                if page["next_cursor"]:
                    cursor = page["next_cursor"]
                elif page["items"]:
                    cursor = _cursor_after(page["items"][-1]["seq"])
                if not page["items"] and done.is_set():
                    quiet += 1
        finally:
            if pool is not None:
                await pool.close()

    def reader() -> None:
        asyncio.run(read_feed())

    writers = [threading.Thread(target=writer, args=(enterprises[i::2],)) for i in range(2)]
    reading = threading.Thread(target=reader)
    reading.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
    done.set()
    reading.join(timeout=120)
    assert len(seen) == len(set(seen)), "a lead was delivered twice"
    assert sorted(seen) == sorted(created), "a lead was lost"


def _cursor_after(seq: int) -> str:
    from service.core.pagination import encode_cursor

    return encode_cursor([seq])

"""Concurrent writers on real, separate connections: no duplicate, no lost update."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session

from service.core.concurrency import PreconditionFailed
from service.core.errors import AppError
from service.enterprises import service
from service.enterprises.models import Enterprise
from service.enterprises.schemas import EnterpriseCreate, EnterpriseUpdate
from tests.factories import enterprise_payload


@pytest.fixture
def committed(engine: Engine) -> Iterator[list[str]]:
    """Credit codes created (and committed) by the test; removed afterwards."""
    codes: list[str] = []
    yield codes
    with Session(engine) as session:
        session.exec(delete(Enterprise).where(Enterprise.credit_code.in_(codes)))
        session.commit()


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


def test_two_creates_of_one_credit_code(engine: Engine, committed: list[str]) -> None:
    payload = EnterpriseCreate.model_validate(enterprise_payload())
    committed.append(payload.credit_code)
    results = _race(engine, lambda s: service.create_enterprise(s, payload))
    created = [r for r in results if isinstance(r, Enterprise)]
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(created) == 1 and len(refused) == 1, results
    assert refused[0].status == 409 and refused[0].code == "duplicate_credit_code"


def test_two_updates_from_one_version(engine: Engine, committed: list[str]) -> None:
    payload = EnterpriseCreate.model_validate(enterprise_payload())
    committed.append(payload.credit_code)
    with Session(engine, expire_on_commit=False) as session:
        enterprise_id = service.create_enterprise(session, payload).id
    results = _race(
        engine,
        lambda s: service.update_enterprise(
            s, enterprise_id, EnterpriseUpdate(employees=threading.get_ident() % 1000), 1
        ),
    )
    winners = [r for r in results if isinstance(r, Enterprise)]
    losers = [r for r in results if isinstance(r, PreconditionFailed)]
    assert len(winners) == 1 and len(losers) == 1, results
    with Session(engine) as session:
        stored = session.get(Enterprise, enterprise_id)
        assert stored.version == 2
        assert stored.employees == winners[0].employees


def test_many_unconditional_updates_all_count(engine: Engine, committed: list[str]) -> None:
    payload = EnterpriseCreate.model_validate(enterprise_payload())
    committed.append(payload.credit_code)
    with Session(engine, expire_on_commit=False) as session:
        enterprise_id = service.create_enterprise(session, payload).id
    results = _race(
        engine,
        lambda s: service.update_enterprise(
            s, enterprise_id, EnterpriseUpdate(chain_tag="集成电路产业链")
        ),
        n=4,
    )
    assert all(isinstance(r, Enterprise) for r in results), results
    with Session(engine) as session:
        assert session.get(Enterprise, enterprise_id).version == 5

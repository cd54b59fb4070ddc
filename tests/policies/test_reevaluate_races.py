"""Re-evaluation with several runners at once, on separate connections to a database of its
own: each new entitlement is written and its enterprise told exactly once."""

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from service.enterprises.schemas import EnterpriseCreate
from service.enterprises.service import create_enterprise
from service.policies import jobs
from service.policies.models import Entitlement, PolicyNotice
from tests.conftest import create_database
from tests.factories import LARGE_IC, enterprise_payload

DAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from service.cli import run_migrations
    from service.core.database import make_engine
    from service.main import wire
    from service.seeding import seed_reference

    url, drop = create_database(Path(tmp_path_factory.mktemp("policy-races")))
    run_migrations("head", url)
    engine = make_engine(url)
    wire()
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
    yield engine
    engine.dispose()
    drop()


def test_several_runners_tell_each_enterprise_once(engine: Engine) -> None:
    firms = 24
    with time_machine.travel(DAY, tick=False), Session(engine, expire_on_commit=False) as s:
        for i in range(firms):
            qualifications = [{"type_code": "little_giant", "issued_date": "2026-03-01"}]
            if i % 2:
                qualifications.append({"type_code": "srdi_sme", "issued_date": "2026-04-01"})
            payload = enterprise_payload(
                **LARGE_IC, ownership="private", qualifications=qualifications
            )
            create_enterprise(s, EnterpriseCreate.model_validate(payload))
    runners = 4
    barrier = threading.Barrier(runners)
    told: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                result = jobs.reevaluate(session, None, trigger="policy", as_of=DAY)
                session.commit()
                told.append(result["notified"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with time_machine.travel(DAY, tick=False):
        threads = [threading.Thread(target=run) for _ in range(runners)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not errors, errors
    expected = firms + firms // 2  # every firm's first 小巨人, half of them a first 专精特新 too
    assert sum(told) == expected
    with Session(engine) as s:
        entitlements = s.scalar(select(func.count()).select_from(Entitlement))
        notices = s.scalar(select(func.count()).select_from(PolicyNotice))
    assert entitlements == notices == expected
    # And once more, alone: nothing new.
    with time_machine.travel(DAY, tick=False), Session(engine) as s:
        again = jobs.reevaluate(s, None, trigger="daily", as_of=DAY)
        s.commit()
    assert (again["new"], again["notified"], again["changed"], again["lapsed"]) == (0, 0, 0, 0)

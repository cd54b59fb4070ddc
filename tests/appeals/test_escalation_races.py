"""Overdue requests with several runners at once, on separate connections to a database of
its own: each request is flagged, recorded and its bank reminded exactly once."""

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal
from service.appeals import escalation, service, steps
from service.appeals.models import Appeal, AppealEvent
from service.appeals.schemas import AppealCreate, AppealStep
from service.enterprises.schemas import EnterpriseCreate
from service.enterprises.service import create_enterprise
from service.leads.models import BankEvent
from service.products.schemas import BankCreate
from service.products.service import create_bank
from service.taxonomy.workdays import add_working_days
from tests.appeals.conftest import charge_request
from tests.conftest import create_database
from tests.factories import bank_payload, enterprise_payload

MONDAY = date(2026, 11, 2)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from service.cli import run_migrations
    from service.core.database import make_engine
    from service.main import wire
    from service.seeding import seed_reference

    url, drop = create_database(Path(tmp_path_factory.mktemp("escalation-races")))
    run_migrations("head", url)
    engine = make_engine(url)
    wire()
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
    yield engine
    engine.dispose()
    drop()


def _many_overdue(engine: Engine, count: int) -> str:
    office = Principal(Role.office)
    with time_machine.travel(MONDAY, tick=False), Session(engine, expire_on_commit=False) as s:
        bank = create_bank(s, BankCreate.model_validate(bank_payload())).code
        firm = create_enterprise(s, EnterpriseCreate.model_validate(enterprise_payload()))
        who = Principal(Role.enterprise, enterprise_id=firm.id)
        for _ in range(count):
            row = service.raise_appeal(s, who, AppealCreate.model_validate(charge_request(bank)))
            assert row.id is not None
            steps.take_step(s, office, row.id, AppealStep(action="accept", category_code="charges"))
            steps.take_step(s, office, row.id, AppealStep(action="dispatch", bank_code=bank))
    return bank


def test_several_runners_escalate_each_request_exactly_once(engine: Engine) -> None:
    bank = _many_overdue(engine, 30)
    runners = 4
    barrier = threading.Barrier(runners)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                counts.append(escalation.check_overdue(session)["escalated"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with time_machine.travel(add_working_days(MONDAY, 12), tick=False):
        threads = [threading.Thread(target=run) for _ in range(runners)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    assert sum(counts) == 30
    with Session(engine) as s:
        flagged = s.scalar(
            select(func.count()).select_from(Appeal).where(Appeal.escalated_at.is_not(None))
        )  # type: ignore[union-attr]
        escalated = s.scalar(
            select(func.count()).select_from(AppealEvent).where(AppealEvent.kind == "escalated")
        )
        reminded = s.scalar(
            select(func.count())
            .select_from(BankEvent)
            .where(BankEvent.bank_code == bank, BankEvent.type == "request.overdue")
        )
    assert flagged == escalated == reminded == 30

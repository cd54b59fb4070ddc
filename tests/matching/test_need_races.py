"""Writers of one enterprise's needs on real, separate connections: an enterprise's change
(which rematches all its open needs) racing a change of one of them never deadlocks."""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text
from sqlmodel import Session

from service.core.database import ROW_LOCK
from service.core.errors import AppError
from service.enterprises import service as enterprises
from service.enterprises.models import Enterprise
from service.enterprises.schemas import EnterpriseCreate, EnterpriseUpdate
from service.matching import service as matching
from service.matching.models import FinancingNeed, NeedMatch
from service.matching.schemas import NeedCreate, NeedUpdate
from tests.factories import enterprise_payload, need_payload


@pytest.fixture(autouse=True)
def wired() -> None:
    from service.main import wire

    wire()  # an enterprise's change rematches its needs through the events


@pytest.fixture(autouse=True)
def tidy(engine: Engine) -> Iterator[None]:
    """The audit entries and jobs the test's committed changes leave are removed after it."""
    from service.access.models import AuditEntry
    from service.jobs.models import Job

    with Session(engine) as session:
        last = {
            table: session.scalar(select(func.max(table.id))) or 0 for table in (AuditEntry, Job)
        }
    yield
    with Session(engine) as session:
        for table, before in last.items():
            session.exec(delete(table).where(table.id > before))
        session.commit()


def _remove(engine: Engine, enterprise_id: int) -> None:
    """What the test committed: the enterprise, its needs and their matches."""
    with Session(engine) as session:
        needs = select(FinancingNeed.id).where(FinancingNeed.enterprise_id == enterprise_id)
        session.exec(delete(NeedMatch).where(NeedMatch.need_id.in_(needs)))
        session.exec(delete(FinancingNeed).where(FinancingNeed.enterprise_id == enterprise_id))
        session.exec(delete(Enterprise).where(Enterprise.id == enterprise_id))
        session.commit()


def _together(engine: Engine, *works: Callable[[Session], Any]) -> list[Any]:
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                results[i] = works[i](session)
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def rematch_everything(session: Session) -> int:
    """What a product's change does after its commit (as a job): every open need again."""
    count = matching.rematch_open_needs(session)
    session.commit()
    return count


def test_an_enterprise_change_racing_its_needs_changes_never_deadlocks(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        firm = enterprises.create_enterprise(
            session, EnterpriseCreate.model_validate(enterprise_payload())
        )
        needs = [
            matching.create_need(
                session,
                NeedCreate.model_validate(need_payload(firm.id, consent_share_details=False)),
            )
            for _ in range(4)
        ]
    try:
        for round_ in range(20):
            change = EnterpriseUpdate(employees=100 + round_)
            amount = NeedUpdate(amount_fen=300_000_000 + round_)
            results = _together(
                engine,
                lambda s, change=change: enterprises.update_enterprise(s, firm.id, change),
                lambda s, amount=amount: matching.update_need(s, needs[-1].id, amount),
                rematch_everything,
                lambda s: matching.create_need(
                    s,
                    NeedCreate.model_validate(
                        need_payload(firm.id, amount_fen=50_000_000, consent_share_details=False)
                    ),
                ),
            )
            # A refusal (a withdrawn need) is an answer; a deadlock or any other fault is not.
            failures = [r for r in results if isinstance(r, Exception)]
            assert not [f for f in failures if not isinstance(f, AppError)], failures
    finally:
        _remove(engine, firm.id)


def _until_waiting(engine: Engine, writer: threading.Thread) -> None:
    """Until another connection waits for a lock."""
    for _ in range(200):
        with engine.connect() as probe:
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the enterprise's change never waited for the need")


def test_rematching_a_need_while_its_enterprise_is_being_changed_does_not_deadlock(
    engine: Engine,
) -> None:
    """The order PostgreSQL once reported as a deadlock: a rematch holds the needs and writes
    their matches (which refer to the enterprise), while a change of the enterprise holds the
    enterprise and waits for its needs. The enterprise's lock must let the matches be written."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite lets one writer in at a time")
    with Session(engine, expire_on_commit=False) as session:
        firm = enterprises.create_enterprise(
            session, EnterpriseCreate.model_validate(enterprise_payload())
        )
        matching.create_need(
            session, NeedCreate.model_validate(need_payload(firm.id, consent_share_details=False))
        )
    outcome: list[Any] = []
    try:
        with Session(engine, expire_on_commit=False) as rematch:
            locked = list(
                rematch.scalars(
                    select(FinancingNeed)
                    .where(FinancingNeed.enterprise_id == firm.id)
                    .with_for_update(**ROW_LOCK)
                )
            )

            def change() -> None:
                with Session(engine, expire_on_commit=False) as session:
                    try:
                        outcome.append(
                            enterprises.update_enterprise(
                                session, firm.id, EnterpriseUpdate(employees=130)
                            )
                        )
                    except Exception as exc:  # noqa: BLE001 - reported below
                        outcome.append(exc)

            writer = threading.Thread(target=change)
            writer.start()
            _until_waiting(engine, writer)  # it holds the enterprise, waits for the need
            matching.rematch_need(rematch, locked[0])
            rematch.commit()
        writer.join(timeout=30)
        assert len(outcome) == 1 and isinstance(outcome[0], Enterprise), outcome
    finally:
        _remove(engine, firm.id)

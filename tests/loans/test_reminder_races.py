"""The reminder run with several runners at once, on real separate connections to a database
of its own: each loan's stage is reminded exactly once, with one event each, at consecutive
positions of the bank's feed."""

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from service.enterprises.schemas import EnterpriseCreate
from service.enterprises.service import create_enterprise
from service.leads.models import BankEvent
from service.loans.models import Loan, LoanKind, LoanReminder, LoanSource, RenewalCase
from service.loans.reminders import run_reminders
from service.loans.schedule import reminder_dates
from service.products.schemas import BankCreate
from service.products.service import create_bank
from tests.conftest import create_database
from tests.factories import bank_payload, enterprise_payload


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from service.cli import run_migrations
    from service.core.database import make_engine
    from service.main import wire
    from service.seeding import seed_reference

    url, drop = create_database(Path(tmp_path_factory.mktemp("reminder-races")))
    run_migrations("head", url)
    engine = make_engine(url)
    wire()
    with Session(engine, expire_on_commit=False) as session:
        seed_reference(session)
    yield engine
    engine.dispose()
    drop()


def _loans(engine: Engine, maturities: list[date]) -> str:
    with Session(engine, expire_on_commit=False) as session:
        bank = create_bank(session, BankCreate.model_validate(bank_payload())).code
        firm = create_enterprise(session, EnterpriseCreate.model_validate(enterprise_payload()))
        for i, maturity in enumerate(maturities):
            session.add(
                Loan(
                    bank_code=bank,
                    contract_no=f"R-{i}",
                    enterprise_id=firm.id,  # type: ignore[arg-type]
                    kind=LoanKind.working_capital,
                    principal_fen=100_000_000,
                    rate_bp=300,
                    disbursed_date=date(2025, 1, 1),
                    maturity_date=maturity,
                    source=LoanSource.api,
                )
            )
        session.commit()
        return bank


def _race(engine: Engine, as_of: date, runners: int) -> list[int]:
    barrier = threading.Barrier(runners)
    sent: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                sent.append(run_reminders(session, as_of, trigger="test").reminders)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return sent


def test_concurrent_runners_send_each_stage_exactly_once(engine: Engine) -> None:
    as_of = date(2026, 3, 2)
    # 200 loans maturing over the next 40 days: some get one stage, some two or three
    maturities = [as_of + timedelta(days=i % 40) for i in range(200)]
    bank = _loans(engine, maturities)
    sent = _race(engine, as_of, runners=3)
    with Session(engine) as session:
        rows = session.execute(
            select(LoanReminder.loan_id, LoanReminder.stage_days)
            .join(Loan, Loan.id == LoanReminder.loan_id)
            .where(Loan.bank_code == bank)
        ).all()
        assert len(rows) == len(set(rows)) == sum(sent)
        assert sorted(sent)[:-1] == [0] * (len(sent) - 1)  # one runner did it all
        # what a single runner computes from the rules
        expected = sum(
            1 for m in maturities for _, on in reminder_dates(m, (30, 15, 7)) if on <= as_of
        )
        assert len(rows) == expected
        seqs = session.scalars(
            select(BankEvent.seq)
            .where(BankEvent.bank_code == bank, BankEvent.type == "loan.reminder")
            .order_by(BankEvent.seq)
        ).all()
        assert seqs == list(range(1, len(rows) + 1))  # one event each, no gap, no repeat
        cases = session.scalar(
            select(func.count())
            .select_from(RenewalCase)
            .join(Loan, Loan.id == RenewalCase.loan_id)
            .where(Loan.bank_code == bank)
        )
        assert cases == len({loan_id for loan_id, _ in rows})
    # the next day, two runners again: only what came due since, still once
    later = _race(engine, as_of + timedelta(days=1), runners=2)
    expected_next = sum(
        1
        for m in maturities
        for _, on in reminder_dates(m, (30, 15, 7))
        if on == as_of + timedelta(days=1) and m >= as_of + timedelta(days=1)
    )
    assert sorted(later) == [0, expected_next]

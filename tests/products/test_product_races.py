"""Concurrent product changes: every change makes its own version; a stale one is refused."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session

from service.core.concurrency import PreconditionFailed
from service.products import service
from service.products.models import Bank, Product, ProductVersion
from service.products.schemas import BankCreate, ProductCreate, ProductUpdate
from tests.enterprises.test_races import _race
from tests.factories import bank_payload, product_payload


class _Amounts:
    """Hands each racing thread its own value."""

    def __init__(self, *values: int) -> None:
        self._values = list(values)
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            return self._values.pop(0)


@pytest.fixture
def product_code(engine: Engine) -> Iterator[str]:
    bank = BankCreate.model_validate(bank_payload())
    product = ProductCreate.model_validate(product_payload(bank.code))
    with Session(engine, expire_on_commit=False) as session:
        service.create_bank(session, bank)
        service.create_product(session, product)
    yield product.code
    with Session(engine) as session:
        row = session.exec(Product.__table__.select().where(Product.code == product.code)).first()
        session.exec(delete(ProductVersion).where(ProductVersion.product_id == row.id))
        session.exec(delete(Product).where(Product.id == row.id))
        session.exec(delete(Bank).where(Bank.code == bank.code))
        session.commit()


def test_unconditional_changes_each_make_a_version(engine: Engine, product_code: str) -> None:
    amounts = _Amounts(400_000_000, 600_000_000, 800_000_000)
    results = _race(
        engine,
        lambda s: service.update_product(
            s, product_code, ProductUpdate(amount_max_fen=amounts.next())
        ),
        n=3,
    )
    assert all(isinstance(r, Product) for r in results), results
    with Session(engine) as session:
        versions = service.list_product_versions(session, product_code)
    assert [v.version for v in versions] == [1, 2, 3, 4]
    assert len({v.amount_max_fen for v in versions}) == 4


def test_changes_from_one_version_one_wins(engine: Engine, product_code: str) -> None:
    amounts = _Amounts(400_000_000, 600_000_000)
    results = _race(
        engine,
        lambda s: service.update_product(
            s, product_code, ProductUpdate(amount_max_fen=amounts.next()), expected_version=1
        ),
    )
    assert sum(isinstance(r, Product) for r in results) == 1, results
    assert sum(isinstance(r, PreconditionFailed) for r in results) == 1, results

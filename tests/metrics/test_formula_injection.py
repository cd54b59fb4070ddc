"""Names that a spreadsheet would run as formulas (OWASP CSV injection) reach the office's
CSV reports as text, with a single quote before them; numbers, negative ones included, stay
numbers."""

import csv
import io
from datetime import date
from typing import Any

import pytest
import time_machine

from tests.factories import bank_payload, create_enterprise, product_payload
from tests.metrics.test_metrics import PERIOD, TODAY, add_lead

NAMES = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "＝1+1"]
DANGEROUS = tuple("=+-@\t\r＝＋－＠")


@pytest.fixture
def hostile(client: Any, session: Any) -> list[dict]:
    """For each name a bank (its short name) and a product (its name), with one lead
    approved below the LPR (so that its spread is a negative number) and one declined."""
    enterprise = create_enterprise(client)
    products = []
    for name in NAMES:
        bank = client.post("/api/v1/banks", json=bank_payload(short_name=name)).json()["code"]
        product = client.post("/api/v1/products", json=product_payload(bank, name=name)).json()
        add_lead(
            session,
            product,
            enterprise,
            "2026-11-02 09:00",
            "approved",
            approved_date=date(2026, 11, 5),
            approved_amount_fen=100_000_000,
            approved_rate_bp=250,
        )
        add_lead(
            session,
            product,
            enterprise,
            "2026-11-03 09:00",
            "declined",
            declined_reason="other",
            closed_at="2026-11-04 09:00",
        )
        products.append(product)
    return products


def _csv(client: Any, path: str, **params: Any) -> list[list[str]]:
    with time_machine.travel(TODAY, tick=False):
        response = client.get(
            f"/api/v1/metrics/{path}", params={**PERIOD, **params, "format": "csv"}
        )
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("path", "group_by"),
    [
        ("funnel", "bank"),
        ("funnel", "product"),
        ("amounts", "product"),
        ("decline-reasons", "bank"),
    ],
)
def test_no_cell_of_a_report_starts_a_formula(client, hostile, path, group_by) -> None:
    rows = _csv(client, path, group_by=group_by)
    assert len(rows) > len(NAMES)
    header = rows[0]
    for row in rows[1:]:
        for name, cell in zip(header, row, strict=True):
            if cell.startswith(DANGEROUS):
                float(cell)  # only a number may start with a minus sign
                assert name.endswith(("_bp", "_rate")), (name, cell)


def test_the_names_arrive_as_text_with_a_quote_before_them(client, hostile) -> None:
    for group_by, label in (("bank", "{}"), ("product", "{0}（{0}）")):  # product（bank）
        rows = _csv(client, "funnel", group_by=group_by)
        labels = {row[rows[0].index("label")] for row in rows[1:]}
        assert labels == {"'" + label.format(name) for name in NAMES} | {"合计"}


def test_negative_numbers_stay_numbers(client, hostile) -> None:
    rows = _csv(client, "amounts", group_by="product")
    spreads = [row[rows[0].index("approved_avg_spread_bp")] for row in rows[1:]]
    assert spreads and all(float(spread) < 0 and spread.startswith("-") for spread in spreads)

"""The office's page exports (CSV and XLSX) hold names that a spreadsheet would run as
formulas (OWASP CSV injection) as plain text with a single quote before them; XLSX cells
are strings, never formulas; numbers stay numbers."""

import csv
import io
from datetime import date
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook

from tests.factories import bank_payload, create_enterprise, product_payload
from tests.metrics.test_metrics import TODAY, add_lead

NAMES = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "＝1+1"]
PERIOD = "?from=2026-10-01&to=2026-11-30"


@pytest.fixture
def hostile(client: Any, session: Any) -> None:
    enterprise = create_enterprise(client)
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
            approved_rate_bp=250,  # below the LPR: a negative spread
        )


def _get(office: Any, name: str) -> bytes:
    with time_machine.travel(TODAY, tick=False):
        response = office.get(f"/web/office/export/{name}{PERIOD}")
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("table", ["funnel-bank", "funnel-product", "amounts-product"])
def test_csv_and_xlsx_exports_hold_the_names_as_text(browser_as, hostile, table) -> None:
    office = browser_as("office")
    label = "{0}（{0}）" if table.endswith("product") else "{}"  # a product（its bank）
    expected = {"'" + label.format(name) for name in NAMES} | {"合计"}
    rows = list(csv.reader(io.StringIO(_get(office, f"{table}.csv").decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == expected
    sheet = load_workbook(io.BytesIO(_get(office, f"{table}.xlsx"))).active
    labels = [sheet.cell(row, 1) for row in range(2, sheet.max_row + 1)]
    assert {cell.value for cell in labels} == expected
    for cell in labels:
        assert cell.data_type == "s"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f" and not str(cell.value or "").startswith("=")
    if table == "amounts-product":  # 高于LPR: a negative number, as a number
        column = [c.value for c in sheet[1]].index("高于LPR（基点）") + 1
        spreads = [sheet.cell(row, column) for row in range(2, sheet.max_row + 1)]
        assert all(c.data_type == "n" and c.value < 0 for c in spreads)

"""The dashboard answers the office's three questions at a glance: banks ranked by name with
the city marked, where leads wait, and the districts on a schematic map shaded by a chosen
measure; each answer exports as CSV and XLSX."""

import csv
import io
import re
from typing import Any

import time_machine
from openpyxl import load_workbook

from tests.metrics.test_answers import PERIOD, TODAY, book  # noqa: F401 (a fixture)

DASH = "/web/office?from=2026-11-01&to=2026-11-30"


def _page(office: Any, url: str) -> str:
    with time_machine.travel(TODAY, tick=False):
        response = office.get(url)
    assert response.status_code == 200, response.text
    return response.text


def test_the_dashboard_answers_which_banks_convert(browser_as, book) -> None:  # noqa: F811
    page = _page(browser_as("office"), DASH)
    banks = page[page.index('id="q-banks"') : page.index('id="q-stalls"')]
    assert "哪些银行转化好" in banks and "分母为期间内生成的线索" in banks
    table = banks[banks.index('id="table-conversion"') :]
    order = [table.index(name) for name in ("甲银行", "乙银行", "丙银行")]
    assert order == sorted(order)  # 丙's lucky 100 % of one lead comes last
    assert "样本少" in table and "全市" in table and "66.7%" in table
    assert 'class="reference"' in banks  # the city's average marked on the bars
    for code in book.values():
        assert f">{code}<" not in page  # names, never codes


def test_the_dashboard_shows_where_leads_stall(browser_as, book) -> None:  # noqa: F811
    page = _page(browser_as("office"), DASH)
    stalls = page[page.index('id="q-stalls"') : page.index('id="q-areas"')]
    for label in ("新线索未查看", "已查看未联系", "已联系未批复", "已批复未放款"):
        assert label in stalls
    for reason in ("企业未同意共享信息", "不在服务区域", "没有符合条件的产品"):
        assert reason in stalls
    assert "no_consent" not in stalls and "out_of_service_area" not in stalls


def test_the_district_map_follows_the_chosen_measure(browser_as, book) -> None:  # noqa: F811
    office = browser_as("office")
    page = _page(office, DASH)
    areas = page[page.index('id="q-areas"') : page.index('id="q-detail"')]
    assert "示意图" in areas and "图例" in areas
    for name in ("梁溪区", "锡山区", "惠山区", "滨湖区", "新吴区", "江阴市", "宜兴市"):
        assert name in areas
    assert areas.count('class="district"') == 8
    assert "未到达银行的需求占比" in areas and "66.7%" in areas  # the default measure
    money = _page(office, DASH + "&measure=disbursed")
    assert "无锡各区放款金额（万元）" in money and ">80<" in money  # 新吴: 80万
    odd = _page(office, DASH + "&measure=<script>")
    assert "<script>" not in odd and "未到达银行的需求占比" in odd
    assert "<script" not in page  # no script, the map is drawn on the server


def test_the_answers_export_as_csv_and_xlsx(browser_as, book) -> None:  # noqa: F811
    office = browser_as("office")
    page = _page(office, DASH)
    for name in ("conversion", "stalls", "unreached", "areas-district", "areas-cluster"):
        assert f"/web/office/export/{name}.csv" in page
        with time_machine.travel(TODAY, tick=False):
            response = office.get(f"/web/office/export/{name}.csv", params=PERIOD)
            xlsx = office.get(f"/web/office/export/{name}.xlsx", params=PERIOD)
        assert response.status_code == 200 and xlsx.status_code == 200, name
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert [c.value for c in sheet[1]] == rows[0]
    conversion = office.get("/web/office/export/conversion.csv", params=PERIOD)
    text = conversion.content.decode("utf-8-sig")
    assert re.search(r"甲银行,6,", text) and "全市" in text

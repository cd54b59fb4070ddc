"""The office's journey in a real browser (JavaScript off) on the demo data: the dashboard
answers its three questions — which banks convert, where leads stall, which districts are
underserved — the map follows the chosen measure, an answer downloads as a spreadsheet, and a
lead opens from the list. Checks the shape of the answers, not the demo's exact figures."""

import csv
import io
import re
from pathlib import Path
from typing import Any

from service.demo_people import DEMO_PASSWORD


def test_the_office_reads_the_three_answers_and_downloads_one(visit: Any) -> None:
    office = visit("office-journey")
    office.sign_in_as("office@demo.finmatch.cn", DEMO_PASSWORD)  # the demo office person
    assert office.page.url.endswith("/web/office")
    office.shot("dashboard")

    # 1. Which banks convert: banks by name, the city's row, the city marked on the bars.
    banks = office.page.locator("#q-banks")
    assert "分母为期间内生成的线索" in banks.inner_text()
    table = office.page.locator("#table-conversion")
    rows = table.locator("tbody tr")
    assert rows.count() >= 1
    names = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in names), names  # names, not codes
    assert "jsbank-wx" not in banks.inner_text()
    assert "全市" in table.locator("tfoot").inner_text()
    assert banks.locator("line.reference").count() >= 1

    # 2. Where leads stall: every open stage and the needs that reached no bank, by reason.
    stalls = office.page.locator("#q-stalls").inner_text()
    for stage in ("新线索未查看", "已查看未联系", "已联系未批复", "已批复未放款"):
        assert stage in stalls
    for reason in ("企业未同意共享信息", "不在服务区域", "没有符合条件的产品"):
        assert reason in stalls

    # 3. Underserved districts: a schematic map with every district named, then another measure.
    areas = office.page.locator("#q-areas")
    assert areas.locator("svg.map g.district").count() == 8
    assert "示意图" in areas.inner_text()
    office.page.click("#q-areas nav a:text('放款金额（万元）')")
    assert "measure=disbursed" in office.page.url
    assert "无锡各区放款金额（万元）" in office.page.locator("#q-areas figcaption").inner_text()
    office.shot("map-disbursed")

    # An answer downloads as CSV, the banks by name and the city last.
    with office.page.expect_download() as download:
        office.page.click("#table-conversion .exports a:text('CSV')")
    rows_csv = list(
        csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig")))
    )
    assert rows_csv[0][:3] == ["名次", "银行", "线索数"]
    assert rows_csv[-1][1] == "全市"
    with office.page.expect_download() as download:
        office.page.click("#table-stalls .exports a:text('XLSX')")
    assert download.value.suggested_filename.endswith(".xlsx")

    # A lead opens from the list without marking it viewed.
    office.goto("/web/office/leads")
    assert "共" in office.text()
    first = office.page.locator("table.cards tbody tr td a").first
    first.click()
    assert re.search(r"/web/office/leads/\d+$", office.page.url)
    assert "状态记录" in office.text()
    office.shot("lead")

"""The dashboard's two panels on requests (诉求) and satisfaction show the quarter's key
figures, the same as the metrics API's (the book and its hand counts are the metrics
tests'), and lead to the requests' pages; the quarterly report (季度交办会报告) downloads from
them and from the requests' list as the API's workbook, for the office only."""

import io
import re
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook

from tests.factories import bank_payload, create_enterprise
from tests.metrics.test_request_metrics import TODAY, book  # noqa: F401 (a fixture)


def _panels(browser_as: Any, url: str = "/web/office") -> str:
    with time_machine.travel(TODAY, tick=False):  # signed in that day: a session lasts hours
        response = browser_as("office").get(url)
    assert response.status_code == 200, response.text
    page = response.text
    return page[page.index('id="q-requests"') : page.index('id="q-detail"')]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_panels_show_the_quarters_figures(browser_as, book) -> None:  # noqa: F811
    panels = _panels(browser_as)
    text = _text(panels)
    assert "诉求办理" in text and "服务满意度" in text and "2026Q4" in text
    assert "提出诉求 7 件" in text
    assert "按期答复率 75.0%（3/4）" in text  # R7 R1 R3 on time, R2 late
    assert "办结 4 件，办结天数中位数 12.5 天" in text
    assert "重新打开率 25.0%（1/4）" in text
    assert "逾期未办结 2 件" in text
    assert "企业评价 5 条（线索 2，诉求 3）" in text and "平均评分 3.60 分" in text
    assert "乙银行 2.50 分（2 条）；甲银行 4.50 分（2 条）" in text  # the lowest first
    assert 'href="/web/office/requests?tab=overdue"' in panels
    assert 'href="/web/office/requests"' in panels
    for code in (book["a"], book["b"]):
        assert code not in panels


def test_the_panels_follow_the_pages_dates(browser_as, book) -> None:  # noqa: F811
    text = _text(_panels(browser_as, "/web/office?from=2026-10-01&to=2026-10-31"))
    assert "2026-10-01 至 2026-10-31" in text
    assert "提出诉求 2 件" in text and "按期答复率 66.7%（2/3）" in text


def test_the_panels_of_an_empty_quarter(browser_as) -> None:
    text = _text(_panels(browser_as))
    assert "提出诉求 0 件" in text and "按期答复率 —" in text and "平均评分 —" in text


REPORT = "/web/office/requests/quarterly.xlsx"


def _links(html: str) -> list[str]:
    """The quarters the page offers the report of, in order."""
    return re.findall(r'href="/web/office/requests/quarterly\.xlsx\?quarter=(\d{4}Q[1-4])"', html)


def test_the_panels_and_the_list_offer_the_quarterly_report(browser_as, book) -> None:  # noqa: F811
    assert _links(_panels(browser_as)) == ["2026Q4", "2026Q3", "2026Q2", "2026Q1", "2025Q4"]
    august = _panels(browser_as, "/web/office?from=2026-08-01&to=2026-08-31")
    assert _links(august)[:2] == ["2026Q3", "2026Q4"]  # the panels' quarter first
    assert "下载 2026Q3 季度交办会报告（XLSX）" in _text(august)
    with time_machine.travel(TODAY, tick=False):
        listing = browser_as("office").get("/web/office/requests").text
    assert _links(listing) == ["2026Q4", "2026Q3", "2026Q2", "2026Q1", "2025Q4"]
    assert "下载 2026Q4 季度交办会报告（XLSX）" in _text(listing)


def _cells(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book_ = load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book_.worksheets}


def test_the_download_is_the_api_s_workbook(browser_as, client, book) -> None:  # noqa: F811
    with time_machine.travel(TODAY, tick=False):
        office = browser_as("office")
        chosen = office.get(REPORT, params={"quarter": "2026Q4"})
        default = office.get(REPORT)
        earlier = office.get(REPORT, params={"quarter": "2026q3"})
        api = client.get("/api/v1/metrics/requests/quarterly.xlsx", params={"quarter": "2026Q4"})
        api_q3 = client.get("/api/v1/metrics/requests/quarterly.xlsx", params={"quarter": "2026Q3"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = chosen.headers["content-disposition"]
    assert disposition == 'attachment; filename="finmatch_requests_2026Q4.xlsx"'
    sheets = _cells(chosen.content)
    assert sheets == _cells(api.content)  # every sheet, every figure
    summary = {row[0]: row[1] for row in sheets["概况"]}
    assert summary["提出诉求（件）"] == 7 and summary["逾期未办结（件）"] == 2
    assert summary["统计期间"].startswith("2026Q4")
    assert default.headers["content-disposition"] == disposition  # this quarter by default
    assert _cells(default.content) == sheets
    assert earlier.status_code == 200
    assert "finmatch_requests_2026Q3.xlsx" in earlier.headers["content-disposition"]
    assert _cells(earlier.content) == _cells(api_q3.content)
    assert _cells(earlier.content) != sheets


@pytest.mark.parametrize(
    ("quarter", "said"),
    [
        ("2026Q5", "季度须写作「年份Q季度」，如 2026Q4"),
        ("Q4 2026", "季度须写作「年份Q季度」，如 2026Q4"),
        ("1999Q1", "年份 2000–2100"),
        ("=1+1", "季度须写作「年份Q季度」"),
        ("2026Q4" * 10, "地址中的参数无效"),  # longer than any quarter
    ],
)
def test_a_bad_quarter_is_an_error_page(browser_as, quarter, said) -> None:
    response = browser_as("office").get(REPORT, params={"quarter": quarter})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert said in _text(response.text)
    assert "监测看板" in response.text  # the office's menu stays


def test_only_the_office_downloads_it(browser_as, client, anonymous) -> None:
    code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    firm = create_enterprise(client)["id"]
    people = (
        (browser_as("bank", bank_code=code), "/web/bank/requests"),
        (browser_as("enterprise", enterprise_id=firm), "/web/enterprise/requests"),
    )
    for person, own_list in people:
        refused, office_page = person.get(REPORT), person.get("/web/office/requests")
        assert refused.status_code == office_page.status_code == 403
        assert _text(refused.text) == _text(office_page.text)  # the same refusal
        assert refused.headers["content-type"].startswith("text/html")
        assert "quarterly.xlsx" not in person.get(own_list).text
    away = anonymous.get(REPORT, params={"quarter": "2026Q4"}, follow_redirects=False)
    assert away.status_code == 303 and "/web/sign-in" in away.headers["location"]

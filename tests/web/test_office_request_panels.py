"""The dashboard's two panels on requests (诉求) and satisfaction show the quarter's key
figures, the same as the metrics API's (the book and its hand counts are the metrics
tests'), and lead to the requests' pages."""

import re
from typing import Any

import time_machine

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

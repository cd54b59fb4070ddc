"""One request (诉求) from raising to rating in a real browser (JavaScript off), across the three
roles on the demo data: the enterprise raises a charge complaint with a PDF, the office
accepts and dispatches it to the bank, the bank answers, the office closes it, the enterprise
confirms and rates it, and the bank sees the rating. The office follows its menu's count of
escalated requests to the overdue ones and downloads the quarter's report."""

import io
import re
from typing import Any

from openpyxl import load_workbook

from service.demo_people import DEMO_PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "放款前被要求购买一年期保险"
BANK_NAME = "江苏银行"


def _open_details(page: Any, action: str) -> None:
    """The office's forms sit in <details> (the first step open): open one the way a person
    does."""
    if page.locator(f"#step-{action}").get_attribute("open") is None:
        page.click(f"#step-{action} > summary")


def test_one_request_from_raising_to_rating(visit: Any) -> None:
    # 1. The enterprise raises it, with its invoice, and lets the bank see who it is.
    firm = visit("request-enterprise")
    firm.sign_in_as("ent001@demo.finmatch.cn", DEMO_PASSWORD)
    firm.page.click("nav >> text=诉求与评价")
    assert firm.page.url.endswith("/web/enterprise/requests")
    firm.page.click("main a[href$='/enterprise/requests/new']")
    page = firm.page
    page.select_option("#kind", "unreasonable_charge")
    page.select_option("#bank_code", "jsbank-wx")
    page.select_option("#charge_rule", "tied_sale")
    page.select_option("#charge_item", "insurance")
    page.fill("#charge_amount", "12000")
    page.fill("#title", TITLE)
    page.fill("#description", "办理流动资金贷款时，客户经理要求先购买一年期保险，否则不予放款。")
    page.set_input_files(
        "#file", files=[{"name": "保险缴费凭证.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.check("input[name=show_to_bank]")
    firm.shot("raise-form")
    page.click("form.request-form button[type=submit]")
    found = re.search(r"/web/enterprise/requests/(\d+)", page.url)
    assert found, page.url
    rid = int(found.group(1))
    text = firm.text()
    assert TITLE in text and "待受理" in text and "保险缴费凭证.pdf" in text
    assert "七不准" in text
    firm.shot("raised")

    # 2. The office finds it in the triage queue, accepts it and dispatches it to the bank.
    office = visit("request-office")
    office.sign_in_as("office@demo.finmatch.cn", DEMO_PASSWORD)
    office.page.click("nav >> text=诉求")
    assert "/web/office/requests" in office.page.url
    row = office.page.locator("table.requests tbody tr", has_text=TITLE)
    assert row.count() == 1
    row.locator("a.next-step").click()
    assert office.page.url.endswith(f"/web/office/requests/{rid}")
    _open_details(office.page, "accept")
    office.page.select_option("#accept-category", "charges")
    office.page.click("#step-accept button[type=submit]")
    assert "已受理" in office.text()
    _open_details(office.page, "dispatch")
    office.page.select_option("#dispatch-handler", "bank:jsbank-wx")
    office.shot("dispatch")
    office.page.click("#step-dispatch button[type=submit]")
    text = office.text()
    assert "办理中" in text and BANK_NAME in text
    due = re.search(r"20\d\d-\d\d-\d\d", text)
    assert due, text

    # 3. The bank sees it among its requests, with the enterprise and its file, and answers.
    bank = visit("request-bank")
    bank.sign_in_as("admin@jsbank-wx.demo", DEMO_PASSWORD)
    bank.follow("nav >> text=诉求办理")
    row = bank.page.locator("table tbody tr", has_text=TITLE)
    assert row.count() == 1
    row.locator("a").first.click()
    assert bank.page.url.endswith(f"/web/bank/requests/{rid}")
    text = bank.text()
    assert "匿名企业" not in text and "保险缴费凭证.pdf" in text
    bank.page.fill("#text", "经核实，客户经理违规搭售保险，保费已全额退还，并对其通报批评。")
    bank.shot("answer")
    bank.page.click("#answer button[type=submit]")
    assert "已答复" in bank.text()

    # 4. The office closes it with the result.
    office.goto(f"/web/office/requests/{rid}")
    assert "已答复" in office.text()
    _open_details(office.page, "close")
    office.page.fill("#close-text", "银行已退还保险费并整改，金融办已约谈该行。")
    office.page.click("#step-close button[type=submit]")
    assert "已办结" in office.text()

    # 5. The enterprise confirms and rates the handling.
    firm.page.click("nav >> text=诉求与评价")
    row = firm.page.locator("tbody tr", has_text=TITLE)
    row.locator("text=确认并评价").click()
    firm.page.check("#confirm input[name=rating][value='4']")
    firm.page.fill("#comment", "处理及时，保费已退。")
    firm.shot("confirm")
    firm.page.click("#confirm button[type=submit]")
    text = firm.text()
    assert "已评价" in text and "4" in text
    # every step is on the timeline, in words
    for step in ("提交诉求", "受理", "交办", "答复", "办结", "确认并评价"):
        assert step in text, step
    firm.shot("rated")

    # 6. The bank sees the rating of its handling, with the enterprise's name (it agreed).
    bank.page.click("nav >> text=服务评价")
    ratings = bank.text()
    assert "处理及时，保费已退。" in ratings
    bank.shot("ratings")

    # 7. The office follows its menu's count of escalated requests still overdue (the demo
    #    has some) to the overdue tab, and downloads this quarter's report from the list.
    office.follow("nav a.badge.overdue")
    assert office.page.url.endswith("/web/office/requests?tab=overdue")
    assert office.page.locator("table.requests tbody tr.overdue").count() >= 1
    office.shot("overdue")
    with office.page.expect_download() as downloading:
        office.page.click("p.quarterly-report > a")
    download = downloading.value
    assert re.fullmatch(r"finmatch_requests_20\d\dQ[1-4]\.xlsx", download.suggested_filename)
    report = load_workbook(io.BytesIO(download.path().read_bytes()))  # saved without a suffix
    assert report.sheetnames[0] == "概况"

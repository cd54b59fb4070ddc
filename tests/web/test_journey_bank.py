"""An account manager's day in a real browser (JavaScript off) against `finmatch serve` with
the demo data: signs in with the demo account, lands on its own leads, finds an unassigned
new lead with the filters, opens it, claims it, works it from contacted to disbursed and
follows the link to the loan it made."""

from typing import Any

from service.demo_people import DEMO_PASSWORD

MANAGER = "manager1@jsbank-wx.demo"


def claim_and_work_a_lead(me: Any, name: str) -> None:
    """From the bank's lead list: find an unassigned open lead with the filters, open it,
    claim it as ``name``, work it to disbursement and follow the link to its loan."""
    # every lead of the bank is one click away; then the unassigned new ones
    me.page.click(".views a:text('全部线索')")
    assert "assignee=all" in me.page.url
    me.page.select_option("select[name=assignee]", "none")
    for status in ("new", "viewed", "contacted"):
        me.page.select_option("select[name=status]", status)
        me.follow(".worklist-filters button[type=submit]")
        if me.page.locator("table.worklist a[href^='/web/bank/leads/']").count():
            break
    assert "assignee=none" in me.page.url and "共 0 条" not in me.text()
    me.shot("filtered")
    # the page's links keep the filters: sorting by score
    me.page.click("table.worklist th a:text('匹配分')")
    assert "assignee=none" in me.page.url and "sort=score" in me.page.url
    me.page.click("table.worklist a[href^='/web/bank/leads/'] >> nth=0")
    me.shot("lead")
    assert "为什么匹配" in me.text() and "尚未分配" in me.text()
    me.page.click("#claim")
    assert "已认领" in me.text() and name in me.text()
    me.shot("claimed")
    steps = me.page.eval_on_selector_all("#status option", "os => os.map(o => o.value)")
    if "contacted" in steps:
        me.page.select_option("#status", "contacted")
        me.page.click("#status-form button[type=submit]")
        assert "已记录进展" in me.text() and "已联系" in me.text()
    me.page.select_option("#status", "approved")
    me.page.fill("#amount", "100")
    me.page.fill("#rate", "3.2")
    me.page.fill("#term_months", "12")
    me.page.click("#status-form button[type=submit]")
    assert "已批复" in me.text()
    me.page.select_option("#status", "disbursed")
    me.page.fill("#amount", "100")
    me.page.fill("#rate", "3.2")
    me.page.click("#status-form button[type=submit]")
    assert "已放款" in me.text()
    history = me.page.inner_text("table.history")
    assert name in history and "已批复 → 已放款" in history
    me.shot("disbursed")
    me.page.click("#loan-link a")
    assert "/web/bank/loans/" in me.page.url
    assert "续贷" in me.text()
    me.shot("loan")


def test_an_account_manager_claims_and_works_a_lead(visit: Any) -> None:
    me = visit("bank-manager")
    me.sign_in_as(MANAGER, DEMO_PASSWORD)
    assert me.page.url.endswith("/web/bank")
    assert me.page.inner_text(".views [aria-current=page]") == "我的线索"
    me.shot("mine")
    claim_and_work_a_lead(me, "陈晓燕")
    # back on its own leads, the lead is there
    me.goto("/web/bank")
    assert me.page.inner_text(".views [aria-current=page]") == "我的线索"

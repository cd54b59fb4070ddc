"""An enterprise's finance person (the demo one, signed in with a password) in a real browser (JavaScript off) against `finmatch serve`
with the demo library: posts a need without consent and reads that no bank receives it, posts
one with consent and sees banks receive it, then compares its recommendations and opens one's
details. Screenshots under test-artifacts/screenshots."""

import re
from typing import Any

from service.demo_people import DEMO_PASSWORD


def _post_need(me: Any, amount: str, consent: bool) -> str:
    """Fill the need form and post it; the posted need's row id on the needs page."""
    me.page.click("nav >> text=融资需求")
    me.page.click("main a.button:text('发布融资需求')")
    assert me.page.locator("fieldset.consent legend").inner_text() == "是否把这项需求推送给银行"
    me.page.fill("#amount", amount)
    me.page.fill("#term_months", "12")
    me.page.select_option("#purpose", "working_capital")
    if consent:
        me.page.check("input[name=consent_share_details]")
    me.shot("need-form-consent" if consent else "need-form-private")
    me.page.click("form.card button[type=submit]")
    found = re.search(r"#(need-\d+)$", me.page.url)
    assert found, me.page.url
    return found.group(1)


def test_an_enterprise_posts_needs_and_compares_its_recommendations(visit: Any) -> None:
    me = visit("enterprise-journey")
    me.sign_in_as("ent001@demo.finmatch.cn", DEMO_PASSWORD)  # the demo enterprise's person
    assert me.page.url.endswith("/web/enterprise")

    # Without consent: the form said what that means, and the list says no bank received it.
    me.page.click("nav >> text=融资需求")
    me.page.click("main a.button:text('发布融资需求')")
    assert "不会推送给任何银行" in me.text()
    private = _post_need(me, "120", consent=False)
    assert "done=posted_private" in me.page.url
    me.shot("need-private")
    row = me.page.locator(f"tr#{private}")
    assert "没有银行收到这项需求" in row.inner_text()
    assert row.locator("button:text('同意推送给银行')").count() == 1

    # With consent: banks receive it, named on the list and on the progress page.
    shared = _post_need(me, "300", consent=True)
    assert "done=posted" in me.page.url and "posted_private" not in me.page.url
    me.shot("need-shared")
    row_text = me.page.locator(f"tr#{shared}").inner_text()
    assert "已推送：" in row_text and "没有银行收到" not in row_text
    me.page.click("nav >> text=对接进度")
    me.shot("leads")
    need_id = shared.split("-")[1]
    assert me.page.locator(f"article.lead:has-text('需求 #{need_id}')").count() >= 1

    # Recommendations as a list to compare: sorted by rate, one product's details opened.
    me.follow("nav >> text=推荐产品")
    table = me.page.locator("table.recommendations")
    assert table.locator("tbody tr.recommendation").count() >= 2
    me.page.click("table.recommendations thead a:text('利率')")
    assert "sort=rate" in me.page.url
    me.shot("recommendations-by-rate")
    first = me.page.locator("tr.recommendation").first
    first.locator("details summary").click()
    assert first.locator("details ul.factors li").count() >= 3
    assert "为什么推荐" in first.inner_text()
    me.shot("recommendation-details")

    # Its loans: each with its bank by name, its account manager and what it can do next.
    me.page.click("nav >> text=贷款与续贷")
    me.shot("loans")
    loans = me.page.locator("table.loans tbody tr")
    assert loans.count() >= 1
    assert "江苏银行" in loans.first.inner_text()
    assert me.page.locator("table.loans td[data-label='客户经理']").count() == loans.count()

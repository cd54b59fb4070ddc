"""The real journeys in a real browser: Debian's Chromium, headless, driven by Playwright,
with JavaScript switched off (the pages must work without it), against `finmatch serve`
on a fresh database with the demo library. An enterprise signs in, sees recommendations
with their reasons, posts a need for one bank and sees the lead appear; the bank records
its outcomes; the office sees the funnel change and exports it. Every page is saved as a
screenshot under test-artifacts/screenshots (or $FINMATCH_ARTIFACTS).

Where no Chromium is found the tests skip and say so; in CI (CI=true) they fail instead,
since .ci/run installs it."""

import csv
import io
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook

from tests.web.browser import BANK, BANK_CODE, ENTERPRISE, OFFICE, Visit


def _funnel_total(office: Visit) -> list[str]:
    """The 合计 line of the funnel by bank, as the CSV export gives it."""
    with office.page.expect_download() as download:
        office.page.click("#table-funnel-bank .exports a:text('CSV')")
    path = download.value.path()
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert rows[0][:6] == ["银行", "线索", "已查看", "已联系", "已批复", "已放款"]
    return rows[-1]


def test_the_journeys(visit: Any) -> None:
    # The office looks at the funnel first.
    office = visit("office")
    office.sign_in(OFFICE)
    assert office.page.url.endswith("/web/office")
    office.shot("dashboard")
    assert office.page.locator("svg.chart").count() >= 3
    before = _funnel_total(office)

    # The enterprise signs in and sees its recommendations, each with a score and reasons.
    me = visit("enterprise")
    me.sign_in(ENTERPRISE)
    assert me.page.url.endswith("/web/enterprise")
    me.shot("home")
    me.page.click("nav >> text=推荐产品")
    me.shot("recommendations")
    first = me.page.locator("tr.recommendation").first
    assert first.locator(".score").inner_text().endswith("分")
    first.locator("details summary").click()
    assert first.locator("ul.factors li").count() >= 3
    assert first.locator("ul.factors li").first.inner_text().strip()  # a reason, in words
    assert me.page.locator("tr.near-miss li").count() >= 1  # what would make it fit

    # It posts a need, first wrongly: each message stands beside its field.
    me.page.click("nav >> text=融资需求")
    me.page.click("text=发布融资需求 >> nth=0")
    me.page.fill("#amount", "三百")
    me.page.fill("#term_months", "0")
    me.page.click("form.card button[type=submit]")
    assert "请填写数字" in me.page.inner_text("#amount-error")
    assert "1 到 360" in me.page.inner_text("#term_months-error")
    assert me.page.locator("#purpose-error").count() == 1
    me.shot("need-errors")
    # Then rightly, for 江苏银行 only, consenting to share its details.
    me.page.fill("#amount", "300")
    me.page.fill("#term_months", "12")
    me.page.select_option("#purpose", "working_capital")
    me.page.fill("#max_banks", "1")
    me.page.check(f"input[name=bank_codes][value={BANK_CODE}]")
    me.page.check("input[name=consent_share_details]")
    me.shot("need-form")
    me.page.click("form.card button[type=submit]")
    assert "/web/enterprise/needs?done=posted" in me.page.url
    me.shot("needs")
    assert "300.00 万元" in me.text()
    # and changes its mind about the term
    posted = me.page.url.rsplit("#", 1)[1]  # the row of the need just posted
    me.page.click(f"tr#{posted} td.actions a:text('修改')")
    assert me.page.input_value("#amount") == "300"
    me.page.fill("#term_months", "18")
    me.shot("need-edit")
    me.page.click("form.card button[type=submit]")
    assert "已保存" in me.text() and "18 个月" in me.text()
    me.page.click("nav >> text=对接进度")
    me.shot("leads")
    lead_card = me.page.locator("article.lead").first
    assert "江苏银行" in lead_card.inner_text() and "新线索" in lead_card.inner_text()

    # The bank's staff sign in, open the lead and record what happened.
    bank = visit("bank")
    bank.sign_in(BANK)
    assert bank.page.url.endswith("/web/bank")
    bank.shot("home")
    bank.page.click("table a[href^='/web/bank/leads/'] >> nth=0")
    bank.shot("lead")
    # who it is, with the credit code: the enterprise consented
    assert "有限公司（9132" in bank.text() and "未授权" not in bank.text()
    bank.page.select_option("#status", "contacted")
    bank.page.click("form.card button[type=submit]")
    assert "已记录" in bank.text() and "已联系" in bank.text()
    # An approval without its amount is refused beside the field.
    bank.page.select_option("#status", "approved")
    bank.follow("form.card button[type=submit]")
    assert bank.page.locator("#amount-error").count() == 1
    bank.shot("lead-error")
    bank.page.select_option("#status", "approved")
    bank.page.fill("#amount", "280")
    bank.page.fill("#rate", "3.2")
    bank.page.fill("#term_months", "12")
    bank.page.click("form.card button[type=submit]")
    assert "已批复" in bank.text()
    bank.page.select_option("#status", "disbursed")
    bank.page.fill("#amount", "280")
    bank.page.fill("#rate", "3.2")
    bank.page.click("form.card button[type=submit]")
    assert "已放款" in bank.text()
    bank.shot("lead-disbursed")
    # and, a month ahead, a maturing loan's renewal: contacted
    bank.goto("/web/bank/loans")
    bank.page.click("table a[href^='/web/bank/loans/'] >> nth=0")
    bank.shot("loan")
    bank.page.select_option("#status", "contacted")
    bank.page.click("form.card button[type=submit]")
    assert "已记录" in bank.text() and "已对接" in bank.text()
    bank.shot("loan-contacted")

    # The enterprise follows the lead to the loan it became.
    me.page.click("nav >> text=对接进度")
    assert "已放款" in me.page.locator("article.lead").first.inner_text()
    me.page.click("nav >> text=贷款与续贷")
    me.shot("loans")
    assert "280.00 万元" in me.text()

    # The office sees the funnel move by one lead contacted, approved and disbursed.
    office.goto("/web/office")
    office.shot("dashboard-after")
    after = _funnel_total(office)
    for column in (1, 3, 4, 5):  # leads, contacted, approved, disbursed
        assert int(after[column]) == int(before[column]) + 1, (column, before, after)
    # and exports it as XLSX too, the same figures
    with office.page.expect_download() as download:
        office.page.click("#table-funnel-bank .exports a:text('XLSX')")
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert [c.value for c in sheet[sheet.max_row]][:6] == ["合计", *map(int, after[1:6])]
    # The bank's row opens the bank's page.
    office.page.click(f"#table-funnel-bank a[href='/web/office/banks/{BANK_CODE}']")
    office.shot("bank-page")
    assert "江苏银行" in office.text()
    office.goto("/web/office/enterprises/1")
    office.shot("enterprise-page")

    # Signing out ends it: the next page asks to sign in again.
    me.page.click("header .sign-out button")
    assert "/web/sign-in" in me.page.url
    me.goto("/web/enterprise")
    assert "/web/sign-in" in me.page.url


def test_office_reviews_a_list_and_publishes_a_release(visit: Any, server: str) -> None:
    # A list arrives with two names the library cannot link by itself.
    api = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {OFFICE}"})
    listed = "企业名称\n绣盈化纤有限公司\n无锡绣盈新材料科技有限公司\n".encode()
    response = api.post(
        "/api/v1/lists/imports",
        files={"file": ("瞪羚企业.csv", listed, "text/csv")},
        data={"qualification_type": "gazelle", "title": "瞪羚企业名单"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["review"] == 2

    office = visit("office-admin")
    office.sign_in(OFFICE)
    office.goto("/web/office/lists")
    office.shot("review-queue")
    first = office.page.locator("article.entry", has_text="绣盈化纤有限公司").first
    candidate = first.locator("tbody tr").first.locator("td").first.inner_text()
    assert candidate == "绣盈化纤科技有限公司"
    first.locator("tbody tr").first.locator("button").click()
    assert "已确认" in office.text()
    office.page.locator("article.entry", has_text="无锡绣盈新材料").locator(
        "button.secondary"
    ).click()
    assert "已驳回" in office.text() and "没有待审核的条目" in office.text()
    office.shot("review-done")
    decided = api.get("/api/v1/lists/entries", params={"match": "review"}).json()["items"]
    assert sorted(str(e["decision"]) for e in decided) == ["confirmed", "rejected"]
    office.page.click("button:text('提交名单')")
    assert "已提交，资质已生效" in office.text()
    office.shot("list-committed")

    for path, label in (
        ("/web/office/enterprises?name=华光", "enterprise-search"),
        ("/web/office?group=cluster", "dashboard-by-cluster"),
        ("/web/office?group=size_class&amount_group=scheme", "dashboard-by-size"),
        ("/web/office?group=district&from=2026-12-31&to=2026-01-01", "dashboard-bad-period"),
    ):
        office.goto(path)
        office.shot(label)
    assert office.page.locator("#to-error").count() == 1
    office.goto("/web/office/releases")
    office.page.fill("#note", "浏览器测试发布")
    office.page.click("form.card button[type=submit]")
    assert "已发布" in office.text() and "浏览器测试发布" in office.text()
    office.shot("releases")
    # A page of another role is refused, with a page that says so.
    office.goto("/web/enterprise")
    assert "无权访问" in office.text()
    office.shot("forbidden")


def test_office_uploads_a_list_through_the_form(visit: Any, server: str) -> None:
    # A list with a title line: a library firm by its credit code, and a row whose code and
    # date are both wrong (row 4 of the file).
    api = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {OFFICE}"})
    firm = api.get("/api/v1/enterprises", params={"limit": 1}).json()["items"][0]
    listed = "\n".join(
        [
            "2026年瞪羚企业名单（浏览器测试）",
            "企业名称,统一社会信用代码,认定日期",
            f"{firm['name']},{firm['credit_code']},",
            "无锡错码精工有限公司,91320200MA1234567X,2026-02-30",
        ]
    ).encode()

    office = visit("office-upload")
    office.sign_in(OFFICE)
    office.goto("/web/office/lists")
    # First without a file: told beside the field, what was typed kept.
    office.page.select_option("#qualification_type", label="无锡市瞪羚企业")
    office.page.fill("#title", "2026年瞪羚企业名单（浏览器测试）")
    office.page.fill("#issued_date", "2026-04-01")
    office.page.click("form.upload button[type=submit]")
    assert "请选择名单文件" in office.page.inner_text("#file-error")
    assert office.page.input_value("#title") == "2026年瞪羚企业名单（浏览器测试）"
    assert office.page.input_value("#qualification_type") == "gazelle"
    office.shot("upload-error")
    office.page.set_input_files(
        "#file", files=[{"name": "瞪羚企业.csv", "mimeType": "text/csv", "buffer": listed}]
    )
    office.shot("upload-form")
    office.page.click("form.upload button[type=submit]")
    assert "/web/office/lists/imports/" in office.page.url
    office.shot("upload-preview")
    text = office.text()
    assert "名单共 2 行企业" in text and "按信用代码匹配 1 行" in text
    assert "无效（未导入） 1 行" in text and "无锡市瞪羚企业" in text and "gazelle" not in text
    rejected = office.page.locator("table.rejected tbody tr")
    assert rejected.count() == 1
    row = rejected.first.inner_text()
    assert "第 4 行" in row and "统一社会信用代码 91320200MA1234567X" in row
    assert "认定日期「2026-02-30」不是有效日期" in row
    assert rejected.first.locator("ul.reasons li").count() == 2
    # The same preview fits a phone.
    phone = visit(
        "phone-upload-preview",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.sign_in(OFFICE)
    phone.goto(office.page.url.removeprefix(server))
    phone.shot("upload-preview")
    overflow = phone.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow

    office.page.click("form.commit button[type=submit]")
    assert "已提交，资质已生效" in office.text()
    office.shot("upload-committed")
    qualifications = api.get(f"/api/v1/enterprises/{firm['id']}").json()["qualifications"]
    assert ("gazelle", "2026-04-01") in [(q["type_code"], q["issued_date"]) for q in qualifications]


def _all_enterprises(api: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/enterprises", params=params).json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _today_in_wuxi() -> str:
    """Signed today: a form signed earlier may be older than one already recorded."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_a_bank_reads_the_library_the_office_published(visit: Any, server: str) -> None:
    api = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {OFFICE}"})
    firms = _all_enterprises(api)
    # One more enterprise signs the 入库申报 form that lets banks see its private facts.
    consenting = next(
        f
        for f in reversed(firms)
        if not api.get(f"/api/v1/enterprises/{f['id']}").json()["share_with_banks"]
    )
    response = api.patch(
        f"/api/v1/enterprises/{consenting['id']}",
        json={
            "share_with_banks": True,
            "consent_form_ref": "锡金融入库〔2026〕0999号",
            "consent_form_signed_on": _today_in_wuxi(),
        },
    )
    assert response.status_code == 200, response.text
    revenue = response.json()["revenue_fen"]

    # The office publishes a release on its page, and sees what it gives banks.
    office = visit("office-library")
    office.sign_in(OFFICE)
    office.goto("/web/office/releases")
    office.page.fill("#note", "浏览器测试：银行企业库")
    office.page.click("form.card button[type=submit]")
    assert "已发布" in office.text()
    number = int(office.page.url.rsplit("=", 1)[1])
    release = api.get(f"/api/v1/releases/{number}").json()
    assert release["consented_enterprises"] >= 1
    card = office.page.locator(f"#release-{number}")
    assert (
        f"{release['consented_enterprises']} 家授权共享非公开信息（共 {len(firms)} 家）"
        in card.inner_text()
    )
    office.shot("releases")

    # A bank opens its library page from its menu and pages through every enterprise.
    bank = visit("bank-library")
    bank.sign_in(BANK)
    bank.page.click("nav >> text=企业库")
    assert bank.page.url.endswith("/web/bank/library")
    assert f"第 {number} 版" in bank.text()
    bank.shot("library")
    districts = {d["name"] for d in api.get("/api/v1/reference/districts").json()}
    seen: dict[str, dict[str, str]] = {}
    while True:
        for row in bank.page.locator("table.library tbody tr").all():
            cells = row.locator("td")
            code = row.locator("small.code").inner_text().strip()
            seen[code] = {
                "name": row.locator("strong").inner_text().strip(),
                "district": cells.nth(1).inner_text().strip(),
                "private": cells.nth(8).inner_text().strip(),
            }
        following = bank.page.locator("a[rel=next]")
        if following.count() == 0:
            break
        following.click()
    bank.shot("library-last-page")
    # the public facts of every enterprise, by name
    assert set(seen) == {f["credit_code"] for f in firms}
    for firm in firms:
        row = seen[firm["credit_code"]]
        assert row["name"] == firm["name"]
        assert row["district"] in districts | {"—"}, row
    # the private facts of the consenting one only
    assert "已授权" in seen[consenting["credit_code"]]["private"]
    assert f"{revenue / 1_000_000:,.2f} 万元" in seen[consenting["credit_code"]]["private"]
    shared = {code for code, row in seen.items() if "已授权" in row["private"]}
    assert len(shared) == release["consented_enterprises"]
    for code, row in seen.items():
        if code not in shared:
            assert row["private"] == "未授权" and "万元" not in row["private"]

    # It finds one by its credit code, and downloads the library as it sees it.
    bank.page.fill("input[name=q]", consenting["credit_code"])
    bank.follow("form.filters button[type=submit]")
    assert bank.page.locator("table.library tbody tr").count() == 1
    bank.shot("library-search")
    with bank.page.expect_download() as download:
        bank.page.click(".exports a:text('CSV') >> nth=0")
    assert download.value.suggested_filename.startswith(f"企业库_第{number}版_")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert {r["统一社会信用代码"] for r in rows} == set(seen)
    exported = {r["统一社会信用代码"]: r for r in rows}
    assert exported[consenting["credit_code"]]["营业收入（万元）"]
    assert all(exported[code]["营业收入（万元）"] == "" for code in set(seen) - shared)

    # The same page fits a phone: the table scrolls inside its own box.
    phone = visit(
        "phone-bank-library",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.sign_in(BANK)
    phone.goto("/web/bank/library")
    phone.shot("library")
    overflow = phone.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow

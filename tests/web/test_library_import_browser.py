"""In a real browser (as tests/web/test_browser.py, whose fixtures this uses): the office
uploads an enterprise library file on the enterprise library's page, reads the preview with a
rejected row and the changes in words, checks it on a phone, commits it and publishes a
release; a bank finds the new enterprise's public facts on its library page, and no private
ones."""

from typing import Any

import httpx

from tests.factories import credit_code
from tests.web.browser import BANK, OFFICE


def test_office_imports_the_enterprise_library_through_the_page(
    visit: Any,  # noqa: F811
    server: str,  # noqa: F811
) -> None:
    api = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {OFFICE}"})
    firm = api.get("/api/v1/enterprises", params={"limit": 1}).json()["items"][0]
    new = credit_code()
    library = "\n".join(
        [
            "统一社会信用代码,企业名称,所属地区,从业人员（人）,营业收入（万元）,资质",
            f"{firm['credit_code']},,,4321,,高新技术企业 2025-11-01",
            f"{new},无锡浏览器新增科技有限公司,新吴区,25,1800,",
            "91320200134757148K,无锡错码有限公司,火星区,-3,,",
        ]
    ).encode()

    office = visit("office-library-import")
    office.sign_in(OFFICE)
    office.goto("/web/office/enterprises")
    # First without a file: told beside the field, the choice kept.
    office.page.select_option("#kind", label="企业库")
    office.page.click("form.upload button[type=submit]")
    assert "请选择企业库或项目库文件" in office.page.inner_text("#file-error")
    assert office.page.input_value("#kind") == "enterprise"
    office.page.set_input_files(
        "#file", files=[{"name": "企业库.csv", "mimeType": "text/csv", "buffer": library}]
    )
    office.shot("library-upload-form")
    office.page.click("form.upload button[type=submit]")
    assert "/web/office/enterprises/imports/" in office.page.url
    office.shot("library-upload-preview")
    text = office.text()
    assert "新增 1 行" in text and "更新 1 行" in text and "拒绝 1 行" in text
    rejected = office.page.locator("table.rejected tbody tr")
    assert rejected.count() == 1
    row = rejected.first.inner_text()
    assert "第 4 行" in row and "校验位不符" in row and "火星区" in row
    assert rejected.first.locator("ul.reasons li").count() == 3
    changes = office.page.locator("table.changes").inner_text()
    assert "从业人员" in changes and "4321" in changes
    assert "高新技术企业（2025-11-01 认定）" in changes
    assert "xinwu" not in text and "invalid_credit_code" not in text
    # The same preview fits a phone.
    phone = visit(
        "phone-library-import",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.sign_in(OFFICE)
    phone.goto(office.page.url.removeprefix(server))
    phone.shot("library-upload-preview")
    overflow = phone.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow

    office.page.click("form.commit button[type=submit]")
    assert "已提交" in office.text()
    office.shot("library-upload-committed")
    assert api.get(f"/api/v1/enterprises/{firm['id']}").json()["employees"] == 4321
    created = api.get("/api/v1/enterprises", params={"credit_code": new}).json()["items"]
    assert [e["name"] for e in created] == ["无锡浏览器新增科技有限公司"]

    # The office publishes a release; a bank sees the new enterprise's public facts only.
    office.goto("/web/office/releases")
    office.page.fill("#note", "浏览器测试：导入后发布")
    office.page.click("form.card button[type=submit]")
    assert "已发布" in office.text()
    bank = visit("bank-library-after-import")
    bank.sign_in(BANK)
    bank.goto("/web/bank/library")
    bank.page.fill("input[name=q]", new)
    bank.follow("form.filters button[type=submit]")
    rows = bank.page.locator("table.library tbody tr")
    assert rows.count() == 1
    found = rows.first.inner_text()
    assert "无锡浏览器新增科技有限公司" in found and "新吴区" in found
    assert "未授权" in found and "1,800" not in found and "万元" not in found
    bank.shot("library-after-import")

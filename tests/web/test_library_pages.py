"""The library pages: the office's releases say what each gives banks (consents, listed
projects, warnings, the tiers by name) with their exports; a bank's library page shows the
latest release as the bank sees it: every enterprise's public facts, the private facts of
those that consented and no others', searchable, paged, with its exports."""

import csv
import html
import io
import re
from typing import Any

import pytest

from service.access.policy import TIERS
from service.web import library
from service.web.labels import LABELS
from tests.factories import bank_payload, create_enterprise, need_payload, office_consent


@pytest.fixture
def released(client: Any, browser_as: Any) -> dict[str, Any]:
    sharing = create_enterprise(
        client,
        name="无锡页面共享科技有限公司",
        revenue_fen=8_123_456_789,
        credit_grade="AA",
        qualifications=[{"type_code": "high_tech", "issued_date": "2024-12-01"}],
        contacts=[{"name": "李华", "title": "财务经理", "phone": "0510-81234567"}],
        **office_consent(),
    )
    response = client.post("/api/v1/needs", json=need_payload(sharing["id"]))
    assert response.status_code == 201, response.text
    private = create_enterprise(
        client,
        name="无锡页面保密科技有限公司",
        district_code="jiangyin",
        revenue_fen=99_000_000_000,
        credit_grade="BBB",
        contacts=[{"name": "赵保密", "phone": "0510-99999999"}],
    )
    client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": private["id"],
            "name": "未列名项目",
            "kind": "rnd",
            "total_investment_fen": 100_000_000,
            "year": 2026,
        },
    ).raise_for_status()
    number = client.post("/api/v1/releases", json={"note": "页面测试"}).json()["number"]
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    return {
        "sharing": sharing,
        "private": private,
        "number": number,
        "banker": browser_as("bank", bank_code=bank),
        "bank": bank,
    }


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _rows(page: str) -> dict[str, str]:
    """The library table's rows by the enterprise's name, as text."""
    body = page.split('<table class="library cards">')[1].split("</table>")[0]
    rows = re.findall(r"<tr class=\"sharing-[a-z_]+\">(.*?)</tr>", body, re.S)
    out = {}
    for row in rows:
        name = re.search(r"<strong>(.*?)</strong>", row).group(1)
        out[html.unescape(name)] = " ".join(_text(row).split())
    return out


def test_the_office_sees_what_each_release_gives_banks(browser_as, released) -> None:
    office = browser_as("office")
    page = office.get("/web/office/releases")
    assert page.status_code == 200
    text = " ".join(_text(page.text).split())
    number = released["number"]
    assert f"第 {number} 版" in text and "页面测试" in text
    assert "1 家授权共享非公开信息（共 2 家）" in text
    assert "列入重点项目名单 0 个" in text
    # the warning the release carries: a project nobody can see
    assert "有 1 个项目既未列入重点项目名单、其企业也未授权共享：银行看不到这些项目。" in text
    # what each tier holds, by name
    assert "统一社会信用代码" in text and "营业收入" in text and "revenue_fen" not in text
    for kind, fmt in (("enterprise", "csv"), ("enterprise", "xlsx"), ("project", "csv")):
        assert f'href="/web/releases/{number}/{kind}.{fmt}"' in page.text
    # and the export link gives the office the release as published
    download = office.get(f"/web/releases/{number}/enterprise.csv")
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    rows = {r["企业名称"]: r for r in csv.DictReader(io.StringIO(download.text.lstrip("\ufeff")))}
    assert rows["无锡页面保密科技有限公司"]["信用等级"] == "BBB"


def test_a_release_without_consents_warns_the_office(client, browser_as) -> None:
    create_enterprise(client, name="无锡无人授权科技有限公司")
    client.post("/api/v1/releases", json={}).raise_for_status()
    text = _text(browser_as("office").get("/web/office/releases").text)
    assert "本版没有企业同意向银行共享非公开信息" in text


def test_a_bank_sees_every_public_fact_and_private_facts_by_consent(released) -> None:
    banker = released["banker"]
    home = banker.get("/web/bank")
    assert 'href="/web/bank/library"' in home.text  # in the bank's navigation
    page = banker.get("/web/bank/library")
    assert page.status_code == 200
    rows = _rows(page.text)
    sharing, private = rows["无锡页面共享科技有限公司"], rows["无锡页面保密科技有限公司"]
    # public facts of both, by name
    assert released["sharing"]["credit_code"] in sharing and "新吴区" in sharing
    assert released["private"]["credit_code"] in private and "江阴市" in private
    assert "集成电路" in private and "制造业（C3973）" in private and "小型" in private
    assert "高新技术企业 2024-12-01" in sharing
    # private facts: of the consenting one only
    assert "已授权" in sharing and "8,123.46 万元" in sharing and "AA" in sharing
    assert "李华（财务经理，0510-81234567）" in sharing
    assert "200 万元，12 个月，流动资金" in sharing
    assert "未授权" in private
    for secret in ("BBB", "赵保密", "0510-99999999", "99,000.00", "万元"):
        assert secret not in private
    assert "0510-99999999" not in page.text and "赵保密" not in page.text
    assert "第 1 页（每页 50 家，共 2 家）" in _text(page.text)
    number = released["number"]
    assert f'href="/web/releases/{number}/enterprise.xlsx"' in page.text
    download = banker.get(f"/web/releases/{number}/enterprise.csv")
    assert download.status_code == 200 and "赵保密" not in download.text
    assert "99000" not in download.text and released["private"]["credit_code"] in download.text


def test_a_bank_searches_by_name_or_credit_code(released) -> None:
    banker = released["banker"]
    by_name = _rows(banker.get("/web/bank/library", params={"q": "页面保密"}).text)
    assert list(by_name) == ["无锡页面保密科技有限公司"]
    code = released["sharing"]["credit_code"].lower()
    by_code = _rows(banker.get("/web/bank/library", params={"q": f" {code} "}).text)
    assert list(by_code) == ["无锡页面共享科技有限公司"]
    none = banker.get("/web/bank/library", params={"q": "%"})
    assert _rows(none.text) == {} and "没有名称含「%」" in _text(none.text)


def test_a_bank_pages_through_the_library(released, monkeypatch) -> None:
    monkeypatch.setattr(library, "PAGE_SIZE", 1)
    banker = released["banker"]
    first = banker.get("/web/bank/library")
    seen = list(_rows(first.text))
    assert len(seen) == 1 and "第 1 页（每页 1 家，共 2 家）" in _text(first.text)
    following = re.search(r'<a rel="next" href="([^"]+)"', first.text)
    assert following, "a next page, never a silent cap"
    second = banker.get(html.unescape(following.group(1)))
    seen += list(_rows(second.text))
    assert sorted(seen) == ["无锡页面保密科技有限公司", "无锡页面共享科技有限公司"]
    assert "第 2 页" in _text(second.text) and 'rel="next"' not in second.text
    assert "« 第一页" in second.text


def test_a_withdrawn_consent_is_noted_on_the_bank_page(released, as_role) -> None:
    owner = as_role("enterprise", enterprise_id=released["sharing"]["id"])
    owner.patch(
        f"/api/v1/enterprises/{released['sharing']['id']}", json={"share_with_banks": False}
    ).raise_for_status()
    page = released["banker"].get("/web/bank/library")
    text = _text(page.text)
    assert "撤回了向银行共享非公开信息的授权" in text
    row = _rows(page.text)["无锡页面共享科技有限公司"]
    assert "授权已撤回" in row and "8,123.46" not in row and "李华" not in row
    assert "其中 0 家企业授权" in " ".join(text.split())


def test_before_any_release(browser_as, client) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    page = browser_as("bank", bank_code=bank).get("/web/bank/library")
    assert page.status_code == 200 and "金融办尚未发布企业库" in page.text


def test_wrong_roles_are_refused(browser_as, released) -> None:
    owner = browser_as("enterprise", enterprise_id=released["sharing"]["id"])
    for path in ("/web/bank/library", f"/web/releases/{released['number']}/enterprise.csv"):
        response = owner.get(path)
        assert response.status_code == 403 and "无权访问" in response.text, path
    assert browser_as("office").get("/web/bank/library").status_code == 403
    banker = released["banker"]
    assert banker.get("/web/office/releases").status_code == 403
    assert banker.get(f"/web/releases/{released['number']}/bank.csv").status_code == 404
    assert banker.get(f"/web/releases/{released['number'] + 9}/project.csv").status_code == 404


def test_every_field_of_a_tier_has_a_name() -> None:
    for kind, tiers in TIERS.items():
        assert set(tiers) <= set(LABELS[f"{kind}_field"]), kind
    words = library.tiers_in_words()
    assert "营业收入" in words["enterprise"]["private"]
    assert "项目名称" in words["project"]["public"]

"""The office's pages of support policies (政策直达): the year's figures per policy, district and
cluster with the workbook; a policy's page with its rule in words and the enterprises entitled
(by name), each row with the next step: record the application, approve (万元), pay, reject.
A stale form and an amount above the entitlement are refused with a message and change
nothing; banks and enterprises cannot open the pages."""

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from sqlmodel import Session, select

from service.policies.models import PolicyGrant
from service.web import office_policies
from tests.factories import bank_payload
from tests.metrics.test_policy_metrics import add_budget, firm, qualify
from tests.web.test_request_pages_bank import post_form

DAY = date(2026, 6, 30)
WAN = 1_000_000
PAGE = "/web/office/policies/little-giant-first"


@pytest.fixture(autouse=True)
def _on_day() -> Iterator[None]:
    with time_machine.travel(DAY, tick=False):
        yield


@pytest.fixture
def firms(client: Any) -> dict[str, dict[str, Any]]:
    """Two first 小巨人 (新吴区 and 梁溪区, 50万 each) and a first 省专精特新 (新吴区, 30万)."""
    add_budget(client, "little-giant-first", 200 * WAN)
    a = firm(client, "xinwu", "ic", "无锡甲方微电子有限公司")
    qualify(client, a["id"], "little_giant", "2026-03-01")
    b = firm(client, "liangxi", "iot", "无锡乙方物联网有限公司")
    qualify(client, b["id"], "little_giant", "2026-04-01")
    c = firm(client, "xinwu", "ic", "无锡丙方微电子有限公司")
    qualify(client, c["id"], "srdi_sme", "2026-02-01")
    return {"a": a, "b": b, "c": c}


def grant_of(session: Session, enterprise_id: int) -> PolicyGrant:
    session.expire_all()
    row = session.scalars(
        select(PolicyGrant).where(
            PolicyGrant.enterprise_id == enterprise_id,
            PolicyGrant.policy_code == "little-giant-first",
        )
    ).first()
    assert row is not None
    return row


def row_of(page: str, name: str) -> str:
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, flags=re.S):
        if name in row:
            return row
    raise AssertionError(f"no row of {name}")


def record(office: Any, enterprise_id: int, applied: str = "2026-06-01") -> Any:
    fields = {"enterprise_id": str(enterprise_id), "period": "once", "applied_date": applied}
    return post_form(office, PAGE, f"{PAGE}/grants", {**fields, "year": "2026"})


def take(office: Any, grant: PolicyGrant, action: str, version: int | None = None, **data: str):
    fields = {"version": str(version or grant.version), "year": "2026", **data}
    return post_form(office, PAGE, f"{PAGE}/grants/{grant.id}/{action}", fields)


def test_the_year_s_figures_by_policy_district_and_cluster(browser_as, firms) -> None:
    office = browser_as("office")
    response = office.get("/web/office/policies")
    assert response.status_code == 200, response.text
    page = response.text
    assert 'href="/web/office/policies"' in page  # in the navigation
    row = row_of(page, "首次获评国家专精特新“小巨人”企业奖励")
    assert 'href="/web/office/policies/little-giant-first?year=2026"' in row
    assert "200.00" in row and "100.00" in row and "一次性" in row
    assert "<meter" in row and "0.0%" in row  # nothing approved of the budget yet
    assert "未设预算" in row_of(page, "首次获评省“专精特新”中小企业奖励")
    assert 'href="/web/office/policies.xlsx?year=2026"' in page
    assert "新吴区" in page and "梁溪区" in page and "集成电路" in page and "地标产业" in page
    districts = page.split('id="table-policy-district"')[1].split("</section>")[0]
    xinwu = row_of(districts, "新吴区")  # 甲方 and 丙方: 80万 entitled, all still to be awarded
    assert 'href="/web/office/enterprises?district=xinwu"' in xinwu and "80.00" in xinwu
    clusters = page.split('id="table-policy-cluster"')[1].split("</section>")[0]
    assert 'href="/web/office/enterprises?cluster=iot"' in row_of(clusters, "物联网")
    last_year = office.get("/web/office/policies?year=2025").text
    assert "2025 年度" in last_year and "<meter" not in last_year  # the budget begins in 2026
    bad = office.get("/web/office/policies?year=abc")
    assert bad.status_code == 200 and "请填写整数" in bad.text and "2026 年度" in bad.text
    workbook = office.get("/web/office/policies.xlsx?year=2026")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_a_policy_s_page_names_the_enterprises_entitled(browser_as, firms) -> None:
    office = browser_as("office")
    page = office.get(PAGE).text
    assert "一次性奖励最高50万元" in page and "第 1 版：2024-01-29 起" in page
    assert "第 2 版：2026-01-01 起，预算 200.00 万元" in page
    row = row_of(page, firms["a"]["name"])
    assert "新吴区" in row and "50.00 万元" in row and "2026-06-30" in row and "未申报" in row
    assert "登记申报" in row and f"/web/office/enterprises/{firms['a']['id']}" in row
    assert firms["b"]["name"] in page and firms["c"]["name"] not in page  # another policy's
    only = office.get(f"{PAGE}?district=liangxi").text
    assert firms["b"]["name"] in only and firms["a"]["name"] not in only
    assert "共 1 家" in only
    assert office.get("/web/office/policies/nope").status_code == 404


def test_a_long_list_is_paged(browser_as, firms, monkeypatch) -> None:
    monkeypatch.setattr(office_policies, "PER_PAGE", 1)
    office = browser_as("office")
    first = office.get(PAGE).text
    assert "共 2 家，第 1 / 2 页" in first and firms["a"]["name"] in first
    assert firms["b"]["name"] not in first and "page=2" in first
    second = office.get(f"{PAGE}?year=2026&page=2").text
    assert firms["b"]["name"] in second and firms["a"]["name"] not in second


def test_record_approve_and_pay_with_the_amount_checked(browser_as, session, firms) -> None:
    office = browser_as("office")
    a = firms["a"]["id"]
    recorded = record(office, a, "2026-05-10")
    assert recorded.status_code == 303, recorded.text
    grant = grant_of(session, a)
    assert (grant.status, grant.applied_date) == ("applied", date(2026, 5, 10))
    page = office.get(recorded.headers["location"]).text
    assert "已登记申报" in page
    row = row_of(page, firms["a"]["name"])
    assert "已申报" in row and 'value="50"' in row and "核定" in row and "驳回" in row
    again = record(office, a)
    assert again.status_code == 409 and "已有申报记录" in again.text

    too_much = take(office, grant, "approve", amount="50.01")
    assert too_much.status_code == 422
    assert "核定金额超过政策上限：按政策本期最多可核定50万元。" in too_much.text
    assert 'aria-invalid="true"' in row_of(too_much.text, firms["a"]["name"])
    assert grant_of(session, a).status == "applied"
    not_money = take(office, grant, "approve", amount="五十")
    assert not_money.status_code == 422 and "请填写数字，单位万元" in not_money.text

    approved = take(office, grant, "approve", amount="45.5", on="2026-06-01")
    assert approved.status_code == 303, approved.text
    grant = grant_of(session, a)
    assert (grant.status, grant.approved_fen, grant.version) == ("approved", 45_500_000, 2)
    row = row_of(office.get(PAGE).text, firms["a"]["name"])
    assert "已核定" in row and "45.50 万元" in row and "拨付" in row
    paid = take(office, grant, "pay", on="2026-06-20")
    assert paid.status_code == 303, paid.text
    grant = grant_of(session, a)
    assert (grant.status, grant.paid_fen, grant.paid_date) == (
        "paid",
        45_500_000,
        date(2026, 6, 20),
    )
    page = office.get(PAGE).text
    row = row_of(page, firms["a"]["name"])
    assert "已拨付" in row and "/grants/" not in row  # nothing more to do
    figures = office.get("/web/office/policies").text
    assert "45.50" in row_of(figures, "首次获评国家专精特新“小巨人”企业奖励")


def test_a_stale_form_and_a_rejection(client, browser_as, session, firms) -> None:
    office = browser_as("office")
    b = firms["b"]["id"]
    assert record(office, b).status_code == 303
    grant = grant_of(session, b)
    drawn = grant.version
    # Someone else approves it meanwhile, through the API.
    step = {"action": "approve", "amount_fen": 50 * WAN}
    assert client.post(f"/api/v1/policy-grants/{grant.id}/steps", json=step).status_code == 200
    stale = take(office, grant, "reject", version=drawn, note="材料不全")
    assert stale.status_code == 412 and "已被修改" in stale.text and "请重新读取" in stale.text
    assert grant_of(session, b).status == "approved"
    not_now = take(office, grant_of(session, b), "reject")
    assert not_now.status_code == 409 and "不能驳回" in not_now.text

    a = firms["a"]["id"]
    assert record(office, a).status_code == 303
    rejected = take(office, grant_of(session, a), "reject", note="材料不全")
    assert rejected.status_code == 303, rejected.text
    grant = grant_of(session, a)
    assert (grant.status, grant.note) == ("rejected", "材料不全")
    assert "未获批" in row_of(office.get(PAGE).text, firms["a"]["name"])


def unqualify(client: Any, enterprise_id: int) -> None:
    """The enterprise's qualifications removed (entered by mistake): its award lapses."""
    url = f"/api/v1/enterprises/{enterprise_id}"
    for q in client.get(url).json()["qualifications"]:
        assert client.delete(f"{url}/qualifications/{q['id']}").status_code == 204


def test_lapsed_entitlements_are_listed_apart_with_their_awards_to_decide(
    client, browser_as, session, firms
) -> None:
    office = browser_as("office")
    a, b = firms["a"], firms["b"]
    assert record(office, b["id"]).status_code == 303
    unqualify(client, a["id"])
    unqualify(client, b["id"])

    current = office.get(PAGE).text
    assert "应享企业（0）" in current and "已失效（2）" in current
    assert a["name"] not in current and b["name"] not in current
    assert "2026 年度暂无应享企业" in current
    assert f'href="{PAGE}?year=2026&amp;show=lapsed"' in current

    lapsed = office.get(f"{PAGE}?year=2026&show=lapsed").text
    assert "已失效的应享条目" in lapsed and "共 2 条" in lapsed
    assert (
        '<a href="/web/office/policies/little-giant-first?year=2026&amp;show=lapsed" aria-current="page">'
        in lapsed
    )
    first = row_of(lapsed, a["name"])
    assert "失效日期" in lapsed and first.count("2026-06-30") == 2  # found and lapsed today
    assert "已不符合条件，无需申报" in first and "登记申报" not in first
    second = row_of(lapsed, b["name"])
    # Applied for, it is still to decide; the rule allows no amount now, so only 驳回 is offered.
    assert "已申报" in second and "驳回" in second and "/approve" not in second
    assert "原应享金额" in lapsed and "50.00 万元" in second
    only = office.get(f"{PAGE}?year=2026&show=lapsed&district=liangxi").text
    assert b["name"] in only and a["name"] not in only and "已失效（1）" in only

    # An approval posted anyway is refused: the rule no longer allows an amount. Rejected
    # from the lapsed list, the office comes back to it.
    grant = grant_of(session, b["id"])
    fields = {"version": str(grant.version), "year": "2026", "show": "lapsed", "amount": "50"}
    refused = post_form(office, PAGE, f"{PAGE}/grants/{grant.id}/approve", fields)
    assert refused.status_code == 422  # the reason in the banner: the row has no such form
    assert "未能核定：核定金额超过政策上限：按政策本期最多可核定0万元。" in refused.text
    fields = {"version": str(grant.version), "year": "2026", "show": "lapsed", "note": "资质撤销"}
    rejected = post_form(office, PAGE, f"{PAGE}/grants/{grant.id}/reject", fields)
    assert rejected.status_code == 303, rejected.text
    assert "show=lapsed" in rejected.headers["location"]
    assert "未获批" in row_of(office.get(rejected.headers["location"]).text, b["name"])

    # Qualified again, it is current again and leaves the lapsed list.
    qualify(client, a["id"], "little_giant", "2026-03-01")
    assert a["name"] in office.get(PAGE).text
    again = office.get(f"{PAGE}?show=lapsed").text
    assert a["name"] not in again and "已失效（1）" in again
    assert office.get(f"{PAGE}?show=nonsense").status_code == 200  # read as the current list


def test_the_pages_are_the_office_s(client, browser_as, session, firms) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    others = (
        (browser_as("bank", bank_code=bank), "/web/bank"),
        (browser_as("enterprise", enterprise_id=firms["a"]["id"]), "/web/enterprise"),
    )
    for person, own in others:
        for path in ("/web/office/policies", PAGE, "/web/office/policies.xlsx"):
            assert person.get(path).status_code == 403, path
        home = person.get(own).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', home)
        assert token, "no form token"
        fields = {"enterprise_id": str(firms["a"]["id"]), "period": "once"}
        posted = person.post(
            f"{PAGE}/grants",
            data={**fields, "applied_date": "2026-06-01", "csrf_token": token.group(1)},
        )
        assert posted.status_code == 403
        assert 'href="/web/office/policies"' not in home
    assert session.scalars(select(PolicyGrant)).first() is None

"""The enterprise's pages as its finance person uses them: the consent choice explained before
and its effect said after, banks and terms by name (no code on any page), recommendations as
a sortable list with details on demand, an application made once, what to do next about each
loan (renewal, the bridge fund's quote, the account manager), confirmations before what cannot
be undone, and every data table ready for a phone."""

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.access.models import Role, UserAccount
from service.core.models import today_local
from service.leads.models import Lead
from service.matching.models import CollateralOffer, NeedPurpose, NeedStatus
from service.matching.schemas import FACTOR_LABEL
from service.products.models import Collateral, ProductCategory, Purpose
from tests.factories import create_enterprise
from tests.web.conftest import form_token

BANK = "jsbank-wx"  # a seeded bank, partner of the bridge fund


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client)  # a small IC maker in 新吴区, credit grade A


@pytest.fixture
def me(browser_as, firm) -> TestClient:
    return browser_as("enterprise", enterprise_id=firm["id"])


def _post(who: TestClient, url: str, data: dict[str, Any], page: str) -> Any:
    token = form_token(who.get(page).text)
    return who.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _need(**overrides: Any) -> dict[str, Any]:
    return {
        "amount": "200",
        "term_months": "12",
        "purpose": "working_capital",
        "collateral": ["none"],
        "max_banks": "2",
        **overrides,
    }


def _leads(client, firm) -> list[dict]:
    leads = client.get("/api/v1/leads", params={"limit": 200}).json()["items"]
    return [lead for lead in leads if lead["enterprise"]["enterprise_id"] == firm["id"]]


def _visible(html: str) -> str:
    """What a person reads: the body's text, without tags and attribute values."""
    body = html[html.index("<body") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# --- 1. consent, explained before and its effect said after ---------------------------------


def test_the_need_form_explains_the_consent_before_the_choice(me) -> None:
    form = me.get("/web/enterprise/needs/new").text
    assert "<legend>是否把这项需求推送给银行</legend>" in form
    text = _visible(form)
    for words in (
        "企业名称、统一社会信用代码、联系人",  # which facts
        "最符合条件的银行",  # to which banks
        "随时可以撤回",  # it can be withdrawn
        "不会推送给任何银行，没有银行会主动联系您",  # without it
        "看不到企业名称和联系方式",
    ):
        assert words in text, words


def test_a_need_without_consent_reaches_no_bank_and_the_list_says_so(me, client, firm) -> None:
    response = _post(me, "/web/enterprise/needs", _need(), "/web/enterprise/needs/new")
    assert response.status_code == 303 and "done=posted_private" in response.headers["location"]
    assert _leads(client, firm) == []
    page = me.get(response.headers["location"]).text
    assert "没有推送给任何银行" in page  # the message after posting
    assert "没有银行收到这项需求" in page and "没有同意向银行提供企业信息" in page
    (need,) = client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"]
    assert f'action="/web/enterprise/needs/{need["id"]}/consent"' in page
    # the one action that fixes it: consent, and the banks receive it
    response = _post(
        me,
        f"/web/enterprise/needs/{need['id']}/consent",
        {"version": str(need["version"])},
        "/web/enterprise/needs",
    )
    assert response.status_code == 303 and "done=consented" in response.headers["location"]
    leads = _leads(client, firm)
    assert leads and all(lead["consented"] for lead in leads)
    page = me.get("/web/enterprise/needs").text
    assert "没有银行收到这项需求" not in page and "已推送：" in page


def test_a_need_with_consent_names_the_banks_that_received_it(me, client, firm) -> None:
    response = _post(
        me,
        "/web/enterprise/needs",
        _need(consent_share_details="on"),
        "/web/enterprise/needs/new",
    )
    assert "done=posted" in response.headers["location"]
    page = me.get("/web/enterprise/needs").text
    banks = {b["code"]: b["name"] for b in client.get("/api/v1/banks?limit=200").json()["items"]}
    for lead in _leads(client, firm):
        assert banks[lead["bank_code"]] in page


# --- 2. no code on any page -----------------------------------------------------------------


def _known_codes(client) -> set[str]:
    banks = client.get("/api/v1/banks", params={"limit": 200}).json()["items"]
    products = client.get("/api/v1/products", params={"limit": 200}).json()["items"]
    codes = {b["code"] for b in banks} | {p["code"] for p in products}
    codes |= {p["scheme"] for p in products} | {p["category"] for p in products}
    for enum in (Collateral, CollateralOffer, Purpose, NeedPurpose, NeedStatus, ProductCategory):
        codes |= {member.value for member in enum}
    codes |= set(FACTOR_LABEL) | {"working_capital", "LPR1Y", "LPR5Y", "bridge_fund"}
    codes |= {"application", "prospect", "submitted", "committed", "bridge_needed"}
    return codes


def _ask_to_contact(client, staff: TestClient, need_id: int) -> dict:
    """The bank asks to contact the enterprise about a need it saw, anonymous, among its
    product's prospects."""
    products = client.get("/api/v1/products", params={"bank": BANK}).json()["items"]
    for product in products:
        prospects = staff.get(f"/api/v1/products/{product['code']}/prospects").json()["items"]
        for prospect in prospects:
            match_id = prospect["prospect_id"].split("-")[1]
            if prospect["basis"] == "need" and prospect["anonymous"]:
                response = staff.post(
                    f"/api/v1/products/{product['code']}/contact-requests",
                    json={"prospect_id": f"need-{match_id}"},
                )
                assert response.status_code == 201, response.text
                return response.json()
    raise AssertionError(f"no prospect of {BANK} for need {need_id}")


def _setup_everything(client, as_role, me, firm) -> dict[str, Any]:
    """A need with its leads, an application, a bank's contact request and a loan whose
    renewal the bank committed: every section of every enterprise page has something."""
    _post(
        me, "/web/enterprise/needs", _need(consent_share_details="on"), "/web/enterprise/needs/new"
    )
    _post(me, "/web/enterprise/needs", _need(amount="80"), "/web/enterprise/needs/new")
    needs = client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"]
    page = me.get("/web/enterprise/recommendations").text
    code = re.search(r'name="product_code" value="([^"]+)"', page).group(1)
    _post(me, "/web/enterprise/apply", {"product_code": code}, "/web/enterprise/recommendations")
    loan = _loan(client, firm)
    _commit_renewal(client, loan)
    private = next(n for n in needs if not n["consent_share_details"])
    asked = _ask_to_contact(client, as_role("bank", bank_code=BANK), private["id"])
    return {"needs": needs, "loan": loan, "asked": asked}


def _loan(client, firm, principal_fen: int = 500_000_000) -> dict:
    today = today_local()
    response = client.post(
        "/api/v1/loans",
        json={
            "contract_no": f"JS-{firm['id']}-{principal_fen}",
            "enterprise_id": firm["id"],
            "bank_code": BANK,
            "principal_fen": principal_fen,
            "rate_bp": 345,
            "disbursed_date": (today - timedelta(days=340)).isoformat(),
            "maturity_date": (today + timedelta(days=20)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _commit_renewal(client, loan: dict) -> None:
    response = client.post(
        f"/api/v1/loans/{loan['id']}/renewal/status",
        json={"status": "committed", "committed_amount_fen": loan["principal_fen"]},
    )
    assert response.status_code == 200, response.text


ENTERPRISE_PAGES = (
    "/web/enterprise",
    "/web/enterprise/recommendations",
    "/web/enterprise/recommendations?sort=rate",
    "/web/enterprise/needs",
    "/web/enterprise/needs/new",
    "/web/enterprise/leads",
    "/web/enterprise/loans",
)


def test_no_code_reaches_an_enterprise_page(client, as_role, me, firm) -> None:
    made = _setup_everything(client, as_role, me, firm)
    need_id = made["needs"][0]["id"]
    lead_id = _leads(client, firm)[0]["id"]
    pages = [
        *ENTERPRISE_PAGES,
        f"/web/enterprise/recommendations?need={need_id}",
        f"/web/enterprise/needs/{need_id}/edit",
        f"/web/enterprise/needs/{need_id}/withdraw/confirm",
        f"/web/enterprise/leads/{lead_id}/withdraw/confirm",
        f"/web/enterprise/contact-requests/{made['asked']['id']}/decline/confirm",
    ]
    codes = _known_codes(client)
    pattern = re.compile(
        r"(?<![A-Za-z0-9_-])("
        + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
        + r"|key:\d+|user:\d+)(?![A-Za-z0-9_-])"
    )
    for path in pages:
        response = me.get(path)
        assert response.status_code == 200, path
        found = set(pattern.findall(_visible(response.text)))
        assert not found, (path, found)


# --- 3. recommendations to compare ----------------------------------------------------------


def _scores(html: str) -> list[float]:
    return [float(s) for s in re.findall(r'class="score">(\d+\.\d) 分', html)]


def test_recommendations_are_a_list_to_compare_sorted_as_asked(me) -> None:
    page = me.get("/web/enterprise/recommendations").text
    assert '<table class="cards recommendations">' in page
    for heading in ("银行", "产品", "额度", "期限", "利率", "担保方式", "匹配分"):
        assert f">{heading}</" in page, heading
    assert "万元" in page and re.search(
        r"LPR([+−]\d+\.\d\d%|加点按金额、期限分档)，现 \d+\.\d\d%", page
    )
    assert "<details>" in page and "为什么推荐" in page and "费用" in page
    scores = _scores(page)
    assert len(scores) >= 2 and scores == sorted(scores, reverse=True)
    by_rate = me.get("/web/enterprise/recommendations?sort=rate").text
    rates = [float(r) for r in re.findall(r"现 (\d+\.\d\d)%", by_rate)]
    assert len(rates) >= 2 and rates == sorted(rates)
    assert sorted(_scores(by_rate)) == sorted(scores)  # the same products, in another order
    # an unknown order is the default, not an error
    assert _scores(me.get("/web/enterprise/recommendations?sort=evil").text) == scores


def test_near_misses_say_what_is_missing(me) -> None:
    page = me.get("/web/enterprise/recommendations").text
    assert "差一点符合" in page and '<table class="cards near-misses">' in page
    assert "还差什么" in page and "怎样可以符合" in page
    # e.g. 锡科贷 asks for a technology qualification this firm can obtain
    assert re.search(r'<tr class="near-miss">.*?取得', page, re.S)


def test_a_product_applied_for_says_so_and_a_second_application_is_friendly(
    me, client, firm
) -> None:
    page = me.get("/web/enterprise/recommendations").text
    code = re.search(r'name="product_code" value="([^"]+)"', page).group(1)
    response = _post(
        me, "/web/enterprise/apply", {"product_code": code}, "/web/enterprise/recommendations"
    )
    assert response.status_code == 303 and "done=applied" in response.headers["location"]
    (lead,) = _leads(client, firm)
    page = me.get("/web/enterprise/recommendations").text
    assert f'name="product_code" value="{code}"' not in page
    assert "已申请" in page and f"/web/enterprise/leads#lead-{lead['id']}" in page
    # the same form again (the back button, a double click): told it was done, nothing new
    response = me.post(
        "/web/enterprise/apply",
        data={"product_code": code, "csrf_token": form_token(me.get("/web/enterprise").text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and "done=already_applied" in response.headers["location"]
    assert "已申请" in me.get(response.headers["location"]).text
    assert len(_leads(client, firm)) == 1


# --- 4. loans: what to do next --------------------------------------------------------------


def test_the_bridge_quote_shows_once_the_bank_commits_the_renewal(me, client, firm) -> None:
    loan = _loan(client, firm)
    page = me.get("/web/enterprise/loans").text
    assert "可申请转贷应急资金" not in page  # the bank has not committed: the fund would refuse
    assert "转贷应急资金暂不能申请：银行尚未承诺续贷" in page  # and the page says why
    assert "江苏银行" in page
    _commit_renewal(client, loan)
    page = me.get("/web/enterprise/loans").text
    assert "可申请转贷应急资金" in page
    # 90% of the 500万 committed is 450万; 5 days: 2 × 0.2‰ + 3 × 0.4‰ = 1.6‰ → 0.72 万元
    assert "最多可借 450.00 万元" in page and "5 天" in page and "费用 0.72 万元" in page
    response = _post(
        me,
        f"/web/enterprise/loans/{loan['id']}/bridge",
        {"amount": "400", "days": "3"},
        "/web/enterprise/loans",
    )
    assert response.status_code == 303 and "done=bridge_applied" in response.headers["location"]
    (application,) = client.get("/api/v1/bridge-applications").json()["items"]
    assert application["amount_fen"] == 400_000_000 and application["days"] == 3
    page = me.get(response.headers["location"]).text
    assert "已提交转贷应急资金申请" in page and "可申请转贷应急资金" not in page


def test_a_bridge_over_the_cap_is_refused_beside_the_loan(me, client, firm) -> None:
    loan = _loan(client, firm)
    _commit_renewal(client, loan)
    response = _post(
        me,
        f"/web/enterprise/loans/{loan['id']}/bridge",
        {"amount": "480", "days": "3"},
        "/web/enterprise/loans",
    )
    assert response.status_code == 422 and "90%" in response.text
    assert client.get("/api/v1/bridge-applications").json()["items"] == []


def test_the_account_manager_is_named_and_none_is_said_plainly(
    me, client, as_role, session, firm
) -> None:
    _post(
        me,
        "/web/enterprise/needs",
        _need(consent_share_details="on", bank_codes=[BANK], max_banks="1"),
        "/web/enterprise/needs/new",
    )
    (lead,) = _leads(client, firm)
    staff = as_role("bank", bank_code=BANK)
    for change in (
        {"status": "contacted"},
        {"status": "approved", "amount_fen": 180_000_000, "rate_bp": 345, "term_months": 12},
        {"status": "disbursed", "amount_fen": 180_000_000, "rate_bp": 345},
    ):
        assert staff.post(f"/api/v1/leads/{lead['id']}/status", json=change).status_code == 200
    page = me.get("/web/enterprise/loans").text
    assert "尚未指定" in page
    person = UserAccount(
        login="wang.manager@jsbank.example",
        display_name="王经理",
        role=Role.bank,
        bank_code=BANK,
        created_by="test",
    )
    session.add(person)
    session.flush()
    row = session.get(Lead, lead["id"])
    row.assignee_user_id = person.id
    session.commit()
    page = me.get("/web/enterprise/loans").text
    assert "王经理" in page and "江苏银行" in page


def test_asking_the_bank_about_renewal_once(me, client, as_role, firm) -> None:
    loan = _loan(client, firm)
    url = f"/web/enterprise/loans/{loan['id']}/renewal"
    response = _post(me, url, {}, "/web/enterprise/loans")
    assert response.status_code == 303 and "done=renewal_requested" in response.headers["location"]
    events = as_role("bank", bank_code=BANK).get("/api/v1/events").json()["items"]
    asked = [e for e in events if e["type"] == "renewal.requested"]
    assert len(asked) == 1 and asked[0]["data"]["loan_id"] == loan["id"]
    assert "已申请续贷" in me.get("/web/enterprise/loans").text
    response = _post(me, url, {}, "/web/enterprise/loans")
    assert "done=renewal_already" in response.headers["location"]
    events = as_role("bank", bank_code=BANK).get("/api/v1/events").json()["items"]
    assert len([e for e in events if e["type"] == "renewal.requested"]) == 1
    # another enterprise's loan is not found
    other = create_enterprise(client)
    stranger_loan = _loan(client, other)
    response = _post(
        me, f"/web/enterprise/loans/{stranger_loan['id']}/renewal", {}, "/web/enterprise/loans"
    )
    assert response.status_code == 404


# --- 5. confirmations -----------------------------------------------------------------------


def test_withdrawing_a_need_asks_for_confirmation(me, client, firm) -> None:
    _post(me, "/web/enterprise/needs", _need(), "/web/enterprise/needs/new")
    (need,) = client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"]
    confirm = f"/web/enterprise/needs/{need['id']}/withdraw/confirm"
    assert confirm in me.get("/web/enterprise/needs").text
    page = me.get(confirm).text
    assert "不能恢复" in page and 'name="confirmed"' in page and "取消" in page
    url = f"/web/enterprise/needs/{need['id']}/withdraw"
    response = _post(me, url, {"version": str(need["version"])}, confirm)
    assert response.status_code == 422 and "请勾选" in response.text
    assert client.get(f"/api/v1/needs/{need['id']}").json()["status"] == "open"
    response = _post(me, url, {"version": str(need["version"]), "confirmed": "on"}, confirm)
    assert response.status_code == 303 and "done=withdrawn" in response.headers["location"]
    assert client.get(f"/api/v1/needs/{need['id']}").json()["status"] == "withdrawn"
    assert "融资需求已撤回" in me.get(response.headers["location"]).text


def test_withdrawing_a_lead_asks_for_confirmation(me, client, firm) -> None:
    _post(
        me,
        "/web/enterprise/needs",
        _need(consent_share_details="on", bank_codes=[BANK], max_banks="1"),
        "/web/enterprise/needs/new",
    )
    (lead,) = _leads(client, firm)
    confirm = f"/web/enterprise/leads/{lead['id']}/withdraw/confirm"
    page = me.get(confirm).text
    assert "江苏银行" in page and 'name="confirmed"' in page
    url = f"/web/enterprise/leads/{lead['id']}/withdraw"
    response = _post(me, url, {"version": str(lead["version"])}, confirm)
    assert response.status_code == 422 and "请勾选" in response.text
    assert _leads(client, firm)[0]["status"] == "new"
    response = _post(me, url, {"version": str(lead["version"]), "confirmed": "on"}, confirm)
    assert response.status_code == 303 and "done=lead_withdrawn" in response.headers["location"]
    assert _leads(client, firm)[0]["status"] == "withdrawn"


def test_declining_a_banks_contact_request_asks_for_confirmation(me, client, as_role, firm) -> None:
    need = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": firm["id"],
            "amount_fen": 100_000_000,
            "term_months": 12,
            "purpose": "working_capital",
        },
    ).json()
    staff = as_role("bank", bank_code=BANK)
    asked = _ask_to_contact(client, staff, need["id"])
    confirm = f"/web/enterprise/contact-requests/{asked['id']}/decline/confirm"
    assert confirm in me.get("/web/enterprise/leads").text
    page = me.get(confirm).text
    assert "江苏银行" in page and 'name="confirmed"' in page
    url = f"/web/enterprise/contact-requests/{asked['id']}/decline"
    response = _post(me, url, {}, confirm)
    assert response.status_code == 422 and "请勾选" in response.text
    assert staff.get("/api/v1/contact-requests").json()[0]["status"] == "pending"
    response = _post(me, url, {"confirmed": "on"}, confirm)
    assert response.status_code == 303 and "done=declined" in response.headers["location"]
    assert staff.get("/api/v1/contact-requests").json()[0]["status"] == "declined"


# --- 6. phones ------------------------------------------------------------------------------


def test_every_data_table_is_cards_with_labelled_cells(client, as_role, me, firm) -> None:
    _setup_everything(client, as_role, me, firm)
    for path in ENTERPRISE_PAGES:
        html = me.get(path).text
        for table in re.findall(r"<table[^>]*>.*?</table>", html, re.S):
            assert re.match(r'<table class="cards[ "]', table), (path, table[:80])
            body = table[table.index("<tbody>") :]
            for cell in re.findall(r"<td[^>]*>", body):
                assert "data-label=" in cell or 'class="empty"' in cell, (path, cell)

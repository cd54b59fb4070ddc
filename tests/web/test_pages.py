"""The pages through HTTP: signing in and out, CSRF, who may open what (the API's rules),
forms that answer each bad field beside it and change nothing, the journeys behind the
pages, and the office's exports of every table."""

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from service.web import dashboard
from tests.factories import bank_payload, create_enterprise, product_payload
from tests.web.conftest import form_token

SESSION = "finmatch_session"


@pytest.fixture
def bank(client) -> str:
    code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    body = product_payload(
        code,
        eligibility={"clusters_included": ["ic"]},
        amount_min_fen=10_000_000,
        amount_max_fen=5_000_000_000,
    )
    assert client.post("/api/v1/products", json=body).status_code == 201
    return code


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client, cluster_code="ic")


def _need_form(**overrides: Any) -> dict[str, Any]:
    return {
        "amount": "200",
        "term_months": "12",
        "purpose": "working_capital",
        "collateral": ["none"],
        "max_banks": "2",
        "consent_share_details": "on",
        **overrides,
    }


def _post(client: TestClient, url: str, data: dict[str, Any], page: str) -> Any:
    token = form_token(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


# --- signing in and out ---------------------------------------------------------------------


def test_a_page_without_a_session_sends_the_browser_to_sign_in(anonymous) -> None:
    response = anonymous.get("/web/office?group=cluster", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/web/sign-in?next=/web/office%3Fgroup%3Dcluster"


def test_signing_in_opens_the_holders_home_and_next_page(anonymous, office_key) -> None:
    page = anonymous.get("/web/sign-in?next=/web/office/releases")
    response = anonymous.post(
        "/web/sign-in",
        data={
            "key": office_key,
            "sign_in": form_token(page.text, "sign_in"),
            "next": "/web/office/releases",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/web/office/releases"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/web" in cookie
    assert anonymous.get("/web/office/releases").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", "/api/v1/keys"])
def test_next_never_leaves_the_pages(anonymous, office_key, target) -> None:
    page = anonymous.get("/web/sign-in")
    response = anonymous.post(
        "/web/sign-in",
        data={"key": office_key, "sign_in": form_token(page.text, "sign_in"), "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/web/office"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "请填写此项。"),
        ("fmk_nope_nope", "API 密钥无效。"),
        ("not-a-key", "API 密钥无效。"),
    ],
)
def test_a_bad_key_is_told_beside_the_field(anonymous, key, message) -> None:
    page = anonymous.get("/web/sign-in")
    response = anonymous.post(
        "/web/sign-in", data={"key": key, "sign_in": form_token(page.text, "sign_in")}
    )
    assert response.status_code in (401, 422)
    assert 'id="key-error"' in response.text and message in response.text
    assert SESSION not in response.headers.get("set-cookie", "")


def test_sign_in_needs_its_own_form_token(anonymous, office_key) -> None:
    anonymous.get("/web/sign-in")
    response = anonymous.post("/web/sign-in", data={"key": office_key, "sign_in": "forged"})
    assert response.status_code == 403
    assert SESSION not in anonymous.cookies


def test_signing_out_ends_the_session_at_once(browser_as) -> None:
    office = browser_as("office")
    token = office.cookies[SESSION]
    response = _post(office, "/web/sign-out", {}, "/web/office/releases")
    assert response.status_code == 303
    office.cookies.set(SESSION, token, path="/web")  # the old cookie kept by a thief
    assert office.get("/web/office", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(browser_as, session) -> None:
    from service.access.service import revoke_key

    office = browser_as("office")
    assert office.get("/web/office").status_code == 200
    revoke_key(session, office.key.split("_")[1])
    response = office.get("/web/office", follow_redirects=False)
    assert response.status_code == 303 and "/web/sign-in" in response.headers["location"]


def test_a_browser_asking_for_the_root_is_sent_to_the_pages(anonymous) -> None:
    response = anonymous.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/web/"
    assert anonymous.get("/").json()["api"] == "/api/v1"


def test_pages_carry_the_security_headers(browser_as) -> None:
    response = browser_as("office").get("/web/office")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    # nothing on the page comes from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


# --- CSRF and authorization -----------------------------------------------------------------


def test_a_form_without_the_session_token_changes_nothing(browser_as, firm, client) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    response = me.post("/web/enterprise/needs", data=_need_form(), follow_redirects=False)
    assert response.status_code == 403
    response = me.post(
        "/web/enterprise/needs", data={**_need_form(), "csrf_token": "x"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"] == []


def test_a_form_from_another_site_is_refused(browser_as, firm, client) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    token = form_token(me.get("/web/enterprise/needs/new").text)
    response = me.post(
        "/web/enterprise/needs",
        data={**_need_form(), "csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"] == []


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("enterprise", "/web/office"),
        ("enterprise", "/web/office/export/funnel-bank.csv"),
        ("enterprise", "/web/bank"),
        ("bank", "/web/enterprise"),
        ("bank", "/web/office/lists"),
        ("bank", "/web/office/banks/{bank}"),
        ("office", "/web/bank"),
        ("office", "/web/enterprise/needs"),
    ],
)
def test_each_role_opens_only_its_own_pages(browser_as, firm, bank, role, path) -> None:
    who = browser_as(
        role,
        bank_code=bank if role == "bank" else None,
        enterprise_id=firm["id"] if role == "enterprise" else None,
    )
    response = who.get(path.format(bank=bank))
    assert response.status_code == 403
    assert "无权" in response.text and response.headers["content-type"].startswith("text/html")
    assert "/web/sign-out" in response.text  # still signed in: the menu stays


def test_another_enterprises_need_is_not_found(browser_as, client, firm) -> None:
    other = create_enterprise(client, cluster_code="ic")
    need = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": other["id"],
            "amount_fen": 100_000_000,
            "term_months": 12,
            "purpose": "working_capital",
        },
    ).json()
    me = browser_as("enterprise", enterprise_id=firm["id"])
    assert me.get(f"/web/enterprise/needs/{need['id']}/edit").status_code == 404
    response = _post(
        me,
        f"/web/enterprise/needs/{need['id']}/withdraw",
        {"version": "1"},
        "/web/enterprise/needs/new",
    )
    assert response.status_code == 404
    assert client.get(f"/api/v1/needs/{need['id']}").json()["status"] == "open"
    assert me.get(f"/web/enterprise/recommendations?need={need['id']}").status_code == 404


def test_another_banks_lead_is_not_found(browser_as, client, firm, bank) -> None:
    lead = _lead_for(browser_as, client, firm, bank)
    other_bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    stranger = browser_as("bank", bank_code=other_bank)
    assert stranger.get(f"/web/bank/leads/{lead['id']}").status_code == 404
    response = _post(
        stranger,
        f"/web/bank/leads/{lead['id']}/status",
        {"status": "contacted", "version": "1"},
        "/web/bank",
    )
    assert response.status_code == 404
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["status"] == "new"


# --- the enterprise's journey ---------------------------------------------------------------


def test_an_enterprise_sees_its_profile_and_recommendations_with_reasons(
    browser_as, firm, bank
) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    home = me.get("/web/enterprise")
    assert firm["name"] in home.text and firm["credit_code"] in home.text
    page = me.get("/web/enterprise/recommendations")
    assert page.status_code == 200
    assert "匹配分" in page.text and "理由" in page.text
    assert re.search(r'class="score"[^>]*>\d+\.\d 分', page.text)


def test_a_need_posted_reaches_the_chosen_bank_and_shows_as_a_lead(
    browser_as, client, firm, bank
) -> None:
    other_bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    me = browser_as("enterprise", enterprise_id=firm["id"])
    new_form = me.get("/web/enterprise/needs/new").text
    assert f'value="{bank}"' in new_form and f'value="{other_bank}"' in new_form
    response = _post(
        me, "/web/enterprise/needs", _need_form(bank_codes=[bank]), "/web/enterprise/needs/new"
    )
    assert response.status_code == 303
    needs = client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"]
    assert len(needs) == 1
    need = needs[0]
    assert need["amount_fen"] == 200_000_000 and need["bank_codes"] == [bank]
    assert need["consent_share_details"] is True
    leads = me.get("/web/enterprise/leads").text
    assert "新线索" in leads and client.get(f"/api/v1/banks/{bank}").json()["name"] in leads


def test_a_bad_need_form_shows_each_message_beside_its_field_and_saves_nothing(
    browser_as, client, firm
) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    response = _post(
        me,
        "/web/enterprise/needs",
        _need_form(
            amount="abc", term_months="0", purpose="", wanted_by_date="2020-01-01", max_banks="9"
        ),
        "/web/enterprise/needs/new",
    )
    assert response.status_code == 422
    for field in ("amount", "term_months", "purpose", "max_banks"):
        assert f'id="{field}-error"' in response.text, field
    assert 'aria-invalid="true"' in response.text
    assert 'value="abc"' in response.text  # what was typed stays
    # the date is checked by the use case once the rest is right, and lands beside its field
    response = _post(
        me,
        "/web/enterprise/needs",
        _need_form(wanted_by_date="2020-01-01"),
        "/web/enterprise/needs/new",
    )
    assert response.status_code == 422
    assert 'id="wanted_by_date-error"' in response.text and "不能早于今天" in response.text
    assert client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"] == []


def test_editing_and_withdrawing_a_need(browser_as, client, firm, bank) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    _post(me, "/web/enterprise/needs", _need_form(), "/web/enterprise/needs/new")
    need = client.get("/api/v1/needs", params={"enterprise_id": firm["id"]}).json()["items"][0]
    edit = f"/web/enterprise/needs/{need['id']}/edit"
    assert 'value="200"' in me.get(edit).text
    response = _post(
        me,
        f"/web/enterprise/needs/{need['id']}",
        _need_form(amount="350", version=str(need["version"])),
        edit,
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/needs/{need['id']}").json()["amount_fen"] == 350_000_000
    # a form opened before that change is stale: told, not applied
    response = _post(
        me,
        f"/web/enterprise/needs/{need['id']}",
        _need_form(amount="999", version=str(need["version"])),
        edit,
    )
    assert response.status_code == 412 and "已被修改" in response.text
    assert client.get(f"/api/v1/needs/{need['id']}").json()["amount_fen"] == 350_000_000
    current = client.get(f"/api/v1/needs/{need['id']}").json()
    response = _post(
        me,
        f"/web/enterprise/needs/{need['id']}/withdraw",
        {"version": str(current["version"]), "confirmed": "on"},
        edit,
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/needs/{need['id']}").json()["status"] == "withdrawn"
    assert "已撤回" in me.get("/web/enterprise/needs").text


# --- the bank's journey ---------------------------------------------------------------------


def _lead_for(browser_as, client, firm, bank) -> dict:
    """The enterprise posts a need for ``bank`` alone; the bank's lead of it."""
    me = browser_as("enterprise", enterprise_id=firm["id"])
    response = _post(
        me,
        "/web/enterprise/needs",
        _need_form(bank_codes=[bank], max_banks="1"),
        "/web/enterprise/needs/new",
    )
    assert response.status_code == 303
    (lead,) = client.get("/api/v1/leads", params={"bank": bank}).json()["items"]
    return lead


def test_a_bank_records_outcomes_on_its_lead(browser_as, client, firm, bank) -> None:
    lead = _lead_for(browser_as, client, firm, bank)
    staff = browser_as("bank", bank_code=bank)
    assert f"/web/bank/leads/{lead['id']}" in staff.get("/web/bank").text
    page = f"/web/bank/leads/{lead['id']}"
    assert firm["name"] in staff.get(page).text  # the enterprise consented
    lead = client.get(f"/api/v1/leads/{lead['id']}").json()
    assert lead["status"] == "viewed"  # opening it told that the bank has seen it
    response = _post(
        staff, f"{page}/status", {"status": "contacted", "version": str(lead["version"])}, page
    )
    assert response.status_code == 303
    lead = client.get(f"/api/v1/leads/{lead['id']}").json()
    assert lead["status"] == "contacted"
    # approval without the amount and rate: told beside the fields, nothing recorded
    response = _post(
        staff, f"{page}/status", {"status": "approved", "version": str(lead["version"])}, page
    )
    assert response.status_code == 422
    assert 'id="amount-error"' in response.text
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["status"] == "contacted"
    response = _post(
        staff,
        f"{page}/status",
        {
            "status": "approved",
            "amount": "180",
            "rate": "3.45",
            "term_months": "12",
            "version": str(lead["version"]),
        },
        page,
    )
    assert response.status_code == 303
    lead = client.get(f"/api/v1/leads/{lead['id']}").json()
    assert lead["status"] == "approved"
    assert lead["approved_amount_fen"] == 180_000_000 and lead["approved_rate_bp"] == 345
    response = _post(
        staff,
        f"{page}/status",
        {"status": "disbursed", "amount": "180", "rate": "3.45", "version": str(lead["version"])},
        page,
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["status"] == "disbursed"
    # the loan it made is on the lead's page, the bank's loans and the enterprise's
    assert "/web/bank/loans/" in staff.get(page).text
    assert "FM-L" in staff.get("/web/bank/loans").text
    me = browser_as("enterprise", enterprise_id=firm["id"])
    assert "FM-L" in me.get("/web/enterprise/loans").text


def test_a_decline_needs_its_reason(browser_as, client, firm, bank) -> None:
    lead = _lead_for(browser_as, client, firm, bank)
    staff = browser_as("bank", bank_code=bank)
    page = f"/web/bank/leads/{lead['id']}"
    version = str(lead["version"] + 1)  # opening the page records it viewed
    response = _post(
        staff,
        f"{page}/status",
        {"status": "declined", "confirm_decline": "on", "version": version},
        page,
    )
    assert response.status_code == 422 and 'id="reason-error"' in response.text
    assert "拒绝线索须选择拒绝原因" in response.text
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["status"] == "viewed"
    response = _post(
        staff,
        f"{page}/status",
        {
            "status": "declined",
            "reason": "insufficient_collateral",
            "confirm_decline": "on",
            "version": version,
        },
        page,
    )
    assert response.status_code == 303
    assert (
        client.get(f"/api/v1/leads/{lead['id']}").json()["declined_reason"]
        == "insufficient_collateral"
    )
    dash = browser_as("office").get("/web/office").text
    table = dash[dash.index('id="table-decline-reasons"') :]
    assert "担保或抵押不足" in table[: table.index("</section>")]


# --- the office -----------------------------------------------------------------------------


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_office_sees_the_funnel_change_and_exports_it(browser_as, client, firm, bank) -> None:
    office = browser_as("office")
    before = _csv_rows(office.get("/web/office/export/funnel-bank.csv").content)
    lead = _lead_for(browser_as, client, firm, bank)
    staff = browser_as("bank", bank_code=bank)
    page = f"/web/bank/leads/{lead['id']}"
    version = str(lead["version"] + 1)  # opening the page records it viewed
    _post(staff, f"{page}/status", {"status": "contacted", "version": version}, page)
    after = _csv_rows(office.get("/web/office/export/funnel-bank.csv").content)
    header = after[0]
    assert header[:4] == ["银行", "线索", "已查看", "已联系"]
    total_before, total_after = before[-1], after[-1]
    assert total_after[0] == "合计"
    assert int(total_after[1]) == int(total_before[1]) + 1  # one more lead
    assert int(total_after[3]) == int(total_before[3]) + 1  # and it was contacted
    dash = office.get("/web/office").text
    assert "<svg" in dash and "转化漏斗" in dash
    assert f"/web/office/banks/{bank}" in dash  # every bank row opens its page
    assert office.get(f"/web/office/banks/{bank}").status_code == 200
    assert office.get(f"/web/office/enterprises/{firm['id']}").status_code == 200


def test_every_dashboard_table_exports_as_csv_and_xlsx(browser_as) -> None:
    office = browser_as("office")
    dash = office.get("/web/office?from=2026-01-01&to=2026-12-31").text
    linked = set(re.findall(r"/web/office/export/([a-z_-]+)\.csv", dash))
    assert linked and linked <= set(dashboard.table_names())
    for name in dashboard.table_names():
        csv_response = office.get(f"/web/office/export/{name}.csv?from=2026-01-01")
        assert csv_response.status_code == 200, name
        assert csv_response.headers["content-type"].startswith("text/csv")
        assert "attachment" in csv_response.headers["content-disposition"]
        rows = _csv_rows(csv_response.content)
        xlsx = office.get(f"/web/office/export/{name}.xlsx?from=2026-01-01")
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert [c.value for c in sheet[1]] == rows[0], name
        assert sheet.max_row == len(rows), name


@pytest.mark.parametrize(
    "path",
    [
        "/web/office/export/nope.csv",
        "/web/office/export/funnel-bank.pdf",
        "/web/office/export/funnel-month.csv",
    ],
)
def test_an_unknown_export_is_not_found(browser_as, path) -> None:
    assert browser_as("office").get(path).status_code == 404


def test_a_bad_period_is_told_beside_the_filter(browser_as) -> None:
    office = browser_as("office")
    page = office.get("/web/office?from=2026-12-01&to=2026-01-01")
    assert page.status_code == 200 and 'id="to-error"' in page.text
    assert 'id="from-error"' in office.get("/web/office?from=tomorrow").text
    assert (
        office.get("/web/office/export/funnel-bank.csv?from=2026-12-01&to=2026-01-01").status_code
        == 422
    )


def test_an_unknown_bank_or_enterprise_page_is_not_found(browser_as) -> None:
    office = browser_as("office")
    assert office.get("/web/office/banks/no-such-bank").status_code == 404
    assert office.get("/web/office/enterprises/99999999").status_code == 404
    assert office.get("/web/office/enterprises/abc").status_code == 404  # not an id: no page


def test_the_office_finds_an_enterprise_by_name(browser_as, firm) -> None:
    page = browser_as("office").get("/web/office/enterprises", params={"name": firm["name"][2:8]})
    assert f"/web/office/enterprises/{firm['id']}" in page.text


def test_the_review_queue_confirms_and_rejects(browser_as, client) -> None:
    hengrui = create_enterprise(client, name="无锡恒瑞精密机械有限公司")
    create_enterprise(client, name="无锡卓胜微电子有限公司")
    create_enterprise(client, name="卓胜微电子（江阴）有限公司")
    text = "企业名称\n无锡恒瑞精密机械科技有限公司\n卓胜微电子有限公司\n"
    response = client.post(
        "/api/v1/lists/imports",
        files={"file": ("list.csv", text.encode(), "text/csv")},
        data={"qualification_type": "little_giant"},
    )
    assert response.status_code == 201, response.text
    entries = client.get(
        "/api/v1/lists/entries", params={"match": "review", "pending": True}
    ).json()["items"]
    assert len(entries) == 2
    first, second = entries
    office = browser_as("office")
    queue = office.get("/web/office/lists").text
    assert "无锡恒瑞精密机械科技有限公司" in queue and hengrui["name"] in queue
    response = _post(
        office,
        f"/web/office/lists/entries/{first['id']}/confirm",
        {"enterprise_id": str(hengrui["id"]), "version": str(first["version"])},
        "/web/office/lists",
    )
    assert response.status_code == 303
    response = _post(
        office,
        f"/web/office/lists/entries/{second['id']}/reject",
        {"version": str(second["version"])},
        "/web/office/lists",
    )
    assert response.status_code == 303
    decided = {
        e["id"]: e
        for e in client.get("/api/v1/lists/entries", params={"match": "review"}).json()["items"]
    }
    assert decided[first["id"]]["decision"] == "confirmed"
    assert decided[first["id"]]["enterprise_id"] == hengrui["id"]
    assert decided[second["id"]]["decision"] == "rejected"
    assert decided[first["id"]]["decided_by"].startswith("key:")
    # committing the list gives the confirmed enterprise its qualification
    import_id = first["import_id"]
    response = _post(
        office, f"/web/office/lists/imports/{import_id}/commit", {}, "/web/office/lists"
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/lists/imports/{import_id}").json()["status"] == "committed"
    qualifications = client.get(f"/api/v1/enterprises/{hengrui['id']}").json()["qualifications"]
    assert [q["type_code"] for q in qualifications] == ["little_giant"]
    assert "提交名单" not in office.get("/web/office/lists").text
    # deciding again is refused, with a page saying why
    again = _post(
        office, f"/web/office/lists/entries/{second['id']}/reject", {}, "/web/office/lists"
    )
    assert again.status_code == 409 and "已处理" in again.text


def test_the_office_publishes_a_release(browser_as, client) -> None:
    office = browser_as("office")
    response = _post(office, "/web/office/releases", {"note": "2026年12月"}, "/web/office/releases")
    assert response.status_code == 303
    number = int(response.headers["location"].rsplit("=", 1)[1])
    assert client.get(f"/api/v1/releases/{number}").json()["note"] == "2026年12月"
    assert "2026年12月" in office.get("/web/office/releases").text


def test_an_unknown_page_is_a_page(anonymous, browser_as) -> None:
    response = browser_as("office").get("/web/no/such/page")
    assert response.status_code == 404
    assert (
        response.headers["content-type"].startswith("text/html") and "没有这个页面" in response.text
    )
    assert anonymous.get("/web/nope", follow_redirects=False).status_code == 404


def test_the_stylesheet_is_served_by_the_app(anonymous) -> None:
    response = anonymous.get("/web/static/app.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")


def _loan(client, bank: str, firm: dict, days: int = 20) -> dict:
    from datetime import timedelta

    from service.core.models import today_local

    body = {
        "bank_code": bank,
        "enterprise_id": firm["id"],
        "contract_no": f"WEB-{firm['id']}",
        "kind": "working_capital",
        "principal_fen": 300_000_000,
        "rate_bp": 345,
        "disbursed_date": (today_local() - timedelta(days=345)).isoformat(),
        "maturity_date": (today_local() + timedelta(days=days)).isoformat(),
    }
    response = client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_bank_records_a_renewal_from_contact_to_renewed(browser_as, client, firm, bank) -> None:
    from datetime import timedelta

    from service.core.models import today_local

    loan = _loan(client, bank, firm)
    staff = browser_as("bank", bank_code=bank)
    assert f"/web/bank/loans/{loan['id']}" in staff.get("/web/bank/loans").text
    page = f"/web/bank/loans/{loan['id']}"
    text = staff.get(page).text
    assert loan["contract_no"] in text and "待对接" in text
    version = int(form_token(text, "version"))
    response = _post(
        staff, f"{page}/renewal", {"status": "contacted", "version": str(version)}, page
    )
    assert response.status_code == 303
    case = client.get(f"/api/v1/loans/{loan['id']}/renewal").json()
    assert case["status"] == "contacted" and case["contacted_date"] == str(today_local())
    # renewed straight from contacted is a wrong step: said on the page, nothing changes
    response = _post(
        staff, f"{page}/renewal", {"status": "renewed", "version": str(case["version"])}, page
    )
    assert response.status_code == 409
    assert "不能改为" in response.text
    response = _post(
        staff,
        f"{page}/renewal",
        {
            "status": "committed",
            "committed_amount": "300",
            "no_principal": "on",
            "version": str(case["version"]),
        },
        page,
    )
    assert response.status_code == 303
    case = client.get(f"/api/v1/loans/{loan['id']}/renewal").json()
    assert case["committed_amount_fen"] == 300_000_000 and case["no_principal"] is True
    # renewed needs the new maturity, beside its field
    response = _post(
        staff, f"{page}/renewal", {"status": "renewed", "version": str(case["version"])}, page
    )
    assert response.status_code == 422 and 'id="new_maturity_date-error"' in response.text
    new_maturity = (today_local() + timedelta(days=380)).isoformat()
    response = _post(
        staff,
        f"{page}/renewal",
        {
            "status": "renewed",
            "new_maturity_date": new_maturity,
            "new_rate": "3.3",
            "version": str(case["version"]),
        },
        page,
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/loans/{loan['id']}").json()["status"] == "renewed"


def test_another_banks_loan_is_not_found(browser_as, client, firm, bank) -> None:
    loan = _loan(client, bank, firm)
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    stranger = browser_as("bank", bank_code=other)
    assert stranger.get(f"/web/bank/loans/{loan['id']}").status_code == 404
    response = _post(
        stranger,
        f"/web/bank/loans/{loan['id']}/renewal",
        {"status": "contacted", "version": "1"},
        "/web/bank",
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("office", "/web/office/enterprises/99999999999999999999"),
        ("bank", "/web/bank/leads/99999999999"),
        ("bank", "/web/bank/loans/0"),
    ],
)
def test_an_id_out_of_range_is_a_page_not_a_crash(browser_as, bank, role, path) -> None:
    who = browser_as(role, bank_code=bank if role == "bank" else None)
    response = who.get(path)
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")


def _product_code(client, bank: str) -> str:
    return client.get("/api/v1/products", params={"bank": bank}).json()["items"][0]["code"]


def test_an_enterprise_applies_for_a_recommended_product(browser_as, client, firm, bank) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    page = me.get("/web/enterprise/recommendations").text
    code = _product_code(client, bank)
    assert f'name="product_code" value="{code}"' in page
    response = _post(
        me, "/web/enterprise/apply", {"product_code": code}, "/web/enterprise/recommendations"
    )
    assert response.status_code == 303 and "done=applied" in response.headers["location"]
    (lead,) = client.get("/api/v1/leads", params={"bank": bank}).json()["items"]
    assert lead["source"] == "application" and lead["consented"] is True
    # a product it does not qualify for is refused with the reasons, and makes no lead
    other_bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    strict = product_payload(other_bank, eligibility={"clusters_included": ["biomed"]})
    assert client.post("/api/v1/products", json=strict).status_code == 201
    response = _post(
        me,
        "/web/enterprise/apply",
        {"product_code": strict["code"]},
        "/web/enterprise/recommendations",
    )
    assert response.status_code == 422 and "不符合" in response.text
    assert client.get("/api/v1/leads", params={"bank": other_bank}).json()["items"] == []


def test_an_enterprise_answers_a_banks_contact_request(
    browser_as, as_role, client, firm, bank
) -> None:
    need = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": firm["id"],
            "amount_fen": 100_000_000,
            "term_months": 12,
            "purpose": "working_capital",
        },
    ).json()
    code = _product_code(client, bank)
    staff = as_role("bank", bank_code=bank)
    prospects = staff.get(f"/api/v1/products/{code}/prospects").json()["items"]
    ours = next(
        p for p in prospects if p["prospect_id"] == f"need-{need['id']}" or p["basis"] == "need"
    )
    asked = staff.post(
        f"/api/v1/products/{code}/contact-requests",
        json={"prospect_id": ours["prospect_id"], "message": "欢迎洽谈"},
    )
    assert asked.status_code == 201, asked.text
    me = browser_as("enterprise", enterprise_id=firm["id"])
    page = me.get("/web/enterprise/leads").text
    assert "欢迎洽谈" in page and "同意联系" in page
    request_id = asked.json()["id"]
    response = _post(
        me, f"/web/enterprise/contact-requests/{request_id}/accept", {}, "/web/enterprise/leads"
    )
    assert response.status_code == 303
    assert (
        client.get("/api/v1/leads", params={"bank": bank}).json()["items"][0]["source"]
        == "prospect"
    )
    # another enterprise cannot answer it; an unknown answer is not a page
    stranger = browser_as("enterprise", enterprise_id=create_enterprise(client)["id"])
    assert (
        _post(
            stranger,
            f"/web/enterprise/contact-requests/{request_id}/decline",
            {},
            "/web/enterprise/leads",
        ).status_code
        == 404
    )
    assert (
        _post(
            me, f"/web/enterprise/contact-requests/{request_id}/maybe", {}, "/web/enterprise/leads"
        ).status_code
        == 404
    )


def test_an_enterprise_withdraws_a_lead(browser_as, client, firm, bank) -> None:
    lead = _lead_for(browser_as, client, firm, bank)
    me = browser_as("enterprise", enterprise_id=firm["id"])
    response = _post(
        me,
        f"/web/enterprise/leads/{lead['id']}/withdraw",
        {"version": str(lead["version"]), "confirmed": "on"},
        "/web/enterprise/leads",
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["status"] == "withdrawn"
    # a bank cannot use the enterprise's page to withdraw
    staff = browser_as("bank", bank_code=bank)
    assert (
        _post(staff, f"/web/enterprise/leads/{lead['id']}/withdraw", {}, "/web/bank").status_code
        == 403
    )


def test_an_enterprise_chooses_whether_banks_see_it_in_releases(browser_as, client, firm) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    home = me.get("/web/enterprise").text
    version = form_token(home, "version")
    response = _post(
        me,
        "/web/enterprise/sharing",
        {"share_with_banks": "on", "version": version},
        "/web/enterprise",
    )
    assert response.status_code == 303
    assert client.get(f"/api/v1/enterprises/{firm['id']}").json()["share_with_banks"] is True
    # the same form again, now stale, is refused and changes nothing
    response = _post(me, "/web/enterprise/sharing", {"version": version}, "/web/enterprise")
    assert response.status_code == 412
    assert client.get(f"/api/v1/enterprises/{firm['id']}").json()["share_with_banks"] is True


def test_the_enterprise_page_says_who_recorded_its_choice(browser_as, client, firm) -> None:
    me = browser_as("enterprise", enterprise_id=firm["id"])
    home = me.get("/web/enterprise").text
    assert "未同意" in home and "公开信息，每家银行都能看到" in home
    _post(
        me,
        "/web/enterprise/sharing",
        {"share_with_banks": "on", "version": form_token(home, "version")},
        "/web/enterprise",
    )
    assert "本企业自行选择" in me.get("/web/enterprise").text


def test_the_office_records_consent_from_a_signed_form(browser_as, client, firm) -> None:
    office = browser_as("office")
    path = f"/web/office/enterprises/{firm['id']}"
    page = office.get(path).text
    assert "从未登记" in page and "凭入库申报表登记授权" in page
    fields = {"given": "yes", "form_ref": "锡金融入库〔2026〕0456号", "signed_on": "2026-11-20"}
    missing = _post(office, f"{path}/consent", {**fields, "form_ref": ""}, path)
    assert missing.status_code == 422 and "锡金融入库" not in missing.text
    assert client.get(f"/api/v1/enterprises/{firm['id']}").json()["share_with_banks"] is False
    done = _post(office, f"{path}/consent", fields, path)
    assert done.status_code == 303
    consent = client.get(f"/api/v1/enterprises/{firm['id']}").json()["consent"]
    assert consent["source"] == "office_form" and consent["form_ref"] == fields["form_ref"]
    assert "凭入库申报表 锡金融入库〔2026〕0456号（2026-11-20 签署）登记" in office.get(path).text
    # the enterprise withdraws itself; an older form is refused beside the form, kept as typed
    me = browser_as("enterprise", enterprise_id=firm["id"])
    home = me.get("/web/enterprise").text
    _post(
        me, "/web/enterprise/sharing", {"version": form_token(home, "version")}, "/web/enterprise"
    )
    again = _post(office, f"{path}/consent", fields, path)
    assert again.status_code == 409 and "以企业本人的选择为准" in again.text
    assert "锡金融入库〔2026〕0456号" in again.text
    assert client.get(f"/api/v1/enterprises/{firm['id']}").json()["share_with_banks"] is False
    # not a bank's page
    staff = browser_as(
        "bank", bank_code=client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    )
    assert _post(staff, f"{path}/consent", fields, "/web/bank").status_code == 403


def test_the_dashboard_reads_the_leads_once(browser_as, monkeypatch) -> None:
    from service.metrics import queries

    office = browser_as("office")
    reads: list[object] = []
    original = queries.lead_rows

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "lead_rows", counted)
    assert office.get("/web/office").status_code == 200
    assert len(reads) == 1  # seven tables and three charts from one read


def test_a_provisional_reminder_date_is_marked_until_its_year_is_known(
    browser_as, client, firm, bank
) -> None:
    from service.taxonomy.workdays import official_years_as

    loan = client.post(
        "/api/v1/loans",
        json={
            "bank_code": bank,
            "enterprise_id": firm["id"],
            "contract_no": f"WEB-P-{firm['id']}",
            "principal_fen": 300_000_000,
            "rate_bp": 345,
            "disbursed_date": "2025-03-09",
            "maturity_date": "2026-03-09",
        },
    ).json()
    staff = browser_as("bank", bank_code=bank)
    owner = browser_as("enterprise", enterprise_id=firm["id"])
    page = f"/web/bank/loans/{loan['id']}"
    mark = re.compile(r'<span class="badge warn" title="([^"]*)">暂定</span>')
    with official_years_as(range(2001, 2026)):  # a calendar from before the 2026 notice
        run = client.post("/api/v1/reminders/run", params={"as_of": "2026-02-20"})
        assert run.status_code == 200, run.text
        text = staff.get(page).text
        assert len(mark.findall(text)) == 3  # each stage of the schedule
        assert "节假日安排" in mark.findall(text)[0] and "尚未公布" in mark.findall(text)[0]
        assert "2026-02-20" in text
        assert len(mark.findall(staff.get("/web/bank/reminders").text)) == 2  # the two sent
        assert len(mark.findall(owner.get("/web/enterprise/loans").text)) == 2
    client.post("/api/v1/reminders/run", params={"as_of": "2026-02-24"}).raise_for_status()
    text = staff.get(page).text
    assert "暂定" not in text and "2026-02-14" in text
    assert "暂定" not in staff.get("/web/bank/reminders").text
    assert "暂定" not in owner.get("/web/enterprise/loans").text

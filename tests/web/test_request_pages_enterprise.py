"""The enterprise's pages of requests (诉求) and ratings: raising one (with a file judged by its
bytes, amounts in 元 and rates in %, about a lead), following it, confirming with a rating,
reopening once, withdrawing after a confirmation, rating an ended lead once; another
enterprise's request is not found, and every form needs its CSRF token."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.appeals import storage
from tests.factories import create_enterprise
from tests.web.conftest import form_token
from tests.web.test_request_pages_bank import (
    Desk,
    desk,  # noqa: F401 (a fixture)
    dispatched,
    dispatched_over_new_year,
    provisional_marks,
)

BANK = "jsbank-wx"  # a seeded bank: 江苏银行
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def memory_store() -> Iterator[storage.MemoryStore]:
    store = storage.MemoryStore()
    storage.use_store(store)
    yield store
    storage.use_store(None)


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client)


@pytest.fixture
def me(browser_as, firm) -> TestClient:
    return browser_as("enterprise", enterprise_id=firm["id"])


def _visible(html: str) -> str:
    body = html[html.index("<body") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def _charge(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "unreasonable_charge",
        "bank_code": BANK,
        "charge_rule": "tied_sale",
        "charge_item": "insurance",
        "charge_amount": "12,000.50",
        "title": "贷款时被要求购买保险",
        "description": "办理流动资金贷款时，客户经理要求购买一年期保险，否则不予放款。",
        **overrides,
    }


def _raise(
    who: TestClient, data: dict[str, Any], file: tuple[str, bytes, str] | None = None, page=""
) -> Any:
    token = form_token(who.get(page or "/web/enterprise/requests/new").text)
    files = {"file": file} if file else {"file": ("", b"", "application/octet-stream")}
    return who.post(
        "/web/enterprise/requests/new",
        data={**data, "csrf_token": token},
        files=files,
        follow_redirects=False,
    )


def _post(who: TestClient, url: str, data: dict[str, Any], page: str) -> Any:
    token = form_token(who.get(page).text)
    return who.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def _requests(client, firm) -> list[dict]:
    items = client.get("/api/v1/requests", params={"limit": 100}).json()["items"]
    return [r for r in items if r["enterprise_id"] == firm["id"]]


def _id_of(response) -> int:
    assert response.status_code == 303, response.text
    found = re.search(r"/enterprise/requests/(\d+)\?done=raised", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def _closed(client, request_id: int) -> None:
    """The office accepts, dispatches, records the bank's answer and closes."""
    for body in (
        {"action": "accept", "category_code": "charges"},
        {"action": "dispatch", "bank_code": BANK},
        {"action": "answer", "text": "已核实，保险费已退还。"},
        {"action": "close", "text": "银行已退还保险费并整改。"},
    ):
        response = client.post(f"/api/v1/requests/{request_id}/steps", json=body)
        assert response.status_code == 200, response.text


def _lead(me, client, firm) -> dict:
    token = form_token(me.get("/web/enterprise/needs/new").text)
    posted = me.post(
        "/web/enterprise/needs",
        data={
            "amount": "200",
            "term_months": "12",
            "purpose": "working_capital",
            "collateral": ["none"],
            "max_banks": "1",
            "bank_codes": [BANK],
            "consent_share_details": "on",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    leads = client.get("/api/v1/leads", params={"limit": 200}).json()["items"]
    (lead,) = [x for x in leads if x["enterprise"]["enterprise_id"] == firm["id"]]
    return lead


# --- the pages render, names not codes ------------------------------------------------------


def test_the_list_and_the_form_render(me) -> None:
    page = me.get("/web/enterprise/requests")
    assert page.status_code == 200
    text = _visible(page.text)
    assert "提出诉求" in text and "评价银行服务" in text and "还没有诉求" in text
    form = me.get("/web/enterprise/requests/new").text
    text = _visible(form)
    for words in ("不合理收费", "七不准：不准借贷搭售", "江苏银行", "银行能看到本企业名称", "PDF"):
        assert words in text, words
    assert 'enctype="multipart/form-data"' in form


# --- raising --------------------------------------------------------------------------------


def test_raising_with_a_pdf(me, client, firm, memory_store) -> None:
    response = _raise(
        me, _charge(show_to_bank="on"), ("../../发票 扫描.pdf", PDF, "application/pdf")
    )
    request_id = _id_of(response)
    (made,) = _requests(client, firm)
    assert made["id"] == request_id and made["charge_amount_fen"] == 1_200_050
    assert made["show_to_bank"] is True and made["bank_code"] == BANK
    page = me.get(response.headers["location"]).text
    text = _visible(page)
    for words in ("诉求已提交", "不合理收费", "江苏银行", "12,000.50 元", "提交诉求", "本企业"):
        assert words in text, words
    assert "发票 扫描.pdf" in text and BANK not in text and "tied_sale" not in text
    (link,) = re.findall(rf'href="(/web/enterprise/requests/{request_id}/files/\d+)"', page)
    got = me.get(link)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["content-type"] == "application/pdf"
    assert list(memory_store.files.values()) == [PDF]


def test_raising_without_a_file(me, client, firm, memory_store) -> None:
    response = _raise(me, _charge(charge_amount=""))
    _id_of(response)
    (made,) = _requests(client, firm)
    assert made["charge_amount_fen"] is None and made["attachments"] == []
    assert made["show_to_bank"] is False and memory_store.files == {}


def test_a_text_file_named_pdf_is_refused_and_nothing_is_raised(
    me, client, firm, memory_store
) -> None:
    response = _raise(me, _charge(), ("合同.pdf", b"just some text, not a PDF", "application/pdf"))
    assert response.status_code == 422
    text = _visible(response.text)
    assert "「合同.pdf」不是 PDF 或图片" in text and "诉求没有提交" in text
    assert 'value="贷款时被要求购买保险"' in response.text  # what was typed is kept
    assert _requests(client, firm) == [] and memory_store.files == {}


def test_a_file_over_the_limit_is_refused_and_nothing_is_raised(
    me, client, firm, memory_store, monkeypatch
) -> None:
    from service.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "attachment_max_bytes", 1024)
    big = PDF + b"0" * 1024
    response = _raise(me, _charge(), ("大文件.pdf", big, "application/pdf"))
    assert response.status_code == 422
    assert "「大文件.pdf」超过 1 KB" in _visible(response.text)
    assert _requests(client, firm) == [] and memory_store.files == {}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("一万二", "请填写数字，单位元"),
        ("12.345", "最多精确到分"),
        ("-5", "应大于 0 元"),
        ("1e20", "金额过大"),
        ("=1+1", "请填写数字"),
    ],
)
def test_a_bad_amount_is_said_beside_it(me, client, firm, amount, message) -> None:
    response = _raise(me, _charge(charge_amount=amount))
    assert response.status_code == 422
    assert message in _visible(response.text)
    assert 'id="charge_amount-error"' in response.text
    assert _requests(client, firm) == []


def test_the_use_cases_refusals_are_said_beside_the_field(me, client, firm) -> None:
    response = _raise(me, _charge(bank_code="", charge_rule=""))
    assert response.status_code == 422
    assert 'id="bank_code-error"' in response.text and "须指明涉及的银行" in response.text
    response = _raise(me, _charge(charge_rule=""))
    assert response.status_code == 422 and 'id="charge_rule-error"' in response.text
    response = _raise(me, _charge(title="  ", description="x" * 2001))
    assert 'id="title-error"' in response.text and 'id="description-error"' in response.text
    response = _raise(
        me,
        {
            "kind": "rate_above_offer",
            "bank_code": BANK,
            "offered_rate": "4.5",
            "charged_rate": "3.9",
            "title": "利率",
            "description": "利率高于承诺",
        },
    )
    assert response.status_code == 422 and 'id="charged_rate-error"' in response.text
    assert _requests(client, firm) == []
    response = _raise(
        me,
        {
            "kind": "rate_above_offer",
            "bank_code": BANK,
            "offered_rate": "3.45",
            "charged_rate": "4.35%",
            "charge_amount": "not read for this kind",
            "title": "利率高于承诺",
            "description": "批复 3.45%，合同 4.35%",
        },
    )
    _id_of(response)
    (made,) = _requests(client, firm)
    assert (made["offered_rate_bp"], made["charged_rate_bp"]) == (345, 435)


def test_raising_about_a_lead_takes_its_bank(me, client, firm) -> None:
    lead = _lead(me, client, firm)
    page = f"/web/enterprise/requests/new?lead={lead['id']}"
    form = me.get(page).text
    assert re.search(r"涉及： 与江苏银行\S*就“", _visible(form))
    assert f'name="lead_id" value="{lead["id"]}"' in form and 'name="bank_code"' not in form
    assert f"/web/enterprise/requests/new?lead={lead['id']}" in me.get("/web/enterprise/leads").text
    data = {**_charge(), "lead_id": str(lead["id"]), "loan_id": ""}
    del data["bank_code"]
    _id_of(_raise(me, {**data, "kind": "slow_response", "charge_rule": ""}, page=page))
    (made,) = _requests(client, firm)
    assert made["lead_id"] == lead["id"] and made["bank_code"] == BANK
    # another enterprise's lead is not found
    other = create_enterprise(client)
    stranger = client.post(
        "/api/v1/loans",
        json={
            "contract_no": "X-1",
            "enterprise_id": other["id"],
            "bank_code": BANK,
            "principal_fen": 100_000_000,
            "rate_bp": 345,
            "disbursed_date": "2026-01-05",
            "maturity_date": "2027-01-05",
        },
    ).json()
    assert me.get(f"/web/enterprise/requests/new?loan={stranger['id']}").status_code == 404
    assert me.get("/web/enterprise/requests/new?lead=abc").status_code == 422


def test_no_code_reaches_a_request_page(me, client, firm) -> None:
    from service.appeals.kinds import AppealKind, ChargeItem, ChargeRule
    from service.appeals.states import Action, AppealStatus

    request_id = _id_of(_raise(me, _charge(), ("a.pdf", PDF, "application/pdf")))
    _closed(client, request_id)
    banks = client.get("/api/v1/banks", params={"limit": 200}).json()["items"]
    codes = {b["code"] for b in banks} | {"charges"}
    for enum in (AppealKind, ChargeItem, ChargeRule, AppealStatus, Action):
        codes |= {member.value for member in enum}
    pattern = re.compile(
        r"(?<![A-Za-z0-9_-])("
        + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
        + r"|key:\d+|user:\d+)(?![A-Za-z0-9_-])"
    )
    for path in (
        "/web/enterprise/requests",
        "/web/enterprise/requests/new",
        f"/web/enterprise/requests/{request_id}",
    ):
        response = me.get(path)
        assert response.status_code == 200, path
        assert not set(pattern.findall(_visible(response.text))), path


# --- following one: confirm, reopen once, withdraw ------------------------------------------


def test_confirm_with_a_rating(me, client, firm) -> None:
    request_id = _id_of(_raise(me, _charge()))
    _closed(client, request_id)
    page = f"/web/enterprise/requests/{request_id}"
    shown = me.get(page).text
    text = _visible(shown)
    assert "确认办理结果并评价" in text and "银行已退还保险费并整改" in text
    assert "受理" in text and "交办" in text and "承办：江苏银行" in text
    assert 'type="radio" name="rating" value="5"' in shown
    listed = me.get("/web/enterprise/requests").text
    assert f'href="/web/enterprise/requests/{request_id}#confirm"' in listed
    version = client.get(f"/api/v1/requests/{request_id}").json()["version"]
    url = f"/web/enterprise/requests/{request_id}/confirm"
    missing = _post(me, url, {"version": str(version), "comment": "快"}, page)
    assert missing.status_code == 422 and "请选择 1–5 分" in missing.text
    assert 'value="快"' not in missing.text and ">快</textarea>" in missing.text
    bad = _post(me, url, {"version": str(version), "rating": "9"}, page)
    assert bad.status_code == 422
    done = _post(me, url, {"version": str(version), "rating": "4", "comment": "处理及时"}, page)
    assert done.status_code == 303 and "done=confirmed" in done.headers["location"]
    body = client.get(f"/api/v1/requests/{request_id}").json()
    assert body["status"] == "confirmed" and body["rating"] == 4
    assert body["rating_comment"] == "处理及时"
    text = _visible(me.get(done.headers["location"]).text)
    assert "4 分 · 满意：处理及时" in text and "确认并提交评价" not in text


def test_reopen_once_then_the_option_is_gone(me, client, firm) -> None:
    request_id = _id_of(_raise(me, _charge()))
    _closed(client, request_id)
    page = f"/web/enterprise/requests/{request_id}"
    url = f"/web/enterprise/requests/{request_id}/reopen"
    version = client.get(f"/api/v1/requests/{request_id}").json()["version"]
    empty = _post(me, url, {"version": str(version), "reason": "  "}, page)
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    done = _post(me, url, {"version": str(version), "reason": "保险费只退了一半"}, page)
    assert done.status_code == 303 and "done=reopened" in done.headers["location"]
    assert client.get(f"/api/v1/requests/{request_id}").json()["status"] == "reopened"
    for body in (
        {"action": "dispatch", "bank_code": BANK},
        {"action": "answer", "text": "余款已退。"},
        {"action": "close", "text": "已全额退还。"},
    ):
        assert client.post(f"/api/v1/requests/{request_id}/steps", json=body).status_code == 200
    shown = me.get(page).text
    assert f'action="/web/enterprise/requests/{request_id}/reopen"' not in shown
    assert "已重新打开过一次" in _visible(shown) and "保险费只退了一半" in _visible(shown)
    version = client.get(f"/api/v1/requests/{request_id}").json()["version"]
    again = _post(me, url, {"version": str(version), "reason": "还是不满意"}, page)
    assert again.status_code == 409 and "只能重新打开 1 次" in again.text


def test_withdrawing_asks_for_confirmation(me, client, firm) -> None:
    request_id = _id_of(_raise(me, _charge()))
    page = f"/web/enterprise/requests/{request_id}"
    confirm = f"{page}/withdraw/confirm"
    assert confirm in me.get(page).text
    version = client.get(f"/api/v1/requests/{request_id}").json()["version"]
    url = f"{page}/withdraw"
    response = _post(me, url, {"version": str(version)}, confirm)
    assert response.status_code == 422 and "请勾选" in response.text
    response = _post(me, url, {"version": str(version), "confirmed": "on"}, confirm)
    assert response.status_code == 303 and "done=request_withdrawn" in response.headers["location"]
    assert client.get(f"/api/v1/requests/{request_id}").json()["status"] == "withdrawn"
    shown = me.get(response.headers["location"]).text
    assert "诉求已撤回" in shown and f"{page}/files" not in shown  # no more uploads
    assert confirm not in shown and me.get(confirm).status_code == 409


def test_adding_a_file_later(me, client, firm, memory_store) -> None:
    request_id = _id_of(_raise(me, _charge()))
    page = f"/web/enterprise/requests/{request_id}"
    url = f"{page}/files"
    token = form_token(me.get(page).text)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    fake = me.post(
        url, data={"csrf_token": token}, files={"file": ("a.png", b"GIF89a", "image/png")}
    )
    assert fake.status_code == 415 and "不是 PDF 或图片" in fake.text
    none = me.post(url, data={"csrf_token": token}, files={"file": ("", b"", "image/png")})
    assert none.status_code == 422 and "请选择要上传的文件" in none.text
    done = me.post(
        url,
        data={"csrf_token": token},
        files={"file": ("照片.png", png, "image/png")},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=attached" in done.headers["location"]
    assert "照片.png" in me.get(page).text and list(memory_store.files.values()) == [png]


def test_a_file_the_store_cannot_keep_is_said_so(me, firm, tmp_path) -> None:
    request_id = _id_of(_raise(me, _charge()))
    page = f"/web/enterprise/requests/{request_id}"
    (tmp_path / "a-file").write_bytes(b"")
    storage.use_store(storage.DiskStore(tmp_path / "a-file"))  # a root that is no directory
    token = form_token(me.get(page).text)
    refused = me.post(
        f"{page}/files",
        data={"csrf_token": token},
        files={"file": ("发票.pdf", PDF, "application/pdf")},
    )
    assert refused.status_code == 503 and "附件存储暂时无法访问，文件没有保存" in refused.text
    assert "发票.pdf" not in me.get(page).text


# --- who sees what, CSRF --------------------------------------------------------------------


def test_another_enterprises_request_is_not_found(me, browser_as, client, firm) -> None:
    request_id = _id_of(_raise(me, _charge()))
    _id_of(_raise(me, _charge(), ("a.pdf", PDF, "application/pdf")))
    other = browser_as("enterprise", enterprise_id=create_enterprise(client)["id"])
    page = f"/web/enterprise/requests/{request_id}"
    for path in (
        page,
        f"{page}/withdraw/confirm",
        f"/web/enterprise/requests/{request_id + 1}/files/1",
    ):
        response = other.get(path)
        assert response.status_code == 404 and "不存在" in response.text, path
    version = client.get(f"/api/v1/requests/{request_id}").json()["version"]
    response = _post(
        other, f"{page}/withdraw", {"version": str(version), "confirmed": "on"}, "/web/enterprise"
    )
    assert response.status_code == 404
    assert client.get(f"/api/v1/requests/{request_id}").json()["status"] == "raised"
    assert f"#{request_id}" not in other.get("/web/enterprise/requests").text


def test_csrf_is_enforced(me, client, firm) -> None:
    refused = me.post("/web/enterprise/requests/new", data=_charge(), files={"file": ("", b"", "")})
    assert refused.status_code == 403 and _requests(client, firm) == []
    request_id = _id_of(_raise(me, _charge()))
    for path, data in (
        (f"/web/enterprise/requests/{request_id}/withdraw", {"confirmed": "on"}),
        (f"/web/enterprise/requests/{request_id}/confirm", {"rating": "5"}),
        (f"/web/enterprise/requests/{request_id}/reopen", {"reason": "x"}),
        ("/web/enterprise/leads/1/rate", {"score": "5"}),
    ):
        assert me.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    response = me.post(
        f"/web/enterprise/requests/{request_id}/files",
        data={"csrf_token": "forged"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 403
    assert client.get(f"/api/v1/requests/{request_id}").json()["status"] == "raised"


# --- rating an ended lead -------------------------------------------------------------------


def test_rating_an_ended_lead_once(me, client, as_role, firm) -> None:
    lead = _lead(me, client, firm)
    assert f'id="rate-lead-{lead["id"]}"' not in me.get("/web/enterprise/requests").text
    staff = as_role("bank", bank_code=BANK)
    declined = {"status": "declined", "reason": "insufficient_revenue"}
    assert staff.post(f"/api/v1/leads/{lead['id']}/status", json=declined).status_code == 200
    leads_page = me.get("/web/enterprise/leads").text
    assert f"/web/enterprise/requests#rate-lead-{lead['id']}" in leads_page
    page = "/web/enterprise/requests"
    assert f'id="rate-lead-{lead["id"]}"' in me.get(page).text
    url = f"/web/enterprise/leads/{lead['id']}/rate"
    missing = _post(me, url, {"comment": "审批慢"}, page)
    assert missing.status_code == 422 and "请选择 1–5 分" in missing.text
    assert ">审批慢</textarea>" in missing.text
    done = _post(me, url, {"score": "2", "comment": "审批慢", "show_name": "on"}, page)
    assert done.status_code == 303 and "done=lead_rated" in done.headers["location"]
    (rating,) = client.get("/api/v1/ratings").json()["items"]
    assert rating["score"] == 2 and rating["lead_id"] == lead["id"]
    assert rating["comment"] == "审批慢"
    assert f'id="rate-lead-{lead["id"]}"' not in me.get(page).text
    assert "您的评价：2 分" in _visible(me.get("/web/enterprise/leads").text)
    token = form_token(me.get("/web/enterprise/leads").text)
    again = me.post(url, data={"score": "5", "csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303 and "done=lead_already_rated" in again.headers["location"]
    assert "已经评价过了" in me.get(again.headers["location"]).text
    assert [r["score"] for r in client.get("/api/v1/ratings").json()["items"]] == [2]


def test_an_open_lead_cannot_be_rated_yet(me, client, firm) -> None:
    lead = _lead(me, client, firm)
    url = f"/web/enterprise/leads/{lead['id']}/rate"
    response = _post(me, url, {"score": "5"}, "/web/enterprise/requests")
    assert response.status_code == 409 and "线索结束" in response.text
    assert client.get("/api/v1/ratings").json()["items"] == []


def test_a_loan_links_to_a_request_about_it(me, client, firm) -> None:
    loan = client.post(
        "/api/v1/loans",
        json={
            "contract_no": "JS-LOAN-1",
            "enterprise_id": firm["id"],
            "bank_code": BANK,
            "principal_fen": 100_000_000,
            "rate_bp": 345,
            "disbursed_date": "2026-01-05",
            "maturity_date": "2027-01-05",
        },
    ).json()
    link = f"/web/enterprise/requests/new?loan={loan['id']}"
    assert link in me.get("/web/enterprise/loans").text
    form = me.get(link).text
    assert re.search(r"涉及： 江苏银行\S*的贷款（合同号 JS-LOAN-1）", _visible(form))
    data = {
        "kind": "renewal_refused",
        "loan_id": str(loan["id"]),
        "title": "续贷被拒",
        "description": "到期前申请续贷，银行未说明理由即拒绝。",
    }
    _id_of(_raise(me, data, page=link))
    (made,) = _requests(client, firm)
    assert made["loan_id"] == loan["id"] and made["bank_code"] == BANK


# --- in a real browser, on a phone ----------------------------------------------------------


def test_raising_in_a_browser_on_a_phone_and_every_page_is_accessible(
    visit: Any, browser: Any, tmp_path
) -> None:
    from tests.web.browser import ENTERPRISE
    from tests.web.test_accessibility import _axe, _checker, _report, _violations
    from tests.web.test_phone import PHONE, WIDTH

    phone = visit("requests-enterprise", **PHONE)
    phone.sign_in(ENTERPRISE)
    phone.goto("/web/enterprise/requests/new")
    phone.page.click("form.request-form button[type=submit]")  # nothing filled in
    assert "请按提示修改" in phone.text()
    pages = ["/web/enterprise/requests", "/web/enterprise/requests/new"]
    wide = {"/web/enterprise/requests/new (errors)": phone.page.evaluate(WIDTH)}
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(PDF)
    phone.page.select_option("#kind", "other")
    phone.page.fill("#title", "希望了解贴息政策")
    phone.page.fill("#description", '=HYPERLINK("http://x") 企业希望了解科技贷款贴息的申请方式。')
    phone.page.set_input_files("#file", str(scan))
    phone.page.check("input[name=show_to_bank]")
    phone.page.click("form.request-form button[type=submit]")
    assert "诉求已提交" in phone.text() and "扫描件.pdf" in phone.text()
    assert "=HYPERLINK" in phone.text()  # shown as typed, never run
    pages.append(phone.page.url.removeprefix(phone.base).split("?")[0])
    for path in pages:
        phone.goto(path)
        phone.shot(path.strip("/").replace("/", "-"))
        wide[path] = phone.page.evaluate(WIDTH)
    assert not {p: px for p, px in wide.items() if px > 0}, wide
    axe = _axe()
    checker = _checker(browser, phone.base, phone.context.storage_state())
    try:
        found = [v for path in pages for v in _violations(axe, checker, path)]
    finally:
        checker.context.close()
    assert not found, _report(found)


def test_a_provisional_due_date_says_so(browser_as, desk: Desk) -> None:  # noqa: F811
    estimated = dispatched_over_new_year(desk, title="跨年交办的诉求")
    final = dispatched(desk, title="今年内到期的诉求")
    owner = browser_as("enterprise", enterprise_id=desk.firm_id)
    listing = owner.get("/web/enterprise/requests").text
    row = listing[listing.index(f'id="request-{estimated}"') :].split("</tr>")[0]
    assert "2027-01-15" in row
    (why,) = provisional_marks(row)
    assert "尚未公布" in why and "可能调整" in why
    other = listing[listing.index(f'id="request-{final}"') :].split("</tr>")[0]
    assert provisional_marks(other) == []
    page = owner.get(f"/web/enterprise/requests/{estimated}").text
    assert "2027-01-15" in page and len(provisional_marks(page)) == 1
    assert "此期限按周末和预估的节假日推算" in _visible(page)
    assert "暂定" not in owner.get(f"/web/enterprise/requests/{final}").text

"""The bank's workbench through HTTP: the list of leads (search by name and credit code that
never finds a hidden name, every filter, sorting, numbered pages past 50 with the total, an
account manager opening on its own leads), a lead's page (opening records it viewed, only
the valid next steps, declining asks to confirm, assigning and claiming, the loan after
disbursement) and no code a person cannot read on any of them."""

import itertools
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.access.models import BankRole, Role, UserAccount
from service.access.policy import Principal
from service.access.service import start_person_session
from service.core.models import today_local, utcnow
from service.leads import workbench
from service.leads.models import Lead
from service.leads.states import LeadStatus
from service.products.models import Product
from service.web.security import SESSION_COOKIE
from tests.factories import bank_payload, create_enterprise, credit_code, product_payload
from tests.web.conftest import form_token

_serial = itertools.count(1)


@pytest.fixture
def bank(client) -> str:
    return client.post("/api/v1/banks", json=bank_payload()).json()["code"]


def _product(client, session: Session, bank: str, name: str) -> dict:
    body = product_payload(
        bank,
        name=name,
        eligibility={"clusters_included": ["ic"]},
        amount_min_fen=10_000_000,
        amount_max_fen=5_000_000_000,
    )
    response = client.post("/api/v1/products", json=body)
    assert response.status_code == 201, response.text
    product = response.json()
    product["id"] = session.exec(select(Product.id).where(Product.code == product["code"])).one()
    return product


@pytest.fixture
def products(client, session, bank) -> list[dict]:
    return [
        _product(client, session, bank, "科创快贷"),
        _product(client, session, bank, "设备更新贷"),
    ]


def _need(client, enterprise_id: int, amount_wan: int, **extra: Any) -> int:
    body = {
        "enterprise_id": enterprise_id,
        "amount_fen": amount_wan * 1_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "collateral": ["none"],
        "consent_share_details": False,  # no lead offered by itself: the tests place them
        "max_banks": 1,
        **extra,
    }
    response = client.post("/api/v1/needs", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _lead(
    session: Session,
    bank: str,
    product: dict,
    enterprise_id: int,
    need_id: int | None = None,
    consented: bool = True,
    **fields: Any,
) -> Lead:
    """A lead placed straight into the table (the lifecycle's rules are tested elsewhere)."""
    lead = Lead(
        subject_key=f"test:{next(_serial)}",
        need_id=need_id,
        enterprise_id=enterprise_id,
        bank_code=bank,
        product_id=product["id"],
        product_version=1,
        config_version=1,
        score_centi=fields.pop("score_centi", 7_000),
        source="need" if need_id else "application",
        consented=consented,
        seq=0,
        contact_due_date=fields.pop("contact_due_date", today_local() + timedelta(days=3)),
        **fields,
    )
    session.add(lead)
    session.commit()
    return lead


def _person(
    session: Session, bank: str, name: str, bank_role: BankRole = BankRole.manager
) -> UserAccount:
    account = UserAccount(
        login=f"p{next(_serial)}-{id(session)}@bank.example",
        display_name=name,
        role=Role.bank,
        bank_role=bank_role,
        bank_code=bank,
        created_by="tests",
    )
    session.add(account)
    session.commit()
    return account


@pytest.fixture
def person_browser(app, session) -> Any:
    """``person_browser(account)``: a client signed in as that person."""

    def make(account: UserAccount) -> TestClient:
        signed = start_person_session(session, account, utcnow())
        session.commit()
        c = TestClient(app)
        c.cookies.set(SESSION_COOKIE, signed.token)
        return c

    return make


def _main(html: str) -> str:
    """The page's own content, as text."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"<[^>]+>", " ", main)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/web/bank/leads/(\d+)"', html)]


def _post(c: TestClient, url: str, data: dict[str, Any], page: str) -> Any:
    token = form_token(c.get(page).text)
    return c.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def desk(client, session, bank, products) -> dict[str, Any]:
    """Three enterprises with leads of the bank: two named (one in 梁溪 with a 500万 need for
    the second product), one anonymous (a need without consent)."""
    named = create_enterprise(client, name="无锡甲乙精密机械有限公司", district_code="xinwu")
    other = create_enterprise(
        client,
        name="无锡丙丁光电有限公司",
        district_code="liangxi",
        credit_code=credit_code("320213"),
    )
    hidden = create_enterprise(client, name="无锡隐名科技有限公司")
    leads = {
        "named": _lead(session, bank, products[0], named["id"], score_centi=8_000),
        "other": _lead(
            session,
            bank,
            products[1],
            other["id"],
            need_id=_need(client, other["id"], 500),
            score_centi=6_000,
        ),
        "hidden": _lead(
            session,
            bank,
            products[0],
            hidden["id"],
            need_id=_need(client, hidden["id"], 200),
            consented=False,
            score_centi=7_000,
        ),
    }
    return {"named": named, "other": other, "hidden": hidden, "leads": leads}


# --- the list -------------------------------------------------------------------------------


def test_search_by_name_and_credit_code_never_finds_a_hidden_name(browser_as, bank, desk) -> None:
    staff = browser_as("bank", bank_code=bank)
    leads = desk["leads"]
    page = staff.get("/web/bank").text
    assert sorted(_ids(page)) == sorted(lead.id for lead in leads.values())
    assert "共 3 条线索" in page
    assert "匿名企业（未授权）" in page and "无锡隐名科技有限公司" not in page
    assert _ids(staff.get("/web/bank", params={"q": "甲乙精密"}).text) == [leads["named"].id]
    code = desk["other"]["credit_code"]
    assert _ids(staff.get("/web/bank", params={"q": code[:10].lower()}).text) == [leads["other"].id]
    for hidden in ("隐名", desk["hidden"]["credit_code"]):
        found = staff.get("/web/bank", params={"q": hidden}).text
        assert _ids(found) == [] and "共 0 条线索" in found
    # a search's wildcards are text, not patterns
    assert _ids(staff.get("/web/bank", params={"q": "%"}).text) == []
    # sorting by enterprise never orders by the hidden name: it goes last
    ordered = _ids(staff.get("/web/bank", params={"sort": "enterprise", "order": "asc"}).text)
    assert ordered[-1] == leads["hidden"].id


def test_each_filter_narrows_the_list(client, browser_as, session, bank, products, desk) -> None:
    staff = browser_as("bank", bank_code=bank)
    leads = desk["leads"]
    wang = _person(session, bank, "王经理")
    leads["other"].assignee_user_id = wang.id
    leads["named"].status = LeadStatus.contacted
    leads["hidden"].contact_due_date = today_local() - timedelta(days=1)
    session.add_all(leads.values())
    session.commit()

    def ids(**params: Any) -> list[int]:
        response = staff.get("/web/bank", params=params)
        assert response.status_code == 200, response.text
        return sorted(_ids(response.text))

    assert ids(status="contacted") == [leads["named"].id]
    assert ids(product=products[1]["id"]) == [leads["other"].id]
    assert ids(district="liangxi") == [leads["other"].id]
    assert ids(cluster="ic") == sorted(lead.id for lead in leads.values())
    assert ids(cluster="biomed") == []
    assert ids(amount_min="300") == [leads["other"].id]
    assert ids(amount_max="300") == [leads["hidden"].id]
    assert ids(amount_min="100", amount_max="600") == sorted(
        [leads["other"].id, leads["hidden"].id]
    )
    assert ids(assignee=str(wang.id)) == [leads["other"].id]
    assert ids(assignee="none") == sorted([leads["named"].id, leads["hidden"].id])
    assert ids(due="breached") == [leads["hidden"].id]
    assert ids(due="due") == [leads["hidden"].id]
    # the form sent as a browser sends it, every choice at 全部: no filter
    empty = dict.fromkeys(
        ("q", "status", "product", "district", "cluster", "amount_min", "amount_max", "due"), ""
    )
    assert ids(**empty, assignee="all") == sorted(lead.id for lead in leads.values())
    # the filters are kept in the page's links and form
    page = staff.get("/web/bank", params={"status": "contacted", "district": "xinwu"}).text
    assert "status=contacted" in page and "district=xinwu" in page
    # bad input is told, never a crash
    bad = staff.get("/web/bank", params={"amount_min": "很多"})
    assert bad.status_code == 200 and 'id="amount_min-error"' in bad.text
    for params in ({"status": "nonsense"}, {"assignee": "x1"}, {"due": "later"}):
        assert staff.get("/web/bank", params=params).status_code == 422


def test_sorting_by_a_shown_column(browser_as, bank, desk) -> None:
    staff = browser_as("bank", bank_code=bank)
    leads = desk["leads"]
    by_score = _ids(staff.get("/web/bank", params={"sort": "score", "order": "desc"}).text)
    assert by_score == [leads["named"].id, leads["hidden"].id, leads["other"].id]
    ascending = _ids(staff.get("/web/bank", params={"sort": "score", "order": "asc"}).text)
    assert ascending == list(reversed(by_score))
    by_amount = _ids(staff.get("/web/bank", params={"sort": "amount", "order": "desc"}).text)
    assert by_amount[:2] == [leads["other"].id, leads["hidden"].id]  # no amount: last
    # an unknown column falls back to the default order
    assert staff.get("/web/bank", params={"sort": "secret"}).status_code == 200


def test_pages_of_fifty_with_the_total_and_links_that_keep_the_filters(
    browser_as, session, bank, products, desk
) -> None:
    for i in range(52):
        _lead(session, bank, products[0], desk["named"]["id"], score_centi=5_000 + i)
    staff = browser_as("bank", bank_code=bank)
    first = staff.get("/web/bank", params={"product": products[0]["id"]}).text
    assert "共 54 条线索，第 1 / 2 页" in first
    assert len(_ids(first)) == 50
    assert f"product={products[0]['id']}" in first and "page=2" in first
    second = staff.get("/web/bank", params={"product": products[0]["id"], "page": 2}).text
    assert len(_ids(second)) == 4 and "第 2 / 2 页" in second
    assert not set(_ids(first)) & set(_ids(second))
    # past the last page: the last page
    assert len(_ids(staff.get("/web/bank", params={"page": 99}).text)) == 5


def test_an_account_manager_opens_on_its_own_leads_an_administrator_on_all(
    browser_as, person_browser, session, bank, desk
) -> None:
    leads = desk["leads"]
    wang = _person(session, bank, "王经理")
    admin = _person(session, bank, "张行长", BankRole.admin)
    leads["named"].assignee_user_id = wang.id
    session.add(leads["named"])
    session.commit()
    mine = person_browser(wang).get("/web/bank").text
    assert _ids(mine) == [leads["named"].id] and "共 1 条线索" in mine
    assert 'aria-current="page">我的线索' in mine
    everything = person_browser(wang).get("/web/bank", params={"assignee": "all"}).text
    assert len(_ids(everything)) == 3
    boss = person_browser(admin).get("/web/bank").text
    assert len(_ids(boss)) == 3
    assert re.search(r'id="unassigned-count">2<', boss)
    assert "王经理" in _main(boss)


# --- a lead's page --------------------------------------------------------------------------


def test_opening_a_new_lead_records_it_viewed_once(client, browser_as, session, bank, desk) -> None:
    lead = desk["leads"]["named"]
    office = Principal(Role.office)
    workbench.open_lead(session, office, lead.id)
    assert client.get(f"/api/v1/leads/{lead.id}").json()["status"] == "new"  # not the office
    staff = browser_as("bank", bank_code=bank)
    page = staff.get(f"/web/bank/leads/{lead.id}").text
    seen = client.get(f"/api/v1/leads/{lead.id}").json()
    assert seen["status"] == "viewed" and "已查看" in page
    staff.get(f"/web/bank/leads/{lead.id}")
    assert client.get(f"/api/v1/leads/{lead.id}").json()["version"] == seen["version"]
    history = _main(staff.get(f"/web/bank/leads/{lead.id}").text)
    assert "银行系统（API）" in history and "新线索 → 已查看" in history


def test_only_the_valid_next_steps_are_offered(client, browser_as, bank, desk) -> None:
    lead = desk["leads"]["other"]
    staff = browser_as("bank", bank_code=bank)
    page = staff.get(f"/web/bank/leads/{lead.id}").text  # now viewed
    form = page[page.index('id="status-form"') :]
    offered = re.findall(r'<option value="(\w+)"', form[: form.index("</select>")])
    assert offered == ["contacted", "declined"]
    assert 'id="amount"' not in page  # nothing to approve yet
    # the need, the facts in words, why it matched
    text = _main(page)
    assert "500.00 万元" in text and "12 个月" in text and "梁溪区" in text
    assert "为什么匹配" in text and "满分" in text
    # a closed lead offers no step
    declined = client.post(
        f"/api/v1/leads/{lead.id}/status",
        json={"status": "declined", "reason": "insufficient_collateral"},
    )
    assert declined.status_code == 200, declined.text
    assert 'id="status-form"' not in staff.get(f"/web/bank/leads/{lead.id}").text


def test_declining_asks_to_confirm(client, browser_as, bank, desk) -> None:
    lead = desk["leads"]["named"]
    staff = browser_as("bank", bank_code=bank)
    page = f"/web/bank/leads/{lead.id}"
    version = str(lead.version + 1)  # opening it records it viewed
    fields = {"status": "declined", "reason": "insufficient_collateral", "version": version}
    response = _post(staff, f"{page}/status", fields, page)
    assert response.status_code == 422 and 'id="confirm_decline-error"' in response.text
    assert client.get(f"/api/v1/leads/{lead.id}").json()["status"] == "viewed"
    response = _post(staff, f"{page}/status", {**fields, "confirm_decline": "on"}, page)
    assert response.status_code == 303 and response.headers["location"].endswith("done=status")
    assert client.get(f"/api/v1/leads/{lead.id}").json()["status"] == "declined"
    assert "已记录进展" in staff.get(response.headers["location"]).text


def test_the_administrator_assigns_and_a_manager_claims(
    client, person_browser, session, bank, desk
) -> None:
    leads = desk["leads"]
    wang = _person(session, bank, "王经理")
    li = _person(session, bank, "李经理")
    admin = _person(session, bank, "张行长", BankRole.admin)
    boss = person_browser(admin)
    page = f"/web/bank/leads/{leads['named'].id}"
    html = boss.get(page).text
    assert 'id="assignee-select"' in html and "王经理" in html and "李经理" in html
    version = form_token(html, "version")
    response = _post(boss, f"{page}/assignee", {"assignee": str(li.id), "version": version}, page)
    assert response.status_code == 303 and "done=assigned" in response.headers["location"]
    assert client.get(f"/api/v1/leads/{leads['named'].id}").json()["assignee"]["name"] == "李经理"
    history = _main(boss.get(page).text)
    assert "张行长" in history and "分配给 李经理" in history
    # a manager claims an unassigned lead; another's lead offers nothing to it
    manager = person_browser(wang)
    assert 'id="claim"' not in manager.get(page).text
    other = f"/web/bank/leads/{leads['other'].id}"
    html = manager.get(other).text
    assert 'id="claim"' in html and 'id="assignee-select"' not in html
    response = _post(
        manager,
        f"{other}/assignee",
        {"assignee": "me", "version": form_token(html, "version")},
        other,
    )
    assert response.status_code == 303 and "done=claimed" in response.headers["location"]
    claimed = manager.get(response.headers["location"]).text
    assert "已认领" in claimed and 'id="release"' in claimed
    # handing another's lead to oneself is refused on the page, nothing changes
    response = _post(manager, f"{page}/assignee", {"assignee": "me", "version": "99"}, page)
    assert response.status_code in (403, 412)
    assert client.get(f"/api/v1/leads/{leads['named'].id}").json()["assignee"]["id"] == li.id


def test_after_disbursement_the_lead_links_to_its_loan(client, browser_as, bank, desk) -> None:
    lead = desk["leads"]["other"]
    for change in (
        {"status": "contacted"},
        {"status": "approved", "amount_fen": 300_000_000, "rate_bp": 345, "term_months": 12},
        {"status": "disbursed", "amount_fen": 300_000_000, "rate_bp": 345},
    ):
        response = client.post(f"/api/v1/leads/{lead.id}/status", json=change)
        assert response.status_code == 200, response.text
    staff = browser_as("bank", bank_code=bank)
    page = staff.get(f"/web/bank/leads/{lead.id}").text
    found = re.search(r'id="loan-link">[^<]*<a href="/web/bank/loans/(\d+)"', page)
    assert found
    loan = staff.get(f"/web/bank/loans/{found.group(1)}").text
    assert "无锡丙丁光电有限公司" in loan and f"/web/bank/leads/{lead.id}" in loan
    assert "贷款" in staff.get("/web/bank/loans").text
    assert staff.get("/web/bank/reminders").status_code == 200


def test_no_page_shows_a_code_a_person_cannot_read(
    client, browser_as, person_browser, session, bank, products, desk
) -> None:
    admin = _person(session, bank, "张行长", BankRole.admin)
    staff = browser_as("bank", bank_code=bank)
    pages = [
        "/web/bank",
        "/web/bank/reminders",
        "/web/bank/loans",
        *(f"/web/bank/leads/{lead.id}" for lead in desk["leads"].values()),
    ]
    for who in (staff, person_browser(admin)):
        for path in pages:
            text = _main(who.get(path).text)
            assert bank not in text, path
            for code in (p["code"] for p in products):
                assert code not in text, (path, code)
            assert not re.search(r"\bown\b|key:|user:\d", text), path
            assert "xinwu" not in text and "liangxi" not in text, path


def test_an_anonymous_leads_page_keeps_who_it_is_and_its_private_facts(
    browser_as, bank, desk
) -> None:
    staff = browser_as("bank", bank_code=bank)
    hidden = desk["hidden"]
    text = _main(staff.get(f"/web/bank/leads/{desk['leads']['hidden'].id}").text)
    assert "匿名企业（未授权）" in text and "200.00 万元" in text
    assert hidden["name"] not in text and hidden["credit_code"] not in text
    assert "李华" not in text and "企业未授权共享" in text  # no contacts, no figures
    assert "（企业未授权，不显示依据）" in text  # the factors' reasons may quote figures
    named = _main(staff.get(f"/web/bank/leads/{desk['leads']['named'].id}").text)
    assert f"{desk['named']['name']}（{desk['named']['credit_code']}）" in named
    assert "李华" in named and "不显示依据" not in named

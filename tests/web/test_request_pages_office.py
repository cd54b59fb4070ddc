"""The office's pages of requests (诉求): the lists by where they stand (the triage queue, those
being handled, the overdue ones with the escalation flag, the ended ones, all) with the next
step in front of each row; a request's page with a form for each step the office may take
now, each taken on the version the form was drawn from (a stale form is a clear message), a
missing reason or choice refused with nothing changed; files as downloads; a bank refused.
A due date counted on the calendar's estimate says so; the menu counts the escalated requests
still overdue."""

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event
from sqlmodel import Session

from service.appeals import escalation, storage
from service.appeals.models import Appeal, AppealCategory, Department
from service.core.models import today_local
from service.taxonomy.workdays import add_working_days, official_years_as
from tests.factories import LARGE_IC, create_enterprise
from tests.web.test_request_pages_bank import (
    NEW_YEAR_EVE,
    PDF,
    Desk,
    api_step,
    desk,  # noqa: F401 (a fixture)
    dispatched,
    dispatched_over_new_year,
    post_form,
    provisional_marks,
    raise_request,
    row_html,
    status_of,
    version_of,
)


@pytest.fixture(autouse=True)
def memory_store() -> Iterator[storage.MemoryStore]:
    store = storage.MemoryStore()
    storage.use_store(store)
    yield store
    storage.use_store(None)


def _row(session: Session, rid: int) -> Appeal:
    row = session.get(Appeal, rid)
    assert row is not None
    session.refresh(row)
    return row


def _step(office, session: Session, rid: int, action: str, data: dict, version=None):
    url = f"/web/office/requests/{rid}"
    fields = {"version": str(version or version_of(session, rid)), **data}
    return post_form(office, url, f"{url}/steps/{action}", fields)


def test_the_lists_by_where_requests_stand(browser_as, session, desk: Desk) -> None:  # noqa: F811
    raised = raise_request(desk, title="刚提出的诉求")
    handled = dispatched(desk, title="办理中的诉求")
    late = dispatched(desk, days_ago=40, title="逾期的诉求")
    closed = dispatched(desk, title="已办结的诉求")
    api_step(desk, closed, action="answer", text="已处理")
    api_step(desk, closed, action="close", text="已退还")
    escalation.check_overdue(session)
    office = browser_as("office")
    queue = office.get("/web/office/requests")
    assert queue.status_code == 200, queue.text
    row = row_html(queue.text, raised)
    assert "受理或不予受理" in row and desk.firm_name in row and "不合理收费" in row
    assert row.index("受理或不予受理") < row.index(f"#{raised}")  # the next step in front
    assert f'/office/requests/{handled}"' not in queue.text
    handling = office.get("/web/office/requests?tab=handling").text
    assert f'/office/requests/{raised}"' not in handling
    assert "测试银行" in row_html(handling, handled)  # bank and handler by name
    order = [handling.index(f'/office/requests/{r}"') for r in (late, handled)]
    assert order == sorted(order)  # by due date
    overdue = office.get("/web/office/requests?tab=overdue").text
    late_row = row_html(overdue, late)
    assert "overdue" in late_row and "逾期" in late_row and "已督办" in late_row
    assert "督办" in late_row.split('data-label="编号"')[0]
    assert f'/office/requests/{handled}"' not in overdue
    ended = office.get("/web/office/requests?tab=ended").text
    assert "等待企业确认" in row_html(ended, closed) and f'/requests/{raised}"' not in ended
    every = office.get("/web/office/requests?tab=all").text
    assert all(f'/office/requests/{r}"' in every for r in (raised, handled, late, closed))
    assert office.get("/web/office/requests?tab=nope").status_code == 422


def test_accept_then_dispatch_to_a_bank_with_the_default_due_date(
    browser_as,
    session,
    desk,  # noqa: F811
) -> None:
    rid = raise_request(desk)
    office = browser_as("office")
    page = office.get(f"/web/office/requests/{rid}").text
    assert "收费问题（10 个工作日）" in page and "不予受理" in page and "合并" in page
    response = _step(office, session, rid, "accept", {"category": "charges"})
    assert response.status_code == 303, response.text
    assert _row(session, rid).category_code == "charges"
    page = office.get(response.headers["location"]).text
    assert "已受理" in page
    due = add_working_days(today_local(), 10)
    assert f"不填则为 {due}" in page and "人民银行无锡市分行" in page
    response = _step(office, session, rid, "dispatch", {"handler": f"bank:{desk.bank_code}"})
    assert response.status_code == 303, response.text
    row = _row(session, rid)
    assert row.status == "dispatched" and row.handler_bank_code == desk.bank_code
    assert row.due_date == due
    page = office.get(f"/web/office/requests/{rid}").text
    assert f"交办给 测试银行股份有限公司无锡分行，办理期限 {due}" in page


def test_dispatch_to_a_department_its_answer_close_and_the_file(
    browser_as,
    session,
    desk,  # noqa: F811
) -> None:
    rid = raise_request(desk)
    sent = desk.firm.post(
        f"/api/v1/requests/{rid}/attachments", files={"file": ("单据.pdf", PDF, "application/pdf")}
    )
    assert sent.status_code == 201
    api_step(desk, rid, action="accept", category_code="policy")
    office = browser_as("office")
    due = today_local() + timedelta(days=20)
    fields = {"handler": "department:wx-jrj", "due_date": due.isoformat(), "text": "请核实"}
    assert _step(office, session, rid, "dispatch", fields).status_code == 303
    row = _row(session, rid)
    assert row.handler_department_code == "wx-jrj" and row.due_date == due
    page = office.get(f"/web/office/requests/{rid}").text
    assert "登记答复" in page and "市地方金融监管局" in page
    empty = _step(office, session, rid, "answer", {"text": ""})
    assert empty.status_code == 422 and "请填写答复内容" in empty.text
    assert _step(office, session, rid, "answer", {"text": "已协调"}).status_code == 303
    assert status_of(session, rid) == "answered"
    no_result = _step(office, session, rid, "close", {"text": "   "})
    assert no_result.status_code == 422 and "请写明办理结果" in no_result.text
    assert status_of(session, rid) == "answered"
    assert _step(office, session, rid, "close", {"text": "已解决"}).status_code == 303
    assert status_of(session, rid) == "closed"
    page = office.get(f"/web/office/requests/{rid}").text
    url = f"/web/office/requests/{rid}/files/{sent.json()['id']}"
    assert url in page and "单据.pdf" in page
    download = office.get(url)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")


def test_missing_choices_and_reasons_change_nothing(browser_as, session, desk) -> None:  # noqa: F811
    rid = raise_request(desk)
    office = browser_as("office")
    no_category = _step(office, session, rid, "accept", {"category": ""})
    assert no_category.status_code == 422 and "请选择一项" in no_category.text
    forged = _step(office, session, rid, "accept", {"category": "=cmd|' /C calc'!A0"})
    assert forged.status_code == 422 and "请从列表中选择" in forged.text
    no_reason = _step(office, session, rid, "reject", {"text": ""})
    assert no_reason.status_code == 422 and "请写明不予受理的理由" in no_reason.text
    assert 'id="step-reject" open' in no_reason.text  # the form that failed is open
    no_word = _step(office, session, rid, "withdraw", {"text": ""})
    assert no_word.status_code == 422 and "撤回" in no_word.text
    huge = _step(office, session, rid, "reject", {"text": "字" * 2001})
    assert huge.status_code == 422 and "最多 2000 个字" in huge.text
    row = _row(session, rid)
    assert row.status == "raised" and row.version == 1 and row.category_code is None
    api_step(desk, rid, action="accept", category_code="charges")
    no_handler = _step(office, session, rid, "dispatch", {"handler": ""})
    assert no_handler.status_code == 422 and "请选择承办银行或部门" in no_handler.text
    session.get(Department, "wx-gsl").active = False  # type: ignore[union-attr]
    session.commit()
    page = office.get(f"/web/office/requests/{rid}").text
    assert "市工商业联合会" not in page  # an inactive department is not offered
    inactive = _step(office, session, rid, "dispatch", {"handler": "department:wx-gsl"})
    assert inactive.status_code == 422
    past = _step(
        office,
        session,
        rid,
        "dispatch",
        {"handler": f"bank:{desk.bank_code}", "due_date": today_local().isoformat()},
    )
    assert past.status_code == 422 and "办理期限须晚于今天" in past.text
    assert status_of(session, rid) == "accepted"
    assert _step(office, session, rid, "confirm", {}).status_code == 404  # not the office's


def test_reject_merge_and_withdraw(browser_as, session, desk) -> None:  # noqa: F811
    first = raise_request(desk, title="第一件")
    duplicate = raise_request(desk, title="重复的一件")
    rejected = raise_request(desk, title="不属于受理范围")
    gone = raise_request(desk, title="企业电话撤回")
    office = browser_as("office")
    page = office.get(f"/web/office/requests/{duplicate}").text
    assert f'<option value="{first}"' in page and f'<option value="{duplicate}"' not in page
    stranger = create_enterprise(desk.office, **LARGE_IC)["id"]
    foreign = desk.office.post(
        "/api/v1/requests",
        json={"enterprise_id": stranger, "kind": "other", "title": "别家", "description": "别家"},
    ).json()["id"]
    unchosen = _step(office, session, duplicate, "merge", {"merge_into": ""})
    assert unchosen.status_code == 422 and "请选择要合并到的诉求" in unchosen.text
    across = _step(office, session, duplicate, "merge", {"merge_into": str(foreign)})
    assert across.status_code == 422 and "只能合并到同一企业" in across.text
    assert status_of(session, duplicate) == "raised"
    merged = _step(office, session, duplicate, "merge", {"merge_into": str(first)})
    assert merged.status_code == 303, merged.text
    assert _row(session, duplicate).merged_into_id == first
    assert "并入诉求" in office.get(f"/web/office/requests/{duplicate}").text
    refused = _step(office, session, rejected, "reject", {"text": "不属于金融诉求"})
    assert refused.status_code == 303 and status_of(session, rejected) == "rejected"
    withdrawn = _step(office, session, gone, "withdraw", {"text": "企业 12 月 1 日电话告知已解决"})
    assert withdrawn.status_code == 303 and status_of(session, gone) == "withdrawn"
    page = office.get(f"/web/office/requests/{gone}").text
    assert "企业 12 月 1 日电话告知已解决" in page and "/steps/" not in page  # ended: no forms


def test_a_stale_form_is_refused_with_a_message(browser_as, session, desk) -> None:  # noqa: F811
    rid = raise_request(desk)
    office = browser_as("office")
    drawn = version_of(session, rid)
    api_step(desk, rid, action="accept", category_code="charges")  # someone else, meanwhile
    stale = _step(office, session, rid, "accept", {"category": "pricing"}, version=drawn)
    assert stale.status_code == 412 and "已被修改" in stale.text
    assert _row(session, rid).category_code == "charges"
    stale = _step(
        office, session, rid, "dispatch", {"handler": f"bank:{desk.bank_code}"}, version=drawn
    )
    assert stale.status_code == 412 and status_of(session, rid) == "accepted"


def test_the_pages_are_the_office_s(browser_as, session, desk) -> None:  # noqa: F811
    rid = dispatched(desk)
    banker = browser_as("bank", bank_code=desk.bank_code)
    for page in ("/web/office/requests", f"/web/office/requests/{rid}"):
        assert banker.get(page).status_code == 403
    token_page = banker.get(f"/web/bank/requests/{rid}").text
    from tests.web.conftest import form_token

    posted = banker.post(
        f"/web/office/requests/{rid}/steps/dispatch",
        data={
            "handler": f"bank:{desk.other_bank_code}",
            "version": "3",
            "csrf_token": form_token(token_page),
        },
    )
    assert posted.status_code == 403 and _row(session, rid).handler_bank_code == desk.bank_code
    office = browser_as("office")
    assert office.get("/web/office/requests/99999999").status_code == 404
    assert office.get(f"/web/office/requests/{rid}/files/99999").status_code == 404


def test_categories_and_departments_are_kept_on_a_page(browser_as, session, desk) -> None:  # noqa: F811
    office = browser_as("office")
    url = "/web/office/request-settings"
    page = office.get(url)
    assert page.status_code == 200 and "收费问题" in page.text and "市地方金融监管局" in page.text
    category = session.get(AppealCategory, "charges")
    assert category is not None
    saved = post_form(
        office,
        url,
        f"{url}/categories/charges",
        {"name": "收费问题", "due_working_days": "7", "version": str(category.version)},
    )
    assert saved.status_code == 303, saved.text
    session.refresh(category)
    assert category.due_working_days == 7
    stale = post_form(
        office,
        url,
        f"{url}/categories/charges",
        {"name": "收费", "due_working_days": "5", "version": "1"},
    )
    assert stale.status_code == 412 and "已被修改" in stale.text
    too_many = post_form(
        office,
        url,
        f"{url}/categories/charges",
        {"name": "收费问题", "due_working_days": "61", "version": str(category.version)},
    )
    assert too_many.status_code == 422 and "应在 1 到 60 之间" in too_many.text
    session.refresh(category)
    assert category.due_working_days == 7 and category.name == "收费问题"
    added = post_form(office, url, f"{url}/departments", {"code": "wx-swj", "name": "市商务局"})
    assert added.status_code == 303, added.text
    again = post_form(office, url, f"{url}/departments", {"code": "wx-swj", "name": "商务局"})
    assert again.status_code == 409 and "已存在" in again.text
    bad_code = post_form(office, url, f"{url}/departments", {"code": "=1+1", "name": "某局"})
    assert bad_code.status_code == 422 and "小写字母" in bad_code.text
    department = session.get(Department, "wx-swj")
    assert department is not None and department.name == "市商务局"
    off = post_form(office, url, f"{url}/departments/wx-swj", {"active": "false", "version": "1"})
    assert off.status_code == 303, off.text
    session.refresh(department)
    assert department.active is False and department.name == "市商务局"
    assert "重新启用" in office.get(url).text
    rid = raise_request(desk)
    api_step(desk, rid, action="accept", category_code="charges")
    assert "市商务局" not in office.get(f"/web/office/requests/{rid}").text
    assert "7 个工作日" in office.get(f"/web/office/requests/{rid}").text
    banker = browser_as("bank", bank_code=desk.bank_code)
    assert banker.get(url).status_code == 403
    missing = post_form(office, url, f"{url}/departments/nope", {"name": "某某局", "version": "1"})
    assert missing.status_code == 404


def test_a_provisional_due_date_says_so_and_how_to_recount_it(
    browser_as,
    session,
    desk,  # noqa: F811
) -> None:
    estimated = dispatched_over_new_year(desk, title="跨年交办的诉求")
    final = dispatched(desk, title="今年内到期的诉求")
    office = browser_as("office")
    listing = office.get("/web/office/requests?tab=handling").text
    row = row_html(listing, estimated)
    assert "2027-01-15" in row
    (why,) = provisional_marks(row)
    assert "尚未公布" in why and "可能调整" in why
    assert provisional_marks(row_html(listing, final)) == []
    page = office.get(f"/web/office/requests/{estimated}").text
    assert "此期限按周末和预估的节假日推算" in page and "办理期限 2027-01-15（暂定）" in page
    assert "请重新交办" not in page  # the calendar still does not know 2027
    assert "暂定" not in office.get(f"/web/office/requests/{final}").text
    # Once the calendar carries the year, the page says how to count the date on it.
    with official_years_as(range(2001, 2028)):
        assert "请重新交办" in office.get(f"/web/office/requests/{estimated}").text


def test_the_dispatch_form_says_its_default_would_be_provisional(
    browser_as,
    session,
    desk,  # noqa: F811
) -> None:
    rid = raise_request(desk)
    api_step(desk, rid, action="accept", category_code="charges")
    with official_years_as(range(2001, 2027)), time_machine.travel(NEW_YEAR_EVE, tick=False):
        page = browser_as("office").get(f"/web/office/requests/{rid}").text
    preview = page[page.index("不填则为") :].split("</p>")[0]
    assert "不填则为 2027-01-15" in preview and len(provisional_marks(preview)) == 1
    assert "为暂定日期" in preview
    plain = browser_as("office").get(f"/web/office/requests/{rid}").text
    assert provisional_marks(plain[plain.index("不填则为") :].split("</p>")[0]) == []


MENU = re.compile(r'<nav aria-label="主导航">(.*?)</nav>', re.S)
BADGE = re.compile(
    r'<a class="badge overdue" href="/web/office/requests\?tab=overdue"[^>]*>(\d+) 逾期</a>'
)


def _menu(browser, url: str) -> str:
    """The menu of the page at ``url``."""
    response = browser.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    menu = MENU.search(response.text)
    assert menu is not None, url
    return menu.group(1)


def _menu_badge(browser, url: str) -> int | None:
    """The number the menu shows beside 诉求 on the page at ``url``, if any."""
    found = BADGE.search(_menu(browser, url))
    return int(found.group(1)) if found else None


OFFICE_PAGES = (
    "/web/office",
    "/web/office/requests",
    "/web/office/leads",
    "/web/office/policies",
    "/web/office/enterprises",
    "/web/office/lists",
    "/web/office/releases",
    "/web/office/request-settings",
)


def test_the_menu_counts_the_escalated_requests_still_overdue(
    browser_as,
    session,
    desk,  # noqa: F811
) -> None:
    office = browser_as("office")
    first = dispatched(desk, days_ago=40, title="逾期一")
    second = dispatched(desk, days_ago=40, title="逾期二")
    dispatched(desk, title="未到期")
    assert _menu_badge(office, "/web/office") is None  # overdue, not escalated yet
    escalation.check_overdue(session)
    for url in OFFICE_PAGES:
        assert _menu_badge(office, url) == 2, url
    missing = office.get("/web/office/requests/99999999")  # an error page keeps the menu
    assert missing.status_code == 404 and "诉求" in missing.text
    api_step(desk, first, action="answer", text="已处理")
    assert _menu_badge(office, "/web/office/requests?tab=overdue") == 1
    later = (today_local() + timedelta(days=10)).isoformat()
    api_step(desk, second, action="dispatch", bank_code=desk.bank_code, due_date=later)
    for url in OFFICE_PAGES:
        assert _menu_badge(office, url) is None, url
    banker = browser_as("bank", bank_code=desk.bank_code)
    again = dispatched(desk, days_ago=40, title="逾期三")
    escalation.check_overdue(session)
    assert _menu_badge(office, "/web/office") == 1
    for url in ("/web/bank", "/web/bank/requests", f"/web/bank/requests/{again}"):
        assert "逾期" not in _menu(banker, url), url
    owner = browser_as("enterprise", enterprise_id=desk.firm_id)
    for url in ("/web/enterprise", "/web/enterprise/requests"):
        assert "逾期" not in _menu(owner, url), url


def test_the_menu_s_count_is_one_query_per_page(
    browser_as,
    session,
    engine,
    desk,  # noqa: F811
) -> None:
    dispatched(desk, days_ago=40)
    escalation.check_overdue(session)
    office = browser_as("office")
    counts: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "escalated_at IS NOT NULL" in statement and "count(" in statement.lower():
            counts.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert _menu_badge(office, "/web/office/requests?tab=overdue") == 1
        assert len(counts) == 1
        counts.clear()
        token_page = office.get("/web/office/request-settings").text  # one more render
        assert len(counts) == 1
        counts.clear()
        download = office.get("/web/office/requests/quarterly.xlsx")
        assert download.status_code == 200 and counts == []  # no menu, no count
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert "csrf_token" in token_page

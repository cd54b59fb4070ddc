"""The bank's pages of requests (诉求): the list (open ones first by due date, the overdue
ones marked, an enterprise unnamed unless it agreed, pages of fifty), a request's page with
its steps and the files the bank may see, the answer with a file as evidence (a stale form,
an empty answer or a file that is not a PDF or an image change nothing), another bank's
request as a 404, the office refused, and the ratings of the bank's service with their
average."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlmodel import Session, select

from service.appeals import storage
from service.appeals.models import Appeal, AppealAttachment
from service.core.models import today_local
from service.taxonomy.workdays import official_years_as
from tests.factories import LARGE_IC, bank_payload, create_enterprise
from tests.web.conftest import form_token

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def memory_store() -> Iterator[storage.MemoryStore]:
    store = storage.MemoryStore()
    storage.use_store(store)
    yield store
    storage.use_store(None)


@dataclass
class Desk:
    office: Any  # the API as the office
    firm: Any  # the API as the enterprise
    bank_code: str
    other_bank_code: str
    firm_id: int
    firm_name: str


@pytest.fixture
def desk(client, as_role) -> Desk:
    bank_code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    firm = create_enterprise(client, **LARGE_IC)
    return Desk(
        client,
        as_role("enterprise", enterprise_id=firm["id"]),
        bank_code,
        other,
        firm["id"],
        firm["name"],
    )


def raise_request(d: Desk, title: str = "贷款时被要求购买保险", **overrides: Any) -> int:
    body = {
        "kind": "unreasonable_charge",
        "bank_code": d.bank_code,
        "charge_rule": "tied_sale",
        "charge_item": "insurance",
        "charge_amount_fen": 1_200_000,
        "title": title,
        "description": "办理流动资金贷款时，客户经理要求购买一年期保险，否则不予放款。",
        "show_to_bank": True,
        **overrides,
    }
    response = d.firm.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def api_step(d: Desk, rid: int, **body: Any) -> dict:
    response = d.office.post(f"/api/v1/requests/{rid}/steps", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def dispatched(d: Desk, bank: str | None = None, days_ago: int = 0, **overrides: Any) -> int:
    """A request accepted and dispatched to ``bank``, ``days_ago`` days ago."""
    rid = raise_request(d, **overrides)
    api_step(d, rid, action="accept", category_code="charges")
    with time_machine.travel(today_local() - timedelta(days=days_ago), tick=False):
        api_step(d, rid, action="dispatch", bank_code=bank or d.bank_code)
    return rid


NEW_YEAR_EVE = "2026-12-31 10:00 +0800"
# A provisional due date's mark: its why in the title.
PROVISIONAL = re.compile(r'<span class="badge warn" title="([^"]*)">暂定</span>')


def dispatched_over_new_year(d: Desk, **overrides: Any) -> int:
    """Accepted as 收费问题 (10 working days) and dispatched on Thursday 2026-12-31, with a
    calendar that does not carry the 2027 notice: New Year's Day off, then two working weeks,
    due 2027-01-15, counted on the estimate and so provisional."""
    rid = raise_request(d, **overrides)
    api_step(d, rid, action="accept", category_code="charges")
    with official_years_as(range(2001, 2027)), time_machine.travel(NEW_YEAR_EVE, tick=False):
        shown = api_step(d, rid, action="dispatch", bank_code=d.bank_code)
    assert (shown["due_date"], shown["due_date_provisional"]) == ("2027-01-15", True)
    return rid


def provisional_marks(html: str) -> list[str]:
    """The titles of the 暂定 marks on a page (or a part of one)."""
    return PROVISIONAL.findall(html)


def post_form(browser: Any, page_url: str, url: str, data: dict, **extra: Any) -> Any:
    token = form_token(browser.get(page_url).text)
    return browser.post(url, data={**data, "csrf_token": token}, follow_redirects=False, **extra)


def version_of(session: Session, rid: int) -> int:
    row = session.get(Appeal, rid)
    assert row is not None
    session.refresh(row)
    return row.version


def status_of(session: Session, rid: int) -> str:
    row = session.get(Appeal, rid)
    assert row is not None
    session.refresh(row)
    return str(row.status)


def row_html(page: str, rid: int) -> str:
    """The table row that links to request ``rid``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", page, flags=re.S):
        if f'/requests/{rid}"' in row:
            return row
    raise AssertionError(f"no row of request {rid}")


def test_the_list_puts_open_ones_first_by_due_date_and_marks_the_overdue(
    browser_as, session, desk
) -> None:
    later = dispatched(desk, title="保险费问题")
    late = dispatched(desk, days_ago=30, title="评估费问题")
    hidden = dispatched(desk, title="匿名的收费问题", show_to_bank=False)
    elsewhere = dispatched(desk, bank=desk.other_bank_code, title="别家银行的诉求")
    answered = dispatched(desk, title="已答复的诉求")
    desk.office.post(
        f"/api/v1/requests/{answered}/steps", json={"action": "answer", "text": "已处理"}
    )
    page = browser_as("bank", bank_code=desk.bank_code).get("/web/bank/requests")
    assert page.status_code == 200, page.text
    text = page.text
    assert "别家银行的诉求" not in text and f'/requests/{elsewhere}"' not in text
    # waiting for the answer first, soonest due first; the answered one after them
    order = [text.index(f'/bank/requests/{rid}"') for rid in (late, later, answered)]
    assert order == sorted(order)
    overdue = row_html(text, late)
    assert 'class="status-dispatched overdue"' in overdue and "逾期" in overdue
    assert "badge overdue" in overdue
    assert "剩" in row_html(text, later) and "overdue" not in row_html(text, later)
    assert "匿名企业" in row_html(text, hidden) and desk.firm_name not in row_html(text, hidden)
    assert desk.firm_name in row_html(text, later)
    assert "待答复 3 件" in text and "其中逾期 1 件" in text
    assert "不合理收费" in text and 'data-label="办理期限"' in text  # a card per row on phones
    ended = browser_as("bank", bank_code=desk.bank_code).get("/web/bank/requests?view=ended")
    assert ended.status_code == 200 and "暂无诉求" in ended.text
    every = browser_as("bank", bank_code=desk.bank_code).get("/web/bank/requests?view=all")
    assert all(f'/bank/requests/{r}"' in every.text for r in (later, late, hidden, answered))


def test_hundreds_of_requests_come_in_pages_with_the_count(browser_as, session, desk) -> None:
    today = today_local()
    for n in range(120):
        session.add(
            Appeal(
                enterprise_id=desk.firm_id,
                kind="slow_response",
                bank_code=desk.bank_code,
                title=f"批量诉求 {n}",
                description="银行迟迟不联系。",
                status="dispatched",
                category_code="service",
                handler_kind="bank",
                handler_bank_code=desk.bank_code,
                dispatched_date=today,
                due_date=today + timedelta(days=1 + n % 20),
                raised_by="tests",
            )
        )
    session.commit()
    banker = browser_as("bank", bank_code=desk.bank_code)
    first = banker.get("/web/bank/requests").text
    assert "共 120 件" in first and "第 1 / 3 页" in first
    assert first.count('data-label="标题"') == 50
    last = banker.get("/web/bank/requests?page=3").text
    assert last.count('data-label="标题"') == 20 and "上一页" in last
    assert banker.get("/web/bank/requests?page=0").status_code == 422
    walked = banker.get("/web/bank/requests?view=all").text
    assert walked.count('data-label="标题"') == 50 and "下一页" in walked
    cursor = re.search(r"cursor=([^\"&]+)", walked)
    assert cursor
    second = banker.get(f"/web/bank/requests?view=all&cursor={cursor.group(1)}").text
    assert second.count('data-label="标题"') == 50 and "回到第一页" in second
    assert banker.get("/web/bank/requests?view=all&cursor=bad!").status_code == 422


def test_the_bank_answers_with_a_file_and_reads_it_back(
    browser_as, session, desk, memory_store
) -> None:
    rid = dispatched(desk)
    banker = browser_as("bank", bank_code=desk.bank_code)
    url = f"/web/bank/requests/{rid}"
    page = banker.get(url)
    assert page.status_code == 200
    assert "提交答复" in page.text and "办理记录" in page.text and "交办" in page.text
    assert "收费问题" in page.text  # the category by name, never its code
    response = post_form(
        banker,
        url,
        f"{url}/answer",
        {"text": "已核实，保险费已全额退还。", "version": str(version_of(session, rid))},
        files={"file": ("退款凭证.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith(f"{url}?done=answer")
    assert status_of(session, rid) == "answered"
    after = banker.get(response.headers["location"]).text
    assert "已提交答复" in after and "已核实，保险费已全额退还。" in after
    assert '/answer"' not in after  # answered: no form any more
    file = session.exec(select(AppealAttachment).where(AppealAttachment.appeal_id == rid)).one()
    assert f"{url}/files/{file.id}" in after and "退款凭证.pdf" in after
    download = banker.get(f"{url}/files/{file.id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/pdf"


def test_an_empty_answer_a_stale_form_and_a_wrong_file_change_nothing(
    browser_as, session, desk, memory_store
) -> None:
    rid = dispatched(desk)
    banker = browser_as("bank", bank_code=desk.bank_code)
    url = f"/web/bank/requests/{rid}"
    version = str(version_of(session, rid))
    empty = post_form(banker, url, f"{url}/answer", {"text": "  ", "version": version})
    assert empty.status_code == 422 and "请填写答复内容" in empty.text
    too_long = post_form(banker, url, f"{url}/answer", {"text": "长" * 2001, "version": version})
    assert too_long.status_code == 422 and "最多 2000 个字" in too_long.text
    wrong = post_form(
        banker,
        url,
        f"{url}/answer",
        {"text": "见附件", "version": version},
        files={"file": ("a.pdf", b'=HYPERLINK("x")', "application/pdf")},
    )
    assert wrong.status_code == 422 and "须为 PDF 或图片" in wrong.text
    assert "见附件" in wrong.text  # what was typed is kept
    assert status_of(session, rid) == "dispatched" and memory_store.files == {}
    api_step(desk, rid, action="dispatch", bank_code=desk.bank_code, due_date=None)  # new version
    stale = post_form(banker, url, f"{url}/answer", {"text": "已处理", "version": version})
    assert stale.status_code == 412 and "已被修改" in stale.text
    assert status_of(session, rid) == "dispatched"


def test_another_bank_s_request_is_not_found_and_the_office_is_refused(
    browser_as, session, desk
) -> None:
    rid = dispatched(desk, bank=desk.other_bank_code)
    banker = browser_as("bank", bank_code=desk.bank_code)
    url = f"/web/bank/requests/{rid}"
    assert banker.get(url).status_code == 404
    own = dispatched(desk)
    token = form_token(banker.get(f"/web/bank/requests/{own}").text)
    answered = banker.post(f"{url}/answer", data={"text": "x", "version": "2", "csrf_token": token})
    assert answered.status_code == 404 and status_of(session, rid) == "dispatched"
    assert banker.get(f"{url}/files/1").status_code == 404
    assert banker.get("/web/bank/requests/99999999").status_code == 404
    office = browser_as("office")
    for page in ("/web/bank/requests", f"/web/bank/requests/{own}", "/web/bank/ratings"):
        assert office.get(page).status_code == 403


def test_a_hidden_enterprise_s_files_stay_hidden(browser_as, session, desk) -> None:
    rid = dispatched(desk, show_to_bank=False)
    sent = desk.firm.post(
        f"/api/v1/requests/{rid}/attachments", files={"file": ("合同.pdf", PDF, "application/pdf")}
    )
    assert sent.status_code == 201, sent.text
    banker = browser_as("bank", bank_code=desk.bank_code)
    page = banker.get(f"/web/bank/requests/{rid}").text
    assert "合同.pdf" not in page and desk.firm_name not in page and "匿名企业" in page
    assert banker.get(f"/web/bank/requests/{rid}/files/{sent.json()['id']}").status_code == 404


def test_the_ratings_with_their_average(browser_as, session, desk) -> None:
    named = dispatched(desk, title="署名的诉求")
    unnamed = dispatched(desk, title="匿名的诉求", show_to_bank=False)
    for rid, score in ((named, 5), (unnamed, 2)):
        desk.office.post(f"/api/v1/requests/{rid}/steps", json={"action": "answer", "text": "已退"})
        api_step(desk, rid, action="close", text="银行已退还")
        confirmed = desk.firm.post(
            f"/api/v1/requests/{rid}/steps",
            json={"action": "confirm", "rating": score, "text": f"评价{score}"},
        )
        assert confirmed.status_code == 200, confirmed.text
    banker = browser_as("bank", bank_code=desk.bank_code)
    page = banker.get("/web/bank/ratings")
    assert page.status_code == 200
    text = page.text
    assert "3.5 分" in text and "共 2 条" in text
    assert "评价5" in text and "评价2" in text
    assert text.count(desk.firm_name) == 1  # named only where the enterprise agreed
    assert "匿名企业" in text and f'/bank/requests/{unnamed}"' in text
    other = browser_as("bank", bank_code=desk.other_bank_code).get("/web/bank/ratings").text
    assert "暂无评价" in other


def test_a_file_over_the_form_limit_is_taken_and_one_over_the_attachment_limit_refused(
    browser_as, session, desk, memory_store
) -> None:
    rid = dispatched(desk)
    banker = browser_as("bank", bank_code=desk.bank_code)
    url = f"/web/bank/requests/{rid}"
    version = str(version_of(session, rid))
    too_big = PDF + b"0" * (10 * 1024 * 1024)
    refused = post_form(
        banker,
        url,
        f"{url}/answer",
        {"text": "见附件", "version": version},
        files={"file": ("大文件.pdf", too_big, "application/pdf")},
    )
    assert refused.status_code == 422 and "附件不能超过 10 MB" in refused.text
    assert status_of(session, rid) == "dispatched" and memory_store.files == {}
    two_mb = PDF + b"0" * (2 * 1024 * 1024)  # over the 1 MB of a plain form
    taken = post_form(
        banker,
        url,
        f"{url}/answer",
        {"text": "见附件", "version": version},
        files={"file": ("凭证.pdf", two_mb, "application/pdf")},
    )
    assert taken.status_code == 303, taken.text
    assert list(memory_store.files.values()) == [two_mb]


def test_a_provisional_due_date_says_so_on_the_list_and_the_page(browser_as, desk) -> None:
    estimated = dispatched_over_new_year(desk, title="跨年交办的诉求")
    final = dispatched(desk, title="今年内到期的诉求")
    banker = browser_as("bank", bank_code=desk.bank_code)
    listing = banker.get("/web/bank/requests").text
    row = row_html(listing, estimated)
    assert "2027-01-15" in row
    (why,) = provisional_marks(row)
    assert "节假日安排" in why and "尚未公布" in why and "可能调整" in why
    assert provisional_marks(row_html(listing, final)) == []
    page = banker.get(f"/web/bank/requests/{estimated}").text
    facts = page[
        page.index("<dt>办理期限</dt>") : page.index("</dd>", page.index("<dt>办理期限</dt>"))
    ]
    assert "2027-01-15" in facts and len(provisional_marks(facts)) == 1
    assert "此期限按周末和预估的节假日推算" in facts  # the why spelled out on the page
    assert "办理期限 2027-01-15（暂定）" in page  # the dispatch in the steps
    assert "暂定" not in banker.get(f"/web/bank/requests/{final}").text

"""The office opens any lead (its need, enterprise, bank by name and status history, without
marking it viewed) and lists leads by enterprise name, bank and status, with totals."""

import time_machine
from sqlmodel import Session, col, select

from service.leads.models import Lead
from tests.metrics.test_answers import TODAY, book  # noqa: F401 (a fixture)


def _leads(session: Session, bank: str, status: str) -> list[Lead]:
    stmt = select(Lead).where(col(Lead.bank_code) == bank, col(Lead.status) == status)
    return list(session.exec(stmt.order_by(col(Lead.id))))


def test_the_office_opens_a_lead_without_marking_it_viewed(
    browser_as,
    as_role,
    session,
    book,  # noqa: F811
) -> None:
    new = _leads(session, book["a"], "new")[0]
    assert new.id is not None and new.viewed_at is None
    office = browser_as("office")
    page = office.get(f"/web/office/leads/{new.id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "甲银行" in text and "新线索" in text and "流动资金" in text  # bank, status, need
    assert f">{book['a']}<" not in text  # the bank by name, never its code
    session.refresh(new)
    assert new.viewed_at is None and new.status == "new"


def test_a_lead_s_history_says_who_changed_what_and_when(
    browser_as,
    as_role,
    session,
    book,  # noqa: F811
) -> None:
    viewed = _leads(session, book["a"], "viewed")[0]
    banker = as_role("bank", bank_code=book["a"])
    with time_machine.travel(TODAY, tick=False):
        r = banker.post(f"/api/v1/leads/{viewed.id}/status", json={"status": "contacted"})
    assert r.status_code == 200, r.text
    text = browser_as("office").get(f"/web/office/leads/{viewed.id}").text
    history = text[text.index("状态记录") :]
    assert "已查看 → 已联系" in history
    assert "甲银行" in history and "2026-11-30 12:00" in history
    assert "首次联系：2026-11-30 12:00" in history  # a time in Beijing time, not UTC
    assert '<td data-label="变化">更新</td>' not in history  # no bookkeeping lines


def test_the_office_lists_and_searches_leads(browser_as, session, book) -> None:  # noqa: F811
    office = browser_as("office")
    everything = office.get("/web/office/leads").text
    assert "共 13 条线索" in everything
    one_bank = office.get("/web/office/leads", params={"bank": book["b"]}).text
    assert "共 5 条线索" in one_bank and "甲银行</a>" not in one_bank
    waiting = office.get("/web/office/leads", params={"bank": book["a"], "status": "new"}).text
    assert "共 2 条线索" in waiting
    firm = _leads(session, book["c"], "disbursed")[0]
    from service.enterprises.models import Enterprise

    name = session.get(Enterprise, firm.enterprise_id).name
    by_name = office.get("/web/office/leads", params={"name": name[2:8]}).text
    assert "共 6 条线索" in by_name  # 乙's five and 丙's one are of this enterprise
    for odd in ("%", "_", "\x00", "<script>"):
        r = office.get("/web/office/leads", params={"name": odd, "status": "nope", "bank": "x"})
        assert r.status_code in (200, 422)  # a NUL is refused before the page
        assert "<script>" not in r.text.split("</header>")[-1]
    assert 'data-label="企业"' in everything


def test_leads_are_the_office_s(browser_as, book) -> None:  # noqa: F811
    banker = browser_as("bank", bank_code=book["a"])
    assert banker.get("/web/office/leads").status_code in (403, 404)
    assert browser_as("office").get("/web/office/leads/999999").status_code == 404
    assert browser_as("office").get("/web/office/leads?page=0").status_code == 422

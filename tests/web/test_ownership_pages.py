"""Ownership on the pages: the office groups its figures by 控股情况 and keeps to 民营企业 (the
exports follow), and profiles name the ownership, never its code."""

import csv
import io
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from tests.factories import create_enterprise
from tests.metrics.test_metrics import _bank, _product, add_lead


@pytest.fixture
def book(client: Any, session: Session) -> dict:
    """A bank's three leads: a 私人控股 enterprise's (disbursed), a 外商控股 one's and one of
    unknown ownership."""
    bank = _bank(client, "甲银行")
    product = _product(client, bank, "甲锡科贷", "xikedai")
    firms = {
        "private": create_enterprise(client, ownership="private"),
        "foreign": create_enterprise(client, ownership="foreign"),
        "unknown": create_enterprise(client),
    }
    add_lead(
        session,
        product,
        firms["private"],
        "2026-11-02 09:00",
        "disbursed",
        first_contact_at="2026-11-02 15:00",
        disbursed_date=date(2026, 11, 10),
        disbursed_amount_fen=100_000_000,
        disbursed_rate_bp=320,
    )
    add_lead(session, product, firms["foreign"], "2026-11-03 09:00")
    add_lead(session, product, firms["unknown"], "2026-11-04 09:00")
    return {"bank": bank, "firms": firms}


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_dashboard_groups_by_ownership(browser_as, book) -> None:
    office = browser_as("office")
    dash = office.get("/web/office").text
    assert "group=ownership" in dash and "amount_group=ownership" in dash
    assert ">控股情况</a>" in dash
    page = office.get("/web/office?group=ownership&amount_group=ownership")
    assert page.status_code == 200
    assert "转化漏斗（按控股情况）" in page.text and "金额与融资成本（按控股情况）" in page.text
    rows = _csv(office.get("/web/office/export/funnel-ownership.csv").content)
    assert rows[0][0] == "控股情况"
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("私人控股", "1"),
        ("外商控股", "1"),
        ("未知", "1"),
        ("合计", "3"),
    ]
    amounts = _csv(office.get("/web/office/export/amounts-ownership.csv").content)
    assert [r[0] for r in amounts[1:]] == ["私人控股", "外商控股", "未知", "合计"]


def test_the_dashboard_keeps_to_private_enterprises(browser_as, book) -> None:
    office = browser_as("office")
    page = office.get("/web/office?private=true&group=ownership").text
    assert '<option value="true" selected>民营企业</option>' in page
    assert "以下数字仅含民营企业" in page
    # tabs and exports keep the filter
    assert "group=bank&amp;amount_group=bank&amp;private=true" in page
    assert "/web/office/export/funnel-ownership.csv?private=true" in page
    response = office.get("/web/office/export/funnel-ownership.csv?private=true")
    assert "_private_" in response.headers["content-disposition"]
    rows = _csv(response.content)
    assert [(r[0], r[1]) for r in rows[1:]] == [("私人控股", "1"), ("合计", "1")]
    others = _csv(office.get("/web/office/export/funnel-bank.csv?private=false").content)
    assert others[-1][:2] == ["合计", "1"]
    amounts = _csv(office.get("/web/office/export/amounts-bank.csv?private=true").content)
    assert amounts[-1][0] == "合计" and float(amounts[-1][6]) == 100  # 放款金额（万元）
    bank_page = office.get(f"/web/office/banks/{book['bank']}?private=true").text
    assert '<option value="true" selected>民营企业</option>' in bank_page


def test_a_bad_private_value_is_told_beside_the_filter(browser_as, book) -> None:
    office = browser_as("office")
    page = office.get("/web/office?private=perhaps&from=2026-11-01")
    assert page.status_code == 200 and 'id="private-error"' in page.text
    assert 'value="2026-11-01"' in page.text  # the period still applies
    assert office.get("/web/office/export/funnel-bank.csv?private=perhaps").status_code == 422


@pytest.mark.parametrize(
    "role, path",
    [
        ("enterprise", "/web/office?group=ownership&private=true"),
        ("enterprise", "/web/office/export/funnel-ownership.csv?private=true"),
        ("bank", "/web/office/export/amounts-ownership.csv"),
    ],
)
def test_only_the_office_sees_the_figures(browser_as, book, role, path) -> None:
    holder = (
        browser_as("enterprise", enterprise_id=book["firms"]["private"]["id"])
        if role == "enterprise"
        else browser_as("bank", bank_code=book["bank"])
    )
    assert holder.get(path).status_code == 403


def test_profiles_name_the_ownership(browser_as, client) -> None:
    owned = create_enterprise(client, ownership="collective", name="无锡市锡山集体化工有限公司")
    unknown = create_enterprise(client)
    own_page = browser_as("enterprise", enterprise_id=owned["id"]).get("/web/enterprise").text
    assert "控股情况" in own_page and "集体控股" in own_page and "民营企业" in own_page
    assert ">collective<" not in own_page
    theirs = browser_as("enterprise", enterprise_id=unknown["id"]).get("/web/enterprise").text
    assert "未登记（由金融办维护）" in theirs
    office = browser_as("office")
    page = office.get(f"/web/office/enterprises/{owned['id']}").text
    assert "集体控股" in page and ">collective<" not in page
    assert "未知" in office.get(f"/web/office/enterprises/{unknown['id']}").text
    found = office.get("/web/office/enterprises", params={"name": "锡山集体化工"}).text
    assert 'data-label="控股情况">集体控股</td>' in found

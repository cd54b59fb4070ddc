"""The enterprise's support policies as its finance person reads them: what it is entitled to
(the amount in 万元, how it is made up, why, what to prepare, who runs it), new ones marked
until seen, the ones it is not entitled to folded away with what is missing, the largest
beside its recommendations, and the rate after an interest subsidy on its loan page. Only
the enterprise itself sees them."""

import html
import re
from datetime import date
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.factories import LARGE_IC, bank_payload, create_enterprise, product_payload
from tests.policies.test_policies_api import add_qualification, subsidy_policy

DAY = date(2026, 6, 30)
WAN = 1_000_000  # fen
BANK = "jsbank-wx"  # a seeded bank
PAGE = "/web/enterprise/policies"


@pytest.fixture(autouse=True)
def _on_day():
    with time_machine.travel(DAY, tick=False):
        yield


def private_firm(client: Any) -> dict[str, Any]:
    return create_enterprise(client, **{**LARGE_IC, "ownership": "private"})


def _visible(page: str) -> str:
    """What a person reads: the text (of the body, for a whole page) without tags."""
    body = page[page.index("<body") :] if "<body" in page else page
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _entitled(page: str) -> str:
    """The part of the page before the folded list of policies not entitled to."""
    main = page[page.index('<main id="main">') :]
    return main.split('<details class="not-entitled">')[0]


def _unseen(client: Any, enterprise_id: int) -> list[dict[str, Any]]:
    items = client.get("/api/v1/policy-notices", params={"enterprise_id": enterprise_id}).json()
    return [n for n in items["items"] if n["seen_at"] is None]


@pytest.fixture
def giant(client) -> dict[str, Any]:
    """A private enterprise awarded its first 小巨人 this year."""
    firm = private_firm(client)
    add_qualification(client, firm["id"], "little_giant", "2026-03-01")
    return firm


def test_an_entitlement_with_its_amount_reasons_documents_and_department(
    client, browser_as, giant
) -> None:
    me = browser_as("enterprise", enterprise_id=giant["id"])
    response = me.get(PAGE)
    assert response.status_code == 200
    entitled = _visible(_entitled(response.text))
    assert "首次获评国家专精特新“小巨人”企业奖励" in entitled
    assert "金额 50.00 万元" in entitled and "一次性奖励：50.00 万元" in entitled
    assert '2026-03-01 获评（专精特新"小巨人"企业）' in entitled  # the name, not the code
    for words in ("民营企业", "工业和信息化部“小巨人”企业名单文件", "奖励申请表"):
        assert words in entitled, words
    assert "市工业和信息化局" in entitled and "尚未申报" in entitled
    assert "发现时间 2026-06-30" in entitled  # in Beijing time
    assert "新" in re.findall(r'<span class="badge warn">([^<]+)</span>', response.text)
    # The policies it is not entitled to, folded, with what is missing.
    folded = response.text.split('<details class="not-entitled">')[1]
    assert "还差什么" in folded
    assert "没有上年度（2025年）技术和设备投资" in _visible(folded)
    text = _visible(response.text)
    for code in ("little_giant", "little-giant-first", "wx-gxj", "qualification_award"):
        assert code not in text, code


def test_viewing_the_page_marks_its_notices_seen(client, browser_as, giant) -> None:
    me = browser_as("enterprise", enterprise_id=giant["id"])
    assert [n["policy_code"] for n in _unseen(client, giant["id"])] == ["little-giant-first"]
    first = me.get(PAGE).text
    assert "有 1 项新发现的政策" in first
    assert _unseen(client, giant["id"]) == []
    again = me.get(PAGE).text
    assert "新发现" not in again and '<span class="badge warn">新</span>' not in again
    assert "首次获评国家专精特新“小巨人”企业奖励" in _entitled(again)  # still listed


def test_an_enterprise_sees_only_its_own(client, browser_as, giant) -> None:
    other = private_firm(client)
    stranger = browser_as("enterprise", enterprise_id=other["id"])
    page = stranger.get(PAGE).text
    entitled = _entitled(page)
    assert "暂未发现企业可以享受的政策" in entitled
    assert "50.00 万元" not in entitled and "badge warn" not in entitled
    assert giant["name"] not in page
    # Its visit marks nothing of the other enterprise's.
    assert [n["policy_code"] for n in _unseen(client, giant["id"])] == ["little-giant-first"]
    assert "暂未发现" not in browser_as("enterprise", enterprise_id=giant["id"]).get(PAGE).text


def test_the_recommendations_show_the_largest_policies_beside_them(
    client, browser_as, giant
) -> None:
    me = browser_as("enterprise", enterprise_id=giant["id"])
    page = me.get("/web/enterprise/recommendations").text
    panel = page[page.index('<aside class="card policies-panel"') :].split("</aside>")[0]
    assert "可享受的政策" in panel
    assert "首次获评国家专精特新“小巨人”企业奖励：50.00 万元" in _visible(panel)
    assert f'href="{PAGE}"' in panel
    assert len(re.findall(r"<li>", panel)) <= 3
    nothing = browser_as("enterprise", enterprise_id=private_firm(client)["id"])
    assert "policies-panel" not in nothing.get("/web/enterprise/recommendations").text


def test_a_loan_under_a_subsidy_shows_its_rate_after_the_subsidy(client, browser_as) -> None:
    subsidy_policy(client)
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    product = client.post("/api/v1/products", json=product_payload(bank, scheme="xikedai"))
    assert product.status_code == 201, product.text
    firm = private_firm(client)
    loan = client.post(
        "/api/v1/loans",
        json={
            "bank_code": bank,
            "contract_no": "XKD-2026-001",
            "enterprise_id": firm["id"],
            "product_code": product.json()["code"],
            "kind": "working_capital",
            "principal_fen": 1_000 * WAN,
            "rate_bp": 360,
            "disbursed_date": "2026-03-01",
            "maturity_date": "2027-02-28",
        },
    )
    assert loan.status_code == 201, loan.text
    other = client.post(
        "/api/v1/loans",
        json={
            "bank_code": BANK,
            "contract_no": "JS-2026-009",
            "enterprise_id": firm["id"],
            "kind": "working_capital",
            "principal_fen": 500 * WAN,
            "rate_bp": 345,
            "disbursed_date": "2026-03-01",
            "maturity_date": "2027-02-28",
        },
    )
    assert other.status_code == 201, other.text
    me = browser_as("enterprise", enterprise_id=firm["id"])
    page = me.get("/web/enterprise/loans").text
    row = page[page.index(f'id="loan-{loan.json()["id"]}"') :].split("</tr>")[0]
    text = _visible(row)
    assert "贴息后实际利率 1.80%（锡科贷贴息，按已付利息的50%，单笔最高20万元）" in text
    # 1000万 × 3.60% / 360 × 122 days = 122,000.00 元 of interest; half of it.
    assert "2026年至今贴息 6.10 万元（已付利息 12.20 万元）" in text
    uncovered = page[page.index(f'id="loan-{other.json()["id"]}"') :].split("</tr>")[0]
    assert "贴息" not in uncovered
    # The policies page says the same, with its line.
    policies = _visible(_entitled(me.get(PAGE).text))
    assert "锡科贷贴息" in policies and "6.10 万元" in policies
    assert "贷款 XKD-2026-001：2026年已付利息 122,000.00元 × 50%" in policies
    assert "xikedai" not in policies


def test_a_bank_the_office_or_no_one_cannot_open_the_page(app, client, browser_as) -> None:
    for role, extra in (("bank", {"bank_code": BANK}), ("office", {})):
        response = browser_as(role, **extra).get(PAGE)
        assert response.status_code == 403, role
        assert "可享受的政策" not in response.text
    anonymous = TestClient(app).get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/web/sign-in")

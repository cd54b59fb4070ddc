"""Cases as a Wuxi branch's credit officer and the financial office would judge them, each
labelled with why: what an enterprise's complaint is, whether it is taken as it is put, and
when its handler must have answered (working days on the 2026 State Council notice: 国庆
10月1日–7日 with 10月10日 worked, 春节 2月15日–23日 with 2月14日 and 2月28日 worked, 劳动节
5月1日–5日 with 5月9日 worked)."""

from datetime import date

import pytest
import time_machine

from service.taxonomy.workdays import official_years_as
from tests.appeals.conftest import Parties, ended_lead, step

# (label, dispatch day, category, due date counted by hand)
DUE_CASES = [
    (
        "收费问题 10 个工作日，国庆前一天交办：长假不算，10月10日周六调休上班算一天",
        date(2026, 9, 30),
        "charges",
        date(2026, 10, 20),
    ),
    (
        "续贷 5 个工作日，春节前周五交办：2月14日周六上班算第一天，节后 24–27 日再算四天",
        date(2026, 2, 13),
        "renewal",
        date(2026, 2, 27),
    ),
    (
        "服务效率 7 个工作日，五一前交办：5月6–8日三天，5月9日周六上班，11–13日",
        date(2026, 4, 30),
        "service",
        date(2026, 5, 13),
    ),
    (
        "融资对接 10 个工作日，普通周一交办：两周后的周一",
        date(2026, 11, 2),
        "financing",
        date(2026, 11, 16),
    ),
]


@pytest.mark.parametrize(
    ("label", "on", "category", "due"), DUE_CASES, ids=[c[0][:12] for c in DUE_CASES]
)
def test_due_dates_counted_by_hand(parties: Parties, label, on, category, due) -> None:
    p = parties
    with time_machine.travel(on, tick=False):
        rid = p.firm.post(
            "/api/v1/requests",
            json={"kind": "other", "title": "测试", "description": label},
        ).json()["id"]
        step(p.office, rid, action="accept", category_code=category)
        shown = step(p.office, rid, action="dispatch", department_code="wx-jrj").json()
    assert shown["due_date"] == due.isoformat(), label
    assert shown["due_date_provisional"] is False


def test_a_due_date_in_a_year_without_its_notice_says_it_is_provisional(parties: Parties) -> None:
    """Dispatched on 2026-12-31, the deadline falls in 2027, whose holidays the State Council
    has not published yet: the date is the calendar's estimate and says so."""
    p = parties
    with time_machine.travel(date(2026, 12, 31), tick=False):
        rid = p.firm.post(
            "/api/v1/requests", json={"kind": "other", "title": "t", "description": "d"}
        ).json()["id"]
        step(p.office, rid, action="accept", category_code="charges")
        shown = step(p.office, rid, action="dispatch", department_code="wx-jrj").json()
    assert shown["due_date_provisional"] is True
    event = next(e for e in shown["events"] if e["kind"] == "dispatch")
    assert event["data"]["due_date_provisional"] is True


def test_a_provisional_due_date_stays_so_once_the_calendar_learns_its_year(
    parties: Parties,
) -> None:
    """Dispatched on Friday 2026-02-13 as 续贷 (5 working days) with a calendar from before the
    2026 notice: counted on the estimate (the Spring Festival's days off, nothing worked on a
    weekend) it is 02-26, provisional. The notice made Sat 02-14 a working day and 02-20 and
    02-23 days off, so the right date is 02-27: once the calendar carries it, the stored 02-26
    still says it was an estimate (never a final-looking wrong date), and dispatching again
    counts the date on the notice."""
    p = parties
    rid = p.firm.post(
        "/api/v1/requests", json={"kind": "other", "title": "续贷", "description": "春节前"}
    ).json()["id"]
    step(p.office, rid, action="accept", category_code="renewal")
    friday = time_machine.travel(date(2026, 2, 13), tick=False)
    with official_years_as(range(2001, 2026)), friday:
        shown = step(p.office, rid, action="dispatch", department_code="wx-jrj").json()
    assert (shown["due_date"], shown["due_date_provisional"]) == ("2026-02-26", True)
    read = p.office.get(f"/api/v1/requests/{rid}").json()  # the calendar knows 2026 now
    assert (read["due_date"], read["due_date_provisional"]) == ("2026-02-26", True)
    assert p.firm.get(f"/api/v1/requests/{rid}").json()["due_date_provisional"] is True
    with friday:
        again = step(p.office, rid, action="dispatch", department_code="wx-jrj").json()
    assert (again["due_date"], again["due_date_provisional"]) == ("2026-02-27", False)
    assert "due_date_provisional" not in again["events"][-1]["data"]


def test_a_due_date_the_office_sets_is_never_provisional(parties: Parties) -> None:
    """A date the office chose is a day on the calendar, not a count of working days: the
    missing 2027 notice changes nothing about it."""
    p = parties
    with time_machine.travel(date(2026, 12, 31), tick=False):
        rid = p.firm.post(
            "/api/v1/requests", json={"kind": "other", "title": "t", "description": "d"}
        ).json()["id"]
        step(p.office, rid, action="accept", category_code="charges")
        shown = step(
            p.office, rid, action="dispatch", department_code="wx-jrj", due_date="2027-01-20"
        ).json()
    assert (shown["due_date"], shown["due_date_provisional"]) == ("2027-01-20", False)


# (label, body beyond the bank, accepted or the field refused)
INTAKE_CASES = [
    (
        "放款前要求购买理财产品：借贷搭售，企业说了是哪条，受理",
        {"kind": "unreasonable_charge", "charge_rule": "tied_sale", "charge_item": "other"},
        None,
    ),
    (
        "指定评估公司、评估费由企业承担：转嫁成本，受理",
        {
            "kind": "unreasonable_charge",
            "charge_rule": "cost_passed_on",
            "charge_item": "appraisal",
            "charge_amount_fen": 800_000,
        },
        None,
    ),
    (
        "要求把三成贷款留存为保证金存款：以贷转存，受理",
        {"kind": "unreasonable_charge", "charge_rule": "loan_to_deposit"},
        None,
    ),
    (
        "说收费不合理却说不出违反哪条：请企业选出条款，不能笼统受理",
        {"kind": "unreasonable_charge"},
        "charge_rule",
    ),
    (
        "合同 3.45%，实际按 3.85% 扣息：高于承诺，受理",
        {"kind": "rate_above_offer", "offered_rate_bp": 345, "charged_rate_bp": 385},
        None,
    ),
    (
        "利率与承诺一致、只是嫌高：不是「高于承诺」，应作为其他诉求提出",
        {"kind": "rate_above_offer", "offered_rate_bp": 345, "charged_rate_bp": 345},
        "charged_rate_bp",
    ),
    (
        "把 3.85% 错填成 385%：超出任何贷款利率，拒收而不是记下",
        {"kind": "rate_above_offer", "offered_rate_bp": 345, "charged_rate_bp": 38_500},
        "charged_rate_bp",
    ),
]


@pytest.mark.parametrize(
    ("label", "body", "refused"), INTAKE_CASES, ids=[c[0][:10] for c in INTAKE_CASES]
)
def test_intake_as_the_office_would_take_it(parties: Parties, label, body, refused) -> None:
    p = parties
    full = {"bank_code": p.bank_code, "title": label[:30], "description": label, **body}
    response = p.firm.post("/api/v1/requests", json=full)
    if refused is None:
        assert response.status_code == 201, (label, response.text)
    else:
        assert response.status_code == 422, label
        problem = response.json()
        where = problem.get("field") or str(problem.get("errors", ""))
        assert refused in where, (label, problem)


def test_a_declined_enterprise_still_rates_the_service(parties: Parties) -> None:
    """A refusal can be handled well or badly: the office wants the declined enterprises'
    view of the service most of all, so a declined lead is rated like a disbursed one."""
    p = parties
    lead = ended_lead(p)
    assert lead["status"] == "declined"
    rated = p.firm.post(
        "/api/v1/ratings", json={"lead_id": lead["id"], "score": 1, "comment": "拒绝理由没说清楚"}
    )
    assert rated.status_code == 201

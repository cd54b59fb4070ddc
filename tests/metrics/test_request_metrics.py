"""The office's request (诉求) and satisfaction figures, and the quarterly workbook, against
figures worked out by hand on a small book of eight requests and three lead ratings taken
through the API on chosen days (Asia/Shanghai), read on 2026-12-15 for 2026Q4."""

import io
from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session

from service.appeals import escalation
from service.enterprises.models import Enterprise
from service.metrics.requests import quarter_dates, request_scope
from tests.appeals.conftest import step
from tests.factories import bank_payload, create_enterprise, product_payload
from tests.metrics.test_metrics import add_lead

TODAY = "2026-12-15 12:00 +0800"
HOSTILE = '=HYPERLINK("http://x","点我")'


def on(day: str, hour: int = 10) -> Any:
    return time_machine.travel(f"{day} {hour:02d}:00 +0800", tick=False)


def _bank(client: Any, name: str) -> dict:
    code = client.post("/api/v1/banks", json=bank_payload(short_name=name)).json()["code"]
    r = client.post("/api/v1/products", json=product_payload(code, name=f"{name}信用贷"))
    assert r.status_code == 201, r.text
    return r.json()


def _ok(response: Any) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _raise(firm: Any, day: str, kind: str, bank: str | None = None) -> int:
    body: dict[str, Any] = {"kind": kind, "title": "融资诉求", "description": "请协调解决。"}
    if bank:
        body["bank_code"] = bank
    if kind == "unreasonable_charge":
        body |= {"charge_rule": "tied_sale", "charge_item": "insurance"}
    with on(day):
        return int(_ok(firm.post("/api/v1/requests", json=body))["id"])


def _do(client: Any, rid: int, day: str, **body: Any) -> None:
    with on(day):
        _ok(step(client, rid, **body))


def _dispatch(office: Any, rid: int, day: str, due: str, category: str, **to: str) -> None:
    _do(office, rid, day, action="accept", category_code=category)
    _do(office, rid, day, action="dispatch", due_date=due, **to)


@pytest.fixture
def book(client: Any, as_role: Any, session: Session) -> dict[str, Any]:
    """(Shanghai dates; R7 was raised in 2026Q3, the rest in Q4)

    R1 E1 不合理收费 about 甲, to 甲 due 10-20, answered 10-15, closed 10-16, rated 5
    R2 E1 银行响应慢 about 乙, to 乙 due 10-19, escalated 10-21, answered 10-22 (late),
       closed 10-23, reopened 10-24, closed again 10-26, rated 2
    R3 E2 融资需求无银行对接, to 市地方金融监管局 due 11-20, answered 11-10, closed 11-11, rated 4
    R4 E2 续贷被拒 about 甲, to 甲 due 12-01, escalated 12-02, still unanswered
    R5 E3 其他 about 乙, to 人民银行无锡市分行 due 12-10, unanswered, never escalated
    R6 E3 不合理收费 about 甲, raised 12-05, not accepted (不予受理) 12-06
    R7 E1 银行响应慢 about 甲, raised 09-20, to 甲 due 10-10, answered 10-09, closed 10-12
    R8 E2 融资需求无银行对接, raised 12-10, not triaged yet
    Lead ratings: L1 E1 甲信用贷 4 (11-05), L2 E2 乙信用贷 3 (11-06), L3 E1 甲信用贷 5 (09-25,
    out of the quarter). E1 is in 新吴区, E2 in 梁溪区, E3 (named like a formula) in 锡山区.
    """
    with on("2026-09-01"):
        pa, pb = _bank(client, "甲银行"), _bank(client, "乙银行")
        e1 = create_enterprise(client, district_code="xinwu")
        e2 = create_enterprise(client, district_code="liangxi")
        e3 = create_enterprise(client, district_code="xishan")
    hostile = session.get(Enterprise, e3["id"])
    assert hostile is not None
    hostile.name = HOSTILE
    session.add(hostile)
    session.flush()
    a, b = pa["bank_code"], pb["bank_code"]
    office = client
    bank_a, bank_b = as_role("bank", bank_code=a), as_role("bank", bank_code=b)
    f1, f2, f3 = (as_role("enterprise", enterprise_id=e["id"]) for e in (e1, e2, e3))

    r7 = _raise(f1, "2026-09-20", "slow_response", a)
    _dispatch(office, r7, "2026-09-21", "2026-10-10", "service", bank_code=a)
    _do(bank_a, r7, "2026-10-09", action="answer", text="已联系企业")
    _do(office, r7, "2026-10-12", action="close", text="已办结")

    r1 = _raise(f1, "2026-10-08", "unreasonable_charge", a)
    _dispatch(office, r1, "2026-10-09", "2026-10-20", "charges", bank_code=a)
    _do(bank_a, r1, "2026-10-15", action="answer", text="已退还")
    _do(office, r1, "2026-10-16", action="close", text="已退还保险费")
    _do(f1, r1, "2026-10-17", action="confirm", rating=5)

    r2 = _raise(f1, "2026-10-10", "slow_response", b)
    _dispatch(office, r2, "2026-10-12", "2026-10-19", "service", bank_code=b)
    with on("2026-10-21"):
        assert escalation.check_overdue(session) == {"escalated": 1}
    _do(bank_b, r2, "2026-10-22", action="answer", text="已联系")
    _do(office, r2, "2026-10-23", action="close", text="已督促")
    _do(f1, r2, "2026-10-24", action="reopen", text="仍未放款")
    _do(office, r2, "2026-10-26", action="close", text="已放款")
    _do(f1, r2, "2026-10-27", action="confirm", rating=2)

    r3 = _raise(f2, "2026-11-02", "unmatched_need")
    _dispatch(office, r3, "2026-11-03", "2026-11-20", "financing", department_code="wx-jrj")
    _do(office, r3, "2026-11-10", action="answer", text="已推荐三家银行")
    _do(office, r3, "2026-11-11", action="close", text="已对接")
    _do(f2, r3, "2026-11-12", action="confirm", rating=4)

    r4 = _raise(f2, "2026-11-20", "renewal_refused", a)
    _dispatch(office, r4, "2026-11-21", "2026-12-01", "renewal", bank_code=a)
    with on("2026-12-02", 9):
        assert escalation.check_overdue(session) == {"escalated": 1}

    r5 = _raise(f3, "2026-12-01", "other", b)
    _dispatch(office, r5, "2026-12-02", "2026-12-10", "other", department_code="pbc-wx")

    r6 = _raise(f3, "2026-12-05", "unreasonable_charge", a)
    _do(office, r6, "2026-12-06", action="reject", text="不属于受理范围")

    _raise(f2, "2026-12-10", "unmatched_need")

    for enterprise, product, client_, day, score in (
        (e1, pa, f1, "2026-11-05", 4),
        (e2, pb, f2, "2026-11-06", 3),
        (e1, pa, f1, "2026-09-25", 5),
    ):
        lead = add_lead(session, product, enterprise, "2026-08-03 09:00", "disbursed")
        with on(day):
            _ok(client_.post("/api/v1/ratings", json={"lead_id": lead.id, "score": score}))
    return {"a": a, "b": b, "r4": r4, "r5": r5, "f1": f1, "bank_a": bank_a}


def _report(client: Any, **params: Any) -> dict:
    with time_machine.travel(TODAY, tick=False):
        return _ok(client.get("/api/v1/metrics/requests", params=params))


def _rows(table: list[dict]) -> list[tuple]:
    return [(r["label"], r["raised"]) for r in table]


def _ratings(table: dict) -> list[tuple]:
    rows = [*table["rows"], table["total"]]
    return [
        (r["label"], r["ratings"], r["average"], r["lead_ratings"], r["request_ratings"])
        for r in rows
    ]


def test_every_figure_of_the_quarter_as_counted_by_hand(client, book) -> None:
    report = _report(client)  # today is in 2026Q4: the default period
    assert report["scope"] == {
        "from": "2026-10-01",
        "to": "2026-12-31",
        "quarter": "2026Q4",
        "as_of": "2026-12-15",
    }
    assert report == _report(client, quarter="2026Q4")
    # raised in Q4: R1–R6 and R8 (R7 was raised in September)
    assert report["raised"] == 7
    assert _rows(report["by_kind"]) == [
        ("融资需求无银行对接", 2),  # R3 R8
        ("银行响应慢", 1),  # R2
        ("续贷被拒", 1),  # R4
        ("不合理收费", 2),  # R1 R6
        ("实际利率高于承诺", 0),
        ("其他", 1),  # R5
    ]
    assert _rows(report["by_bank"]) == [
        ("甲银行", 3),  # R1 R4 R6
        ("乙银行", 2),  # R2 R5
        ("未涉及具体银行", 2),  # R3 R8
    ]
    assert _rows(report["by_handler"]) == [
        ("人民银行无锡市分行", 1),  # R5
        ("市地方金融监管局", 1),  # R3
        ("银行承办", 3),  # R1 R2 R4
        ("未交办", 2),  # R6 rejected, R8 not triaged
    ]
    districts = dict(_rows(report["by_district"]))
    # every district, in the reference order, zeros included
    assert list(districts) == [d["name"] for d in client.get("/api/v1/reference/districts").json()]
    assert {k: v for k, v in districts.items() if v} == {"新吴区": 2, "梁溪区": 3, "锡山区": 2}
    # answered in Q4: R7 10-09, R1 10-15, R2 10-22 (escalated: late), R3 11-10 → 3 of 4
    assert report["on_time"] == {"answered": 4, "on_time": 3, "rate": 0.75}
    # closed in Q4: R7 09-20→10-12 22 days, R1 10-08→10-16 8, R2 10-10→10-26 16,
    # R3 11-02→11-11 9; median of 8 9 16 22 is (9 + 16) / 2; R2 was reopened: 1 of 4
    assert report["closing"] == {
        "closed": 4,
        "median_days": 12.5,
        "reopened": 1,
        "reopen_rate": 0.25,
    }
    # ratings in Q4: R1 5 (甲), R2 2 (乙), R3 4 (department), L1 4 (甲), L2 3 (乙); L3 is
    # September's. 18 / 5 = 3.6
    total = report["satisfaction"]
    assert (total["ratings"], total["average"], total["lead_ratings"]) == (5, 3.6, 2)
    assert _ratings(report["satisfaction_by_bank"]) == [
        ("甲银行", 2, 4.5, 1, 1),  # 5 and 4
        ("乙银行", 2, 2.5, 1, 1),  # 2 and 3
        ("合计", 4, 3.5, 2, 2),  # 14 / 4
    ]
    assert _ratings(report["satisfaction_by_product"]) == [
        ("甲银行信用贷", 1, 4.0, 1, 0),
        ("乙银行信用贷", 1, 3.0, 1, 0),
        ("合计", 2, 3.5, 2, 0),
    ]
    assert _ratings(report["satisfaction_by_kind"]) == [
        ("融资需求无银行对接", 1, 4.0, 0, 1),
        ("银行响应慢", 1, 2.0, 0, 1),
        ("续贷被拒", 0, None, 0, 0),
        ("不合理收费", 1, 5.0, 0, 1),
        ("实际利率高于承诺", 0, None, 0, 0),
        ("其他", 0, None, 0, 0),
        ("合计", 3, 3.67, 0, 3),  # 11 / 3
    ]
    # dispatched and past due on 12-15: R4 (due 12-01) and R5 (due 12-10)
    assert report["open_overdue"] == 2
    for code in (book["a"], book["b"]):
        assert f'"{code}"' not in str([r["label"] for r in report["by_bank"]])


def test_a_period_of_dates_counts_by_the_same_rules(client, book) -> None:
    october = _report(client, **{"from": "2026-10-01", "to": "2026-10-31"})
    assert october["scope"]["quarter"] is None
    assert october["raised"] == 2  # R1 R2
    assert october["on_time"] == {"answered": 3, "on_time": 2, "rate": 0.6667}  # R7 R1 R2
    assert october["closing"]["closed"] == 3 and october["closing"]["median_days"] == 16.0
    # a missing end is the end of the start's quarter
    assert _report(client, **{"from": "2026-11-01"})["scope"]["to"] == "2026-12-31"


def test_the_quarterly_workbook_holds_every_figure(client, book) -> None:
    with time_machine.travel(TODAY, tick=False):
        response = client.get(
            "/api/v1/metrics/requests/quarterly.xlsx", params={"quarter": "2026q4"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="finmatch_requests_2026Q4.xlsx"' in response.headers["content-disposition"]
    book_ = load_workbook(io.BytesIO(response.content))
    assert book_.sheetnames == [
        "概况",
        "按诉求类型",
        "按涉及银行",
        "按承办单位",
        "按区域",
        "满意度-按银行",
        "满意度-按产品",
        "满意度-按诉求类型",
        "逾期未办结",
    ]

    def cells(name: str) -> list[list[Any]]:
        return [list(r) for r in book_[name].iter_rows(values_only=True)]

    summary = {row[0]: row[1] for row in cells("概况")[1:]}
    assert summary == {
        "统计期间": "2026Q4（2026-10-01 至 2026-12-31）",
        "制表日期": datetime(2026, 12, 15),
        "提出诉求（件）": 7,
        "期间答复（件）": 4,
        "按期答复（件）": 3,
        "按期答复率": 0.75,
        "期间办结（件）": 4,
        "办结天数中位数": 12.5,
        "重新打开（件）": 1,
        "重新打开率": 0.25,
        "评价数": 5,
        "平均评分": 3.6,
        "逾期未办结（件）": 2,
    }
    assert cells("按诉求类型") == [
        ["诉求类型", "提出诉求（件）", "占比"],
        ["融资需求无银行对接", 2, 0.2857],
        ["银行响应慢", 1, 0.1429],
        ["续贷被拒", 1, 0.1429],
        ["不合理收费", 2, 0.2857],
        ["实际利率高于承诺", 0, 0],  # shares rounded to 4 places, like the API's rates
        ["其他", 1, 0.1429],
        ["合计", 7, 1],
    ]
    assert cells("按涉及银行") == [
        ["涉及银行", "提出诉求（件）", "占比"],
        ["甲银行", 3, 0.4286],
        ["乙银行", 2, 0.2857],
        ["未涉及具体银行", 2, 0.2857],
        ["合计", 7, 1],
    ]
    assert cells("按承办单位") == [
        ["承办单位", "提出诉求（件）", "占比"],
        ["人民银行无锡市分行", 1, 0.1429],
        ["市地方金融监管局", 1, 0.1429],
        ["银行承办", 3, 0.4286],
        ["未交办", 2, 0.2857],
        ["合计", 7, 1],
    ]
    districts = cells("按区域")
    assert districts[0] == ["区域", "提出诉求（件）", "占比"] and districts[-1] == ["合计", 7, 1]
    assert {r[0]: r[1] for r in districts[1:-1] if r[1]} == {"新吴区": 2, "梁溪区": 3, "锡山区": 2}
    header = ["评价数", "平均分", "其中线索评价", "其中诉求评价"]
    assert cells("满意度-按银行") == [
        ["银行", *header],
        ["甲银行", 2, 4.5, 1, 1],
        ["乙银行", 2, 2.5, 1, 1],
        ["合计", 4, 3.5, 2, 2],
    ]
    assert cells("满意度-按产品") == [
        ["产品", *header],
        ["甲银行信用贷", 1, 4, 1, 0],
        ["乙银行信用贷", 1, 3, 1, 0],
        ["合计", 2, 3.5, 2, 0],
    ]
    assert cells("满意度-按诉求类型") == [
        ["诉求类型", *header],
        ["融资需求无银行对接", 1, 4, 0, 1],
        ["银行响应慢", 1, 2, 0, 1],
        ["续贷被拒", 0, None, 0, 0],
        ["不合理收费", 1, 5, 0, 1],
        ["实际利率高于承诺", 0, None, 0, 0],
        ["其他", 0, None, 0, 0],
        ["合计", 3, 3.67, 0, 3],
    ]
    overdue = cells("逾期未办结")
    assert overdue[0] == [
        "诉求编号",
        "企业名称",
        "诉求类型",
        "承办单位",
        "办理期限",
        "逾期天数",
        "督办时间",
    ]
    r4, r5 = overdue[1:]
    assert r4[0] == book["r4"] and r4[2:6] == ["续贷被拒", "甲银行", datetime(2026, 12, 1), 14]
    assert r4[6] == datetime(2026, 12, 2, 9, 0)  # escalated on the check at 09:00
    assert r5[0] == book["r5"]
    assert r5[1:] == ["'" + HOSTILE, "其他", "人民银行无锡市分行", datetime(2026, 12, 10), 5, None]
    for sheet in book_.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
    assert book_["逾期未办结"]["B3"].data_type == "s"


def test_an_empty_period_is_zeros_and_nulls(client) -> None:
    with time_machine.travel(TODAY, tick=False):
        report = _ok(client.get("/api/v1/metrics/requests", params={"quarter": "2001Q1"}))
        empty = client.get("/api/v1/metrics/requests/quarterly.xlsx", params={"quarter": "2001Q1"})
    assert report["raised"] == 0 and report["by_bank"] == [] and report["by_handler"] == []
    assert all(r["raised"] == 0 for r in report["by_kind"] + report["by_district"])
    assert report["on_time"] == {"answered": 0, "on_time": 0, "rate": None}
    assert report["closing"] == {
        "closed": 0,
        "median_days": None,
        "reopened": 0,
        "reopen_rate": None,
    }
    assert report["satisfaction"]["ratings"] == 0 and report["satisfaction"]["average"] is None
    assert report["satisfaction_by_bank"]["rows"] == []
    assert empty.status_code == 200
    sheets = load_workbook(io.BytesIO(empty.content))
    assert [c.value for c in sheets["按涉及银行"][2]] == ["合计", 0, None]
    assert sheets["逾期未办结"].max_row == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"quarter": "2026Q5"}, "invalid_quarter"),
        ({"quarter": "Q4 2026"}, "invalid_quarter"),
        ({"quarter": "1999Q1"}, "invalid_quarter"),
        ({"quarter": "=1+1"}, "invalid_quarter"),
        ({"quarter": "2026Q4", "from": "2026-10-01"}, "invalid_period"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "invalid_period"),
        ({"quarter": "2026Q4" * 10}, "validation_error"),
    ],
)
def test_bad_periods_are_clear_422s(client, params, code) -> None:
    for path in ("/api/v1/metrics/requests", "/api/v1/metrics/requests/quarterly.xlsx"):
        if path.endswith("xlsx") and set(params) - {"quarter"}:
            continue
        response = client.get(path, params=params)
        assert response.status_code == 422, (path, params)
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == code and body["detail"]


def test_only_the_office_reads_them(client, as_role, anonymous) -> None:
    code = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    bank = as_role("bank", bank_code=code)
    firm = as_role("enterprise", enterprise_id=create_enterprise(client)["id"])
    for path in ("/api/v1/metrics/requests", "/api/v1/metrics/requests/quarterly.xlsx"):
        assert bank.get(path).status_code == 403
        assert firm.get(path).status_code == 403
        assert anonymous.get(path).status_code == 401


def test_periods_by_hand() -> None:
    assert quarter_dates("2026Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_dates(" 2024q1 ") == (date(2024, 1, 1), date(2024, 3, 31))
    assert quarter_dates("2026Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    today = date(2026, 8, 15)
    assert request_scope(None, None, None, today).quarter == "2026Q3"
    only_to = request_scope(None, None, date(2026, 5, 20), today)
    assert (only_to.from_date, only_to.to, only_to.quarter) == (
        date(2026, 4, 1),
        date(2026, 5, 20),
        None,
    )

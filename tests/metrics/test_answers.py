"""The office's three questions through the API, against figures worked out by hand on a
small book: twelve leads of three banks at every stage with chosen times, one lead before the
period, and six needs that went different ways (no consent, registered outside the service
area, no eligible product, waiting, reached a bank, withdrawn)."""

import csv
import io
from datetime import date
from itertools import count
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session

from service.matching.models import FinancingNeed, NeedMatch, NeedStatus
from tests.factories import bank_payload, create_enterprise, credit_code, product_payload
from tests.metrics.test_metrics import _product_id, add_lead, at

TODAY = "2026-11-30 12:00 +0800"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
_serial = count(1)


def _bank(client: Any, name: str) -> dict:
    code = client.post("/api/v1/banks", json=bank_payload(short_name=name)).json()["code"]
    r = client.post("/api/v1/products", json=product_payload(code, name=f"{name}信用贷"))
    assert r.status_code == 201, r.text
    return r.json()


def _need(session: Session, enterprise: dict, created: str, **fields: Any) -> FinancingNeed:
    values: dict[str, Any] = {
        "enterprise_id": enterprise["id"],
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "collateral": ["none"],
        "consent_share_details": True,
        "max_banks": 3,
        "created_at": at(created),
    }
    need = FinancingNeed(**{**values, **fields})
    session.add(need)
    session.flush()
    return need


@pytest.fixture
def book(client: Any, session: Session) -> dict[str, Any]:
    """甲 (6 leads in November and one in October), 乙 (5), 丙 (1: a small sample).

    甲: A1 new 11-20 (need N5) · A2 viewed 11-25 · A3 contacted 11-03 after 1 day · A4
        contacted after 0.5 day, approved 11-20 · A5 contacted after 2 days, disbursed 80万 ·
        A6 contacted after 3 days, declined · A7 new, created 10-15 (out of the period)
    乙: B1 contacted 11-05 after 0.25 day · B2 new 11-28 · B3 new 11-26 · B4 withdrawn
        uncontacted · B5 viewed 11-16
    丙: C1 contacted after 1 hour, disbursed 30万
    """
    with time_machine.travel(TODAY, tick=False):
        pa, pb, pc = _bank(client, "甲银行"), _bank(client, "乙银行"), _bank(client, "丙银行")
        ea = create_enterprise(client, district_code="xinwu", cluster_code="ic")
        eb = create_enterprise(client, district_code="liangxi", cluster_code="iot")
        eo = create_enterprise(
            client, district_code="xishan", cluster_code="ic", credit_code=credit_code("310115")
        )
    n1 = _need(session, eb, "2026-11-10 09:00", consent_share_details=False)
    _need(session, eo, "2026-11-20 09:00")  # N2: registered in Shanghai
    _need(session, ea, "2026-11-25 09:00")  # N3: no match at all
    n4 = _need(session, ea, "2026-11-29 09:00")  # N4: a match, no lead yet
    n5 = _need(session, ea, "2026-11-20 08:00")
    _need(session, eb, "2026-11-11 09:00", status=NeedStatus.withdrawn)  # N6
    assert n1.id and n4.id and n5.id
    session.add(
        NeedMatch(
            need_id=n4.id,
            enterprise_id=ea["id"],
            product_id=_product_id(session, pa["code"]),
            product_version=pa["version"],
            config_version=1,
            score_centi=7000,
            need_rank=1,
        )
    )
    add_lead(session, pa, ea, "2026-11-20 09:00", "new", need_id=n5.id)
    add_lead(session, pa, ea, "2026-11-10 09:00", "viewed", viewed_at="2026-11-25 09:00")
    add_lead(session, pa, ea, "2026-11-02 09:00", "contacted", first_contact_at="2026-11-03 09:00")
    add_lead(
        session,
        pa,
        ea,
        "2026-11-02 09:00",
        "approved",
        first_contact_at="2026-11-02 21:00",
        approved_date=date(2026, 11, 20),
    )
    add_lead(
        session,
        pa,
        ea,
        "2026-11-02 09:00",
        "disbursed",
        first_contact_at="2026-11-04 09:00",
        approved_date=date(2026, 11, 5),
        disbursed_date=date(2026, 11, 10),
        disbursed_amount_fen=80_000_000,
    )
    add_lead(
        session,
        pa,
        ea,
        "2026-11-03 09:00",
        "declined",
        first_contact_at="2026-11-06 09:00",
        closed_at="2026-11-07 09:00",
    )
    add_lead(session, pa, ea, "2026-10-15 09:00", "new")
    add_lead(session, pb, eb, "2026-11-05 09:00", "contacted", first_contact_at="2026-11-05 15:00")
    add_lead(session, pb, eb, "2026-11-28 09:00", "new")
    add_lead(session, pb, eb, "2026-11-26 09:00", "new")
    add_lead(session, pb, eb, "2026-11-06 09:00", "withdrawn", closed_at="2026-11-07 09:00")
    add_lead(session, pb, eb, "2026-11-15 09:00", "viewed", viewed_at="2026-11-16 09:00")
    add_lead(
        session,
        pc,
        eb,
        "2026-11-04 09:00",
        "disbursed",
        first_contact_at="2026-11-04 10:00",
        approved_date=date(2026, 11, 5),
        disbursed_date=date(2026, 11, 6),
        disbursed_amount_fen=30_000_000,
    )
    return {"a": pa["bank_code"], "b": pb["bank_code"], "c": pc["bank_code"]}


def _get(client: Any, path: str, **params: Any) -> Any:
    with time_machine.travel(TODAY, tick=False):
        return client.get(f"/api/v1/metrics/{path}", params=params)


def test_banks_ranked_by_contact_rate_with_the_city_and_small_samples_last(client, book) -> None:
    r = _get(client, "conversion", **PERIOD)
    assert r.status_code == 200, r.text
    report = r.json()
    rows = report["groups"]
    assert [g["label"] for g in rows] == ["甲银行", "乙银行", "丙银行"]
    a, b, c = rows
    # 甲: 6 leads (A7 is October's); contacted A3–A6, approved A4 A5, disbursed A5
    assert (a["leads"], a["contacted"], a["approved"], a["disbursed"]) == (6, 4, 2, 1)
    assert (a["contact_rate"], a["approval_rate"], a["disbursement_rate"]) == (
        0.6667,
        0.3333,
        0.1667,
    )
    assert a["median_days_to_contact"] == 1.5  # days 0.5, 1, 2, 3
    assert (a["rank"], a["small_sample"]) == (1, False)
    assert (b["leads"], b["contacted"], b["contact_rate"], b["approval_rate"]) == (5, 1, 0.2, 0.0)
    assert b["median_days_to_contact"] == 0.3  # 6 hours = 0.25 day, half up
    assert (b["rank"], b["small_sample"]) == (2, False)
    # 丙: 100 % of one lead, listed last and unranked
    assert (c["leads"], c["contact_rate"], c["small_sample"], c["rank"]) == (1, 1.0, True, None)
    city = report["city"]
    assert (city["label"], city["leads"], city["contacted"], city["approved"]) == (
        "全市",
        12,
        6,
        3,
    )
    assert (city["contact_rate"], city["approval_rate"], city["disbursement_rate"]) == (
        0.5,
        0.25,
        0.1667,
    )
    assert city["median_days_to_contact"] == 0.8  # 1/24, 0.25, 0.5 | 1, 2, 3 → 0.75
    assert report["min_sample"] == 5


def test_where_leads_stall_now(client, book) -> None:
    r = _get(client, "stalls")
    assert r.status_code == 200, r.text
    report = r.json()
    stages = {s["stage"]: s for s in report["stages"]}
    new = stages["new"]
    # waiting 10 (A1), 46 (A7), 2 (B2), 4 (B3) days since creation
    assert (new["count"], new["median_days"], new["oldest_days"]) == (4, 7.0, 46)
    banks = {b["label"]: b for b in new["banks"]}
    assert (banks["甲银行"]["count"], banks["甲银行"]["median_days"]) == (2, 28.0)
    assert (banks["乙银行"]["oldest_days"], banks["乙银行"]["median_days"]) == (4, 3.0)
    viewed = stages["viewed"]  # since the first view: 5 (A2) and 14 (B5) days
    assert (viewed["count"], viewed["median_days"], viewed["oldest_days"]) == (2, 9.5, 14)
    contacted = stages["contacted"]  # since the first contact: 27 (A3), 25 (B1)
    assert (contacted["count"], contacted["median_days"], contacted["oldest_days"]) == (2, 26.0, 27)
    approved = stages["approved"]  # since the approval date 11-20
    assert (approved["count"], approved["oldest_days"]) == (1, 10)
    reasons = {r["reason"]: r for r in report["unreached_reasons"]}
    assert {k: v["count"] for k, v in reasons.items()} == {
        "no_consent": 1,
        "out_of_service_area": 1,
        "no_product": 1,
        "pending": 1,
    }
    assert reasons["no_consent"]["oldest_days"] == 20
    assert reasons["out_of_service_area"]["oldest_days"] == 10
    assert reasons["no_product"]["oldest_days"] == 5
    # the withdrawn N6 is not waiting, N5 reached 甲银行
    assert (report["unreached"]["count"], report["unreached"]["oldest_days"]) == (4, 20)


def test_underserved_districts_and_clusters(client, book) -> None:
    r = _get(client, "areas", group_by="district", **PERIOD)
    assert r.status_code == 200, r.text
    report = r.json()
    rows = {g["key"]: g for g in report["groups"]}
    assert rows["xinwu"]["label"] == "新吴区"
    figures = {
        key: (
            g["enterprises"],
            g["needs"],
            g["needs_no_bank"],
            g["no_bank_share"],
            g["disbursed_fen"],
        )
        for key, g in rows.items()
    }
    assert figures["xinwu"] == (1, 3, 2, 0.6667, 80_000_000)
    assert figures["liangxi"] == (1, 2, 2, 1.0, 30_000_000)
    assert figures["xishan"] == (1, 1, 1, 1.0, 0)
    assert figures["huishan"] == (0, 0, 0, None, 0)
    total = report["total"]
    assert (total["needs"], total["needs_no_bank"], total["disbursed_fen"]) == (6, 5, 110_000_000)
    clusters = _get(client, "areas", group_by="cluster", **PERIOD).json()
    by_cluster = {g["key"]: g for g in clusters["groups"]}
    assert (by_cluster["ic"]["needs"], by_cluster["ic"]["needs_no_bank"]) == (4, 3)
    assert (by_cluster["iot"]["enterprises"], by_cluster["iot"]["disbursed_fen"]) == (1, 30_000_000)


def test_the_answers_as_csv_and_xlsx(client, book) -> None:
    r = _get(client, "conversion", format="csv", **PERIOD)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["key", "label", "leads"]
    assert [line[1] for line in lines[1:]] == ["甲银行", "乙银行", "丙银行", "全市"]
    x = _get(client, "stalls", format="xlsx")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.open")
    sheet = load_workbook(io.BytesIO(x.content)).active
    cells = [row for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "stage" and any(row[1] == "不在服务区域" for row in cells)
    a = _get(client, "areas", group_by="cluster", format="csv", **PERIOD)
    assert a.status_code == 200 and "合计" in a.content.decode("utf-8-sig")


def test_a_formula_in_a_bank_name_stays_text(client, session) -> None:
    hostile = _bank(client, '=HYPERLINK("http://x","y")')
    enterprise = create_enterprise(client)
    add_lead(session, hostile, enterprise, "2026-11-02 09:00", "new")
    r = _get(client, "conversion", format="csv", **PERIOD)
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert any(line[1].startswith("'=HYPERLINK") for line in lines)


@pytest.mark.parametrize("path", ["conversion", "stalls", "areas"])
def test_the_answers_are_the_office_s(client, as_role, book, path) -> None:
    banker = as_role("bank", bank_code=book["a"])
    assert banker.get(f"/api/v1/metrics/{path}").status_code == 403
    firm = create_enterprise(client)
    assert (
        as_role("enterprise", enterprise_id=firm["id"]).get(f"/api/v1/metrics/{path}").status_code
        == 403
    )


def test_bad_queries_are_422(client) -> None:
    bad = client.get(
        "/api/v1/metrics/conversion", params={"from": "2026-12-01", "to": "2026-11-01"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"
    group = client.get("/api/v1/metrics/areas", params={"group_by": "street"})
    assert group.status_code == 422
    fmt = client.get("/api/v1/metrics/stalls", params={"format": "pdf"})
    assert fmt.status_code == 422


def test_the_private_filter_keeps_to_private_enterprises(client, book) -> None:
    # the book's enterprises have no recorded ownership: in neither 民营 nor not
    report = _get(client, "conversion", private="true", **PERIOD).json()
    assert (report["groups"], report["city"]["leads"], report["city"]["contact_rate"]) == (
        [],
        0,
        None,
    )
    areas = _get(client, "areas", private="false", **PERIOD).json()
    assert areas["total"]["needs"] == 0

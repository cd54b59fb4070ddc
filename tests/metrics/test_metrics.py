"""Office metrics: the pure aggregations against hand-computed figures, then the four
reports through the API (JSON and CSV) on leads written with chosen times and dates."""

import csv
import io
from datetime import UTC, date, datetime
from fractions import Fraction
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, col, select

from service.leads.models import Lead, LeadSource
from service.leads.sla import contact_due_date
from service.leads.states import LeadStatus
from service.metrics import exports, lead_figures, numbers
from service.metrics.queries import LeadRow
from service.taxonomy.models import LprRate
from tests.factories import bank_payload, create_enterprise, product_payload

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = "2026-11-30 12:00 +0800"  # every report below is read on this business day
_subject = count(1)


def at(text: str) -> datetime:
    """A Shanghai wall-clock time as the UTC timestamp the database stores."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


# --- pure aggregations ----------------------------------------------------------------------


def row(**fields: Any) -> LeadRow:
    base: dict[str, Any] = {
        "lead_id": 1,
        "bank_code": "a",
        "bank_name": "甲银行",
        "product_code": "a-1",
        "product_name": "锡科贷",
        "scheme": "xikedai",
        "cluster_code": "ic",
        "cluster_name": "集成电路",
        "district_code": "xinwu",
        "district_name": "新吴区",
        "size_class": "small",
        "status": "new",
        "created_at": at("2026-11-02 09:00"),
    }
    base.update(fields)
    return LeadRow(**base)


def test_median_and_nearest_rank_p90() -> None:
    assert numbers.median([3, 1, 2]) == 2
    assert numbers.median([4, 1, 3, 2]) == Fraction(5, 2)  # (2 + 3) / 2
    assert numbers.median([]) is None
    # nearest rank: the ⌈0.9·n⌉-th smallest; n = 10 → 9th, n = 11 → ⌈9.9⌉ = 10th, n = 1 → 1st
    assert numbers.percentile_nearest_rank(range(1, 11), 90) == 9
    assert numbers.percentile_nearest_rank(range(1, 12), 90) == 10
    assert numbers.percentile_nearest_rank([7], 90) == 7
    assert numbers.percentile_nearest_rank([], 90) is None


def test_rounding_is_half_up_and_ratios_of_nothing_are_null() -> None:
    assert numbers.rounded(Fraction(1, 8), 2) == 0.13  # 0.125, half up
    assert numbers.rounded(Fraction(-1, 8), 2) == -0.13  # away from zero
    assert numbers.ratio(2, 3) == 0.6667
    assert numbers.ratio(1, 0) is None


def test_lpr_in_force_is_the_last_fixing_on_or_before_the_date() -> None:
    history = [(date(2024, 10, 21), 310), (date(2025, 5, 20), 300)]
    assert numbers.lpr_in_force(history, date(2024, 10, 20)) is None
    assert numbers.lpr_in_force(history, date(2025, 5, 19)) == 310
    assert numbers.lpr_in_force(history, date(2025, 5, 20)) == 300


def test_funnel_counts_a_lead_at_every_stage_it_passed() -> None:
    rows = [
        # contacted without being marked viewed, then declined: viewed and contacted
        row(status="declined", first_contact_at=at("2026-11-02 10:00"), declined_reason="other"),
        # the status alone says approved
        row(status="approved"),
        row(status="withdrawn", viewed_at=at("2026-11-02 10:00")),
    ]
    groups, total = lead_figures.funnel(rows, "bank", SHANGHAI)
    assert [g.key for g in groups] == ["a"] and groups[0] == total.model_copy(
        update={"key": "a", "label": "甲银行"}
    )
    assert (total.leads, total.viewed, total.contacted, total.approved, total.disbursed) == (
        3,
        3,
        2,
        1,
        0,
    )
    assert (total.declined, total.withdrawn) == (1, 1)
    assert (total.viewed_rate, total.contacted_rate, total.approved_rate) == (1.0, 0.6667, 0.3333)


def test_a_lead_closed_without_contact_is_judged_on_its_closing_date() -> None:
    # created Mon 2026-11-02, due Thu 11-05 (3 working days)
    due = date(2026, 11, 5)
    today = date(2026, 11, 30)
    in_time = row(status="declined", contact_due_date=due, closed_at=at("2026-11-05 17:00"))
    too_late = row(status="withdrawn", contact_due_date=due, closed_at=at("2026-11-06 09:00"))
    # 2026-11-05 23:30 in Shanghai is still 11-05 there (15:30 UTC)
    late_evening = row(contact_due_date=due, first_contact_at=at("2026-11-05 23:30"))
    flagged = row(contact_due_date=due, first_contact_at=at("2026-11-03 09:00"))
    flagged = LeadRow(**{**flagged.__dict__, "sla_breached_at": at("2026-11-03 00:05")})
    assert not lead_figures.breached(in_time, SHANGHAI, today)
    assert lead_figures.breached(too_late, SHANGHAI, today)
    assert not lead_figures.breached(late_evening, SHANGHAI, today)
    assert lead_figures.breached(flagged, SHANGHAI, today)
    # still open and uncontacted: not breached on the due date itself, breached the day after
    waiting = row(contact_due_date=due)
    assert not lead_figures.breached(waiting, SHANGHAI, due)
    assert lead_figures.breached(waiting, SHANGHAI, date(2026, 11, 6))


def test_amounts_weight_rates_and_spreads_by_amount() -> None:
    history = [(date(2024, 10, 21), 310), (date(2025, 5, 20), 300)]
    rows = [
        row(disbursed_date=date(2025, 5, 19), disbursed_amount_fen=300, disbursed_rate_bp=350),
        row(disbursed_date=date(2025, 5, 20), disbursed_amount_fen=100, disbursed_rate_bp=330),
        # before any fixing: counted in the rate, left out of the spread
        row(disbursed_date=date(2024, 1, 2), disbursed_amount_fen=100, disbursed_rate_bp=400),
    ]
    _, total = lead_figures.amounts(rows, "bank", SHANGHAI, history)
    assert (total.disbursed, total.disbursed_amount_fen) == (3, 500)
    # rate: (350·300 + 330·100 + 400·100) / 500 = 178000 / 500 = 356.0
    assert total.disbursed_avg_rate_bp == 356.0
    # spread: ((350−310)·300 + (330−300)·100) / 400 = 15000 / 400 = 37.5
    assert total.disbursed_avg_spread_bp == 37.5
    assert (total.approved, total.approved_amount_fen, total.approved_avg_rate_bp) == (0, 0, None)


def test_csv_has_a_bom_a_header_and_empty_cells_for_null() -> None:
    data = exports.to_csv(["key", "label", "rate"], [[None, "合计", 0.5]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "key,label,rate\r\n,合计,0.5\r\n"


# --- through the API ------------------------------------------------------------------------


def _bank(client: Any, short_name: str) -> str:
    response = client.post("/api/v1/banks", json=bank_payload(short_name=short_name))
    assert response.status_code == 201, response.text
    return response.json()["code"]


def _product(client: Any, bank_code: str, name: str, scheme: str) -> dict:
    response = client.post(
        "/api/v1/products", json=product_payload(bank_code, name=name, scheme=scheme)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _product_id(session: Session, code: str) -> int:
    from service.products.models import Product

    product = session.exec(select(Product).where(Product.code == code)).one()
    assert product.id is not None
    return product.id


def add_lead(
    session: Session,
    product: dict,
    enterprise: dict,
    created: str,
    status: str = "new",
    **fields: Any,
) -> Lead:
    """A lead with chosen times (Shanghai wall clock, as text) and its real due date."""
    created_at = at(created)
    lead = Lead(
        subject_key=f"metrics:{next(_subject)}",
        enterprise_id=enterprise["id"],
        bank_code=product["bank_code"],
        product_id=_product_id(session, product["code"]),
        product_version=product["version"],
        config_version=1,
        score_centi=8000,
        source=LeadSource.need,
        status=LeadStatus(status),
        seq=next(_subject),
        contact_due_date=contact_due_date(created_at.astimezone(SHANGHAI).date(), 3),
        created_at=created_at,
    )
    for name, value in fields.items():
        setattr(lead, name, at(value) if name.endswith("_at") else value)
    session.add(lead)
    session.flush()
    return lead


@pytest.fixture
def book(client: Any, session: Session) -> dict:
    """Nine leads at two banks (Shanghai times):

    甲银行, product 甲锡科贷 (xikedai), enterprise in ic / xinwu:
      L1 created Mon 11-02 09:00, viewed 10:00, contacted 15:00 (6 h, 0 working days),
         approved 11-05 100万 at 330 bp, disbursed 11-10 80万 at 320 bp
      L2 created Tue 11-03 09:00, contacted Wed 11-04 09:20 (24 h 20 min, 1 working day)
      L3 created Wed 11-04 09:00, contacted 11:00 (2 h, 0), declined insufficient_collateral
      L4 created Tue 10-20 09:00, never touched: due Fri 10-23, breached by 11-30
      L9 created Fri 11-27 09:00, never touched: due Wed 12-02, not yet due on 11-30
    乙银行, product 乙自营贷 (own), enterprise in iot / liangxi:
      L5 created Mon 11-02 09:00, contacted 21:00 (12 h, 0), approved 11-06 50万 at 310 bp
      L6 created Thu 11-05 09:00, viewed 10:00, withdrawn 11-06 10:00 uncontacted
         (due Tue 11-10: closed in time, no breach)
      L7 created Sun 11-01 00:30 (still 10-31 in UTC), declined credit_history on 11-06
         uncontacted (due Wed 11-04: closed late, a breach)
      L8 created Tue 11-10 09:00, contacted Mon 11-16 09:00 (144 h, 4 working days: 11, 12,
         13, 16), due Fri 11-13: a breach; declined insufficient_collateral
    """
    a, b = _bank(client, "甲银行"), _bank(client, "乙银行")
    pa = _product(client, a, "甲锡科贷", "xikedai")
    pb = _product(client, b, "乙自营贷", "own")
    ea = create_enterprise(client, cluster_code="ic", district_code="xinwu")
    eb = create_enterprise(client, cluster_code="iot", district_code="liangxi")
    add_lead(
        session,
        pa,
        ea,
        "2026-11-02 09:00",
        "disbursed",
        viewed_at="2026-11-02 10:00",
        first_contact_at="2026-11-02 15:00",
        approved_date=date(2026, 11, 5),
        approved_amount_fen=100_000_000,
        approved_rate_bp=330,
        disbursed_date=date(2026, 11, 10),
        disbursed_amount_fen=80_000_000,
        disbursed_rate_bp=320,
        closed_at="2026-11-10 10:00",
    )
    add_lead(
        session,
        pa,
        ea,
        "2026-11-03 09:00",
        "contacted",
        viewed_at="2026-11-03 09:30",
        first_contact_at="2026-11-04 09:20",
    )
    add_lead(
        session,
        pa,
        ea,
        "2026-11-04 09:00",
        "declined",
        viewed_at="2026-11-04 10:00",
        first_contact_at="2026-11-04 11:00",
        declined_reason="insufficient_collateral",
        closed_at="2026-11-05 10:00",
    )
    l4 = add_lead(session, pa, ea, "2026-10-20 09:00")
    l9 = add_lead(session, pa, ea, "2026-11-27 09:00")
    assert (l4.contact_due_date, l9.contact_due_date) == (date(2026, 10, 23), date(2026, 12, 2))
    add_lead(
        session,
        pb,
        eb,
        "2026-11-02 09:00",
        "approved",
        viewed_at="2026-11-02 21:00",
        first_contact_at="2026-11-02 21:00",
        approved_date=date(2026, 11, 6),
        approved_amount_fen=50_000_000,
        approved_rate_bp=310,
    )
    l6 = add_lead(
        session,
        pb,
        eb,
        "2026-11-05 09:00",
        "withdrawn",
        viewed_at="2026-11-05 10:00",
        closed_at="2026-11-06 10:00",
    )
    l7 = add_lead(
        session,
        pb,
        eb,
        "2026-11-01 00:30",
        "declined",
        declined_reason="credit_history",
        closed_at="2026-11-06 10:00",
    )
    l8 = add_lead(
        session,
        pb,
        eb,
        "2026-11-10 09:00",
        "declined",
        viewed_at="2026-11-10 10:00",
        first_contact_at="2026-11-16 09:00",
        declined_reason="insufficient_collateral",
        closed_at="2026-11-17 09:00",
    )
    assert (l6.contact_due_date, l7.contact_due_date, l8.contact_due_date) == (
        date(2026, 11, 10),
        date(2026, 11, 4),
        date(2026, 11, 13),
    )
    assert l7.created_at.month == 10  # UTC; its Shanghai month is November
    return {"a": a, "b": b, "pa": pa, "pb": pb, "ea": ea, "eb": eb}


PERIOD = {"from": "2026-10-01", "to": "2026-11-30"}


def _get(client: Any, path: str, **params: Any) -> Any:
    with time_machine.travel(TODAY, tick=False):
        return client.get(f"/api/v1/metrics/{path}", params={**PERIOD, **params})


def _ok(client: Any, path: str, **params: Any) -> dict:
    response = _get(client, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def _counts(row: dict) -> tuple[int, ...]:
    names = ("leads", "viewed", "contacted", "approved", "disbursed", "declined", "withdrawn")
    return tuple(row[n] for n in names)


def _rates(row: dict) -> tuple[float | None, ...]:
    names = ("viewed", "contacted", "approved", "disbursed", "declined", "withdrawn")
    return tuple(row[f"{n}_rate"] for n in names)


def test_funnel_by_bank(client, book) -> None:
    report = _ok(client, "funnel", group_by="bank")
    assert report["scope"] == {
        "from": "2026-10-01",
        "to": "2026-11-30",
        "bank": None,
        "product": None,
        "ownership": None,
        "private": None,
        "as_of": "2026-11-30",
    }
    a, b = report["groups"]
    assert (a["key"], a["label"], b["key"], b["label"]) == (
        book["a"],
        "甲银行",
        book["b"],
        "乙银行",
    )
    # 甲: 5 leads; viewed L1 L2 L3; contacted the same; approved and disbursed L1; declined L3
    assert _counts(a) == (5, 3, 3, 1, 1, 1, 0)
    assert _rates(a) == (0.6, 0.6, 0.2, 0.2, 0.2, 0.0)  # 3/5 3/5 1/5 1/5 1/5 0/5
    # 乙: 4 leads; viewed L5 L6 L8; contacted L5 L8; approved L5; declined L7 L8; withdrawn L6
    assert _counts(b) == (4, 3, 2, 1, 0, 2, 1)
    assert _rates(b) == (0.75, 0.5, 0.25, 0.0, 0.5, 0.25)
    total = report["total"]
    assert (total["key"], total["label"]) == (None, "合计")
    assert _counts(total) == (9, 6, 5, 2, 1, 3, 1)
    # 6/9 = 0.66667, 5/9 = 0.55556, 2/9 = 0.22222, 1/9 = 0.11111, 3/9 = 0.33333, 1/9
    assert _rates(total) == (0.6667, 0.5556, 0.2222, 0.1111, 0.3333, 0.1111)


def test_funnel_by_month_uses_the_shanghai_creation_date(client, book) -> None:
    report = _ok(client, "funnel", group_by="month")
    october, november = report["groups"]
    # October: L4 only (L7 was created 11-01 00:30 in Shanghai, 10-31 in UTC)
    assert (october["key"], october["label"]) == ("2026-10", "2026-10")
    assert _counts(october) == (1, 0, 0, 0, 0, 0, 0)
    assert _rates(october) == (0.0,) * 6
    # November: the other 8; viewed 6, contacted 5, approved 2, disbursed 1, declined 3
    # (L3 L7 L8), withdrawn 1 → 6/8 5/8 2/8 1/8 3/8 1/8
    assert november["key"] == "2026-11"
    assert _counts(november) == (8, 6, 5, 2, 1, 3, 1)
    assert _rates(november) == (0.75, 0.625, 0.25, 0.125, 0.375, 0.125)
    # the period is on the Shanghai date too: October holds L4 alone, 11-01 picks up L7
    only_october = _ok(client, "funnel", group_by="month", to="2026-10-31")
    assert [g["key"] for g in only_october["groups"]] == ["2026-10"]
    first_day = _ok(client, "funnel", group_by="bank", **{"from": "2026-11-01", "to": "2026-11-01"})
    assert _counts(first_day["total"]) == (1, 0, 0, 0, 0, 1, 0)


def test_funnel_by_the_other_dimensions(client, book) -> None:
    def keyed(group_by: str, **params: Any) -> dict:
        report = _ok(client, "funnel", group_by=group_by, **params)
        return {g["key"]: (g["label"], g["leads"], g["disbursed"]) for g in report["groups"]}

    assert keyed("scheme") == {"xikedai": ("锡科贷", 5, 1), "own": ("银行自营产品", 4, 0)}
    assert keyed("cluster") == {"ic": ("集成电路", 5, 1), "iot": ("物联网", 4, 0)}
    assert keyed("district") == {"xinwu": ("新吴区", 5, 1), "liangxi": ("梁溪区", 4, 0)}
    assert keyed("product") == {
        book["pa"]["code"]: ("甲锡科贷（甲银行）", 5, 1),
        book["pb"]["code"]: ("乙自营贷（乙银行）", 4, 0),
    }
    size = book["ea"]["size_class"]
    assert book["eb"]["size_class"] == size  # the same figures: one size group
    assert keyed("size_class") == {size: (lead_figures.SIZE_LABEL[size], 9, 1)}
    # filters: one bank, one product
    assert keyed("bank", bank=book["b"]) == {book["b"]: ("乙银行", 4, 0)}
    assert keyed("bank", product=book["pa"]["code"]) == {book["a"]: ("甲银行", 5, 1)}


def test_response_times_per_bank(client, book) -> None:
    report = _ok(client, "response-times")
    a, b = report["groups"]
    # 甲: hours 6, 24.33, 2 → sorted 2, 6, 24.33: median 6.0; p90 rank ⌈2.7⌉ = 3 → 24.3
    # working days 0, 1, 0 → median 0; due passed L1-L4 (L9 due 12-02); breach L4
    assert a == {
        "key": book["a"],
        "label": "甲银行",
        "leads": 5,
        "contacted": 3,
        "median_hours": 6.0,
        "p90_hours": 24.3,
        "median_working_days": 0.0,
        "due_passed": 4,
        "measured": 4,
        "breaches": 1,
        "breach_rate": 0.25,
    }
    # 乙: hours 12, 144 → median (12 + 144) / 2 = 78.0; p90 rank ⌈1.8⌉ = 2 → 144.0
    # working days 0, 4 → median 2.0; all four due dates passed; breaches L7 and L8
    assert b == {
        "key": book["b"],
        "label": "乙银行",
        "leads": 4,
        "contacted": 2,
        "median_hours": 78.0,
        "p90_hours": 144.0,
        "median_working_days": 2.0,
        "due_passed": 4,
        "measured": 4,
        "breaches": 2,
        "breach_rate": 0.5,
    }
    # all: 2, 6, 12, 24.33, 144 → median 12.0, p90 rank ⌈4.5⌉ = 5 → 144.0; days 0,0,0,1,4
    total = report["total"]
    assert (total["median_hours"], total["p90_hours"], total["median_working_days"]) == (
        12.0,
        144.0,
        0.0,
    )
    assert (total["leads"], total["measured"], total["breaches"], total["breach_rate"]) == (
        9,
        8,
        3,
        0.375,
    )


def test_a_deadline_across_national_day(client, session) -> None:
    bank = _bank(client, "丙银行")
    product = _product(client, bank, "丙科技贷", "own")
    firm = create_enterprise(client)
    # Created Wed 09-30; 10-01..10-07 are holidays and Sat 10-10 a make-up working day:
    # the three working days are 10-08, 10-09, 10-10.
    late = add_lead(
        session,
        product,
        firm,
        "2026-09-30 10:00",
        "contacted",
        first_contact_at="2026-10-12 10:00",
    )
    on_time = add_lead(
        session,
        product,
        firm,
        "2026-09-30 10:00",
        "contacted",
        first_contact_at="2026-10-10 16:00",
    )
    assert late.contact_due_date == on_time.contact_due_date == date(2026, 10, 10)
    report = _ok(client, "response-times", bank=bank, **{"from": "2026-09-30", "to": "2026-09-30"})
    (row,) = report["groups"]
    # hours: 12 days = 288, 10 days 6 h = 246 → median 267.0, p90 rank 2 → 288.0
    # working days: (09-30, 10-12] = 10-08 10-09 10-10 10-12 = 4; (09-30, 10-10] = 3 → 3.5
    assert (row["median_hours"], row["p90_hours"], row["median_working_days"]) == (
        267.0,
        288.0,
        3.5,
    )
    assert (row["leads"], row["measured"], row["breaches"], row["breach_rate"]) == (2, 2, 1, 0.5)


def _lpr_1y(session: Session, on: date) -> int:
    rate = session.exec(
        select(LprRate.rate_bp)
        .where(LprRate.tenor == "1Y", LprRate.effective_date <= on)
        .order_by(col(LprRate.effective_date).desc())
    ).first()
    assert rate is not None, f"no 1-year LPR in force on {on}"
    return rate


def test_amounts_rates_and_spreads(client, session, book) -> None:
    lpr_a_approved = _lpr_1y(session, date(2026, 11, 5))
    lpr_a_disbursed = _lpr_1y(session, date(2026, 11, 10))
    lpr_b_approved = _lpr_1y(session, date(2026, 11, 6))
    report = _ok(client, "amounts", group_by="bank")
    a, b = report["groups"]
    assert (a["approved"], a["approved_amount_fen"], a["approved_avg_rate_bp"]) == (
        1,
        100_000_000,
        330.0,
    )
    assert a["approved_avg_spread_bp"] == 330 - lpr_a_approved
    assert (a["disbursed"], a["disbursed_amount_fen"], a["disbursed_avg_rate_bp"]) == (
        1,
        80_000_000,
        320.0,
    )
    assert a["disbursed_avg_spread_bp"] == 320 - lpr_a_disbursed
    assert (b["approved"], b["approved_amount_fen"], b["approved_avg_rate_bp"]) == (
        1,
        50_000_000,
        310.0,
    )
    assert (b["disbursed"], b["disbursed_amount_fen"], b["disbursed_avg_rate_bp"]) == (0, 0, None)
    assert b["disbursed_avg_spread_bp"] is None
    total = report["total"]
    # approved: (330·100万 + 310·50万) / 150万 = 970 / 3 = 323.33 → 323.3
    assert (total["approved"], total["approved_amount_fen"]) == (2, 150_000_000)
    assert total["approved_avg_rate_bp"] == 323.3
    # spread: ((330 − lpr₁)·2 + (310 − lpr₂)·1) / 3, rounded to 0.1 bp
    spread = Fraction((330 - lpr_a_approved) * 2 + (310 - lpr_b_approved), 3)
    assert total["approved_avg_spread_bp"] == numbers.rounded(spread, 1)
    by_scheme = _ok(client, "amounts", group_by="scheme")
    assert [(g["key"], g["label"], g["approved"]) for g in by_scheme["groups"]] == [
        ("own", "银行自营产品", 1),
        ("xikedai", "锡科贷", 1),
    ]
    by_month = _ok(client, "amounts", group_by="month")
    assert [(g["key"], g["approved_amount_fen"]) for g in by_month["groups"]] == [
        ("2026-10", 0),
        ("2026-11", 150_000_000),
    ]


def test_decline_reasons(client, book) -> None:
    overall = _ok(client, "decline-reasons")
    assert overall["group_by"] == "none" and overall["groups"] == []
    # 3 declined: L3 and L8 insufficient collateral (2/3), L7 credit history (1/3)
    assert overall["total"] == {
        "key": None,
        "label": "合计",
        "declined": 3,
        "reasons": [
            {
                "reason": "insufficient_collateral",
                "label": "担保或抵押不足",
                "count": 2,
                "share": 0.6667,
            },
            {"reason": "credit_history", "label": "征信记录不良", "count": 1, "share": 0.3333},
        ],
    }
    per_bank = _ok(client, "decline-reasons", group_by="bank")
    a, b = per_bank["groups"]
    assert [(r["reason"], r["share"]) for r in a["reasons"]] == [("insufficient_collateral", 1.0)]
    # a tie keeps the reasons' catalogue order
    assert [(r["reason"], r["share"]) for r in b["reasons"]] == [
        ("credit_history", 0.5),
        ("insufficient_collateral", 0.5),
    ]
    per_product = _ok(client, "decline-reasons", group_by="product")
    assert [(g["key"], g["declined"]) for g in per_product["groups"]] == sorted(
        [(book["pa"]["code"], 1), (book["pb"]["code"], 2)]
    )


def _csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="finmatch_')
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("funnel", {"group_by": "bank"}),
        ("funnel", {"group_by": "month"}),
        ("response-times", {}),
        ("amounts", {"group_by": "product"}),
    ],
)
def test_csv_matches_the_json(client, book, path: str, params: dict) -> None:
    report = _ok(client, path, **params)
    lines = _csv_rows(_get(client, path, format="csv", **params))
    expected = [*report["groups"], report["total"]]
    assert len(lines) == len(expected)
    for line, row in zip(lines, expected, strict=True):
        assert list(line) == list(row)  # the header names the JSON fields, in order
        assert line == {name: _cell(value) for name, value in row.items()}
    assert lines[-1]["label"] == "合计"


def test_decline_reasons_csv_matches_the_json(client, book) -> None:
    report = _ok(client, "decline-reasons", group_by="bank")
    response = _get(client, "decline-reasons", group_by="bank", format="csv")
    lines = _csv_rows(response)
    assert "by-bank" in response.headers["content-disposition"]
    expected = [
        {
            "key": _cell(group["key"]),
            "label": group["label"],
            "declined": str(group["declined"]),
            "reason": r["reason"],
            "reason_label": r["label"],
            "count": str(r["count"]),
            "share": str(r["share"]),
        }
        for group in [*report["groups"], report["total"]]
        for r in group["reasons"]
    ]
    assert lines == expected
    assert lines[-1]["reason_label"] == "征信记录不良" and lines[-1]["label"] == "合计"


def _problem(response: Any, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    return body


def test_bad_parameters_are_problems(client) -> None:
    bad = _problem(_get(client, "funnel", group_by="city"), 422, "validation_error")
    for allowed in ("bank", "product", "scheme", "cluster", "district", "size_class", "month"):
        assert allowed in bad["detail"]
    _problem(_get(client, "funnel"), 422, "validation_error")  # group_by is required
    _problem(_get(client, "amounts", group_by="cluster"), 422, "validation_error")
    _problem(_get(client, "decline-reasons", group_by="month"), 422, "validation_error")
    _problem(_get(client, "funnel", group_by="bank", format="xlsx"), 422, "validation_error")
    period = _get(client, "response-times", **{"from": "2026-11-30", "to": "2026-11-01"})
    assert _problem(period, 422, "invalid_period")["field"] == "from"
    _problem(_get(client, "amounts", group_by="bank", bank="no-such-bank"), 404, "bank_not_found")
    _problem(_get(client, "funnel", group_by="bank", product="no-such"), 404, "product_not_found")


@pytest.mark.parametrize(
    "path", ["funnel?group_by=bank", "response-times", "amounts?group_by=bank", "decline-reasons"]
)
def test_only_the_office_reads_metrics(client, as_role, anonymous, path: str) -> None:
    bank = _bank(client, "丁银行")
    firm = create_enterprise(client)
    for caller in (
        as_role("bank", bank_code=bank),
        as_role("enterprise", enterprise_id=firm["id"]),
    ):
        _problem(caller.get(f"/api/v1/metrics/{path}"), 403, "forbidden_role")
    assert anonymous.get(f"/api/v1/metrics/{path}").status_code == 401
    assert client.get(f"/api/v1/metrics/{path}").status_code == 200


def test_the_operations_are_documented(app) -> None:
    paths = app.openapi()["paths"]
    for path in ("funnel", "response-times", "amounts", "decline-reasons"):
        operation = paths[f"/api/v1/metrics/{path}"]["get"]
        assert operation["tags"] == ["metrics"]
        assert "text/csv" in operation["responses"]["200"]["content"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"from", "to", "bank", "product", "format"} <= names

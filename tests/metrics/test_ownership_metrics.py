"""The office's figures by ownership (控股情况) and for 民营企业 alone: every report takes
`private` and `ownership`, the lead reports group by ownership (未知 last), and what counts
as 民营 follows the office's mapping."""

from datetime import date
from typing import Any

import pytest
import time_machine
from sqlmodel import Session

from tests.factories import create_enterprise
from tests.metrics.test_metrics import TODAY, _bank, _product, add_lead

PERIOD = {"from": "2026-10-01", "to": "2026-11-30"}


@pytest.fixture
def book(client: Any, session: Session) -> dict:
    """One bank, one product, five enterprises of different ownership, one lead each:

    private     L1 approved 11-05 100万 at 330 bp, disbursed 11-10 100万 at 320 bp
    collective  L2 approved 11-06 50万 at 310 bp, disbursed 11-09 50万 at 300 bp
    foreign     L3 approved 11-06 200万 at 280 bp
    state       L4 declined (credit_history)
    unknown     L5 new
    """
    bank = _bank(client, "甲银行")
    product = _product(client, bank, "甲锡科贷", "xikedai")
    firms = {
        code: create_enterprise(client, ownership=code)
        for code in ("private", "collective", "foreign", "state")
    }
    firms["unknown"] = create_enterprise(client)
    add_lead(
        session,
        product,
        firms["private"],
        "2026-11-02 09:00",
        "disbursed",
        first_contact_at="2026-11-02 15:00",
        approved_date=date(2026, 11, 5),
        approved_amount_fen=100_000_000,
        approved_rate_bp=330,
        disbursed_date=date(2026, 11, 10),
        disbursed_amount_fen=100_000_000,
        disbursed_rate_bp=320,
    )
    add_lead(
        session,
        product,
        firms["collective"],
        "2026-11-03 09:00",
        "disbursed",
        first_contact_at="2026-11-03 15:00",
        approved_date=date(2026, 11, 6),
        approved_amount_fen=50_000_000,
        approved_rate_bp=310,
        disbursed_date=date(2026, 11, 9),
        disbursed_amount_fen=50_000_000,
        disbursed_rate_bp=300,
    )
    add_lead(
        session,
        product,
        firms["foreign"],
        "2026-11-04 09:00",
        "approved",
        first_contact_at="2026-11-04 10:00",
        approved_date=date(2026, 11, 6),
        approved_amount_fen=200_000_000,
        approved_rate_bp=280,
    )
    add_lead(
        session,
        product,
        firms["state"],
        "2026-11-05 09:00",
        "declined",
        declined_reason="credit_history",
        closed_at="2026-11-06 10:00",
    )
    add_lead(session, product, firms["unknown"], "2026-11-06 09:00")
    return {"bank": bank, "product": product, "firms": firms}


def _get(client: Any, path: str, **params: Any) -> Any:
    with time_machine.travel(TODAY, tick=False):
        return client.get(f"/api/v1/metrics/{path}", params={**PERIOD, **params})


def _ok(client: Any, path: str, **params: Any) -> dict:
    response = _get(client, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_funnel_by_ownership_in_the_statistics_order_unknown_last(client, book) -> None:
    report = _ok(client, "funnel", group_by="ownership")
    assert [(g["key"], g["label"], g["leads"], g["disbursed"]) for g in report["groups"]] == [
        ("state", "国有控股", 1, 0),
        ("collective", "集体控股", 1, 1),
        ("private", "私人控股", 1, 1),
        ("foreign", "外商控股", 1, 0),
        (None, "未知", 1, 0),
    ]
    assert report["total"]["leads"] == 5


def test_private_enterprises_alone(client, book) -> None:
    report = _ok(client, "funnel", group_by="bank", private="true")
    assert report["scope"]["private"] is True and report["scope"]["ownership"] is None
    assert (report["total"]["leads"], report["total"]["disbursed"]) == (2, 2)
    # 民营 loans and their cost: (320·100万 + 300·50万) / 150万 = 313.33 → 313.3
    amounts = _ok(client, "amounts", group_by="ownership", private="true")
    assert [g["key"] for g in amounts["groups"]] == ["collective", "private"]
    total = amounts["total"]
    assert (total["disbursed"], total["disbursed_amount_fen"]) == (2, 150_000_000)
    assert total["disbursed_avg_rate_bp"] == 313.3
    # Known and not 民营: the foreign and the state-controlled enterprise; unknown in neither.
    others = _ok(client, "funnel", group_by="ownership", private="false")
    assert [g["key"] for g in others["groups"]] == ["state", "foreign"]
    assert _ok(client, "response-times", private="false")["total"]["leads"] == 2


def test_one_ownership_type_or_the_unknown(client, book) -> None:
    foreign = _ok(client, "amounts", group_by="bank", ownership="foreign")
    assert foreign["scope"]["ownership"] == "foreign"
    assert foreign["total"]["approved_amount_fen"] == 200_000_000
    by_name = _ok(client, "funnel", group_by="bank", ownership="外商控股")
    assert by_name["scope"]["ownership"] == "foreign" and by_name["total"]["leads"] == 1
    unknown = _ok(client, "funnel", group_by="ownership", ownership="unknown")
    assert [(g["key"], g["label"]) for g in unknown["groups"]] == [(None, "未知")]
    declines = _ok(client, "decline-reasons", group_by="ownership")
    assert [(g["key"], g["label"], g["declined"]) for g in declines["groups"]] == [
        ("state", "国有控股", 1)
    ]


def test_what_counts_as_private_follows_the_office(client, book) -> None:
    client.patch("/api/v1/reference/ownership-types/collective", json={"private": False})
    report = _ok(client, "funnel", group_by="ownership", private="true")
    assert [g["key"] for g in report["groups"]] == ["private"]
    assert _ok(client, "funnel", group_by="bank", private="false")["total"]["leads"] == 3


def test_csv_follows_the_filter(client, book) -> None:
    response = _get(client, "amounts", group_by="ownership", private="true", format="csv")
    assert response.status_code == 200
    assert "_private_" in response.headers["content-disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key,label,approved")
    assert [line.split(",")[1] for line in lines[1:]] == ["集体控股", "私人控股", "合计"]
    other = _get(client, "funnel", group_by="bank", ownership="unknown", format="csv")
    assert "_unknown_" in other.headers["content-disposition"]
    assert (
        "_non-private_"
        in _get(client, "funnel", group_by="bank", private="false", format="csv").headers[
            "content-disposition"
        ]
    )


def _loan(client: Any, bank: str, firm: int, maturity: str, contract: str) -> None:
    response = client.post(
        "/api/v1/loans",
        json={
            "contract_no": contract,
            "bank_code": bank,
            "enterprise_id": firm,
            "principal_fen": 100_000_000,
            "rate_bp": 345,
            "disbursed_date": "2025-12-01",
            "maturity_date": maturity,
        },
    )
    assert response.status_code == 201, response.text


def test_renewals_and_maturities_take_the_filter(client, book) -> None:
    firms = book["firms"]
    with time_machine.travel("2026-11-27 12:00 +08:00", tick=False):
        _loan(client, book["bank"], firms["private"]["id"], "2026-12-20", "P1")
        _loan(client, book["bank"], firms["foreign"]["id"], "2026-12-21", "F1")
        _loan(client, book["bank"], firms["unknown"]["id"], "2026-12-22", "U1")
        december = {"from": "2026-12-01", "to": "2026-12-31"}

        def total(path: str, field: str, **params: Any) -> int:
            response = client.get(f"/api/v1/metrics/{path}", params={**december, **params})
            assert response.status_code == 200, response.text
            return response.json()["total"][field]

        assert total("renewals", "maturing") == 3
        assert total("renewals", "maturing", private="true") == 1
        assert total("renewals", "maturing", private="false") == 1
        assert total("maturities", "loans", ownership="unknown") == 1
        assert total("maturities", "loans", ownership="foreign") == 1
        scope = client.get(
            "/api/v1/metrics/maturities", params={**december, "private": "true"}
        ).json()["scope"]
        assert scope["private"] is True


@pytest.mark.parametrize(
    "path",
    [
        "funnel?group_by=ownership",
        "amounts?group_by=ownership",
        "decline-reasons?group_by=ownership",
        "response-times",
        "renewals",
        "maturities",
    ],
)
def test_bad_values_and_wrong_roles(client, as_role, anonymous, path: str) -> None:
    sep = "&" if "?" in path else "?"
    bad = client.get(f"/api/v1/metrics/{path}{sep}private=perhaps")
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    unknown = client.get(f"/api/v1/metrics/{path}{sep}ownership=foriegn")
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["code"] == "unknown_ownership"
    assert unknown.json()["suggestions"][0]["value"] == "foreign"
    firm = create_enterprise(client)
    for caller in (
        as_role("bank", bank_code="jsbank-wx"),
        as_role("enterprise", enterprise_id=firm["id"]),
    ):
        refused = caller.get(f"/api/v1/metrics/{path}{sep}private=true")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"
    assert anonymous.get(f"/api/v1/metrics/{path}{sep}private=true").status_code == 401
    assert client.get(f"/api/v1/metrics/{path}{sep}private=true").status_code == 200


def test_the_filters_are_documented(app) -> None:
    paths = app.openapi()["paths"]
    for path in (
        "funnel",
        "response-times",
        "amounts",
        "decline-reasons",
        "renewals",
        "maturities",
    ):
        operation = paths[f"/api/v1/metrics/{path}"]["get"]
        assert {"ownership", "private"} <= {p["name"] for p in operation["parameters"]}

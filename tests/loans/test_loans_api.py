"""Loans through the API: recording them (one by one and from a disbursed lead), who sees
which, the reminder run with its events, webhooks and catch-up, renewal cases and the bridge
fund."""

from typing import Any

import pytest
import time_machine
from sqlmodel import Session, select

from service.leads.models import BankEvent
from service.loans.models import LoanReminder
from service.loans.reminders import run_reminder_job
from service.taxonomy.workdays import official_years_as
from tests.factories import bank_payload, create_enterprise, credit_code, product_payload
from tests.leads.test_webhooks import Receiver, allow_local_receivers


@pytest.fixture
def bank(client) -> str:
    return client.post("/api/v1/banks", json=bank_payload()).json()["code"]


@pytest.fixture
def firm(client) -> dict:
    return create_enterprise(client)  # small (120 people), in Wuxi, grade A


def _loan(client, bank: str, enterprise_id: int, maturity: str, **overrides: Any) -> dict:
    body = {
        "contract_no": f"C-{maturity}-{enterprise_id}-{len(overrides)}",
        "bank_code": bank,
        "enterprise_id": enterprise_id,
        "principal_fen": 500_000_000,
        "rate_bp": 345,
        "disbursed_date": "2025-06-01",
        "maturity_date": maturity,
        **overrides,
    }
    response = client.post("/api/v1/loans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _run(client, as_of: str) -> dict:
    response = client.post("/api/v1/reminders/run", params={"as_of": as_of})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_bank_records_a_loan_and_sees_its_schedule(client, as_role, bank, firm) -> None:
    banker = as_role("bank", bank_code=bank)
    response = banker.post(
        "/api/v1/loans",
        json={
            "contract_no": "JS-2026-001",
            "credit_code": firm["credit_code"],
            "principal_fen": 300_000_000,
            "rate_bp": 330,
            "disbursed_date": "2025-03-09",
            "maturity_date": "2026-03-09",
        },
    )
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["bank_code"] == bank and loan["enterprise_id"] == firm["id"]
    assert loan["kind"] == "working_capital" and loan["status"] == "active"
    assert response.headers["etag"] == '"1"'
    # Spring Festival 2026: 30 days before is Sat 02-07 -> Fri 02-06; 15 days before is Sun
    # 02-22 in the holiday -> the make-up working Saturday 02-14; 7 days before is Mon 03-02.
    assert [(s["stage_days"], s["remind_date"], s["sent"]) for s in loan["reminders"]] == [
        (30, "2026-02-06", False),
        (15, "2026-02-14", False),
        (7, "2026-03-02", False),
    ]
    assert loan["no_principal_renewal"]["eligible"] is True
    assert loan["renewal"] is None
    # the same contract number again: 409; another bank's loan: refused
    again = banker.post(
        "/api/v1/loans",
        json={
            "contract_no": "JS-2026-001",
            "credit_code": firm["credit_code"],
            "principal_fen": 1,
            "rate_bp": 1,
            "disbursed_date": "2025-01-01",
            "maturity_date": "2026-01-01",
        },
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_contract_no"
    other = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    refused = banker.post(
        "/api/v1/loans",
        json={
            "contract_no": "X",
            "bank_code": other,
            "enterprise_id": firm["id"],
            "principal_fen": 1,
            "rate_bp": 1,
            "disbursed_date": "2025-01-01",
            "maturity_date": "2026-01-01",
        },
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_bank"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"maturity_date": "2025-05-01"}, "maturity_not_after_disbursement"),
        ({"enterprise_id": 99_999_999}, "unknown_enterprise"),
        (
            {"credit_code": "91320200134757148X", "enterprise_id": None},
            "invalid_credit_code_checksum",
        ),
        ({"principal_fen": 0}, "validation_error"),
        ({"rate_bp": 5000}, "validation_error"),
        ({"product_code": "no-such-product"}, "unknown_product"),
        ({"bank_code": None}, "bank_required"),
    ],
)
def test_bad_loans_are_refused_with_a_reason(client, bank, firm, change, code) -> None:
    body = {
        "contract_no": "BAD-1",
        "bank_code": bank,
        "enterprise_id": firm["id"],
        "principal_fen": 500_000_000,
        "rate_bp": 345,
        "disbursed_date": "2025-06-01",
        "maturity_date": "2026-06-01",
        **change,
    }
    response = client.post("/api/v1/loans", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert client.get("/api/v1/loans", params={"bank": bank}).json()["items"] == []


def test_a_disbursed_lead_becomes_a_loan(client, as_role, bank) -> None:
    client.post(
        "/api/v1/products",
        json=product_payload(
            bank,
            eligibility={"clusters_included": ["ic"]},
            amount_min_fen=10_000_000,
            amount_max_fen=5_000_000_000,
            purposes=["working_capital", "equipment"],
        ),
    ).raise_for_status()
    firm = create_enterprise(client, cluster_code="ic")
    need = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": firm["id"],
            "amount_fen": 200_000_000,
            "term_months": 12,
            "purpose": "equipment",
            "collateral": ["none"],
            "consent_share_details": True,
            "max_banks": 1,
        },
    ).json()
    banker = as_role("bank", bank_code=bank)
    (lead,) = banker.get("/api/v1/leads").json()["items"]
    assert lead["need"]["need_id"] == need["id"]
    for step in (
        {"status": "contacted"},
        {"status": "approved", "amount_fen": 200_000_000, "rate_bp": 340},
    ):
        assert banker.post(f"/api/v1/leads/{lead['id']}/status", json=step).status_code == 200
    done = banker.post(
        f"/api/v1/leads/{lead['id']}/status",
        json={
            "status": "disbursed",
            "amount_fen": 150_000_000,
            "rate_bp": 340,
            "on_date": "2026-01-31",
        },
    )
    assert done.status_code == 200, done.text
    (loan,) = banker.get("/api/v1/loans").json()["items"]
    assert loan["lead_id"] == lead["id"] and loan["source"] == "lead"
    assert loan["contract_no"] == f"FM-L{lead['id']}"
    assert loan["principal_fen"] == 150_000_000 and loan["rate_bp"] == 340
    # the need's 12 months from 01-31: the end of February a year on
    assert loan["disbursed_date"] == "2026-01-31" and loan["maturity_date"] == "2027-01-31"
    assert loan["kind"] == "project"  # an equipment need
    # the enterprise sees its loan; another bank does not
    assert (
        as_role("enterprise", enterprise_id=firm["id"])
        .get(f"/api/v1/loans/{loan['id']}")
        .status_code
        == 200
    )
    stranger = as_role(
        "bank", bank_code=client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    )
    assert stranger.get(f"/api/v1/loans/{loan['id']}").status_code == 404
    assert stranger.get("/api/v1/loans").json()["items"] == []


def test_a_disbursement_needs_a_maturity_it_can_know(client, as_role, bank, firm) -> None:
    product = client.post(
        "/api/v1/products",
        json=product_payload(bank, eligibility={}, amount_min_fen=1, amount_max_fen=10**12),
    ).json()
    applied = as_role("enterprise", enterprise_id=firm["id"]).post(
        "/api/v1/applications", json={"product_code": product["code"], "enterprise_id": firm["id"]}
    )
    assert applied.status_code == 201, applied.text
    lead = applied.json()
    banker = as_role("bank", bank_code=bank)
    banker.post(f"/api/v1/leads/{lead['id']}/status", json={"status": "contacted"})
    banker.post(
        f"/api/v1/leads/{lead['id']}/status",
        json={"status": "approved", "amount_fen": 100_000_000, "rate_bp": 300},
    )
    missing = banker.post(
        f"/api/v1/leads/{lead['id']}/status",
        json={"status": "disbursed", "amount_fen": 100_000_000, "rate_bp": 300},
    )
    assert missing.status_code == 422 and missing.json()["field"] == "maturity_date"
    assert banker.get("/api/v1/loans").json()["items"] == []
    ok = banker.post(
        f"/api/v1/leads/{lead['id']}/status",
        json={
            "status": "disbursed",
            "amount_fen": 100_000_000,
            "rate_bp": 300,
            "on_date": "2026-02-01",
            "maturity_date": "2026-08-01",
            "contract_no": "HT-9",
        },
    )
    assert ok.status_code == 200, ok.text
    (loan,) = banker.get("/api/v1/loans").json()["items"]
    assert (loan["contract_no"], loan["maturity_date"]) == ("HT-9", "2026-08-01")


def test_the_reminder_run_reaches_bank_enterprise_and_office_once(
    client, as_role, session: Session, bank, firm
) -> None:
    other_firm = create_enterprise(client)
    soon = _loan(client, bank, firm["id"], "2026-03-09")
    later = _loan(client, bank, other_firm["id"], "2026-06-30")
    run = _run(client, "2026-02-06")
    assert (run["reminders"], run["late"]) == (1, 0)
    assert run["stages"] == [30, 15, 7]
    banker = as_role("bank", bank_code=bank)
    (reminder,) = banker.get("/api/v1/reminders").json()["items"]
    assert reminder["loan_id"] == soon["id"] and reminder["stage_days"] == 30
    assert reminder["remind_date"] == "2026-02-06" and not reminder["late"]
    assert not reminder["final"]
    # the bank's events carry it (ids and dates only)
    events = banker.get("/api/v1/events").json()["items"]
    (event,) = [e for e in events if e["type"] == "loan.reminder"]
    assert event["data"]["loan_id"] == soon["id"] and event["data"]["stage_days"] == 30
    assert event["data"]["remind_date"] == "2026-02-06" and event["data"]["late"] is False
    # running again, the same day or by another runner, sends nothing more
    assert _run(client, "2026-02-06")["reminders"] == 0
    assert len(banker.get("/api/v1/reminders").json()["items"]) == 1
    # the renewal case is open
    assert banker.get(f"/api/v1/loans/{soon['id']}").json()["renewal"]["status"] == "open"
    # the 15-day stage on the make-up Saturday, the last one on 03-02 (final: the office too)
    assert _run(client, "2026-02-14")["reminders"] == 1
    assert _run(client, "2026-03-02")["reminders"] == 1
    finals = client.get("/api/v1/reminders", params={"final": True}).json()["items"]
    assert [(r["loan_id"], r["stage_days"]) for r in finals] == [(soon["id"], 7)]
    # the enterprise sees its own reminders only
    mine = as_role("enterprise", enterprise_id=firm["id"]).get("/api/v1/reminders").json()
    assert {r["loan_id"] for r in mine["items"]} == {soon["id"]}
    theirs = as_role("enterprise", enterprise_id=other_firm["id"]).get("/api/v1/reminders")
    assert theirs.json()["items"] == []
    # the loan shows what was sent
    shown = client.get(f"/api/v1/loans/{soon['id']}").json()["reminders"]
    assert [s["sent"] for s in shown] == [True, True, True]
    assert later["id"] not in {
        r["loan_id"] for r in banker.get("/api/v1/reminders").json()["items"]
    }
    # one event per reminder, in the bank's feed order
    kinds = session.scalars(
        select(BankEvent.type).where(BankEvent.bank_code == bank).order_by(BankEvent.seq)
    ).all()
    assert kinds.count("loan.reminder") == 3


def test_a_run_after_downtime_catches_up_and_marks_what_is_late(client, bank, firm) -> None:
    loan = _loan(client, bank, firm["id"], "2026-07-31")
    # July 31: 30 days before is 07-01, but a calendar month before is 06-30: the first
    # reminder is due 06-30 (the policy's "at least a month"), 15 days before 07-16, 7 days 07-24
    assert [s["remind_date"] for s in loan["reminders"]] == [
        "2026-06-30",
        "2026-07-16",
        "2026-07-24",
    ]
    assert _run(client, "2026-06-29")["reminders"] == 0
    # the worker was down from 06-29 to 07-20
    run = _run(client, "2026-07-20")
    assert (run["reminders"], run["late"]) == (2, 2)
    got = client.get("/api/v1/reminders", params={"bank": bank}).json()["items"]
    assert sorted((r["stage_days"], r["late"]) for r in got) == [(15, True), (30, True)]
    assert (
        client.get("/api/v1/reminders", params={"bank": bank, "late": False}).json()["items"] == []
    )
    run = _run(client, "2026-07-24")
    assert (run["reminders"], run["late"]) == (1, 0)
    # a loan that matured while the worker was down gets no reminders after maturity
    gone = _loan(client, bank, firm["id"], "2026-07-10")
    assert _run(client, "2026-07-24")["reminders"] == 0
    assert client.get(f"/api/v1/loans/{gone['id']}").json()["renewal"] is None


def _on(day: str) -> Any:
    """Travel to 10:00 in Wuxi on that day."""
    return time_machine.travel(f"{day} 10:00 +0800", tick=False)


def test_a_provisional_reminder_is_recomputed_once_the_calendar_learns_the_year(
    client, as_role, session: Session, bank, firm
) -> None:
    """With a calendar from before the 2026 notice (it ends with 2025), a loan maturing Mon
    2026-03-09 is reminded 15 days ahead on Fri 02-20, by the package's estimate of the
    Spring Festival (02-16 .. 02-19): provisional. The notice made 02-20 a day off and Sat
    02-14 a working day. Once the package carries it, the worker's next run gives the sent
    reminder its final date, 02-14 (so it went out late), and clears the flag."""
    banker = as_role("bank", bank_code=bank)

    def schedule() -> list[tuple[int, str, bool, bool]]:
        shown = banker.get(f"/api/v1/loans/{loan['id']}").json()["reminders"]
        return [(s["stage_days"], s["remind_date"], s["provisional"], s["sent"]) for s in shown]

    def sent() -> list[tuple[int, str, bool, bool]]:
        items = banker.get("/api/v1/reminders").json()["items"]
        return sorted(
            (r["stage_days"], r["remind_date"], r["provisional"], r["late"]) for r in items
        )

    with official_years_as(range(2001, 2026)):
        with _on("2026-01-20"):
            loan = _loan(client, bank, firm["id"], "2026-03-09")
        assert schedule() == [
            (30, "2026-02-06", True, False),
            (15, "2026-02-20", True, False),
            (7, "2026-03-02", True, False),
        ]
        with _on("2026-02-20"):
            done = run_reminder_job(session)
        assert (done["reminders"], done["recomputed"]) == (2, 0)
        assert sent() == [(15, "2026-02-20", True, False), (30, "2026-02-06", True, True)]
        events = banker.get("/api/v1/events").json()["items"]
        flags = [e["data"]["provisional"] for e in events if e["type"] == "loan.reminder"]
        assert flags == [True, True]
        # while the year is still unknown, a run leaves them as they are
        with _on("2026-02-21"):
            assert run_reminder_job(session)["recomputed"] == 0
        assert sent()[0] == (15, "2026-02-20", True, False)
    # the package now carries the 2026 notice
    with _on("2026-02-24"):
        done = run_reminder_job(session)
    assert (done["reminders"], done["recomputed"]) == (0, 2)
    assert sent() == [(15, "2026-02-14", False, True), (30, "2026-02-06", False, True)]
    assert schedule() == [
        (30, "2026-02-06", False, True),
        (15, "2026-02-14", False, True),
        (7, "2026-03-02", False, False),
    ]
    runs = client.post("/api/v1/reminders/run", params={"as_of": "2026-02-24"}).json()
    assert (runs["reminders"], runs["recomputed"]) == (0, 0)


def test_reminders_are_pushed_to_the_banks_webhook(
    client, as_role, bank, firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_local_receivers(monkeypatch)  # the receiver is plain http on 127.0.0.1
    receiver = Receiver()
    try:
        banker = as_role("bank", bank_code=bank)
        endpoint = banker.post("/api/v1/webhooks", json={"url": receiver.url}).json()
        receiver.secrets = [endpoint["secret"]]
        loan = _loan(client, bank, firm["id"], "2026-03-09")
        _run(client, "2026-03-02")  # all three stages at once (two late)
        assert len(receiver.received) == 3
        assert all(got["verified"] == [endpoint["secret"]] for got in receiver.received)
        bodies = [got["body"] for got in receiver.received]
        assert {b["type"] for b in bodies} == {"loan.reminder"}
        assert {b["data"]["loan_id"] for b in bodies} == {loan["id"]}
        assert set(bodies[0]["data"]) == {"event_id", "loan_id", "reminder_id", "seq", "bank_code"}
    finally:
        receiver.close()


def test_who_may_see_and_run_reminders(client, as_role, bank, firm) -> None:
    banker = as_role("bank", bank_code=bank)
    owner = as_role("enterprise", enterprise_id=firm["id"])
    for c in (banker, owner):
        r = c.post("/api/v1/reminders/run", params={"as_of": "2026-01-01"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    loan = _loan(client, bank, firm["id"], "2026-09-30")
    stranger = as_role("enterprise", enterprise_id=create_enterprise(client)["id"])
    for path in (f"/api/v1/loans/{loan['id']}", f"/api/v1/loans/{loan['id']}/renewal"):
        assert stranger.get(path).status_code == 404
        assert owner.get(path).status_code == 200
    assert (
        stranger.post(
            f"/api/v1/loans/{loan['id']}/renewal/status", json={"status": "contacted"}
        ).status_code
        == 403
    )
    assert (
        owner.post(
            f"/api/v1/loans/{loan['id']}/renewal/status", json={"status": "contacted"}
        ).status_code
        == 403
    )


# --- renewal cases --------------------------------------------------------------------------


def _step(c, loan_id: int, body: dict, **headers: str):
    return c.post(f"/api/v1/loans/{loan_id}/renewal/status", json=body, headers=headers)


def test_a_renewal_case_runs_to_a_new_loan(client, as_role, bank, firm) -> None:
    banker = as_role("bank", bank_code=bank)
    loan = _loan(client, bank, firm["id"], "2026-12-20")
    case = banker.get(f"/api/v1/loans/{loan['id']}/renewal")
    assert case.json()["status"] == "open" and case.headers["etag"] == '"1"'
    contacted = _step(banker, loan["id"], {"status": "contacted", "on_date": "2026-11-10"})
    assert contacted.status_code == 200, contacted.text
    assert contacted.json()["contacted_date"] == "2026-11-10"
    # skipping ahead is a 409 that says what is allowed
    wrong = _step(banker, loan["id"], {"status": "renewed", "new_maturity_date": "2027-12-20"})
    assert wrong.status_code == 409 and wrong.json()["allowed"] == ["committed", "repaid", "failed"]
    committed = _step(
        banker,
        loan["id"],
        {"status": "committed", "committed_amount_fen": 450_000_000, "no_principal": True},
        **{"If-Match": '"2"'},
    )
    assert committed.status_code == 200, committed.text
    # a writer that read version 2 is too late now
    stale = _step(banker, loan["id"], {"status": "failed", "reason": "x"}, **{"If-Match": '"2"'})
    assert stale.status_code == 412
    renewed = _step(
        banker,
        loan["id"],
        {"status": "renewed", "new_maturity_date": "2027-12-20", "new_rate_bp": 320},
    )
    assert renewed.status_code == 200, renewed.text
    case = renewed.json()
    assert case["status"] == "renewed" and case["allowed_next"] == []
    old = banker.get(f"/api/v1/loans/{loan['id']}").json()
    new = banker.get(f"/api/v1/loans/{case['renewal_loan_id']}").json()
    assert old["status"] == "renewed" and old["closed_date"] == case["renewed_date"]
    assert new["renewed_from_id"] == loan["id"] and new["source"] == "renewal"
    assert (new["principal_fen"], new["rate_bp"], new["maturity_date"]) == (
        450_000_000,
        320,
        "2027-12-20",
    )
    assert new["status"] == "active"
    # the bank heard of each step
    kinds = [e["type"] for e in banker.get("/api/v1/events").json()["items"]]
    assert kinds.count("renewal.updated") == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "failed"}, "reason"),
        ({"status": "contacted", "reason": "no"}, "reason"),
        ({"status": "contacted", "committed_amount_fen": 5}, "committed_amount_fen"),
        ({"status": "contacted", "on_date": "2099-01-01"}, "on_date"),
        ({"status": "contacted", "new_maturity_date": "2099-01-01"}, "new_maturity_date"),
    ],
)
def test_bad_renewal_steps_say_which_field(client, bank, firm, body, field) -> None:
    loan = _loan(client, bank, firm["id"], "2026-12-20")
    response = _step(client, loan["id"], body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert client.get(f"/api/v1/loans/{loan['id']}/renewal").json()["status"] == "open"


def test_renewal_steps_are_idempotent(client, as_role, bank, firm) -> None:
    banker = as_role("bank", bank_code=bank)
    loan = _loan(client, bank, firm["id"], "2026-12-20")
    first = _step(banker, loan["id"], {"status": "contacted"}, **{"Idempotency-Key": "k1"})
    again = _step(banker, loan["id"], {"status": "contacted"}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = _step(banker, loan["id"], {"status": "repaid"}, **{"Idempotency-Key": "k1"})
    assert other.status_code == 422


def test_repaid_closes_the_loan(client, bank, firm) -> None:
    loan = _loan(client, bank, firm["id"], "2026-12-20")
    assert (
        _step(client, loan["id"], {"status": "repaid", "on_date": "2026-11-20"}).status_code == 200
    )
    shown = client.get(f"/api/v1/loans/{loan['id']}").json()
    assert shown["status"] == "repaid" and shown["closed_date"] == "2026-11-20"
    assert shown["renewal"]["contacted_date"] is None
    # a closed loan gets no reminders (run on a day when each of its stages is due)
    with _on("2026-12-18"):
        assert _run(client, "2026-12-18")["reminders"] == 0


# --- the bridge fund ------------------------------------------------------------------------


def _committed(client, bank: str, firm: dict, amount: int = 500_000_000, **loan: Any) -> dict:
    made = _loan(client, bank, firm["id"], loan.pop("maturity_date", "2026-12-20"), **loan)
    r = _step(client, made["id"], {"status": "committed", "committed_amount_fen": amount})
    assert r.status_code == 200, r.text
    return made


@_on("2026-12-15")
def test_the_bridge_fund_path(client, as_role, bank, firm) -> None:
    loan = _committed(client, bank, firm)
    banker = as_role("bank", bank_code=bank)
    quote = banker.get(
        f"/api/v1/loans/{loan['id']}/bridge-quote", params={"amount_fen": 450_000_000, "days": 5}
    ).json()
    # 2 days at 0.2‰ and 3 at 0.4‰ of 4,500,000 yuan: 1,800 + 5,400 = 7,200 yuan
    assert quote["eligible"] is True and quote["reasons"] == []
    assert (quote["fee_fen"], quote["max_amount_fen"]) == (720_000, 450_000_000)
    assert quote["max_amount_basis"] == "committed_share"
    assert (quote["start_date"], quote["end_date"]) == ("2026-12-20", "2026-12-25")
    applied = banker.post(
        f"/api/v1/loans/{loan['id']}/bridge-applications",
        json={"amount_fen": 450_000_000, "days": 5},
    )
    assert applied.status_code == 201, applied.text
    application = applied.json()
    assert application["fee_fen"] == 720_000 and application["status"] == "submitted"
    assert banker.get(f"/api/v1/loans/{loan['id']}/renewal").json()["status"] == "bridge_needed"
    # a second one while this is open: 409
    assert (
        banker.post(
            f"/api/v1/loans/{loan['id']}/bridge-applications",
            json={"amount_fen": 100_000_000, "days": 2},
        ).status_code
        == 409
    )
    # only the fund decides; the bank may not approve
    path = f"/api/v1/bridge-applications/{application['id']}/status"
    assert banker.post(path, json={"status": "approved"}).status_code == 403
    assert client.post(path, json={"status": "disbursed"}).status_code == 409
    assert client.post(path, json={"status": "approved"}).status_code == 200
    assert client.post(path, json={"status": "disbursed"}).status_code == 200
    case = banker.get(f"/api/v1/loans/{loan['id']}/renewal").json()
    assert case["status"] == "bridged" and case["bridged_date"] == "2026-12-15"
    done = _step(banker, loan["id"], {"status": "renewed", "new_maturity_date": "2027-12-20"})
    assert done.status_code == 200, done.text
    assert client.post(path, json={"status": "repaid"}).json()["status"] == "repaid"
    listed = banker.get("/api/v1/bridge-applications").json()["items"]
    assert [a["id"] for a in listed] == [application["id"]]


@_on("2026-12-15")
def test_an_ineligible_bridge_request_gets_every_reason(client, as_role) -> None:
    outsider_bank = client.post(
        "/api/v1/banks", json=bank_payload(bridge_fund_partner=False)
    ).json()["code"]
    big = create_enterprise(
        client,
        credit_code=credit_code("320500"),  # Suzhou
        employees=2000,
        revenue_fen=5_000_000_000_000,
        credit_grade="CCC",
    )
    loan = _loan(client, outsider_bank, big["id"], "2026-12-20")
    request = {"amount_fen": 600_000_000, "days": 12}
    before = client.post(f"/api/v1/loans/{loan['id']}/bridge-applications", json=request)
    assert before.status_code == 422
    codes = {r["code"] for r in before.json()["reasons"]}
    assert codes == {
        "size_not_eligible",
        "not_registered_in_wuxi",
        "credit_grade_too_low",
        "bank_not_partner",
        "renewal_not_committed",
        "amount_over_principal",  # 600万 asked to repay a 500万 loan
        "days_over_cap",
    }
    _step(client, loan["id"], {"status": "committed", "committed_amount_fen": 500_000_000})
    after = client.get(f"/api/v1/loans/{loan['id']}/bridge-quote", params=request).json()
    codes = {r["code"] for r in after["reasons"]}
    assert "renewal_not_committed" not in codes and "amount_over_cap" in codes
    assert after["max_amount_fen"] == 450_000_000
    assert (
        client.get("/api/v1/bridge-applications", params={"loan_id": loan["id"]}).json()["items"]
        == []
    )


@_on("2026-12-10")
def test_a_bridge_is_never_larger_than_the_loan_it_repays(client, bank, firm) -> None:
    # A 300万 loan; the bank commits to renew at 500万 (it raises the line). 90% of the
    # renewal is 450万, but the bridge only repays the 300万 that falls due.
    loan = _committed(client, bank, firm, amount=500_000_000, principal_fen=300_000_000)
    quote = client.get(
        f"/api/v1/loans/{loan['id']}/bridge-quote", params={"amount_fen": 400_000_000, "days": 3}
    ).json()
    assert quote["eligible"] is False
    assert [r["code"] for r in quote["reasons"]] == ["amount_over_principal"]
    assert "4,000,000.00" in quote["reasons"][0]["message"]
    assert "3,000,000.00" in quote["reasons"][0]["message"]
    assert (quote["max_amount_fen"], quote["max_amount_basis"]) == (
        300_000_000,
        "maturing_principal",
    )
    assert (quote["committed_share_fen"], quote["principal_fen"]) == (450_000_000, 300_000_000)
    assert "到期贷款本金" in quote["max_amount_explanation"]
    path = f"/api/v1/loans/{loan['id']}/bridge-applications"
    refused = client.post(path, json={"amount_fen": 400_000_000, "days": 3})
    assert refused.status_code == 422, refused.text
    assert [r["code"] for r in refused.json()["reasons"]] == ["amount_over_principal"]
    assert client.get(f"/api/v1/loans/{loan['id']}/renewal").json()["status"] == "committed"
    applied = client.post(path, json={"amount_fen": 300_000_000, "days": 3})
    assert applied.status_code == 201, applied.text


@_on("2026-12-10")
def test_a_planned_start_after_maturity_is_refused(client, bank, firm) -> None:
    loan = _committed(client, bank, firm, maturity_date="2026-12-18")
    response = client.post(
        f"/api/v1/loans/{loan['id']}/bridge-applications",
        json={"amount_fen": 100_000_000, "days": 3, "start_date": "2027-12-18"},
    )
    assert response.status_code == 422, response.text
    assert [r["code"] for r in response.json()["reasons"]] == ["start_after_maturity"]


def _decide(client, application: dict, body: dict):
    return client.post(f"/api/v1/bridge-applications/{application['id']}/status", json=body)


def _refused(response, code: str) -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code and problem["field"] == "on_date"
    assert problem["detail"] and code in [r["code"] for r in problem["reasons"]]
    return problem


def test_the_fund_records_each_step_on_its_day_and_refuses_impossible_dates(
    client, as_role, session: Session, bank, firm
) -> None:
    """A loan maturing Fri 2026-12-18, applied for Thu 12-10 (5 days), approved Fri 12-11,
    disbursed Thu 12-17 (a day before maturity, normal), repaid Tue 12-29: twelve days of
    use, seven past the term. Each wrong date is refused with its reason, and nothing of the
    refused step is written."""
    banker = as_role("bank", bank_code=bank)
    with _on("2026-12-10"):
        loan = _committed(client, bank, firm, maturity_date="2026-12-18")
        application = banker.post(
            f"/api/v1/loans/{loan['id']}/bridge-applications",
            json={"amount_fen": 450_000_000, "days": 5},
        ).json()
        assert application["start_date"] == "2026-12-18"
        _refused(
            _decide(client, application, {"status": "approved", "on_date": "2026-12-09"}),
            "approved_before_application",
        )
        _refused(
            _decide(client, application, {"status": "approved", "on_date": "2026-12-11"}),
            "date_in_future",
        )
    with _on("2026-12-11"):
        approved = _decide(client, application, {"status": "approved"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["approved_date"] == "2026-12-11"
        assert approved.json()["days_used"] is None
    with _on("2026-12-22"):
        before = client.get(f"/api/v1/bridge-applications/{application['id']}").json()
        # the case: disbursement recorded a year before the bridge's start
        problem = _refused(
            _decide(client, application, {"status": "disbursed", "on_date": "2025-12-18"}),
            "disbursed_before_application",
        )
        assert "2025-12-18" in problem["detail"] and "2026-12-10" in problem["detail"]
        assert {r["code"] for r in problem["reasons"]} == {
            "disbursed_before_application",
            "disbursed_before_approval",
        }
        _refused(
            _decide(client, application, {"status": "disbursed", "on_date": "2026-12-10"}),
            "disbursed_before_approval",
        )
        # after maturity the loan is overdue: the fund does not lend against it
        _refused(
            _decide(client, application, {"status": "disbursed", "on_date": "2026-12-21"}),
            "disbursed_after_maturity",
        )
        _refused(
            _decide(client, application, {"status": "disbursed", "on_date": "2026-12-23"}),
            "date_in_future",
        )
        # nothing was written by the refusals
        after = client.get(f"/api/v1/bridge-applications/{application['id']}").json()
        assert after == before
        assert client.get(f"/api/v1/loans/{loan['id']}/renewal").json()["status"] == (
            "bridge_needed"
        )
        disbursed = _decide(client, application, {"status": "disbursed", "on_date": "2026-12-17"})
        assert disbursed.status_code == 200, disbursed.text
        shown = disbursed.json()
        assert (shown["disbursed_date"], shown["repay_by_date"]) == ("2026-12-17", "2026-12-22")
        assert (shown["days_used"], shown["overdue_days"]) == (5, 0)  # still out, due today
        case = client.get(f"/api/v1/loans/{loan['id']}/renewal").json()
        assert (case["status"], case["bridged_date"]) == ("bridged", "2026-12-17")
    with _on("2026-12-30"):
        _refused(
            _decide(client, application, {"status": "repaid", "on_date": "2026-12-16"}),
            "repaid_before_disbursement",
        )
        # repaid twelve days after disbursement: past the 5 days applied for and the fund's
        # 10: it happened, so it is recorded, and flagged
        repaid = _decide(client, application, {"status": "repaid", "on_date": "2026-12-29"})
        assert repaid.status_code == 200, repaid.text
        shown = repaid.json()
        assert (shown["status"], shown["repaid_date"]) == ("repaid", "2026-12-29")
        assert (shown["days_used"], shown["overdue_days"]) == (12, 7)
        listed = banker.get("/api/v1/bridge-applications").json()["items"]
        assert [(a["id"], a["overdue_days"]) for a in listed] == [(application["id"], 7)]
    events = [
        e["data"]
        for e in banker.get("/api/v1/events").json()["items"]
        if e["type"] == "bridge.updated"
    ]
    assert events[-1]["status"] == "repaid" and events[-1]["repaid_date"] == "2026-12-29"
    assert (events[-1]["days_used"], events[-1]["overdue_days"]) == (12, 7)


@_on("2026-12-10")
def test_a_cancellation_takes_no_date(client, as_role, bank, firm) -> None:
    loan = _committed(client, bank, firm)
    application = client.post(
        f"/api/v1/loans/{loan['id']}/bridge-applications",
        json={"amount_fen": 100_000_000, "days": 2},
    ).json()
    banker = as_role("bank", bank_code=bank)
    response = _decide(banker, application, {"status": "cancelled", "on_date": "2026-12-10"})
    assert response.status_code == 422 and response.json()["code"] == "date_not_applicable"
    assert _decide(banker, application, {"status": "cancelled"}).json()["status"] == "cancelled"


def test_reminder_rows_are_unique_per_loan_maturity_and_stage(
    session: Session, client, bank, firm
) -> None:
    loan = _loan(client, bank, firm["id"], "2026-03-09")
    _run(client, "2026-03-06")
    _run(client, "2026-03-06")
    rows = session.scalars(select(LoanReminder).where(LoanReminder.loan_id == loan["id"])).all()
    assert sorted(r.stage_days for r in rows) == [7, 15, 30]


def test_loan_pages_follow_maturity_and_refuse_forged_cursors(client, bank, firm) -> None:
    import base64
    import json

    for maturity in ("2026-12-20", "2026-12-10", "2027-01-05"):
        _loan(client, bank, firm["id"], maturity, contract_no=f"P-{maturity}")
    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {
            "bank": bank,
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        page = client.get("/api/v1/loans", params=params).json()
        seen += [loan["maturity_date"] for loan in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["2026-12-10", "2026-12-20", "2027-01-05"]
    forged = base64.urlsafe_b64encode(json.dumps(["not-a-date", 1]).encode()).decode().rstrip("=")
    response = client.get("/api/v1/loans", params={"cursor": forged})
    assert response.status_code == 422 and response.json()["code"] == "invalid_cursor"

"""A reminder run as of a date after today is refused: its reminders would reach the banks
early. Simulated, the same run is rolled back and only told: nothing of it persists in any
table, and the real run on the day does what the simulation said."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from sqlmodel import Session

from service.core.errors import Unprocessable
from service.loans.reminders import run_reminders, simulate_reminders
from tests.conftest import changed, row_counts
from tests.factories import bank_payload, create_enterprise
from tests.leads.test_webhooks import Receiver, allow_local_receivers

# Maturity Mon 2026-03-09: reminders on Fri 02-06 (30 days), the make-up working Saturday
# 02-14 (15 days) and Mon 03-02 (7 days).
MATURITY = "2026-03-09"


def _on(day: str) -> Any:
    return time_machine.travel(f"{day} 10:00 +0800", tick=False)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    allow_local_receivers(monkeypatch)  # plain http on 127.0.0.1
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def loan(client, as_role, receiver: Receiver) -> dict:
    """A bank with a webhook endpoint (so a run queues deliveries and their job) and a loan,
    recorded on 2026-02-20."""
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    endpoint = as_role("bank", bank_code=bank).post("/api/v1/webhooks", json={"url": receiver.url})
    assert endpoint.status_code == 201, endpoint.text
    receiver.secrets = [endpoint.json()["secret"]]
    firm = create_enterprise(client)
    with _on("2026-02-20"):
        response = client.post(
            "/api/v1/loans",
            json={
                "contract_no": "SIM-1",
                "bank_code": bank,
                "enterprise_id": firm["id"],
                "principal_fen": 500_000_000,
                "rate_bp": 345,
                "disbursed_date": "2025-03-09",
                "maturity_date": MATURITY,
            },
        )
    assert response.status_code == 201, response.text
    return response.json()


def _run(client, **params: Any) -> Any:
    return client.post("/api/v1/reminders/run", params=params)


def test_a_future_date_is_refused_and_writes_nothing(client, session, loan, receiver) -> None:
    before = row_counts(session)
    with _on("2026-02-20"):
        refused = _run(client, as_of="2026-03-02")
        explicit_false = _run(client, as_of="2026-03-02", simulate="false")
    for response in (refused, explicit_false):
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "future_as_of" and problem["field"] == "as_of"
        assert "2026-03-02" in problem["detail"] and "simulate=true" in problem["detail"]
        assert problem["today"] == "2026-02-20"
    assert changed(before, row_counts(session)) == {}
    assert receiver.received == []
    assert client.get("/api/v1/reminders").json()["items"] == []


def test_a_simulated_run_tells_what_the_run_would_do_and_writes_nothing(
    client, session, loan, receiver
) -> None:
    before = row_counts(session)
    with _on("2026-02-20"):
        response = _run(client, as_of="2026-03-02", simulate="true")
    assert response.status_code == 200, response.text
    simulated = response.json()
    assert simulated["simulated"] is True and "id" not in simulated
    assert (simulated["as_of"], simulated["reminders"], simulated["late"]) == ("2026-03-02", 3, 2)
    assert simulated["stages"] == [30, 15, 7]
    assert simulated["by_bank"] == {loan["bank_code"]: 3}
    assert [
        (r["stage_days"], r["remind_date"], r["late"], r["final"]) for r in simulated["sample"]
    ] == [
        (30, "2026-02-06", True, False),
        (15, "2026-02-14", True, False),
        (7, "2026-03-02", False, True),
    ]
    assert {(r["loan_id"], r["contract_no"]) for r in simulated["sample"]} == {
        (loan["id"], "SIM-1")
    }
    # Nothing persisted: no run, reminder, renewal case, event, delivery, job, audit entry.
    assert changed(before, row_counts(session)) == {}
    assert receiver.received == []
    assert client.get("/api/v1/reminders").json()["items"] == []
    assert client.get(f"/api/v1/loans/{loan['id']}").json()["renewal"] is None

    # On the day, the real run sends just that, to the bank's receiver too.
    with _on("2026-03-02"):
        real = _run(client, as_of="2026-03-02").json()
    assert real["simulated"] is False and real["id"] >= 1
    assert (real["reminders"], real["late"]) == (simulated["reminders"], simulated["late"])
    touched = changed(before, row_counts(session))
    # The tables the simulation left as they were are those a real run writes.
    assert touched["loan_reminder"] == 3 and touched["reminder_run"] == 1
    assert touched["bank_event"] == 3 and touched["webhook_delivery"] == 3
    assert touched["renewal_case"] == 1 and touched["job"] >= 1
    assert len(receiver.received) == 3


def test_a_simulation_of_today_or_a_past_day_is_allowed_too(client, session, loan) -> None:
    before = row_counts(session)
    with _on("2026-02-20"):
        today = _run(client, simulate="true").json()
        past = _run(client, as_of="2026-02-10", simulate="true").json()
    assert (today["as_of"], today["reminders"], today["late"]) == ("2026-02-20", 2, 2)
    assert (past["as_of"], past["reminders"], past["late"]) == ("2026-02-10", 1, 1)
    assert changed(before, row_counts(session)) == {}


def test_a_simulated_answer_is_replayed_by_its_idempotency_key(client, session, loan) -> None:
    """A simulation with an Idempotency-Key is answered like any request with one: a retry
    gets the stored answer. The stored answer is all that is written; the same key for the
    real run is another request, refused."""
    before = row_counts(session)
    headers = {"Idempotency-Key": "simulate-1"}
    with _on("2026-02-20"):
        first = client.post(
            "/api/v1/reminders/run",
            params={"as_of": "2026-03-02", "simulate": "true"},
            headers=headers,
        )
        again = client.post(
            "/api/v1/reminders/run",
            params={"as_of": "2026-03-02", "simulate": "true"},
            headers=headers,
        )
        real = client.post("/api/v1/reminders/run", params={"as_of": "2026-02-20"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert real.status_code == 422 and real.json()["code"] == "idempotency_key_reused"
    assert changed(before, row_counts(session)) == {"idempotency_record": 1}


def test_only_the_office_may_simulate(client, as_role, loan) -> None:
    banker = as_role("bank", bank_code=loan["bank_code"])
    response = banker.post(
        "/api/v1/reminders/run", params={"as_of": "2026-03-02", "simulate": "true"}
    )
    assert response.status_code == 403


# --- the use cases --------------------------------------------------------------------------


def test_the_use_case_refuses_a_future_date_before_writing_anything(session: Session, loan) -> None:
    before = row_counts(session)
    with _on("2026-02-20"), pytest.raises(Unprocessable) as refused:
        run_reminders(session, date(2026, 2, 21), trigger="test")
    assert refused.value.code == "future_as_of" and refused.value.extra["field"] == "as_of"
    assert changed(before, row_counts(session)) == {}
    with _on("2026-02-20"):  # today itself is a real run
        assert run_reminders(session, date(2026, 2, 20), trigger="test").reminders == 2


def test_the_simulation_rolls_back_the_runs_own_commit(session: Session, loan) -> None:
    """The run commits as it always does; inside the simulation that commit is a savepoint,
    and the whole is rolled back: the session goes on as before, able to run for real."""
    before = row_counts(session)
    with _on("2026-02-20"):
        simulated = simulate_reminders(session, date(2026, 3, 2), trigger="test")
        assert simulated.reminders == 3 and simulated.simulated is True
        assert changed(before, row_counts(session)) == {}
        again = simulate_reminders(session, date(2026, 3, 2), trigger="test")
        assert again.model_dump() == simulated.model_dump()  # the first left nothing behind
        real = run_reminders(session, date(2026, 2, 20), trigger="test")
    assert real.reminders == 2
    assert changed(before, row_counts(session))["loan_reminder"] == 2

"""District offices' webhooks: the office registers an endpoint for a district; each new
entitlement of an enterprise registered there is pushed once, thin and signed; the district's
endpoints are the office's alone."""

from datetime import date
from typing import Any

import pytest
import time_machine

from tests.factories import LARGE_IC, bank_payload, create_enterprise
from tests.leads.test_webhooks import Receiver, local_trials, receiver  # noqa: F401

DAY = date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _on_day():
    with time_machine.travel(DAY, tick=False):
        yield


def _firm(client: Any, district: str) -> dict[str, Any]:
    return create_enterprise(
        client, **{**LARGE_IC, "ownership": "private", "district_code": district}
    )


def _award(client: Any, enterprise_id: int, type_code: str = "little_giant") -> None:
    response = client.post(
        f"/api/v1/enterprises/{enterprise_id}/qualifications",
        json={"type_code": type_code, "issued_date": "2026-03-01"},
    )
    assert response.status_code == 201, response.text


def test_a_district_office_is_told_of_its_enterprises_entitlements_once(
    client,
    as_role,
    receiver: Receiver,  # noqa: F811
) -> None:
    made = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "district_code": "xinwu", "description": "新吴区金融办"},
    )
    assert made.status_code == 201, made.text
    endpoint = made.json()
    assert endpoint["district_code"] == "xinwu" and endpoint["bank_code"] is None
    receiver.secrets = [endpoint["secret"]]
    here, elsewhere = _firm(client, "xinwu"), _firm(client, "jiangyin")
    _award(client, here["id"])
    _award(client, elsewhere["id"])
    (got,) = receiver.received
    assert got["verified"] == [endpoint["secret"]]
    assert got["body"]["type"] == "policy.entitled"
    data = got["body"]["data"]
    assert set(data) == {"event_id", "notice_id", "enterprise_id", "district_code"}
    assert data["enterprise_id"] == here["id"] and data["district_code"] == "xinwu"
    notices = client.get("/api/v1/policy-notices", params={"enterprise_id": here["id"]}).json()
    assert data["notice_id"] == notices["items"][0]["id"]
    # Re-evaluating tells nobody again.
    client.post("/api/v1/policies/reevaluate").raise_for_status()
    assert len(receiver.received) == 1
    # Another award of the same enterprise (another policy) is a second message.
    _award(client, here["id"], "srdi_sme")
    assert [m["body"]["type"] for m in receiver.received] == ["policy.entitled"] * 2


def test_district_endpoints_are_the_office_s(
    client,
    as_role,
    receiver: Receiver,  # noqa: F811
) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    banker = as_role("bank", bank_code=bank)
    refused = banker.post("/api/v1/webhooks", json={"url": receiver.url, "district_code": "xinwu"})
    assert refused.status_code == 403
    made = client.post("/api/v1/webhooks", json={"url": receiver.url, "district_code": "xinwu"})
    assert made.status_code == 201
    assert banker.get(f"/api/v1/webhooks/{made.json()['id']}").status_code == 404
    assert banker.get("/api/v1/webhooks").json() == []
    for body, code in (
        ({"district_code": "atlantis"}, "unknown_district"),
        ({"district_code": "xinwu", "bank_code": bank}, "one_audience"),
        ({"district_code": "xinwu", "event_types": ["lead.created"]}, "unknown_event_type"),
    ):
        response = client.post("/api/v1/webhooks", json={"url": receiver.url, **body})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == code

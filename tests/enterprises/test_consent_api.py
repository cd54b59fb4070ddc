"""Consent through the API: the office records it at creation or later from a signed form, the
enterprise decides for itself, and its later choice wins."""

from tests.factories import OFFICE_FORM, create_enterprise, enterprise_payload, office_consent


def test_the_office_records_consent_at_creation_with_its_form(client) -> None:
    response = client.post("/api/v1/enterprises", json=enterprise_payload(**office_consent()))
    assert response.status_code == 201, response.text
    firm = response.json()
    assert firm["share_with_banks"] is True
    consent = firm["consent"]
    assert consent["given"] is True and consent["source"] == "office_form"
    assert consent["form_ref"] == OFFICE_FORM["consent_form_ref"]
    assert consent["form_signed_on"] == OFFICE_FORM["consent_form_signed_on"]
    assert consent["recorded_by"].startswith("key:") and consent["recorded_at"]
    audit = client.get(
        "/api/v1/audit", params={"enterprise_id": firm["id"], "subject_type": "enterprise"}
    ).json()["items"]
    created = next(e for e in audit if e["action"] == "create")
    assert created["changes"]["consent_form_ref"] == OFFICE_FORM["consent_form_ref"]


def test_consent_without_a_form_is_refused_and_nothing_is_written(client) -> None:
    payload = enterprise_payload(share_with_banks=True)
    response = client.post("/api/v1/enterprises", json=payload)
    assert response.status_code == 422
    assert response.json()["code"] == "consent_form_required"
    assert response.json()["field"] == "consent_form_ref"
    found = client.get("/api/v1/enterprises", params={"credit_code": payload["credit_code"]})
    assert found.json()["items"] == []


def test_a_new_enterprise_without_a_choice_shares_nothing(client) -> None:
    firm = create_enterprise(client)
    assert firm["share_with_banks"] is False
    assert firm["consent"] == {
        "given": False,
        "source": None,
        "recorded_by": None,
        "recorded_at": None,
        "form_ref": None,
        "form_signed_on": None,
    }


def test_a_form_reference_without_the_choice_is_refused(client) -> None:
    firm = create_enterprise(client)
    response = client.patch(f"/api/v1/enterprises/{firm['id']}", json=OFFICE_FORM)
    assert response.status_code == 422 and response.json()["code"] == "consent_choice_required"


def test_the_enterprises_own_later_choice_wins(client, as_role) -> None:
    firm = create_enterprise(client, **office_consent())
    itself = as_role("enterprise", enterprise_id=firm["id"])
    withdrawn = itself.patch(f"/api/v1/enterprises/{firm['id']}", json={"share_with_banks": False})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["consent"]["source"] == "enterprise"
    assert withdrawn.json()["consent"]["form_ref"] is None
    # the office brings the old form again: refused, the enterprise's choice stands
    again = client.patch(f"/api/v1/enterprises/{firm['id']}", json=office_consent())
    assert again.status_code == 409 and again.json()["code"] == "consent_decided_by_enterprise"
    assert client.get(f"/api/v1/enterprises/{firm['id']}").json()["share_with_banks"] is False
    # the enterprise may not pretend to be the office's form
    forged = itself.patch(f"/api/v1/enterprises/{firm['id']}", json=office_consent())
    assert forged.status_code == 403 and forged.json()["code"] == "forbidden_field"

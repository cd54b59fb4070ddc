"""An enterprise's ownership (控股情况) in the library: recorded by code (or name, or derived
from its registration type), shown with its name and whether it counts as 民营, filtered on."""

import pytest

from tests.factories import create_enterprise, enterprise_payload

API = "/api/v1/enterprises"


def test_recorded_and_shown_with_its_name(client) -> None:
    body = create_enterprise(client, ownership="private")
    assert (body["ownership"], body["ownership_name"], body["is_private"]) == (
        "private",
        "私人控股",
        True,
    )
    unknown = create_enterprise(client)
    assert (unknown["ownership"], unknown["ownership_name"], unknown["is_private"]) == (
        None,
        None,
        None,
    )
    changed = client.patch(f"{API}/{body['id']}", json={"ownership": "外商控股"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["ownership"] == "foreign" and changed.json()["is_private"] is False
    cleared = client.patch(f"{API}/{body['id']}", json={"ownership": None}).json()
    assert cleared["ownership"] is None and cleared["is_private"] is None


def test_whether_it_counts_as_private_follows_the_offices_mapping(client) -> None:
    body = create_enterprise(client, ownership="collective")
    assert body["is_private"] is True
    client.patch("/api/v1/reference/ownership-types/collective", json={"private": False})
    assert client.get(f"{API}/{body['id']}").json()["is_private"] is False


@pytest.mark.parametrize(
    "registration_type, ownership",
    [
        ("私营有限责任公司", "private"),
        ("有限责任公司（台港澳法人独资）", "hmt"),
        ("中外合资经营企业", "foreign"),
        ("国有独资公司", "state"),
        ("股份合作企业", "collective"),
    ],
)
def test_derived_from_the_registration_type(client, registration_type, ownership) -> None:
    body = create_enterprise(client, registration_type=registration_type)
    assert body["ownership"] == ownership
    assert "registration_type" not in body


def test_a_code_sent_wins_over_the_registration_type(client) -> None:
    body = create_enterprise(client, ownership="state", registration_type="私营有限责任公司")
    assert body["ownership"] == "state"
    updated = client.patch(f"{API}/{body['id']}", json={"registration_type": "外商独资企业"}).json()
    assert updated["ownership"] == "foreign"


def test_an_uninformative_registration_type_is_a_422(client) -> None:
    response = client.post(API, json=enterprise_payload(registration_type="其他有限责任公司"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "undetermined_ownership"
    assert problem["field"] == "registration_type" and "私人控股" in problem["detail"]
    assert client.get(API).json()["items"] == []


def test_unknown_code_suggests(client) -> None:
    response = client.post(API, json=enterprise_payload(ownership="privat"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "unknown_ownership" and problem["field"] == "ownership"
    assert problem["suggestions"][0]["value"] == "private"
    body = create_enterprise(client)
    patch = client.patch(f"{API}/{body['id']}", json={"ownership": "soe"})
    assert patch.status_code == 422 and patch.json()["code"] == "unknown_ownership"


def test_the_enterprise_cannot_set_its_own_ownership(client, as_role) -> None:
    body = create_enterprise(client, ownership="state")
    firm = as_role("enterprise", enterprise_id=body["id"])
    for change in ({"ownership": "private"}, {"registration_type": "私营有限责任公司"}):
        refused = firm.patch(f"{API}/{body['id']}", json=change)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden_field"
    assert client.get(f"{API}/{body['id']}").json()["ownership"] == "state"


def test_filters(client) -> None:
    private = create_enterprise(client, ownership="private")
    collective = create_enterprise(client, ownership="collective")
    foreign = create_enterprise(client, ownership="foreign")
    unknown = create_enterprise(client)

    def ids(**params) -> list[int]:
        response = client.get(API, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["items"]]

    assert ids(ownership="foreign") == [foreign["id"]]
    assert ids(ownership="私人控股") == [private["id"]]
    assert ids(ownership="unknown") == [unknown["id"]]
    assert ids(private="true") == [private["id"], collective["id"]]
    assert ids(private="false") == [foreign["id"]]
    assert ids(private="true", ownership="collective") == [collective["id"]]
    listed = client.get(API, params={"ownership": "foreign"}).json()["items"]
    assert listed[0]["ownership"] == "foreign"


@pytest.mark.parametrize(
    "params, code",
    [
        ({"ownership": "foriegn"}, "unknown_ownership"),
        ({"private": "maybe"}, "validation_error"),
        ({"ownership": "x" * 17}, "validation_error"),
    ],
)
def test_bad_filters_are_422(client, params, code) -> None:
    response = client.get(API, params=params)
    assert response.status_code == 422
    assert response.json()["code"] == code

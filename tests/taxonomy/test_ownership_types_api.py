"""Ownership types through the API: public to read; only the office decides which count as
民营, every such decision is audited, and a re-seed never undoes it."""

from sqlmodel import Session

from service.seeding import seed_reference
from service.taxonomy.models import OwnershipType
from tests.factories import create_enterprise

API = "/api/v1/reference/ownership-types"


def test_the_six_types_in_the_statistics_order(anonymous) -> None:
    response = anonymous.get(API)
    assert response.status_code == 200
    types = response.json()
    assert [(t["code"], t["name"], t["stats_code"]) for t in types] == [
        ("state", "国有控股", "1"),
        ("collective", "集体控股", "2"),
        ("private", "私人控股", "3"),
        ("hmt", "港澳台商控股", "4"),
        ("foreign", "外商控股", "5"),
        ("other", "其他", "9"),
    ]
    assert {t["code"] for t in types if t["private"]} == {"private", "collective"}


def test_the_office_decides_what_counts_as_private_and_it_is_audited(client) -> None:
    response = client.patch(f"{API}/collective", json={"private": False})
    assert response.status_code == 200, response.text
    assert response.json()["private"] is False and response.json()["name"] == "集体控股"
    listed = {t["code"]: t["private"] for t in client.get(API).json()}
    assert listed["collective"] is False
    entries = client.get("/api/v1/audit", params={"subject_type": "ownership_type"}).json()["items"]
    assert entries[0]["subject_id"] == "collective"
    assert entries[0]["actor_role"] == "office"
    assert entries[0]["changes"] == {"private": [True, False]}
    # The same value again changes nothing and writes no entry.
    assert client.patch(f"{API}/collective", json={"private": False}).status_code == 200
    assert (
        len(client.get("/api/v1/audit", params={"subject_type": "ownership_type"}).json()["items"])
        == 1
    )


def test_the_name_does_not_change_through_the_api(client) -> None:
    response = client.patch(f"{API}/hmt", json={"name": "港资", "private": True})
    assert response.status_code == 200
    assert response.json()["name"] == "港澳台商控股" and response.json()["private"] is True


def test_a_reseed_keeps_the_offices_decision_and_restores_the_rest(
    client, session: Session
) -> None:
    client.patch(f"{API}/other", json={"private": True})
    row = session.get(OwnershipType, "other")
    assert row is not None
    row.name = "别的"
    session.commit()
    counts = seed_reference(session)
    assert counts["ownership_type.updated"] == 1
    again = {t["code"]: t for t in client.get(API).json()}
    assert again["other"]["private"] is True and again["other"]["name"] == "其他"


def test_errors(client, as_role, anonymous) -> None:
    missing = client.patch(f"{API}/privat", json={"private": True})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "ownership_type_not_found"
    assert missing.json()["suggestions"][0]["value"] == "private"
    bad = client.patch(f"{API}/private", json={"private": "perhaps"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    null = client.patch(f"{API}/private", json={"private": None})
    assert null.status_code == 422 and null.json()["code"] == "missing_field"
    assert client.get(API).json()[2]["private"] is True
    firm = create_enterprise(client)
    for caller in (
        as_role("bank", bank_code="jsbank-wx"),
        as_role("enterprise", enterprise_id=firm["id"]),
    ):
        refused = caller.patch(f"{API}/private", json={"private": False})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"
    assert anonymous.patch(f"{API}/private", json={"private": False}).status_code == 401

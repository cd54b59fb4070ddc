"""Library releases and consent withdrawn after publication: a release's stored snapshot never
changes and the office reads it as published, but a bank's read of an older release (its
counts, ETag, items and diffs) leaves out the enterprises that have withdrawn their consent to
share with banks since, and their projects, and says so; consent given again shows them again."""

from typing import Any

import pytest

from tests.factories import bank_payload, create_enterprise, office_consent


def _patch(c, enterprise_id: int, **fields: Any) -> None:
    response = c.patch(f"/api/v1/enterprises/{enterprise_id}", json=fields)
    assert response.status_code == 200, response.text


def _project(client, enterprise_id: int) -> dict:
    response = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": enterprise_id,
            "name": "智能产线改造项目",
            "kind": "tech_transformation",
            "total_investment_fen": 2_000_000_000,
            "financing_need_fen": 500_000_000,
            "year": 2026,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _publish(client) -> dict:
    response = client.post("/api/v1/releases", json={})
    assert response.status_code == 201, response.text
    return response.json()


def _items(c, number: int) -> dict[tuple[str, int], dict]:
    found: dict[tuple[str, int], dict] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        response = c.get(f"/api/v1/releases/{number}/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found |= {(i["kind"], i["id"]): i for i in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _diff(c, number: int, since: int) -> dict[tuple[str, int], dict]:
    response = c.get(f"/api/v1/releases/{number}/diff", params={"since": since, "limit": 200})
    assert response.status_code == 200, response.text
    return {(x["kind"], x["id"]): x for x in response.json()["items"]}


@pytest.fixture
def library(client, as_role) -> dict[str, Any]:
    """Two enterprises that share with banks (one with a project), one that does not, and a
    bank; releases 1 and 2 published while both share."""
    leaving = create_enterprise(client, name="无锡撤回授权科技有限公司")
    staying = create_enterprise(client, name="无锡继续共享科技有限公司")
    private = create_enterprise(client, name="无锡从未共享科技有限公司")
    for firm in (leaving, staying):
        _patch(client, firm["id"], **office_consent())
    project = _project(client, leaving["id"])
    one = _publish(client)
    _patch(client, staying["id"], name="无锡继续共享智能科技有限公司")
    two = _publish(client)
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    return {
        "leaving": leaving,
        "staying": staying,
        "private": private,
        "project": project,
        "one": one,
        "two": two,
        "banker": as_role("bank", bank_code=bank),
        "owner": as_role("enterprise", enterprise_id=leaving["id"]),
    }


def test_a_withdrawn_consent_is_withheld_from_older_releases(client, library) -> None:
    banker, leaving, one = library["banker"], library["leaving"], library["one"]
    firm_key, project_key = ("enterprise", leaving["id"]), ("project", library["project"]["id"])
    before = banker.get(f"/api/v1/releases/{one['number']}")
    assert before.json()["withheld_since_consent_withdrawn"] == 0
    assert before.json()["withheld_note"] is None
    held = _items(banker, one["number"])
    assert held[firm_key]["data"]["name"] == leaving["name"] and held[firm_key]["withheld"] is None
    assert held[project_key]["data"]["enterprise_id"] == leaving["id"]
    assert ("enterprise", library["private"]["id"]) not in held
    # the enterprise withdraws its consent; release 3 is published without it
    _patch(library["owner"], leaving["id"], share_with_banks=False)
    three = _publish(client)

    # the bank's read of release 1 leaves it out, and says so
    after = banker.get(f"/api/v1/releases/{one['number']}")
    assert after.status_code == 200
    body = after.json()
    assert body["withheld_since_consent_withdrawn"] == 1
    assert body["withheld_projects_since_consent_withdrawn"] == 1
    assert "1 家企业撤回了向银行共享信息的授权" in body["withheld_note"]
    assert body["enterprises"] == one["shared_enterprises"] - 1
    assert body["projects"] == one["shared_projects"] - 1
    assert body["shared_enterprises"] == one["shared_enterprises"]  # as published
    # the view changed, so the ETag did: what the bank cached is not current
    assert after.headers["etag"] != before.headers["etag"]
    cached = {"If-None-Match": before.headers["etag"]}
    assert banker.get(f"/api/v1/releases/{one['number']}", headers=cached).status_code == 200
    fresh = {"If-None-Match": after.headers["etag"]}
    assert banker.get(f"/api/v1/releases/{one['number']}", headers=fresh).status_code == 304
    items = _items(banker, one["number"])
    assert items[firm_key] == {
        "kind": "enterprise",
        "id": leaving["id"],
        "data": None,
        "withheld": "consent_withdrawn",
    }
    assert items[project_key]["data"] is None
    assert items[project_key]["withheld"] == "consent_withdrawn"
    assert items[("enterprise", library["staying"]["id"])]["data"] is not None
    page = banker.get(f"/api/v1/releases/{one['number']}/items", params={"limit": 200}).text
    assert leaving["name"] not in page and leaving["credit_code"] not in page
    # the list of releases says the same of each
    listed = {r["number"]: r for r in banker.get("/api/v1/releases").json()["items"]}
    assert listed[one["number"]]["withheld_since_consent_withdrawn"] == 1
    assert listed[library["two"]["number"]]["withheld_since_consent_withdrawn"] == 1
    assert listed[three["number"]]["withheld_since_consent_withdrawn"] == 0  # never in it

    # the office sees the snapshot as published
    office = client.get(f"/api/v1/releases/{one['number']}").json()
    assert office["withheld_since_consent_withdrawn"] == 0 and office["withheld_note"] is None
    assert office["checksum"] == one["checksum"] and office["enterprises"] == one["enterprises"]
    stored = _items(client, one["number"])
    assert stored[firm_key]["data"] == held[firm_key]["data"]
    assert stored[project_key]["data"] == held[project_key]["data"]


def test_diffs_remove_what_was_withdrawn_and_add_nothing_of_it(client, library) -> None:
    banker, leaving = library["banker"], library["leaving"]
    one, two = library["one"]["number"], library["two"]["number"]
    firm_key, project_key = ("enterprise", leaving["id"]), ("project", library["project"]["id"])
    _patch(library["owner"], leaving["id"], share_with_banks=False)
    three = _publish(client)["number"]
    # both releases were published while it shared: the bank is told to remove what it had
    changes = _diff(banker, two, one)
    for key in (firm_key, project_key):
        assert changes[key]["change"] == "removed" and changes[key]["data"] is None
        assert changes[key]["withheld"] == "consent_withdrawn"
    assert changes[("enterprise", library["staying"]["id"])]["change"] == "changed"
    assert changes[("enterprise", library["staying"]["id"])]["withheld"] is None
    later = _diff(banker, three, two)
    assert later[firm_key]["change"] == "removed"
    assert later[firm_key]["withheld"] == "consent_withdrawn"
    # nothing of it comes back as added from a release it was not in for the bank
    assert firm_key not in _diff(banker, two, three)
    # the office's diff is of the snapshots as published
    office = _diff(client, two, one)
    assert firm_key not in office and project_key not in office


def test_consent_given_again_shows_the_facts_again(client, library) -> None:
    banker, leaving = library["banker"], library["leaving"]
    one, two = library["one"]["number"], library["two"]["number"]
    firm_key = ("enterprise", leaving["id"])
    original = banker.get(f"/api/v1/releases/{one}")
    held = _items(banker, one)
    _patch(library["owner"], leaving["id"], share_with_banks=False)
    assert _items(banker, one)[firm_key]["data"] is None
    _patch(library["owner"], leaving["id"], share_with_banks=True)
    again = banker.get(f"/api/v1/releases/{one}")
    assert again.json()["withheld_since_consent_withdrawn"] == 0
    assert again.json() == original.json()
    # the bank's view is what it was: its cached copy is current again
    cached = {"If-None-Match": original.headers["etag"]}
    assert banker.get(f"/api/v1/releases/{one}", headers=cached).status_code == 304
    assert _items(banker, one) == held
    assert firm_key not in _diff(banker, two, one)

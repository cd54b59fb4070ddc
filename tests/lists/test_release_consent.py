"""Library releases and consent withdrawn after publication: a release's stored snapshot never
changes and the office reads it as published, but a bank's read of an older release (its
counts, ETag, items and diffs) leaves out the private facts of the enterprises that have
withdrawn their consent to share with banks since, and their projects that are on no
key-project list, and says so; their public facts stay; consent given again shows it all
again."""

from typing import Any

import pytest

from tests.factories import bank_payload, create_enterprise, office_consent


def _patch(c, enterprise_id: int, **fields: Any) -> None:
    response = c.patch(f"/api/v1/enterprises/{enterprise_id}", json=fields)
    assert response.status_code == 200, response.text


def _project(client, enterprise_id: int, **fields: Any) -> dict:
    response = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": enterprise_id,
            "name": "智能产线改造项目",
            "kind": "tech_transformation",
            "total_investment_fen": 2_000_000_000,
            "financing_need_fen": 500_000_000,
            "year": 2026,
            **fields,
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
    leaving = create_enterprise(
        client,
        name="无锡撤回授权科技有限公司",
        contacts=[{"name": "赵撤回", "phone": "0510-87654321", "is_primary": True}],
    )
    staying = create_enterprise(client, name="无锡继续共享科技有限公司")
    private = create_enterprise(client, name="无锡从未共享科技有限公司")
    for firm in (leaving, staying):
        _patch(client, firm["id"], **office_consent())
    project = _project(client, leaving["id"])
    listed = _project(
        client, leaving["id"], name="重点扩产项目", listed_in="2026年无锡市重大产业项目名单"
    )
    one = _publish(client)
    _patch(client, staying["id"], name="无锡继续共享智能科技有限公司")
    two = _publish(client)
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    return {
        "leaving": leaving,
        "staying": staying,
        "private": private,
        "project": project,
        "listed": listed,
        "one": one,
        "two": two,
        "banker": as_role("bank", bank_code=bank),
        "owner": as_role("enterprise", enterprise_id=leaving["id"]),
    }


PRIVATE = {"employees", "revenue_fen", "total_assets_fen", "credit_grade", "contacts", "needs"}


def test_a_withdrawn_consent_is_withheld_from_older_releases(client, library) -> None:
    banker, leaving, one = library["banker"], library["leaving"], library["one"]
    firm_key, project_key = ("enterprise", leaving["id"]), ("project", library["project"]["id"])
    listed_key = ("project", library["listed"]["id"])
    before = banker.get(f"/api/v1/releases/{one['number']}")
    assert before.json()["withheld_since_consent_withdrawn"] == 0
    assert before.json()["withheld_note"] is None
    held = _items(banker, one["number"])
    assert held[firm_key]["data"]["name"] == leaving["name"] and held[firm_key]["withheld"] is None
    assert held[firm_key]["data"]["revenue_fen"] == leaving["revenue_fen"]
    assert held[project_key]["data"]["enterprise_id"] == leaving["id"]
    assert held[project_key]["data"]["financing_need_fen"] == 500_000_000
    # the one that never shared: its public facts, nothing private
    never = held[("enterprise", library["private"]["id"])]["data"]
    assert never["name"] == library["private"]["name"] and not PRIVATE & set(never)
    # the enterprise withdraws its consent; release 3 is published without its private facts
    _patch(library["owner"], leaving["id"], share_with_banks=False)
    three = _publish(client)

    # the bank's read of release 1 keeps the public facts only, and says so
    after = banker.get(f"/api/v1/releases/{one['number']}")
    assert after.status_code == 200
    body = after.json()
    assert body["withheld_since_consent_withdrawn"] == 1
    assert body["withheld_projects_since_consent_withdrawn"] == 1  # the unlisted one
    assert "1 家企业撤回了向银行共享非公开信息的授权" in body["withheld_note"]
    assert body["enterprises"] == one["enterprises"]
    assert body["projects"] == one["public_projects"] + one["private_projects"] - 1
    assert body["shared_enterprises"] == one["shared_enterprises"]  # as published
    # the view changed, so the ETag did: what the bank cached is not current
    assert after.headers["etag"] != before.headers["etag"]
    cached = {"If-None-Match": before.headers["etag"]}
    assert banker.get(f"/api/v1/releases/{one['number']}", headers=cached).status_code == 200
    fresh = {"If-None-Match": after.headers["etag"]}
    assert banker.get(f"/api/v1/releases/{one['number']}", headers=fresh).status_code == 304
    items = _items(banker, one["number"])
    assert items[firm_key]["withheld"] == "consent_withdrawn"
    assert items[firm_key]["data"]["name"] == leaving["name"]
    assert not PRIVATE & set(items[firm_key]["data"])
    assert items[project_key]["data"] is None
    assert items[project_key]["withheld"] == "consent_withdrawn"
    # a listed project keeps its public facts: name, unit, year, investment
    assert items[listed_key]["data"]["name"] == "重点扩产项目"
    assert "financing_need_fen" not in items[listed_key]["data"]
    assert items[("enterprise", library["staying"]["id"])]["data"]["revenue_fen"] is not None
    page = banker.get(f"/api/v1/releases/{one['number']}/items", params={"limit": 200}).text
    assert "0510-87654321" not in page and "赵撤回" not in page
    # the list of releases says the same of each
    listed = {r["number"]: r for r in banker.get("/api/v1/releases").json()["items"]}
    assert listed[one["number"]]["withheld_since_consent_withdrawn"] == 1
    assert listed[library["two"]["number"]]["withheld_since_consent_withdrawn"] == 1
    assert listed[three["number"]]["withheld_since_consent_withdrawn"] == 0  # never shared

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
    assert changes[project_key]["change"] == "removed" and changes[project_key]["data"] is None
    assert changes[project_key]["withheld"] == "consent_withdrawn"
    assert changes[firm_key]["change"] == "changed"
    assert set(changes[firm_key]["fields"]) == PRIVATE
    assert changes[firm_key]["withheld"] == "consent_withdrawn"
    assert not PRIVATE & set(changes[firm_key]["data"])
    assert changes[("enterprise", library["staying"]["id"])]["change"] == "changed"
    assert changes[("enterprise", library["staying"]["id"])]["withheld"] is None
    later = _diff(banker, three, two)
    assert later[firm_key]["change"] == "changed"
    assert later[firm_key]["withheld"] == "consent_withdrawn"
    assert later[project_key]["change"] == "removed"
    # nothing of it comes back from a release that held its public facts only
    assert firm_key not in _diff(banker, two, three)
    assert project_key not in _diff(banker, two, three)
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
    assert "revenue_fen" not in _items(banker, one)[firm_key]["data"]
    _patch(library["owner"], leaving["id"], share_with_banks=True)
    again = banker.get(f"/api/v1/releases/{one}")
    assert again.json()["withheld_since_consent_withdrawn"] == 0
    assert again.json() == original.json()
    # the bank's view is what it was: its cached copy is current again
    cached = {"If-None-Match": original.headers["etag"]}
    assert banker.get(f"/api/v1/releases/{one}", headers=cached).status_code == 304
    assert _items(banker, one) == held
    assert firm_key not in _diff(banker, two, one)

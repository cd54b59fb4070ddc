"""The project library through the API."""

import pytest

from tests.factories import create_enterprise

API = "/api/v1/projects"


def _project(enterprise_id: int, **overrides) -> dict:
    data = {
        "enterprise_id": enterprise_id,
        "name": "年产50万套电驱系统扩产项目",
        "kind": "capacity_expansion",
        "total_investment_fen": 50_000_000_000,
        "equipment_investment_fen": 30_000_000_000,
        "financing_need_fen": 20_000_000_000,
        "year": 2026,
        "status": "approved",
    }
    data.update(overrides)
    return data


def test_create_defaults_cluster_and_reads_back(client) -> None:
    enterprise = create_enterprise(client, cluster_code="auto", industry_code="C3670")
    response = client.post(API, json=_project(enterprise["id"]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["cluster_code"] == "auto"
    assert body["enterprise_name"] == enterprise["name"]
    assert client.get(f"{API}/{body['id']}").json() == body
    listed = client.get(f"/api/v1/enterprises/{enterprise['id']}/projects").json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]


def test_filters(client) -> None:
    a = create_enterprise(client, cluster_code="ic", district_code="xinwu")
    b = create_enterprise(
        client, cluster_code="new_energy", district_code="yixing", industry_code="C3825"
    )
    pa = client.post(API, json=_project(a["id"], kind="rnd", year=2025)).json()
    pb = client.post(
        API,
        json=_project(
            b["id"],
            kind="green_upgrade",
            financing_need_fen=1_000_000_000,
            status="under_construction",
        ),
    ).json()

    def ids(**params) -> list[int]:
        response = client.get(API, params=params)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert ids(cluster="ic") == [pa["id"]]
    assert ids(tier="advantage") == [pb["id"]]
    assert ids(district="yixing") == [pb["id"]]
    assert ids(kind="rnd") == [pa["id"]]
    assert ids(status="under_construction") == [pb["id"]]
    assert ids(year=2025) == [pa["id"]]
    assert ids(min_financing_need_fen=5_000_000_000) == [pa["id"]]
    assert ids(enterprise_id=b["id"]) == [pb["id"]]


@pytest.mark.parametrize(
    "overrides, status, code",
    [
        ({"enterprise_id": 999999}, 422, "unknown_enterprise"),
        ({"cluster_code": "chip"}, 422, "unknown_cluster"),
        ({"kind": "shopping"}, 422, "validation_error"),
        ({"total_investment_fen": -1}, 422, "validation_error"),
        ({"equipment_investment_fen": 60_000_000_000}, 422, "invalid_project_amounts"),
        ({"financing_need_fen": 60_000_000_000}, 422, "invalid_project_amounts"),
        ({"year": 1990}, 422, "validation_error"),
    ],
)
def test_bad_input(client, overrides, status, code) -> None:
    enterprise = create_enterprise(client)
    response = client.post(API, json={**_project(enterprise["id"]), **overrides})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_update_and_concurrency(client) -> None:
    enterprise = create_enterprise(client)
    project = client.post(API, json=_project(enterprise["id"])).json()
    url = f"{API}/{project['id']}"
    ok = client.patch(url, json={"status": "under_construction"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert (
        client.patch(url, json={"status": "completed"}, headers={"If-Match": '"1"'}).status_code
        == 412
    )
    too_much = client.patch(url, json={"financing_need_fen": 90_000_000_000})
    assert too_much.status_code == 422
    assert client.patch(url, json={"name": None}).status_code == 422
    assert client.get(url).json()["status"] == "under_construction"
    assert client.get(f"{API}/424242").json()["code"] == "project_not_found"
    assert client.get(API, params={"cluster": "xx"}).json()["code"] == "unknown_cluster"
    assert client.get("/api/v1/enterprises/424242/projects").status_code == 404

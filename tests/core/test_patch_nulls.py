"""Every PATCH, every field sent as null: a clear 422 (or the change accepted where empty is a
value), never a 500 from the database's NOT NULL."""

from typing import Any

import pytest

from tests.factories import bank_payload, create_enterprise, need_payload, product_payload


def _targets(client) -> dict[str, str]:
    """An object for each PATCH path, made through the API."""
    firm = create_enterprise(client)
    bank = client.post("/api/v1/banks", json=bank_payload()).json()
    product = client.post("/api/v1/products", json=product_payload(bank["code"])).json()
    project = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": firm["id"],
            "name": "年产50万套电驱系统扩产项目",
            "kind": "capacity_expansion",
            "total_investment_fen": 50_000_000_000,
            "equipment_investment_fen": 30_000_000_000,
            "financing_need_fen": 20_000_000_000,
            "year": 2026,
            "status": "approved",
        },
    ).json()
    need = client.post("/api/v1/needs", json=need_payload(firm["id"])).json()
    return {
        "/api/v1/reference/ownership-types/{code}": "/api/v1/reference/ownership-types/private",
        "/api/v1/enterprises/{enterprise_id}": f"/api/v1/enterprises/{firm['id']}",
        "/api/v1/projects/{project_id}": f"/api/v1/projects/{project['id']}",
        "/api/v1/banks/{bank_code}": f"/api/v1/banks/{bank['code']}",
        "/api/v1/products/{product_code}": f"/api/v1/products/{product['code']}",
        "/api/v1/needs/{need_id}": f"/api/v1/needs/{need['id']}",
        "/api/v1/departments/{code}": "/api/v1/departments/wx-jrj",
        "/api/v1/request-categories/{code}": "/api/v1/request-categories/other",
        "/api/v1/policies/{code}": "/api/v1/policies/green-design",
    }


def _fields(document: dict[str, Any], path: str) -> list[str]:
    body = document["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].split("/")[-1]
    return list(document["components"]["schemas"][name]["properties"])


def test_null_in_any_field_of_any_patch_is_never_a_server_error(client, as_role) -> None:
    document = client.get("/openapi.json").json()
    patches = {p for p, item in document["paths"].items() if "patch" in item}
    targets = {template: (client, url) for template, url in _targets(client).items()}
    banker = as_role("bank", bank_code="jsbank-wx")
    hook = banker.post("/api/v1/webhooks", json={"url": "https://hooks.bank.example/finmatch"})
    assert hook.status_code == 201, hook.text
    targets["/api/v1/webhooks/{endpoint_id}"] = (banker, f"/api/v1/webhooks/{hook.json()['id']}")
    assert patches == set(targets)
    wrong = []
    for template, (caller, url) in targets.items():
        for field in _fields(document, template):
            response = caller.patch(url, json={field: None})
            if response.status_code >= 500 or (
                response.status_code == 422
                and response.json()["code"] == "missing_field"
                and response.json().get("field") != field
            ):
                wrong.append(f"{template} {field}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("field", ["share_with_banks", "name", "credit_code"])
def test_an_enterprise_field_that_cannot_be_empty_says_so(client, field: str) -> None:
    firm = create_enterprise(client)
    response = client.patch(f"/api/v1/enterprises/{firm['id']}", json={field: None})
    if field == "credit_code" and response.status_code == 200:
        return  # not a field a change may send: ignored
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"missing_field", "missing_name"}
    assert client.get(f"/api/v1/enterprises/{firm['id']}").json()[field] == firm[field]

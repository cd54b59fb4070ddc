"""Who may call what: a matrix of roles × endpoints, including guessed ids of other holders'
objects. The office may do everything; a bank sees its own products' prospects and writes its
own catalogue; an enterprise sees and changes its own data; nobody without a key gets past
the public catalogue and reference data."""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import bank_payload, create_enterprise, product_payload


@dataclass
class World:
    bank_a: str
    bank_b: str
    product_a: str
    product_b: str
    firm_1: dict
    firm_2: dict
    need_1: int
    need_2: int
    project_1: int
    project_2: int
    loan_1: int
    loan_2: int


def _need(client, enterprise_id: int) -> int:
    response = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": enterprise_id,
            "amount_fen": 200_000_000,
            "term_months": 12,
            "purpose": "working_capital",
            "collateral": ["none"],
            "consent_share_details": True,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _project(client, enterprise_id: int) -> int:
    response = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": enterprise_id,
            "name": "产线改造项目",
            "kind": "tech_transformation",
            "total_investment_fen": 1_000_000_000,
            "financing_need_fen": 300_000_000,
            "year": 2026,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def world(client) -> World:
    banks = [client.post("/api/v1/banks", json=bank_payload()).json()["code"] for _ in range(2)]
    products = [
        client.post("/api/v1/products", json=product_payload(code)).json()["code"] for code in banks
    ]
    firms = [create_enterprise(client) for _ in range(2)]
    needs = [_need(client, f["id"]) for f in firms]
    projects = [_project(client, f["id"]) for f in firms]
    loans = [_loan(client, bank, firm["id"]) for bank, firm in zip(banks, firms, strict=True)]
    return World(*banks, *products, *firms, *needs, *projects, *loans)


def _loan_body(bank: str, enterprise_id: int) -> dict[str, Any]:
    return {
        "contract_no": f"M-{bank}-{enterprise_id}",
        "bank_code": bank,
        "enterprise_id": enterprise_id,
        "principal_fen": 100_000_000,
        "rate_bp": 345,
        "disbursed_date": "2025-12-01",
        "maturity_date": "2026-12-20",
    }


def _loan(client, bank: str, enterprise_id: int) -> int:
    response = client.post("/api/v1/loans", json=_loan_body(bank, enterprise_id))
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def callers(client, anonymous, as_role, world: World) -> dict[str, Any]:
    return {
        "office": client,
        "bank": as_role("bank", bank_code=world.bank_a),
        "enterprise": as_role("enterprise", enterprise_id=world.firm_1["id"]),
        "anonymous": anonymous,
    }


OK = (200, 201, 204)
# method, path, body, expected status per caller (office, bank A, enterprise 1, anonymous).
# "ok" means any 2xx; 404 for another holder's object, as if it did not exist.
MATRIX: list[tuple[str, str, Any, dict[str, Any]]] = [
    (
        "GET",
        "/reference/clusters",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous="ok"),
    ),
    (
        "GET",
        "/reference/ownership-types",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous="ok"),
    ),
    (
        "PATCH",
        "/reference/ownership-types/private",
        {"private": True},
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("GET", "/products", None, dict(office="ok", bank="ok", enterprise="ok", anonymous="ok")),
    (
        "GET",
        "/products/{product_b}",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous="ok"),
    ),
    ("GET", "/banks", None, dict(office="ok", bank="ok", enterprise="ok", anonymous="ok")),
    ("POST", "/banks", "bank", dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "PATCH",
        "/banks/{bank_a}",
        {"name": "改名"},
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("POST", "/products", "product_a", dict(office="ok", bank="ok", enterprise=403, anonymous=401)),
    ("POST", "/products", "product_b", dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "PATCH",
        "/products/{product_a}",
        {"amount_max_fen": 900_000_000},
        dict(office="ok", bank="ok", enterprise=403, anonymous=401),
    ),
    (
        "PATCH",
        "/products/{product_b}",
        {"amount_max_fen": 900_000_000},
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/products/{product_a}/prospects",
        None,
        dict(office="ok", bank="ok", enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/products/{product_b}/prospects",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("GET", "/enterprises", None, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "POST",
        "/enterprises",
        "enterprise",
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/enterprises/{firm_1}",
        None,
        dict(office="ok", bank=404, enterprise="ok", anonymous=401),
    ),
    (
        "GET",
        "/enterprises/{firm_2}",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "PATCH",
        "/enterprises/{firm_1}",
        {"employees": 130},
        dict(office="ok", bank=404, enterprise="ok", anonymous=401),
    ),
    (
        "PATCH",
        "/enterprises/{firm_1}",
        {"qualifications": []},
        dict(office="ok", bank=404, enterprise=403, anonymous=401),
    ),
    (
        "PATCH",
        "/enterprises/{firm_1}",
        {"ownership": "private"},
        dict(office="ok", bank=404, enterprise=403, anonymous=401),
    ),
    (
        "PATCH",
        "/enterprises/{firm_2}",
        {"employees": 130},
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "POST",
        "/enterprises/{firm_1}/qualifications",
        {"type_code": "high_tech", "issued_date": "2025-06-01"},
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/enterprises/{firm_1}/projects",
        None,
        dict(office="ok", bank=404, enterprise="ok", anonymous=401),
    ),
    (
        "GET",
        "/enterprises/{firm_2}/projects",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "GET",
        "/enterprises/{firm_1}/recommendations",
        None,
        dict(office="ok", bank=404, enterprise="ok", anonymous=401),
    ),
    (
        "GET",
        "/enterprises/{firm_2}/recommendations",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    ("GET", "/projects", None, dict(office="ok", bank=403, enterprise="ok", anonymous=401)),
    (
        "GET",
        "/projects?enterprise_id={firm_2}",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/projects/{project_1}",
        None,
        dict(office="ok", bank=404, enterprise="ok", anonymous=401),
    ),
    (
        "GET",
        "/projects/{project_2}",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "PATCH",
        "/projects/{project_2}",
        {"status": "under_construction"},
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    ("POST", "/projects", "project_2", dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    ("POST", "/needs", "need_1", dict(office="ok", bank=403, enterprise="ok", anonymous=401)),
    ("POST", "/needs", "need_2", dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    ("GET", "/needs", None, dict(office="ok", bank=403, enterprise="ok", anonymous=401)),
    ("GET", "/needs/{need_1}", None, dict(office="ok", bank=404, enterprise="ok", anonymous=401)),
    ("GET", "/needs/{need_2}", None, dict(office="ok", bank=404, enterprise=404, anonymous=401)),
    (
        "PATCH",
        "/needs/{need_2}",
        {"amount_fen": 100_000_000},
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "POST",
        "/needs/{need_2}/withdraw",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "GET",
        "/needs/{need_1}/recommendations",
        None,
        dict(office="ok", bank=404, enterprise="ok", anonymous=401),
    ),
    (
        "GET",
        "/needs/{need_2}/recommendations",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "GET",
        "/explanations?product={product_a}&need_id={need_2}",
        None,
        dict(office="ok", bank=403, enterprise=404, anonymous=401),
    ),
    (
        "GET",
        "/explanations?product={product_a}&enterprise_id={firm_1}",
        None,
        dict(office="ok", bank=403, enterprise="ok", anonymous=401),
    ),
    ("GET", "/scoring-config", None, dict(office="ok", bank="ok", enterprise="ok", anonymous=401)),
    (
        "POST",
        "/scoring-config",
        "config",
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("GET", "/jobs", None, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    ("GET", "/keys", None, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "POST",
        "/keys",
        {"role": "office", "name": "x"},
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("GET", "/audit", None, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "GET",
        "/metrics/funnel?group_by=bank",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/metrics/response-times",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/metrics/amounts?group_by=month&format=csv",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/metrics/decline-reasons",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("GET", "/leads", None, dict(office="ok", bank="ok", enterprise="ok", anonymous=401)),
    ("GET", "/loans", None, dict(office="ok", bank="ok", enterprise="ok", anonymous=401)),
    (
        "GET",
        "/loans/{loan_1}",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous=401),
    ),
    ("GET", "/loans/{loan_2}", None, dict(office="ok", bank=404, enterprise=404, anonymous=401)),
    # who an enterprise is, is public: a bank names any library enterprise, by id or by code
    ("POST", "/loans", "loan_a", dict(office="ok", bank="ok", enterprise=403, anonymous=401)),
    (
        "POST",
        "/loans",
        "loan_a_by_code",
        dict(office="ok", bank="ok", enterprise=403, anonymous=401),
    ),
    ("POST", "/loans", "loan_b", dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "GET",
        "/loans/{loan_2}/renewal",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "POST",
        "/loans/{loan_1}/renewal/status",
        {"status": "contacted"},
        dict(office="ok", bank="ok", enterprise=403, anonymous=401),
    ),
    (
        "POST",
        "/loans/{loan_2}/renewal/status",
        {"status": "contacted"},
        dict(office="ok", bank=404, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/loans/{loan_2}/bridge-quote?amount_fen=1&days=1",
        None,
        dict(office="ok", bank=404, enterprise=404, anonymous=401),
    ),
    (
        "POST",
        "/loans/{loan_2}/bridge-applications",
        {"amount_fen": 1, "days": 1},
        dict(office=422, bank=404, enterprise=404, anonymous=401),
    ),
    ("GET", "/reminders", None, dict(office="ok", bank="ok", enterprise="ok", anonymous=401)),
    (
        "GET",
        "/lists/entries?match=review&pending=true",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    ("GET", "/lists/imports", None, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "POST",
        "/lists/imports/999999/commit",
        None,
        dict(office=404, bank=403, enterprise=403, anonymous=401),
    ),
    (
        "POST",
        "/lists/entries/999999/reject",
        None,
        dict(office=404, bank=403, enterprise=403, anonymous=401),
    ),
    ("POST", "/releases", {}, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    ("GET", "/releases", None, dict(office="ok", bank="ok", enterprise=403, anonymous=401)),
    (
        "GET",
        "/releases/latest",
        None,
        dict(office=404, bank=404, enterprise=403, anonymous=401),
    ),
    ("POST", "/reminders/run", None, dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "GET",
        "/bridge-applications",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous=401),
    ),
    (
        "GET",
        "/metrics/renewals",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    (
        "GET",
        "/metrics/maturities?format=csv",
        None,
        dict(office="ok", bank=403, enterprise=403, anonymous=401),
    ),
    *(
        ("GET", path, None, dict(office="ok", bank=403, enterprise=403, anonymous=401))
        for path in (
            "/metrics/conversion",
            "/metrics/stalls?format=xlsx",
            "/metrics/areas?group_by=cluster&format=csv",
        )
    ),
    (
        "GET",
        "/leads?bank={bank_a}",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous=401),
    ),
    ("GET", "/events", None, dict(office="ok", bank="ok", enterprise=403, anonymous=401)),
    (
        "GET",
        "/contact-requests",
        None,
        dict(office="ok", bank="ok", enterprise="ok", anonymous=401),
    ),
    ("GET", "/webhooks", None, dict(office="ok", bank="ok", enterprise=403, anonymous=401)),
    ("POST", "/webhooks", "webhook_a", dict(office="ok", bank="ok", enterprise=403, anonymous=401)),
    ("POST", "/webhooks", "webhook_b", dict(office="ok", bank=403, enterprise=403, anonymous=401)),
    (
        "POST",
        "/products/{product_b}/contact-requests",
        {"prospect_id": "need-1"},
        dict(office=422, bank=403, enterprise=403, anonymous=401),
    ),
]

CONFIG = {
    "weights": {
        "sector": 20,
        "industry": 10,
        "size": 10,
        "need": 20,
        "qualification": 10,
        "cost": 10,
        "policy": 20,
    },
}


def _body(spec: Any, world: World) -> Any:
    from tests.factories import enterprise_payload

    if spec == "bank":
        return bank_payload()
    if spec == "product_a":
        return product_payload(world.bank_a)
    if spec == "product_b":
        return product_payload(world.bank_b)
    if spec == "enterprise":
        return enterprise_payload()
    if spec == "project_2":
        return {
            "enterprise_id": world.firm_2["id"],
            "name": "扩产项目",
            "kind": "capacity_expansion",
            "total_investment_fen": 500_000_000,
            "year": 2026,
        }
    if spec in ("need_1", "need_2"):
        firm = world.firm_1 if spec == "need_1" else world.firm_2
        return {
            "enterprise_id": firm["id"],
            "amount_fen": 100_000_000,
            "term_months": 12,
            "purpose": "working_capital",
            "collateral": ["none"],
        }
    if spec in ("webhook_a", "webhook_b"):
        bank = world.bank_a if spec == "webhook_a" else world.bank_b
        return {"url": "https://bank.example/hooks", "bank_code": bank}
    if spec == "config":
        return {"config": CONFIG}
    if spec in ("loan_a", "loan_b"):
        bank = world.bank_a if spec == "loan_a" else world.bank_b
        return {**_loan_body(bank, world.firm_1["id"]), "contract_no": f"N-{spec}"}
    if spec == "loan_a_by_code":
        body = {**_loan_body(world.bank_a, world.firm_1["id"]), "contract_no": f"N-{spec}"}
        return {**body, "enterprise_id": None, "credit_code": world.firm_1["credit_code"]}
    return spec


@pytest.mark.parametrize("role", ["office", "bank", "enterprise", "anonymous"])
@pytest.mark.parametrize(
    "method, path, body, expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_authorization_matrix(callers, world: World, role, method, path, body, expected) -> None:
    values = {
        "bank_a": world.bank_a,
        "product_a": world.product_a,
        "product_b": world.product_b,
        "firm_1": world.firm_1["id"],
        "firm_2": world.firm_2["id"],
        "need_1": world.need_1,
        "need_2": world.need_2,
        "project_1": world.project_1,
        "project_2": world.project_2,
        "loan_1": world.loan_1,
        "loan_2": world.loan_2,
    }
    url = "/api/v1" + path.format(**values)
    response = callers[role].request(method, url, json=_body(body, world))
    want = expected[role]
    if want == "ok":
        assert response.status_code in OK, (role, method, url, response.text)
    else:
        assert response.status_code == want, (role, method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if want == 404:  # hidden: nothing of the object shows
            assert str(world.firm_2["credit_code"]) not in response.text


def test_a_bank_key_does_not_see_another_banks_products_prospects_by_guessing(
    as_role, world: World
) -> None:
    bank = as_role("bank", bank_code=world.bank_a)
    response = bank.get(f"/api/v1/products/{world.product_b}/prospects")
    assert response.status_code == 403 and response.json()["code"] == "forbidden_bank"


@pytest.mark.parametrize(
    "header, code",
    [
        (None, "missing_api_key"),
        ("Basic dXNlcjpwYXNz", "invalid_authorization"),
        ("Bearer ", "invalid_authorization"),
        ("Bearer nonsense", "invalid_api_key"),
        ("Bearer fmk_0000000000_wrong", "invalid_api_key"),
    ],
)
def test_bad_credentials_are_401(anonymous, header, code) -> None:
    headers = {"Authorization": header} if header else {}
    response = anonymous.get("/api/v1/needs", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_a_revoked_key_stops_working_at_once(client, anonymous, world: World) -> None:
    created = client.post(
        "/api/v1/keys", json={"role": "bank", "name": "轮换", "bank_code": world.bank_a}
    ).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert anonymous.get(
        f"/api/v1/products/{world.product_a}/prospects", headers=headers
    ).is_success
    listed = client.get("/api/v1/keys", params={"bank_code": world.bank_a}).json()
    assert created["id"] in [k["id"] for k in listed] and "key" not in listed[0]
    assert client.post(f"/api/v1/keys/{created['id']}/revoke").json()["revoked_at"]
    response = anonymous.get(f"/api/v1/products/{world.product_a}/prospects", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "revoked_api_key"


def test_a_key_whose_prefix_is_all_digits_is_revoked_by_that_prefix(
    client, monkeypatch, session
) -> None:
    """One prefix in about a hundred is ten decimal digits; it is still a prefix, not an id."""
    from service.access import service as keys

    monkeypatch.setattr(keys.secrets, "token_hex", lambda n: "7417295315")
    created = client.post("/api/v1/keys", json={"role": "office", "name": "数字前缀"}).json()
    monkeypatch.undo()
    other = client.post("/api/v1/keys", json={"role": "office", "name": "另一把"}).json()
    assert created["prefix"] == "7417295315"
    revoked = keys.revoke_key(session, "7417295315")
    assert revoked.id == created["id"] and revoked.revoked_at is not None
    by_id = keys.revoke_key(session, str(other["id"]))
    assert by_id.id == other["id"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"role": "bank", "name": "x", "bank_code": "no-such-bank"}, "unknown_bank"),
        ({"role": "bank", "name": "x"}, "unknown_bank"),
        ({"role": "enterprise", "name": "x", "enterprise_id": 99999999}, "unknown_enterprise"),
        ({"role": "office", "name": "x", "bank_code": "jsbank-wx"}, "office_key_not_bound"),
        ({"role": "root", "name": "x"}, "validation_error"),
    ],
)
def test_bad_key_requests(client, body, code) -> None:
    response = client.post("/api/v1/keys", json=body)
    assert response.status_code == 422 and response.json()["code"] == code


def test_changes_are_audited_with_actor_and_fields(client, as_role, world: World) -> None:
    firm = as_role("enterprise", enterprise_id=world.firm_1["id"])
    assert firm.patch(
        f"/api/v1/enterprises/{world.firm_1['id']}", json={"employees": 140}
    ).is_success
    entries = client.get(
        "/api/v1/audit", params={"enterprise_id": world.firm_1["id"], "subject_type": "enterprise"}
    ).json()["items"]
    update = next(e for e in entries if e["action"] == "update")
    assert update["actor_role"] == "enterprise"
    assert update["actor_enterprise_id"] == world.firm_1["id"]
    assert update["changes"]["employees"] == [120, 140]
    created = next(e for e in entries if e["action"] == "create")
    assert created["actor_role"] == "office" and created["changes"]["name"] == world.firm_1["name"]
    keys = client.get("/api/v1/audit", params={"subject_type": "api_key"}).json()["items"]
    assert keys and all("secret_hash" not in (e["changes"] or {}) for e in keys)

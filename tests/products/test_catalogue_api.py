"""Banks and the versioned product catalogue through the API."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import bank_payload, product_payload


@pytest.fixture
def bank(client) -> dict:
    response = client.post("/api/v1/banks", json=bank_payload())
    assert response.status_code == 201, response.text
    return response.json()


def test_seeded_catalogue_is_public_and_complete(client) -> None:
    products, cursor = [], None
    while True:
        params = {"limit": 20} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/products", params=params).json()
        products += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(products) >= 30
    by_scheme = {p["scheme"] for p in products}
    assert {"xikedai", "xixindai", "zhuanjingtexin", "sukedai", "bridge_fund"} <= by_scheme
    bridge = next(p for p in products if p["scheme"] == "bridge_fund")
    assert bridge["term_unit"] == "day" and bridge["term_max"] == 10
    assert bridge["eligibility"]["min_credit_grade"] == "B-"
    assert bridge["eligibility"]["registered_in_wuxi"] is True
    assert set(bridge["eligibility"]["size_classes"]) == {"medium", "small", "micro"}
    tiers = bridge["fees"][0]["tiers"]
    assert [(t["from_day"], t["bp_per_day"]) for t in tiers] == [(1, 2), (3, 4)]
    banks = client.get("/api/v1/banks", params={"limit": 200}).json()["items"]
    assert len([b for b in banks if b["kind"] != "fund"]) >= 12


def test_create_version_and_read_old_versions(client, bank) -> None:
    created = client.post("/api/v1/products", json=product_payload(bank["code"]))
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert created.json()["version"] == 1 and created.headers["etag"] == '"1"'
    assert created.json()["bank_name"] == bank["name"]
    changed = client.patch(f"/api/v1/products/{code}", json={"amount_max_fen": 500_000_000})
    assert changed.status_code == 200
    assert changed.json()["version"] == 2 and changed.json()["amount_max_fen"] == 500_000_000
    same = client.patch(f"/api/v1/products/{code}", json={"amount_max_fen": 500_000_000})
    assert same.json()["version"] == 2  # nothing changed, no new version
    v1 = client.get(f"/api/v1/products/{code}/versions/1").json()
    assert v1["amount_max_fen"] == 300_000_000 and v1["current_version"] == 2
    versions = client.get(f"/api/v1/products/{code}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    missing = client.get(f"/api/v1/products/{code}/versions/9")
    assert missing.status_code == 404 and missing.json()["code"] == "product_version_not_found"


def test_withdraw_and_incremental_sync(client, bank) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    code = client.post("/api/v1/products", json=product_payload(bank["code"])).json()["code"]
    other = client.post("/api/v1/products", json=product_payload(bank["code"])).json()["code"]
    withdrawn = client.patch(f"/api/v1/products/{code}", json={"status": "withdrawn"})
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["version"] == 1
    active = client.get("/api/v1/products", params={"bank": bank["code"]}).json()["items"]
    assert [p["code"] for p in active] == [other]
    synced, cursor = [], None
    while True:
        params = {"updated-since": start.isoformat(), "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/products", params=params)
        assert page.status_code == 200, page.text
        synced += [(p["code"], p["status"]) for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert synced == [(other, "active"), (code, "withdrawn")]
    later = datetime.now(UTC) + timedelta(seconds=5)
    none = client.get("/api/v1/products", params={"updated-since": later.isoformat()})
    assert none.json()["items"] == []
    naive = client.get("/api/v1/products", params={"updated-since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["code"] == "validation_error"
    assert naive.json()["errors"][0]["type"] == "naive_timestamp"  # refused by its type


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"bank_code": "jsbank"}, "unknown_bank"),
        ({"eligibility": {"clusters_included": ["iot", "ai"]}}, "unknown_cluster"),
        ({"eligibility": {"districts": ["pudong"]}}, "unknown_district"),
        ({"eligibility": {"qualifications_any": ["hightech"]}}, "unknown_qualification"),
        ({"eligibility": {"size_classes": ["tiny"]}}, "unknown_size_class"),
        ({"eligibility": {"tiers": ["gold"]}}, "unknown_tier"),
        ({"eligibility": {"min_credit_grade": "Q"}}, "unknown_credit_grade"),
        ({"eligibility": {"industries_excluded": ["X99"]}}, "invalid_industry_code"),
        ({"eligibility": {"colour": "red"}}, "validation_error"),
        ({"amount_min_fen": 900_000_000}, "invalid_range"),
        ({"term_min": 24}, "invalid_range"),
        ({"effective_to": "2025-01-01"}, "invalid_effective_dates"),
        ({"rate": {"base": "LPR1Y"}}, "validation_error"),
        ({"rate": {"base": "FIXED"}}, "validation_error"),
        ({"category": "magic"}, "validation_error"),
        ({"code": "Bad Code"}, "validation_error"),
        ({"collateral_types": ["gold"]}, "validation_error"),
    ],
)
def test_bad_products_are_422(client, bank, overrides, code) -> None:
    payload = {**product_payload(bank["code"]), **overrides}
    response = client.post("/api/v1/products", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert client.get(f"/api/v1/products/{payload['code']}").status_code == 404


def test_unknown_bank_suggests(client) -> None:
    response = client.post("/api/v1/products", json=product_payload("jsbank-wxx"))
    assert response.json()["suggestions"][0]["value"] == "jsbank-wx"


def test_update_errors(client, bank) -> None:
    code = client.post("/api/v1/products", json=product_payload(bank["code"])).json()["code"]
    url = f"/api/v1/products/{code}"
    bad = client.patch(url, json={"amount_min_fen": 999_000_000})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_range"
    assert client.get(url).json()["version"] == 1
    assert client.patch(url, json={"rate": None}).status_code == 422
    assert client.patch(url, json={"term_max": 24}, headers={"If-Match": '"1"'}).status_code == 200
    stale = client.patch(url, json={"term_max": 36}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.patch("/api/v1/products/nope", json={}).json()["code"] == "product_not_found"


def test_duplicates_are_409(client, bank) -> None:
    payload = product_payload(bank["code"])
    assert client.post("/api/v1/products", json=payload).status_code == 201
    again = client.post("/api/v1/products", json=payload)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_product"
    dup_bank = client.post("/api/v1/banks", json=bank_payload(code=bank["code"]))
    assert dup_bank.status_code == 409 and dup_bank.json()["code"] == "duplicate_bank"


def test_bank_update_and_not_found(client, bank) -> None:
    url = f"/api/v1/banks/{bank['code']}"
    updated = client.patch(url, json={"bridge_fund_partner": False})
    assert updated.status_code == 200 and updated.json()["bridge_fund_partner"] is False
    assert client.patch(url, json={"kind": "castle"}).status_code == 422
    assert client.patch(url, json={"name": None}).status_code == 422
    assert client.get("/api/v1/banks/nope").json()["code"] == "bank_not_found"
    assert client.get("/api/v1/banks", params={"kind": "fund"}).json()["items"][0]["kind"] == "fund"

"""Needs, recommendations, explanations and prospects through the API."""

import pytest

from tests.factories import bank_payload, create_enterprise, office_consent, product_payload


@pytest.fixture
def bank(client) -> dict:
    return client.post("/api/v1/banks", json=bank_payload()).json()


@pytest.fixture
def chip_product(client, bank) -> dict:
    """A credit product for small IC enterprises with a valid high-tech qualification."""
    payload = product_payload(
        bank["code"],
        name="芯片科创贷",
        eligibility={
            "clusters_included": ["ic"],
            "size_classes": ["small", "micro"],
            "qualifications_any": ["high_tech"],
            "min_credit_grade": "BBB",
            "registered_in_wuxi": True,
        },
        amount_min_fen=10_000_000,
        amount_max_fen=500_000_000,
        term_min=6,
        term_max=24,
        purposes=["working_capital", "rnd"],
        collateral_types=["none"],
        rate={"base": "LPR1Y", "spread_bp": 40},
    )
    response = client.post("/api/v1/products", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def chip_firm(client) -> dict:
    return create_enterprise(
        client,
        cluster_code="ic",
        qualifications=[{"type_code": "high_tech", "issued_date": "2025-06-01"}],
    )


def _need(client, enterprise_id: int, **overrides) -> dict:
    body = {
        "enterprise_id": enterprise_id,
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
        "collateral": ["none"],
        "consent_share_details": False,
        "max_banks": 3,
    } | overrides
    response = client.post("/api/v1/needs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_need_lifecycle(client, chip_firm) -> None:
    need = _need(client, chip_firm["id"])
    assert need["status"] == "open" and need["version"] == 1 and need["max_banks"] == 3
    url = f"/api/v1/needs/{need['id']}"
    changed = client.patch(url, json={"amount_fen": 300_000_000}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(url, json={"amount_fen": 1}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    withdrawn = client.post(f"{url}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    assert client.post(f"{url}/withdraw").status_code == 200  # idempotent
    closed = client.patch(url, json={"amount_fen": 100_000_000})
    assert closed.status_code == 409 and closed.json()["code"] == "need_closed"
    listed = client.get(
        "/api/v1/needs", params={"enterprise_id": chip_firm["id"], "status": "withdrawn"}
    ).json()["items"]
    assert [n["id"] for n in listed] == [need["id"]]


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"amount_fen": 0}, "validation_error"),
        ({"amount_fen": -5}, "validation_error"),
        ({"term_months": 0}, "validation_error"),
        ({"purpose": "holiday"}, "validation_error"),
        ({"collateral": []}, "validation_error"),
        ({"collateral": ["gold"]}, "validation_error"),
        ({"max_banks": 6}, "validation_error"),
        ({"max_banks": 0}, "validation_error"),
        ({"enterprise_id": 999999}, "unknown_enterprise"),
        ({"project_id": 999999}, "unknown_project"),
        ({"wanted_by_date": "2020-01-01"}, "invalid_wanted_by_date"),
    ],
)
def test_bad_needs_are_422(client, chip_firm, overrides, code) -> None:
    body = {
        "enterprise_id": chip_firm["id"],
        "amount_fen": 200_000_000,
        "term_months": 12,
        "purpose": "working_capital",
    } | overrides
    response = client.post("/api/v1/needs", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_need_cannot_use_another_enterprises_project(client, chip_firm) -> None:
    other = create_enterprise(client)
    project = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": other["id"],
            "name": "另一家企业的项目",
            "kind": "rnd",
            "total_investment_fen": 100_000_000,
            "year": 2026,
        },
    ).json()
    response = client.post(
        "/api/v1/needs",
        json={
            "enterprise_id": chip_firm["id"],
            "amount_fen": 1_000_000,
            "term_months": 6,
            "purpose": "rnd",
            "project_id": project["id"],
        },
    )
    assert response.status_code == 422 and response.json()["code"] == "project_not_of_enterprise"


def test_recommendations_for_a_need(client, chip_firm, chip_product) -> None:
    need = _need(client, chip_firm["id"])
    body = client.get(f"/api/v1/needs/{need['id']}/recommendations").json()
    codes = [r["product_code"] for r in body["items"]]
    assert chip_product["code"] in codes
    scores = [r["score"] for r in body["items"]]
    assert scores == sorted(scores, reverse=True)
    ours = next(r for r in body["items"] if r["product_code"] == chip_product["code"])
    assert ours["bank_code"] == chip_product["bank_code"] and ours["basis"] == "need"
    assert abs(sum(f["contribution"] for f in ours["factors"]) - ours["score"]) < 1e-9
    assert [f["name"] for f in ours["factors"]] == [
        "sector",
        "industry",
        "size",
        "need",
        "qualification",
        "cost",
        "policy",
    ]
    assert sum(f["weight"] for f in ours["factors"]) == 100
    assert all(f["reason"] for f in ours["factors"])
    assert body["config_version"] == 2


def test_an_ineligible_product_is_a_near_miss_with_remedies(
    client, chip_firm, chip_product
) -> None:
    need = _need(client, chip_firm["id"], amount_fen=800_000_000)
    body = client.get(f"/api/v1/needs/{need['id']}/recommendations").json()
    assert chip_product["code"] not in [r["product_code"] for r in body["items"]]
    miss = next(m for m in body["near_misses"] if m["product_code"] == chip_product["code"])
    assert [f["gate"] for f in miss["failures"]] == ["amount_max"]
    (failure,) = miss["failures"]
    assert "500 万元" in failure["reason"] and failure["actionable"] is True
    assert failure["remedy"] == "金额降至 500 万元以内"


def test_explanations(client, chip_firm, chip_product) -> None:
    ok = client.get(
        "/api/v1/explanations",
        params={"product": chip_product["code"], "enterprise_id": chip_firm["id"]},
    ).json()
    assert ok["eligible"] is True and ok["failures"] == []
    assert abs(sum(f["contribution"] for f in ok["factors"]) - ok["score"]) < 1e-9
    outsider = create_enterprise(client, cluster_code="textile", industry_code="C1711")
    no = client.get(
        "/api/v1/explanations",
        params={"product": chip_product["code"], "enterprise_id": outsider["id"]},
    ).json()
    assert no["eligible"] is False and no["score"] is None
    gates = {f["gate"]: f for f in no["failures"]}
    assert {"cluster_included", "qualifications_any"} <= set(gates)
    assert "高新技术企业" in gates["qualifications_any"]["remedy"]
    need = _need(client, chip_firm["id"], term_months=36)
    by_need = client.get(
        "/api/v1/explanations", params={"product": chip_product["code"], "need_id": need["id"]}
    ).json()
    assert [f["gate"] for f in by_need["failures"]] == ["term_max"]


@pytest.mark.parametrize(
    "params, status, code",
    [
        ({"product": "no-such-product", "enterprise_id": "FIRM"}, 404, "product_not_found"),
        ({"product": "PLACEHOLDER"}, 422, "missing_subject"),
        ({"product": "PLACEHOLDER", "enterprise_id": 999999}, 404, "enterprise_not_found"),
        ({"product": "PLACEHOLDER", "need_id": 999999}, 404, "need_not_found"),
    ],
)
def test_explanation_errors(client, chip_firm, chip_product, params, status, code) -> None:
    fill = {"PLACEHOLDER": chip_product["code"], "FIRM": chip_firm["id"]}
    params = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    response = client.get("/api/v1/explanations", params=params)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_need_of_another_enterprise_is_refused(client, chip_firm, chip_product) -> None:
    other = create_enterprise(client)
    need = _need(client, other["id"])
    response = client.get(
        "/api/v1/explanations",
        params={
            "product": chip_product["code"],
            "enterprise_id": chip_firm["id"],
            "need_id": need["id"],
        },
    )
    assert response.status_code == 422 and response.json()["code"] == "need_not_of_enterprise"


def test_recommendations_for_an_enterprise_use_its_projects(client, chip_firm, bank) -> None:
    equipment = client.post(
        "/api/v1/products",
        json=product_payload(
            bank["code"],
            name="技改设备贷",
            category="equipment",
            eligibility={"clusters_included": ["ic"]},
            purposes=["equipment", "tech_transformation"],
            collateral_types=["equipment"],
            amount_min_fen=100_000_000,
            amount_max_fen=5_000_000_000,
            term_min=12,
            term_max=60,
            rate={"base": "LPR5Y", "spread_bp": -10},
        ),
    ).json()
    before = client.get(f"/api/v1/enterprises/{chip_firm['id']}/recommendations").json()
    assert equipment["code"] in [r["product_code"] for r in before["items"]]
    project = client.post(
        "/api/v1/projects",
        json={
            "enterprise_id": chip_firm["id"],
            "name": "封测产线技术改造项目",
            "kind": "tech_transformation",
            "total_investment_fen": 2_000_000_000,
            "financing_need_fen": 800_000_000,
            "year": 2026,
        },
    ).json()
    after = client.get(f"/api/v1/enterprises/{chip_firm['id']}/recommendations").json()
    item = next(r for r in after["items"] if r["product_code"] == equipment["code"])
    assert item["basis"] == f"project:{project['id']}"
    assert client.get("/api/v1/enterprises/999999/recommendations").status_code == 404


def test_prospects_show_public_facts_and_anonymous_needs(
    client, as_role, chip_firm, chip_product
) -> None:
    consenting = create_enterprise(
        client,
        cluster_code="ic",
        qualifications=[{"type_code": "high_tech", "issued_date": "2025-06-01"}],
    )
    _need(client, chip_firm["id"], consent_share_details=False)
    _need(client, consenting["id"], consent_share_details=True)
    banker = as_role("bank", bank_code=chip_product["bank_code"])
    page = banker.get(f"/api/v1/products/{chip_product['code']}/prospects").json()
    by_basis = [p for p in page["items"] if p["basis"] == "need"]
    assert len(by_basis) == 2
    # a need nobody consented to share: the need without who posted it
    hidden = next(p for p in by_basis if p["anonymous"])
    assert not hidden["consented"]
    assert hidden["enterprise_name"] is None and hidden["credit_code"] is None
    assert hidden["enterprise_id"] is None and hidden["revenue_fen"] is None
    assert hidden["cluster_code"] == "ic" and hidden["need"]["amount_fen"] == 200_000_000
    shown = next(p for p in by_basis if not p["anonymous"])
    assert shown["consented"] and shown["enterprise_name"] == consenting["name"]
    # the need's consent shows who posted it, not the enterprise's private facts
    assert shown["revenue_fen"] is None and shown["credit_grade"] is None
    # by its profile, every enterprise's public facts, never its figures without consent
    profiles = {p["enterprise_id"]: p for p in page["items"] if p["basis"] == "profile"}
    public = profiles[chip_firm["id"]]
    assert public["enterprise_name"] == chip_firm["name"] and public["need"] is None
    assert public["revenue_fen"] is None and public["employees"] is None
    # no item names the enterprise together with its unshared need
    for item in page["items"]:
        assert not (item["credit_code"] == chip_firm["credit_code"] and item["need"])
    assert [p["rank"] for p in page["items"]] == list(range(1, len(page["items"]) + 1))
    assert client.get("/api/v1/products/nope/prospects").status_code == 404


def test_an_enterprise_that_shares_shows_its_figures_and_its_needs(
    client, as_role, chip_firm, chip_product
) -> None:
    _need(client, chip_firm["id"], consent_share_details=False)
    client.patch(f"/api/v1/enterprises/{chip_firm['id']}", json=office_consent()).raise_for_status()
    banker = as_role("bank", bank_code=chip_product["bank_code"])
    page = banker.get(f"/api/v1/products/{chip_product['code']}/prospects").json()
    mine = [p for p in page["items"] if p["enterprise_id"] == chip_firm["id"]]
    assert mine and all(p["consented"] and not p["anonymous"] for p in mine)
    assert all(p["revenue_fen"] == chip_firm["revenue_fen"] for p in mine)
    assert any(p["need"] and p["need"]["amount_fen"] == 200_000_000 for p in mine)


def test_prospect_pages_continue_ranks(client, chip_product) -> None:
    firms = []
    for _ in range(3):
        firm = create_enterprise(
            client,
            cluster_code="ic",
            qualifications=[{"type_code": "high_tech", "issued_date": "2025-06-01"}],
        )
        _need(client, firm["id"])
        firms.append(firm)
    items, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(
            f"/api/v1/products/{chip_product['code']}/prospects", params=params
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [p["rank"] for p in items] == list(range(1, len(items) + 1))
    assert len({p["prospect_id"] for p in items}) == len(items)
    assert sum(p["basis"] == "need" for p in items) == 3
    # the enterprises' profiles fit too (kept by the rematch their creation triggered)
    assert sum(p["basis"] == "profile" for p in items) >= 3
    scores = [p["score"] for p in items]
    assert scores == sorted(scores, reverse=True)


def test_changes_rematch_stored_need_matches(client, session, chip_firm, chip_product) -> None:
    from sqlmodel import select

    from service.matching.models import NeedMatch

    need = _need(client, chip_firm["id"])

    def stored() -> set[int]:
        session.expire_all()
        return {
            m.product_id
            for m in session.exec(select(NeedMatch).where(NeedMatch.need_id == need["id"]))
        }

    ours = _product_id(session, chip_product["code"])
    assert ours in stored()
    # the product tightens its amount cap below the need: the match goes
    client.patch(f"/api/v1/products/{chip_product['code']}", json={"amount_max_fen": 100_000_000})
    assert ours not in stored()
    # the need shrinks: it comes back
    client.patch(f"/api/v1/needs/{need['id']}", json={"amount_fen": 50_000_000})
    assert ours in stored()
    # the enterprise loses its qualification: it goes again
    client.patch(f"/api/v1/enterprises/{chip_firm['id']}", json={"qualifications": []})
    assert ours not in stored()
    rows = session.exec(select(NeedMatch).where(NeedMatch.need_id == need["id"])).all()
    assert all(r.config_version == 2 for r in rows)
    assert sorted(r.need_rank for r in rows) == list(range(1, len(rows) + 1))


def _product_id(session, code: str) -> int:
    from sqlmodel import select

    from service.products.models import Product

    return session.exec(select(Product.id).where(Product.code == code)).one()


def test_a_product_change_is_rematched_by_a_job(
    client, session, chip_firm, chip_product, monkeypatch
) -> None:
    """Without inline jobs (a deployment with `finmatch worker`), the product change only
    queues its rematch, once however often it changes; a runner applies it later."""
    from sqlmodel import select

    from service.core.settings import get_settings
    from service.jobs.models import Job
    from service.jobs.service import run_pending
    from service.matching.models import EnterpriseMatch

    ours = _product_id(session, chip_product["code"])

    def prospects() -> set[int]:
        session.expire_all()
        return {
            m.enterprise_id
            for m in session.exec(
                select(EnterpriseMatch).where(
                    EnterpriseMatch.product_id == ours, EnterpriseMatch.product_rank.is_not(None)
                )
            )
        }

    assert chip_firm["id"] in prospects()
    monkeypatch.setattr(get_settings(), "jobs_inline", False)
    path = f"/api/v1/products/{chip_product['code']}"
    for cap in (2_000_000_000, 1_000_000_000):
        assert client.patch(path, json={"amount_max_fen": cap}).status_code == 200
    assert client.patch(path, json={"eligibility": {"clusters_included": ["textile"]}}).is_success
    queued = session.exec(
        select(Job).where(Job.kind == "matching.product_changed", Job.status == "queued")
    ).all()
    assert [j.payload for j in queued] == [{"product_id": ours}]
    assert chip_firm["id"] in prospects()  # not yet
    assert run_pending(session) >= 1
    assert chip_firm["id"] not in prospects()
    job = client.get(f"/api/v1/jobs/{queued[0].id}").json()
    assert job["status"] == "done" and job["result"]["needs"] >= 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/enterprises/99999999999999999999",
        "/api/v1/enterprises/9999999999",
        "/api/v1/needs/99999999999999999999",
        "/api/v1/jobs/99999999999999999999",
    ],
)
def test_ids_beyond_any_column_are_a_clear_422(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 422:
        assert response.json()["code"] == "value_out_of_range"


W = {
    "sector": 20,
    "industry": 10,
    "size": 10,
    "need": 20,
    "qualification": 10,
    "cost": 10,
    "policy": 20,
}


def _settings(**changes) -> dict:
    config = {
        "weights": W,
        "top_per_enterprise": 10,
        "top_per_product": 200,
        "near_miss_max_failures": 2,
        "tier_value": {"landmark": 1.0, "advantage": 0.8, "future": 0.85, "none": 0.4},
        "size_value": {"micro": 1.0, "small": 1.0, "medium": 0.8, "large": 0.5, "unknown": 0.3},
        "spread_best_bp": -30,
        "spread_worst_bp": 200,
    }
    return {**config, **changes}


def test_a_new_scoring_config_is_in_force_and_rematches_everything(
    client, session, chip_firm, chip_product
) -> None:
    from sqlmodel import select

    from service.matching.models import EnterpriseMatch, NeedMatch

    need = _need(client, chip_firm["id"])
    current = client.get("/api/v1/scoring-config").json()
    assert current["in_force"] and current["version"] == 2
    weights = {**W, "sector": 40, "need": 10, "policy": 10}
    created = client.post(
        "/api/v1/scoring-config", json={"config": _settings(weights=weights), "note": "产业优先"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 3 and body["in_force"] and body["config"]["weights"] == weights
    assert created.headers["location"] == "/api/v1/scoring-config/versions/3"
    old = client.get("/api/v1/scoring-config/versions/2").json()
    assert old["in_force"] is False and old["config"]["weights"]["sector"] == 20
    versions = client.get("/api/v1/scoring-config/versions").json()["items"]
    assert [v["version"] for v in versions] == [3, 2]
    # recommendations use it at once; the stored matches were recomputed by the job
    recommended = client.get(f"/api/v1/needs/{need['id']}/recommendations").json()
    assert recommended["config_version"] == 3
    assert {f["weight"] for f in recommended["items"][0]["factors"]} == {40, 10}
    session.expire_all()
    stored = session.exec(select(EnterpriseMatch.config_version)).all()
    assert stored and set(stored) == {3}
    assert set(session.exec(select(NeedMatch.config_version)).all()) == {3}


@pytest.mark.parametrize(
    "config, field",
    [
        (_settings(weights={**W, "sector": 50}), "weights"),
        (_settings(weights={k: v for k, v in W.items() if k != "policy"}), "weights"),
        (_settings(weights={**W, "sector": 80, "size": -15, "need": 5}), "weights"),
        (_settings(purposes={"equipment": {"name": "设备", "parent": "ghost"}}), "purposes"),
        (
            _settings(
                purposes={
                    "a": {"name": "甲", "parent": "b"},
                    "b": {"name": "乙", "parent": "a"},
                }
            ),
            "purposes",
        ),
        (_settings(regions={"wuxi": "无锡"}), "regions"),
        (
            _settings(tier_value={"landmark": 1.5, "advantage": 0.8, "future": 0.85, "none": 0.4}),
            "tier_value",
        ),
        (_settings(size_value={"small": 1.0}), "size_value"),
        (_settings(spread_best_bp=100, spread_worst_bp=100), "spread_best_bp"),
    ],
)
def test_a_scoring_config_that_cannot_score_is_refused(client, config, field) -> None:
    response = client.post("/api/v1/scoring-config", json={"config": config})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_scoring_config" and problem["field"] == field
    assert client.get("/api/v1/scoring-config").json()["version"] == 2


def test_scoring_config_bad_requests(client) -> None:
    assert (
        client.post(
            "/api/v1/scoring-config", json={"config": _settings(top_per_product=0)}
        ).status_code
        == 422
    )
    assert client.post("/api/v1/scoring-config", json={}).status_code == 422
    missing = client.get("/api/v1/scoring-config/versions/99")
    assert missing.status_code == 404 and missing.json()["code"] == "scoring_config_not_found"
    assert client.get("/api/v1/scoring-config/versions/0").status_code == 422


def test_purposes_are_a_public_tree(anonymous) -> None:
    response = anonymous.get("/api/v1/reference/purposes")
    assert response.status_code == 200
    by_code = {p["code"]: p for p in response.json()}
    assert by_code["equipment"]["parent"] == "project"
    assert by_code["equipment"]["accepted_by"] == ["equipment", "project"]
    assert by_code["tech_transformation"]["name"] == "技术改造"
    assert by_code["working_capital"]["accepted_by"] == ["working_capital"]
    codes = [p["code"] for p in response.json()]
    assert codes.index("project") < codes.index("equipment")  # parents first

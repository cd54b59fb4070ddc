"""Reference data through the API (public to read)."""

import pytest


def test_reference_lists(client) -> None:
    clusters = client.get("/api/v1/reference/clusters").json()
    assert [c["code"] for c in clusters][:4] == ["iot", "ic", "biomed", "software"]
    assert all(c["keywords"] for c in clusters)
    districts = {d["code"]: d for d in client.get("/api/v1/reference/districts").json()}
    assert districts["xinwu"]["area_code"] == "320214"
    assert districts["jingkai"]["area_code"] is None
    types = {q["code"]: q for q in client.get("/api/v1/reference/qualification-types").json()}
    assert types["high_tech"]["term_months"] == 36 and types["tech_sme"]["term_months"] == 12
    standards = client.get("/api/v1/reference/size-standards").json()
    industry = next(s for s in standards if s["key"] == "industry")
    assert [t["size_class"] for t in industry["thresholds"]] == ["large", "medium", "small"]
    assert industry["thresholds"][0]["employees_min"] == 1000
    lpr = client.get("/api/v1/reference/lpr").json()
    assert lpr[0]["effective_date"] == "2025-05-20" and {r["rate_bp"] for r in lpr[:2]} == {
        300,
        350,
    }


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"industry_code": "3973", "employees": 300, "revenue_fen": 2_000 * 1_000_000}, "medium"),
        ({"industry_code": "I6513", "employees": 10, "revenue_fen": 50 * 1_000_000}, "small"),
        ({"industry_code": "F5191", "employees": 4, "revenue_fen": 99_999 * 1_000_000}, "micro"),
        ({"industry_code": "J6620", "employees": 500}, None),
    ],
)
def test_size_classification(client, params, expected) -> None:
    response = client.get("/api/v1/reference/size-classification", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["size_class"] == expected
    assert response.json()["reason"]


def test_a_hospital_gets_no_size_class_and_a_social_work_body_does(client) -> None:
    """2017 standard: of section Q only 社会工作 (85) is classified, never 卫生 (84)."""
    url = "/api/v1/reference/size-classification"
    hospital = client.get(url, params={"industry_code": "Q8411", "employees": 800}).json()
    assert hospital["size_class"] is None and hospital["size_industry_key"] is None
    assert "大类 84" in hospital["reason"] and "不划型" in hospital["reason"]
    care_home = client.get(url, params={"industry_code": "8514", "employees": 120}).json()
    assert (care_home["size_class"], care_home["size_industry_key"]) == ("medium", "other")
    standards = client.get("/api/v1/reference/size-standards").json()
    other = next(s for s in standards if s["key"] == "other")
    assert "85" in other["gbt_scope"] and "Q" not in other["gbt_scope"]


def test_size_classification_rejects_bad_code(client) -> None:
    response = client.get(
        "/api/v1/reference/size-classification", params={"industry_code": "Q9999"}
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_industry_code"


def test_cluster_text_matching(client) -> None:
    hits = client.get(
        "/api/v1/reference/clusters/match",
        params={"text": "碳化硅功率器件、氮化镓外延片的研发与生产"},
    ).json()
    assert hits[0]["code"] == "semi3"
    assert client.get("/api/v1/reference/clusters/match", params={"text": "餐饮服务"}).json() == []
    assert client.get("/api/v1/reference/clusters/match", params={"text": ""}).status_code == 422

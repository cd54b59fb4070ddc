"""The enterprise library through the API: CRUD, derived size, search, every error path."""

import pytest

from tests.factories import create_enterprise, credit_code, enterprise_payload

API = "/api/v1/enterprises"


def test_create_read_derives_size_and_area(client) -> None:
    body = create_enterprise(client, employees=300, revenue_fen=2000 * 1_000_000)
    assert body["size_class"] == "medium"
    assert body["registered_in_wuxi"] is True
    assert body["registered_area_code"] == "320214"
    assert body["cluster_tier"] == "landmark"
    got = client.get(f"{API}/{body['id']}")
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json()["contacts"][0]["name"] == "李华"


def test_size_class_follows_the_figures(client) -> None:
    body = create_enterprise(client, employees=19, revenue_fen=10_000 * 1_000_000)
    assert body["size_class"] == "micro"  # one indicator below the small line
    updated = client.patch(
        f"{API}/{body['id']}", json={"employees": 1000, "revenue_fen": 40_000 * 1_000_000}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["size_class"] == "large"
    assert updated.json()["version"] == 2
    assert (
        client.patch(f"{API}/{body['id']}", json={"revenue_fen": None}).json()["size_class"] is None
    )


def test_size_class_cannot_be_typed_in(client) -> None:
    response = client.post(API, json=enterprise_payload(size_class="large", employees=5))
    assert response.status_code == 201
    assert response.json()["size_class"] == "micro"


def test_outside_wuxi_is_accepted_and_flagged(client) -> None:
    body = create_enterprise(client, credit_code=credit_code("320505"), district_code=None)
    assert body["registered_in_wuxi"] is False
    assert body["district_code"] is None
    listed = client.get(API, params={"registered_in_wuxi": "false"}).json()["items"]
    assert [e["id"] for e in listed] == [body["id"]]


def test_district_defaults_from_the_credit_code(client) -> None:
    body = create_enterprise(client, credit_code=credit_code("320281"), district_code=None)
    assert body["district_code"] == "jiangyin"


def test_name_of_district_accepted_for_code(client) -> None:
    assert create_enterprise(client, district_code="惠山区")["district_code"] == "huishan"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("91320200134757148", "invalid_credit_code_length"),
        ("91320200134757148K", "invalid_credit_code_checksum"),
        ("9132020013475714IJ", "invalid_credit_code_format"),
        ("X1320200134757148J", "invalid_credit_code_format"),
    ],
)
def test_invalid_credit_code(client, raw: str, code: str) -> None:
    response = client.post(API, json=enterprise_payload(credit_code=raw))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.json()["field"] == "credit_code"


def test_credit_code_is_normalised(client) -> None:
    body = create_enterprise(client, credit_code=" 91320200-134757148j ")
    assert body["credit_code"] == "91320200134757148J"


def test_duplicate_credit_code_is_409(client) -> None:
    first = create_enterprise(client)
    again = client.post(API, json=enterprise_payload(credit_code=first["credit_code"]))
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_credit_code"
    assert again.json()["existing_id"] == first["id"]


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("cluster_code", "iott", "unknown_cluster"),
        ("district_code", "xinwoo", "unknown_district"),
    ],
)
def test_unknown_reference_code_suggests(client, field: str, value: str, code: str) -> None:
    response = client.post(API, json=enterprise_payload(**{field: value}))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == code
    assert problem["suggestions"], problem
    assert problem["suggestions"][0]["value"] in {"iot", "xinwu"}
    assert problem["suggestions"][0]["value"] in problem["detail"]


def test_unknown_qualification_suggests(client) -> None:
    response = client.post(
        API,
        json=enterprise_payload(
            qualifications=[{"type_code": "hightech", "issued_date": "2024-01-01"}]
        ),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_qualification"
    assert response.json()["suggestions"][0]["value"] == "high_tech"
    assert response.json()["field"] == "qualifications.0.type_code"


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"industry_code": "D3973"}, "invalid_industry_code"),
        ({"industry_code": "ZZ"}, "invalid_industry_code"),
        ({"credit_grade": "A++"}, "validation_error"),
        ({"employees": -1}, "validation_error"),
        ({"revenue_fen": -5}, "validation_error"),
        ({"name": ""}, "validation_error"),
        ({"established_date": "2999-01-01"}, "invalid_established_date"),
        (
            {
                "qualifications": [
                    {
                        "type_code": "high_tech",
                        "issued_date": "2024-01-01",
                        "expires_date": "2023-01-01",
                    }
                ]
            },
            "invalid_qualification_dates",
        ),
        ({"contacts": [{"name": "张三", "email": "not-an-email"}]}, "validation_error"),
    ],
)
def test_bad_input_is_422_and_nothing_is_written(client, overrides, code) -> None:
    payload = enterprise_payload(**overrides)
    response = client.post(API, json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert client.get(API, params={"credit_code": payload["credit_code"]}).json()["items"] == []


def test_qualification_expiry_defaults_to_term(client) -> None:
    body = create_enterprise(
        client,
        qualifications=[
            {"type_code": "high_tech", "issued_date": "2024-12-01"},
            {"type_code": "tech_sme", "issued_date": "2026-05-01"},
            {"type_code": "tech_center", "issued_date": "2020-01-01"},
        ],
    )
    expiry = {q["type_code"]: q["expires_date"] for q in body["qualifications"]}
    assert expiry == {"high_tech": "2027-11-30", "tech_sme": "2027-04-30", "tech_center": None}


def test_filters(client) -> None:
    a = create_enterprise(
        client,
        cluster_code="iot",
        district_code="binhu",
        qualifications=[
            {"type_code": "high_tech", "issued_date": "2023-01-01", "expires_date": "2025-12-31"}
        ],
    )
    b = create_enterprise(
        client,
        cluster_code="auto",
        district_code="jiangyin",
        industry_code="C3670",
        qualifications=[{"type_code": "srdi_sme", "issued_date": "2025-01-01"}],
    )

    def ids(**params) -> list[int]:
        response = client.get(API, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["items"]]

    assert ids(cluster="iot") == [a["id"]]
    assert ids(tier="advantage") == [b["id"]]
    assert ids(tier="landmark") == [a["id"]]
    assert ids(district="jiangyin") == [b["id"]]
    assert ids(size_class="small") == [a["id"], b["id"]]
    assert ids(qualification="high_tech", valid_on="2025-06-01") == [a["id"]]
    assert ids(qualification="high_tech", valid_on="2025-12-31") == [a["id"]]
    assert ids(qualification="high_tech", valid_on="2026-01-01") == []
    assert ids(qualification="srdi_sme", valid_on="2026-01-01") == [b["id"]]
    assert ids(industry="C36") == [b["id"]]
    assert ids(industry="36") == [b["id"]]
    listed = client.get(API, params={"qualification": "srdi_sme"}).json()["items"]
    assert listed[0]["qualification_codes"] == ["srdi_sme"]


@pytest.mark.parametrize(
    "params, code",
    [
        ({"cluster": "bio"}, "unknown_cluster"),
        ({"district": "wuxi"}, "unknown_district"),
        ({"qualification": "little-giant"}, "unknown_qualification"),
        ({"tier": "gold"}, "validation_error"),
        ({"size_class": "huge"}, "validation_error"),
        ({"valid_on": "yesterday"}, "validation_error"),
    ],
)
def test_bad_filters_are_422(client, params, code) -> None:
    response = client.get(API, params=params)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_fuzzy_name_search_tolerates_legal_form_and_place(client) -> None:
    target = create_enterprise(client, name="无锡市华光电子股份有限公司")
    create_enterprise(
        client, name="江阴华光纺织有限公司", cluster_code="textile", industry_code="C1711"
    )
    create_enterprise(client, name="无锡新锐传感科技有限公司", cluster_code="iot")
    for query in (
        "华光电子有限公司",
        "华光电子",
        "江苏华光电子股份有限公司",
        "华光电子（无锡）有限公司",
        "无锡华光电子",
    ):
        items = client.get(API, params={"name": query}).json()["items"]
        assert items and items[0]["id"] == target["id"], (query, items)
        assert items[0]["match_score"] >= 90
    scores = [e["match_score"] for e in client.get(API, params={"name": "华光"}).json()["items"]]
    assert scores == sorted(scores, reverse=True)


def test_name_search_combines_with_filters_and_pages(client) -> None:
    made = [
        create_enterprise(
            client,
            name=f"无锡精工{n}号机械有限公司",
            cluster_code="hi_equip",
            industry_code="C3421",
        )
        for n in range(5)
    ]
    seen: list[int] = []
    cursor = None
    while True:
        params = {"name": "精工机械", "limit": 2, "cluster": "hi_equip"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(API, params=params).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(e["id"] for e in made)
    assert len(seen) == len(set(seen))


def test_pagination_loses_and_repeats_nothing(client) -> None:
    made = [create_enterprise(client)["id"] for _ in range(7)]
    seen: list[int] = []
    page = client.get(API, params={"limit": 3}).json()
    while True:
        seen += [e["id"] for e in page["items"]]
        if not page["next_cursor"]:
            break
        page = client.get(API, params={"limit": 3, "cursor": page["next_cursor"]}).json()
    assert seen == made


@pytest.mark.parametrize(
    "params, code",
    [
        ({"limit": 201}, "limit_too_large"),
        ({"limit": 0}, "validation_error"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ],
)
def test_bad_paging_is_422(client, params, code) -> None:
    response = client.get(API, params=params)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_update_replaces_lists_and_validates(client) -> None:
    body = create_enterprise(
        client, qualifications=[{"type_code": "high_tech", "issued_date": "2024-01-01"}]
    )
    response = client.patch(
        f"{API}/{body['id']}",
        json={
            "qualifications": [{"type_code": "tech_sme", "issued_date": "2026-01-01"}],
            "contacts": [],
        },
    )
    assert response.status_code == 200
    assert [q["type_code"] for q in response.json()["qualifications"]] == ["tech_sme"]
    assert response.json()["contacts"] == []
    bad = client.patch(f"{API}/{body['id']}", json={"cluster_code": "chips"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_cluster"
    unchanged = client.get(f"{API}/{body['id']}").json()
    assert unchanged["cluster_code"] == "ic" and unchanged["version"] == 2
    assert client.patch(f"{API}/{body['id']}", json={"name": None}).status_code == 422


def test_if_match_refuses_stale_writes(client) -> None:
    body = create_enterprise(client)
    url = f"{API}/{body['id']}"
    ok = client.patch(url, json={"employees": 50}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = client.patch(url, json={"employees": 60}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert client.get(url).json()["employees"] == 50
    garbage = client.patch(url, json={"employees": 60}, headers={"If-Match": "abc"})
    assert garbage.status_code == 412 and garbage.json()["code"] == "invalid_if_match"


def test_not_found(client) -> None:
    for method, url in [("get", f"{API}/999999"), ("patch", f"{API}/999999")]:
        response = client.request(method.upper(), url, json={})
        assert response.status_code == 404
        assert response.json()["code"] == "enterprise_not_found"
    assert client.get(f"{API}/abc").status_code == 404  # not an id: no such address


def test_qualification_subresource(client) -> None:
    body = create_enterprise(client)
    url = f"{API}/{body['id']}/qualifications"
    added = client.post(
        url,
        json={
            "type_code": "little_giant",
            "issued_date": "2025-07-01",
            "source": "第七批专精特新小巨人",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["expires_date"] == "2028-06-30"
    dup = client.post(url, json={"type_code": "little_giant", "issued_date": "2025-07-01"})
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_qualification"
    assert client.get(f"{API}/{body['id']}").json()["version"] == 2
    qid = added.json()["id"]
    assert client.delete(f"{url}/{qid}").status_code == 204
    assert client.delete(f"{url}/{qid}").status_code == 404
    other = create_enterprise(client)
    q2 = client.post(
        f"{API}/{other['id']}/qualifications",
        json={"type_code": "tech_sme", "issued_date": "2026-01-01"},
    ).json()
    # a qualification of another enterprise is not reachable through this one
    assert client.delete(f"{url}/{q2['id']}").status_code == 404

"""Lists through the API: CSV and XLSX with messy headers and encodings, each linking path,
idempotent re-import, the review queue with who decided, committing applies the list's
qualification; releases with ETag and diffs, and what banks may not see."""

import io
from typing import Any

import pytest
from openpyxl import Workbook

from tests.factories import bank_payload, create_enterprise, credit_code, office_consent


def _upload(c, content: bytes, name: str = "list.csv", **form: Any):
    return c.post(
        "/api/v1/lists/imports",
        files={"file": (name, content, "application/octet-stream")},
        data={"qualification_type": "little_giant", **form},
    )


def _entries(c, import_id: int, **params: Any) -> list[dict]:
    r = c.get("/api/v1/lists/entries", params={"import_id": import_id, "limit": 200, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.fixture
def library(client) -> dict[str, dict]:
    return {
        "huaguang": create_enterprise(
            client, name="无锡华光电子股份有限公司", district_code="xinwu"
        ),
        "hengrui": create_enterprise(client, name="无锡恒瑞精密机械有限公司"),
        "coded": create_enterprise(client, name="江阴远东新材料有限公司", district_code="jiangyin"),
        "twin_a": create_enterprise(client, name="无锡卓胜微电子有限公司"),
        "twin_b": create_enterprise(client, name="卓胜微电子（江阴）有限公司"),
    }


def test_a_list_is_linked_reviewed_and_committed(client, library) -> None:
    new_code = credit_code()
    text = (
        "2026年第一批专精特新“小巨人”企业名单\n"  # a title line above the header
        "序号,企业名称,统一社会信用代码,所在地区\n"
        "1,华光电子（无锡）有限公司,,新吴区\n"  # by name, automatically
        f"2,远东新材料,{library['coded']['credit_code']},江阴市\n"  # by credit code
        "3,无锡恒瑞精密机械科技有限公司,,\n"  # close: review
        "4,卓胜微电子有限公司,,\n"  # two equally good: review
        f"5,无锡全新半导体有限公司,{new_code},\n"  # unknown: new
        "6,无锡某某,91320200134757148X,\n"  # a bad credit code
    )
    response = _upload(
        client, text.encode("utf-8-sig"), title="小巨人第一批", issued_date="2026-07-01"
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["status"] == "preview" and record["rows"] == 6
    assert record["counts"] == {"code": 1, "auto": 1, "review": 2, "new": 1, "invalid": 1}
    entries = {e["row"]: e for e in _entries(client, record["id"])}
    assert (
        entries[3]["match"] == "auto" and entries[3]["enterprise_id"] == library["huaguang"]["id"]
    )
    assert entries[3]["normalized"] == "华光电子" and entries[3]["district_code"] == "xinwu"
    assert entries[4]["match"] == "code" and entries[4]["enterprise_id"] == library["coded"]["id"]
    review = entries[5]
    assert review["match"] == "review" and review["enterprise_id"] is None
    assert review["candidates"][0]["enterprise_id"] == library["hengrui"]["id"]
    assert review["candidates"][0]["normalized"] == "恒瑞精密机械"
    assert 75 <= review["candidates"][0]["score"] < 97
    assert {c["enterprise_id"] for c in entries[6]["candidates"][:2]} == {
        library["twin_a"]["id"],
        library["twin_b"]["id"],
    }
    assert entries[7]["match"] == "new" and entries[8]["match"] == "invalid"
    assert entries[8]["errors"][0]["code"] == "invalid_credit_code_checksum"
    # the review queue shows only what waits for a person
    queue = client.get("/api/v1/lists/entries", params={"match": "review", "pending": True}).json()
    assert {e["row"] for e in queue["items"] if e["import_id"] == record["id"]} == {5, 6}
    # nothing applied before the commit
    firm = client.get(f"/api/v1/enterprises/{library['huaguang']['id']}").json()
    assert not [q for q in firm["qualifications"] if q["type_code"] == "little_giant"]
    committed = client.post(f"/api/v1/lists/imports/{record['id']}/commit")
    assert committed.status_code == 200 and committed.json()["status"] == "committed"
    firm = client.get(f"/api/v1/enterprises/{library['huaguang']['id']}").json()
    (q,) = [q for q in firm["qualifications"] if q["type_code"] == "little_giant"]
    assert (q["issued_date"], q["expires_date"]) == ("2026-07-01", "2029-06-30")
    assert q["source"].startswith("小巨人第一批")
    # the office confirms one review entry and rejects the other; who and when are kept
    confirmed = client.post(
        f"/api/v1/lists/entries/{review['id']}/confirm",
        json={"enterprise_id": library["hengrui"]["id"]},
        headers={"If-Match": '"1"'},
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["decision"] == "confirmed" and body["decided_by"].startswith("key:")
    assert body["applied_qualification_id"] is not None  # committed: applied at once
    again = client.post(f"/api/v1/lists/entries/{review['id']}/confirm", json={"enterprise_id": 1})
    assert again.status_code == 409
    rejected = client.post(f"/api/v1/lists/entries/{entries[6]['id']}/reject")
    assert rejected.json()["decision"] == "rejected"
    # a proposal becomes a library entry (with the list's credit code)
    created = client.post(f"/api/v1/lists/entries/{entries[7]['id']}/create-enterprise", json={})
    assert created.status_code == 200, created.text
    new_firm = client.get(f"/api/v1/enterprises/{created.json()['enterprise_id']}").json()
    assert new_firm["credit_code"] == new_code
    assert [q["type_code"] for q in new_firm["qualifications"]] == ["little_giant"]
    # the decisions are in the audit log
    audit = client.get("/api/v1/audit", params={"subject_type": "list_entry"}).json()["items"]
    assert {tuple(e["changes"].get("decision", [None, None]))[1] for e in audit} >= {
        "confirmed",
        "rejected",
        "created",
    }


def test_re_importing_the_same_file_changes_nothing(client, library) -> None:
    text = "企业名称\n华光电子（无锡）有限公司\n".encode()
    first = _upload(client, text)
    again = _upload(client, text)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True
    assert client.post(f"/api/v1/lists/imports/{first.json()['id']}/commit").status_code == 200
    twice = client.post(f"/api/v1/lists/imports/{first.json()['id']}/commit")
    assert twice.status_code == 200
    firm = client.get(f"/api/v1/enterprises/{library['huaguang']['id']}").json()
    assert len([q for q in firm["qualifications"] if q["type_code"] == "little_giant"]) == 1
    # the same names for another list type is another import
    other = _upload(client, text, qualification_type="high_tech")
    assert other.status_code == 201


def test_xlsx_and_gb18030_lists(client, library) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["单位名称（全称）", "区县", "批次", "认定时间"])
    sheet.append(["无锡华光电子股份有限公司", "新吴", "第一批", "2026/7/1"])
    out = io.BytesIO()
    book.save(out)
    r = _upload(client, out.getvalue(), "名单.xlsx", qualification_type="gazelle")
    assert r.status_code == 201, r.text
    (entry,) = _entries(client, r.json()["id"])
    assert entry["match"] == "auto" and entry["batch"] == "第一批"
    assert entry["issued_date"] == "2026-07-01"
    gb = "公司名称\t统一社会信用代码\n恒瑞精密机械（无锡）有限公司\t\n".encode("gb18030")
    r = _upload(client, gb, "名单.csv", qualification_type="eaglet")
    assert r.status_code == 201, r.text
    (entry,) = _entries(client, r.json()["id"])
    assert entry["match"] == "auto" and entry["enterprise_id"] == library["hengrui"]["id"]


@pytest.mark.parametrize(
    ("content", "form", "code"),
    [
        (b"", {}, "empty_file"),
        ("地址,电话\n无锡,1\n".encode(), {}, "missing_columns"),
        ("企业名称\n华光\n".encode(), {"qualification_type": "nope"}, "unknown_qualification_type"),
    ],
)
def test_bad_lists_are_refused(client, content, form, code) -> None:
    r = _upload(client, content, **form)
    assert r.status_code == 422 and r.json()["code"] == code


def test_a_long_file_name_is_kept_shortened(client) -> None:
    name = "名" * 300 + ".csv"
    response = client.post(
        "/api/v1/lists/imports",
        files={"file": (name, "企业名称\n无锡长名科技有限公司\n".encode(), "text/csv")},
        data={"qualification_type": "high_tech"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == name[:200]


def test_only_the_office_handles_lists(as_role, client, library) -> None:
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    banker = as_role("bank", bank_code=bank)
    assert _upload(banker, "企业名称\n华光\n".encode()).status_code == 403
    assert banker.get("/api/v1/lists/entries").status_code == 403


# --- releases -------------------------------------------------------------------------------


def test_releases_with_etags_diffs_and_tiers(client, as_role) -> None:
    shared = create_enterprise(client, name="无锡公开科技有限公司")
    private = create_enterprise(client, name="无锡保密科技有限公司", credit_grade="AA")
    assert (
        client.patch(
            f"/api/v1/enterprises/{shared['id']}",
            json=office_consent(),
            headers={"If-Match": '"1"'},
        ).status_code
        == 200
    )
    first = client.post("/api/v1/releases", json={"note": "第一版"})
    assert first.status_code == 201, first.text
    one = first.json()
    assert one["enterprises"] >= 2 and one["shared_enterprises"] >= 1
    assert one["consented_enterprises"] == one["shared_enterprises"]
    assert "revenue_fen" in one["tiers"]["private"]["enterprise"]
    assert "qualifications" in one["tiers"]["public"]["enterprise"]
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    banker = as_role("bank", bank_code=bank)
    latest = banker.get("/api/v1/releases/latest")
    assert latest.status_code == 200 and latest.json()["number"] == one["number"]
    tag = latest.headers["etag"]
    assert banker.get("/api/v1/releases/latest", headers={"If-None-Match": tag}).status_code == 304
    # a bank sees every enterprise's public facts, and private ones only with consent
    seen = _all_items(banker, one["number"], full=True)
    assert latest.json()["enterprises"] == one["enterprises"] == len(seen)
    assert seen[private["id"]]["name"] == "无锡保密科技有限公司"
    assert seen[private["id"]]["credit_code"] == private["credit_code"]
    assert not {"revenue_fen", "credit_grade", "contacts", "employees"} & set(seen[private["id"]])
    assert seen[shared["id"]]["revenue_fen"] == shared["revenue_fen"]
    assert seen[shared["id"]]["contacts"][0]["name"] == shared["contacts"][0]["name"]
    assert _all_items(client, one["number"], full=True)[private["id"]]["credit_grade"] == "AA"
    # a change, a new enterprise, and the private one starts sharing: release 2
    client.patch(f"/api/v1/enterprises/{shared['id']}", json={"employees": 999})
    client.patch(f"/api/v1/enterprises/{private['id']}", json={"employees": 130})
    added = create_enterprise(client, name="无锡新增科技有限公司")
    client.patch(f"/api/v1/enterprises/{added['id']}", json=office_consent())
    two = client.post("/api/v1/releases", json={}).json()
    assert two["number"] == one["number"] + 1
    assert banker.get("/api/v1/releases/latest", headers={"If-None-Match": tag}).status_code == 200
    changes = banker.get(f"/api/v1/releases/{two['number']}/diff", params={"since": one["number"]})
    assert changes.status_code == 200, changes.text
    by_id = {(c["kind"], c["id"]): c for c in changes.json()["items"]}
    assert by_id[("enterprise", added["id"])]["change"] == "added"
    assert by_id[("enterprise", shared["id"])]["change"] == "changed"
    # 999 people and 80 million yuan of revenue: from small to medium
    assert by_id[("enterprise", shared["id"])]["fields"] == ["employees", "size_class"]
    assert by_id[("enterprise", shared["id"])]["data"]["size_class"] == "medium"
    # the private one's headcount changed, which the bank never sees: nothing for it
    assert ("enterprise", private["id"]) not in by_id
    # an earlier release stays as it was
    assert (
        banker.get(f"/api/v1/releases/{one['number']}").json()["checksum"]
        == latest.json()["checksum"]
    )
    assert banker.post("/api/v1/releases", json={}).status_code == 403
    assert banker.get("/api/v1/releases/999").status_code == 404


def test_a_release_nobody_consented_to_warns_the_office(client, as_role) -> None:
    firm = create_enterprise(client, name="无锡未授权科技有限公司")
    release = client.post("/api/v1/releases", json={}).json()
    assert release["shared_enterprises"] == 0 and "没有企业同意" in release["warnings"][0]
    bank = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    view = as_role("bank", bank_code=bank).get(f"/api/v1/releases/{release['number']}").json()
    assert view["warnings"] == [] and view["enterprises"] == release["enterprises"]
    assert firm["id"] in _all_items(as_role("bank", bank_code=bank), release["number"])


def _all_items(c, number: int, full: bool = False) -> Any:
    """The enterprise items of a release as the caller sees them: their ids, or (full) each
    one's data by id."""
    found: dict[int, Any] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"kind": "enterprise", "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = c.get(f"/api/v1/releases/{number}/items", params=params).json()
        found |= {item["id"]: item["data"] for item in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found if full else set(found)


def test_a_key_project_list_adds_its_projects(client, library) -> None:
    text = (
        "2026年无锡市重点产业项目名单\n"
        "序号,项目名称,项目单位,总投资（亿元）,年度\n"
        "1,12英寸功率器件产线项目,华光电子（无锡）有限公司,12.5,2026\n"
        "2,精密传动部件扩产项目,无锡恒瑞精密机械有限公司,3,2026年\n"
        "3,某项目,无锡查无此企业有限公司,1,2026\n"
        "4,错误年度项目,无锡恒瑞精密机械有限公司,1,明年\n"
    )
    r = _upload(client, text.encode(), qualification_type="key_project", title="2026年重点项目")
    assert r.status_code == 201, r.text
    entries = {e["row"]: e for e in _entries(client, r.json()["id"])}
    assert entries[3]["project_name"] == "12英寸功率器件产线项目"
    assert entries[3]["project_investment_fen"] == 125_000_000_000
    assert entries[4]["project_year"] == 2026 and entries[4]["match"] == "auto"
    assert entries[5]["match"] == "new"
    assert entries[6]["match"] == "invalid" and entries[6]["errors"][0]["code"] == "invalid_year"
    client.post(f"/api/v1/lists/imports/{r.json()['id']}/commit").raise_for_status()
    projects = client.get(
        "/api/v1/projects", params={"enterprise_id": library["huaguang"]["id"]}
    ).json()["items"]
    (project,) = [p for p in projects if p["name"] == "12英寸功率器件产线项目"]
    assert project["total_investment_fen"] == 125_000_000_000 and project["year"] == 2026
    firm = client.get(f"/api/v1/enterprises/{library['huaguang']['id']}").json()
    assert "key_project" in {q["type_code"] for q in firm["qualifications"]}
    entry = {e["row"]: e for e in _entries(client, r.json()["id"])}[3]
    assert entry["applied_project_id"] == project["id"]

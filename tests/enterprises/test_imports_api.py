"""Bulk imports of the enterprise and project libraries through the API: preview, rows,
commit, re-import, audit, consent, and the files refused."""

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from service.access.models import AuditEntry
from service.enterprises.models import Enterprise, Project
from service.jobs.models import Job
from tests.factories import create_enterprise, credit_code
from tests.spreadsheets import hostile_uploads, xlsx

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所属地区",
    "产业集群",
    "从业人员（人）",
    "营业收入（万元）",
    "资质",
    "联系人",
    "联系电话",
    "是否同意向银行共享",
    "申报表编号",
    "申报表签署日期",
]
FORM = ["是", "锡金融入库〔2026〕0001号", "2026-01-05"]


def csv_of(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    lines = [header, *rows]
    return "\r\n".join(
        ",".join("" if v is None else str(v) for v in line) for line in lines
    ).encode()


def upload(
    client: Any, content: bytes, kind: str = "enterprises", name: str = "库.csv", **kw: Any
) -> Any:
    return client.post(f"/api/v1/{kind}/imports", files={"file": (name, content)}, **kw)


def preview(client: Any, content: bytes, kind: str = "enterprises", name: str = "库.csv") -> dict:
    response = upload(client, content, kind, name)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/{kind}/imports/{response.json()['id']}"
    return response.json()


def rows(client: Any, record: dict, kind: str = "enterprises", **params: Any) -> list[dict]:
    out: list[dict] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/{kind}/imports/{record['id']}/rows", params=query)
        assert page.status_code == 200, page.text
        out += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return out


def commit(client: Any, record: dict, kind: str = "enterprises") -> dict:
    response = client.post(f"/api/v1/{kind}/imports/{record['id']}/commit")
    assert response.status_code == 200, response.text
    return response.json()


LIBRARY = ("enterprise", "qualification", "contact", "project")


def audit_count(session: Session) -> int:
    """Entries about the libraries (the imports' own entries aside)."""
    return (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_type.in_(LIBRARY))  # type: ignore[attr-defined]
        )
        or 0
    )


def enterprise(session: Session, code: str) -> Enterprise:
    found = session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    assert found is not None
    session.refresh(found)
    return found


def test_preview_then_commit_creates_updates_and_reports_every_rejected_row(
    client: Any, session: Session
) -> None:
    known = create_enterprise(client, employees=100, revenue_fen=8_000_000_000)
    new, bad = credit_code(), "91320200134757148K"
    content = csv_of(
        [
            [
                new,
                "无锡新芯微电子有限公司",
                "新吴区",
                "集成电路",
                50,
                "3000",
                "高新技术企业 2024-12-01",
                "张三",
                "0510-1",
                *FORM,
            ],
            [
                known["credit_code"],
                None,
                None,
                None,
                150,
                "1.2亿",
                None,
                None,
                None,
                None,
                None,
                None,
            ],
            [bad, "坏代码公司", "火星区", None, -1, None, None, None, None, None, None, None],
            [new, "重复一行", None, None, None, None, None, None, None, None, None, None],
        ]
    )
    before = audit_count(session)
    record = preview(client, content)
    assert record["status"] == "preview" and record["rows"] == 4
    assert record["counts"] == {
        "create": 1,
        "update": 1,
        "unchanged": 0,
        "rejected": 2,
        "warnings": 0,
    }
    assert session.scalar(select(Enterprise).where(Enterprise.credit_code == new)) is None
    listed = rows(client, record)
    assert [r["row"] for r in listed] == [2, 3, 4, 5]
    update = listed[1]
    assert update["action"] == "update" and update["subject_id"] == known["id"]
    assert update["changes"] == [
        {"field": "employees", "old": 100, "new": 150},
        {"field": "revenue_fen", "old": 8_000_000_000, "new": 12_000_000_000},
    ]
    rejected = rows(client, record, action="rejected")
    assert [(r["row"], [(e["field"], e["code"]) for e in r["errors"]]) for r in rejected] == [
        (
            4,
            [
                ("credit_code", "invalid_credit_code_checksum"),
                ("district_code", "unknown_district"),
                ("employees", "negative_count"),
            ],
        ),
        (5, [("credit_code", "duplicate_in_file")]),
    ]
    assert rejected[1]["errors"][0]["message"].startswith("第 5 行：")
    assert "第 2 行" in rejected[1]["errors"][0]["message"]
    assert audit_count(session) == before  # nothing of the library

    done = commit(client, record)
    assert done["status"] == "committed" and done["committed_by"].startswith("key:")
    assert done["applied"] == record["counts"]
    assert rows(client, record, warnings="true") == []
    created = enterprise(session, new)
    assert (created.name, created.district_code, created.cluster_code, created.employees) == (
        "无锡新芯微电子有限公司",
        "xinwu",
        "ic",
        50,
    )
    assert created.revenue_fen == 3_000_000_000 and created.version == 1
    assert created.share_with_banks and created.consent_source == "office_form"
    profile = client.get(f"/api/v1/enterprises/{created.id}").json()
    assert [q["type_code"] for q in profile["qualifications"]] == ["high_tech"]
    assert profile["contacts"][0]["name"] == "张三" and profile["contacts"][0]["is_primary"]
    updated = enterprise(session, known["credit_code"])
    assert (updated.employees, updated.revenue_fen, updated.version) == (150, 12_000_000_000, 2)
    assert updated.name == known["name"]  # a blank cell erases nothing
    assert rows(client, record, action="create")[0]["subject_id"] == created.id
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.subject_type == "enterprise", AuditEntry.subject_id == str(created.id)
        )
    ).one()
    assert entry.action == "create" and entry.actor_key_id is not None
    assert entry.changes["name"] == "无锡新芯微电子有限公司"
    assert [q["type_code"] for q in entry.changes["qualifications"]] == ["high_tech"]
    assert entry.changes["contacts"][0]["name"] == "张三"


def test_each_change_is_audited_as_the_committing_office_old_to_new(
    client: Any, session: Session
) -> None:
    known = create_enterprise(client, employees=100, credit_grade="A")
    record = preview(
        client,
        csv_of([[known["credit_code"], None, None, None, 120]], HEADER[:5]),
    )
    commit(client, record)
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.enterprise_id == known["id"], AuditEntry.subject_type == "enterprise")
        .order_by(AuditEntry.id)
    ).all()
    last = entries[-1]
    assert last.action == "update" and last.actor_role == "office" and last.actor_key_id
    assert last.changes == {"employees": [100, 120]}


def test_re_importing_the_same_file_changes_nothing(client: Any, session: Session) -> None:
    known = create_enterprise(client)
    content = csv_of(
        [
            [
                credit_code(),
                "无锡重导入有限公司",
                "江阴",
                "ic",
                12,
                "1.5亿元",
                "高新技术企业 2024-12-01",
                "李四",
                "0510-9",
                *FORM,
            ],
            [
                known["credit_code"],
                known["name"],
                None,
                None,
                333,
                None,
                "srdi_sme 2025-01-10",
                "李华",
                "0510-7",
                None,
                None,
                None,
            ],
        ]
    )
    commit(client, preview(client, content))
    versions = dict(session.execute(select(Enterprise.id, Enterprise.version)).all())
    audits, jobs = audit_count(session), session.scalar(select(func.count()).select_from(Job))
    again = preview(client, content)
    assert again["counts"] == {
        "create": 0,
        "update": 0,
        "unchanged": 2,
        "rejected": 0,
        "warnings": 0,
    }
    assert all(not r["changes"] for r in rows(client, again))
    assert commit(client, again)["applied"]["unchanged"] == 2
    assert dict(session.execute(select(Enterprise.id, Enterprise.version)).all()) == versions
    assert audit_count(session) == audits
    assert session.scalar(select(func.count()).select_from(Job)) == jobs
    profile = client.get(f"/api/v1/enterprises/{known['id']}").json()
    assert len(profile["contacts"]) == 1 and profile["contacts"][0]["phone"] == "0510-7"
    assert sorted(q["type_code"] for q in profile["qualifications"]) == ["srdi_sme"]


def test_committing_twice_answers_the_same_and_changes_nothing(
    client: Any, session: Session
) -> None:
    record = preview(client, csv_of([[credit_code(), "无锡两次提交有限公司"]], HEADER[:2]))
    first = commit(client, record)
    audits = audit_count(session)
    second = commit(client, record)
    assert second == first
    assert audit_count(session) == audits
    replay = client.post(
        f"/api/v1/enterprises/imports/{record['id']}/commit", headers={"Idempotency-Key": "c-1"}
    )
    assert replay.status_code == 200 and replay.json()["applied"] == first["applied"]


def test_the_commit_compares_with_the_library_as_it_is_then(client: Any, session: Session) -> None:
    """Someone edits the enterprise between preview and commit: the commit applies what the
    file says against that, never the preview's old values."""
    known = create_enterprise(client, employees=100, credit_grade="A")
    record = preview(client, csv_of([[known["credit_code"], None, None, None, 150]], HEADER[:5]))
    assert rows(client, record)[0]["changes"] == [{"field": "employees", "old": 100, "new": 150}]
    client.patch(f"/api/v1/enterprises/{known['id']}", json={"employees": 150, "credit_grade": "B"})
    done = commit(client, record)
    assert done["applied"]["unchanged"] == 1 and done["applied"]["update"] == 0
    stored = enterprise(session, known["credit_code"])
    assert (stored.employees, stored.credit_grade, stored.version) == (150, "B", 2)
    assert rows(client, record)[0]["action"] == "unchanged"  # as applied


def test_the_enterprises_own_later_choice_wins_with_a_warning(
    client: Any, as_role: Any, session: Session
) -> None:
    firm = create_enterprise(client, employees=10)
    itself = as_role("enterprise", enterprise_id=firm["id"])
    assert (
        itself.patch(
            f"/api/v1/enterprises/{firm['id']}", json={"share_with_banks": False}
        ).status_code
        == 200
    )
    record = preview(
        client,
        csv_of([[firm["credit_code"], None, None, None, 20, None, None, None, None, *FORM]]),
    )
    assert record["counts"]["update"] == 1 and record["counts"]["warnings"] == 1
    (row,) = rows(client, record)
    assert row["action"] == "update" and not row["errors"]
    assert [(w["field"], w["code"]) for w in row["warnings"]] == [
        ("share_with_banks", "consent_decided_by_enterprise")
    ]
    assert row["warnings"][0]["message"].startswith("第 2 行：")
    assert [r["row"] for r in rows(client, record, warnings="true")] == [2]
    commit(client, record)
    stored = enterprise(session, firm["credit_code"])
    assert stored.employees == 20
    assert stored.share_with_banks is False and stored.consent_source == "enterprise"


def test_project_import(client: Any, session: Session) -> None:
    unit = create_enterprise(client)
    header = [
        "统一社会信用代码",
        "项目名称",
        "项目类型",
        "总投资（万元）",
        "融资需求",
        "年度",
        "状态",
        "所属名单",
    ]
    content = csv_of(
        [
            [
                unit["credit_code"],
                "智改数转一期",
                "智改数转",
                12000,
                "3000万",
                2026,
                "在建",
                "2026年无锡市重大产业项目",
            ],
            [unit["credit_code"], "研发中心", "研发", 500, None, 2026, None, None],
            [credit_code(), "别家的项目", "研发", 100, None, 2026, None, None],
            [unit["credit_code"], "智改数转一期", "研发", 1, None, 2026, None, None],
            [unit["credit_code"], "缺类型项目", None, 100, None, 2026, None, None],
        ],
        header,
    )
    record = preview(client, content, "projects")
    assert record["kind"] == "project"
    assert record["counts"] == {
        "create": 2,
        "update": 0,
        "unchanged": 0,
        "rejected": 3,
        "warnings": 0,
    }
    reasons = {
        r["row"]: [e["code"] for e in r["errors"]]
        for r in rows(client, record, "projects", action="rejected")
    }
    assert reasons == {4: ["unknown_enterprise"], 5: ["duplicate_in_file"], 6: ["missing_kind"]}
    commit(client, record, "projects")
    projects = {
        p.name: p
        for p in session.scalars(select(Project).where(Project.enterprise_id == unit["id"]))
    }
    first = projects["智改数转一期"]
    assert (first.kind, first.total_investment_fen, first.financing_need_fen, first.status) == (
        "intelligent_digital",
        12_000_000_000,
        3_000_000_000,
        "under_construction",
    )
    assert first.listed_in == "2026年无锡市重大产业项目" and first.cluster_code == "ic"
    update = csv_of(
        [[unit["credit_code"], "研发中心", None, None, "100万", None, "已备案", None]], header
    )
    again = preview(client, update, "projects")
    (row,) = rows(client, again, "projects")
    assert row["action"] == "update" and row["subject_id"] == projects["研发中心"].id
    assert row["changes"] == [
        {"field": "financing_need_fen", "old": None, "new": 100_000_000},
        {"field": "status", "old": "planned", "new": "approved"},
    ]
    commit(client, again, "projects")
    session.refresh(projects["研发中心"])
    assert projects["研发中心"].version == 2 and projects["研发中心"].status == "approved"
    assert preview(client, update, "projects")["counts"]["unchanged"] == 1


def test_xlsx_upload_and_an_idempotent_retry(client: Any) -> None:
    content = xlsx([HEADER[:3], [credit_code(), "无锡表格有限公司", "惠山区"]])
    first = upload(client, content, name="库.xlsx", headers={"Idempotency-Key": "imp-1"})
    assert first.status_code == 201 and first.json()["counts"]["create"] == 1
    again = upload(client, content, name="库.xlsx", headers={"Idempotency-Key": "imp-1"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]


def test_only_the_office_imports(client: Any, as_role: Any) -> None:
    bank = as_role("bank", bank_code="jsbank-wx")
    content = csv_of([[credit_code(), "无锡某公司"]], HEADER[:2])
    refused = upload(bank, content)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"
    record = preview(client, content)
    assert bank.get(f"/api/v1/enterprises/imports/{record['id']}").status_code == 403
    assert bank.post(f"/api/v1/enterprises/imports/{record['id']}/commit").status_code == 403
    assert client.get(f"/api/v1/projects/imports/{record['id']}").status_code == 404
    missing = client.get("/api/v1/enterprises/imports/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "library_import_not_found"


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "a.csv", "empty_file"),
        ("企业名称,从业人员\n无锡甲公司,3\n".encode(), "a.csv", "missing_columns"),
        ("统一社会信用代码,企业名称\n".encode(), "a.csv", "no_rows"),
        (
            f"统一社会信用代码,企业名称\n{credit_code()},无锡\x00公司\n".encode(),
            "a.csv",
            "nul_character",
        ),
    ],
)
def test_files_refused_whole(client: Any, content: bytes, name: str, code: str) -> None:
    response = upload(client, content, name=name)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("name", "content", "filename", "code"),
    hostile_uploads(["统一社会信用代码", "企业名称"]),
    ids=[u[0] for u in hostile_uploads(["统一社会信用代码", "企业名称"])],
)
def test_hostile_files_are_refused(
    client: Any, name: str, content: bytes, filename: str, code: str
) -> None:
    response = upload(client, content, name=filename)
    assert response.status_code == 422, (name, response.text)
    assert response.json()["code"] == code


def test_a_file_over_the_size_limit_is_a_413(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.enterprises import imports

    monkeypatch.setattr(imports, "LIMITS", imports.replace(imports.LIMITS, file_bytes=100))
    response = upload(client, csv_of([[credit_code(), "无锡" + "大" * 100 + "公司"]], HEADER[:2]))
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"


def test_row_filter_must_be_an_action(client: Any) -> None:
    record = preview(client, csv_of([[credit_code(), "无锡过滤有限公司"]], HEADER[:2]))
    bad = client.get(f"/api/v1/enterprises/imports/{record['id']}/rows", params={"action": "x"})
    assert bad.status_code == 422

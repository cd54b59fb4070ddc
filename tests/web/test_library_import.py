"""The office imports its enterprise or project library through the enterprise library's
page: the upload form (multipart, CSRF-checked), the preview in words (counts, rejected rows
with their row number and reasons, updates field by field with names, not codes), committing
it; bad files and a forged form answered with a page that changes nothing."""

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from service.enterprises.models import Enterprise
from tests.factories import create_enterprise, credit_code
from tests.web.conftest import form_token

PAGE = "/web/office/enterprises"
UPLOAD = "/web/office/enterprises/imports"


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _upload(
    office: TestClient,
    content: bytes,
    kind: str = "enterprise",
    filename: str = "企业库.csv",
    token: str | None = None,
) -> Any:
    fields = {"kind": kind}
    if token is None:
        token = form_token(office.get(PAGE).text)
    if token:
        fields["csrf_token"] = token
    return office.post(
        UPLOAD,
        data=fields,
        files={"file": (filename, content, "application/octet-stream")},
        follow_redirects=False,
    )


def _library_csv(firm: dict[str, Any], new: str) -> bytes:
    return "\n".join(
        [
            "统一社会信用代码,企业名称,所属地区,产业集群,从业人员（人）,营业收入（万元）,资质",
            f"{firm['credit_code']},,,集成电路,150,1.2亿,高新技术企业 2024-12-01",
            f"{new},无锡页面新增有限公司,江阴市,物联网,30,3000,",
            "91320200134757148K,无锡错码有限公司,火星区,,,,",
        ]
    ).encode()


def test_the_page_offers_the_upload_form(browser_as: Any) -> None:
    page = browser_as("office").get(PAGE).text
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    assert '<option value="enterprise">企业库</option>' in page
    assert '<option value="project">项目库</option>' in page


def test_upload_preview_in_words_then_commit(
    browser_as: Any, client: TestClient, session: Session
) -> None:
    office = browser_as("office")
    firm = create_enterprise(client, employees=100, cluster_code="iot")
    new = credit_code()
    response = _upload(office, _library_csv(firm, new))
    assert response.status_code == 303, response.text
    address = response.headers["location"]
    assert re.fullmatch(r"/web/office/enterprises/imports/\d+", address)
    page = office.get(address).text
    text = _text(page)
    assert "新增 1 行" in text and "更新 1 行" in text and "拒绝 1 行" in text
    assert "第 4 行：统一社会信用代码「91320200134757148K」" in text and "校验位不符" in text
    assert "第 4 行：所属地区「火星区」无法识别" in text
    assert "从业人员 100 150" in text
    assert "产业集群 物联网 集成电路" in text  # names, not codes
    assert "营业收入 8,000 万元 12,000 万元" in text
    assert "高新技术企业（2024-12-01 认定）" in text
    assert "invalid_credit_code_checksum" not in page and ">iot<" not in page
    assert session.scalar(select(Enterprise).where(Enterprise.credit_code == new)) is None
    commit = office.post(
        address + "/commit", data={"csrf_token": form_token(page)}, follow_redirects=False
    )
    assert commit.status_code == 303
    done = _text(office.get(commit.headers["location"]).text)
    assert "已提交" in done and "提交导入" not in done
    assert session.scalar(select(Enterprise).where(Enterprise.credit_code == new)) is not None


def test_project_file_through_the_same_form(browser_as: Any, client: TestClient) -> None:
    office = browser_as("office")
    firm = create_enterprise(client)
    content = (
        "统一社会信用代码,项目名称,项目类型,总投资（万元）,年度,状态\n"
        f"{firm['credit_code']},页面技改项目,技改,5000,2026,在建\n"
    ).encode()
    response = _upload(office, content, kind="project", filename="项目库.csv")
    assert response.status_code == 303
    text = _text(office.get(response.headers["location"]).text)
    assert "项目库导入预览" in text and "新增 1 行" in text
    assert "项目类型：技术改造" in text and "状态：在建" in text


def test_bad_files_and_fields_are_told_beside_the_form(browser_as: Any) -> None:
    office = browser_as("office")
    no_kind = _upload(office, b"x", kind="")
    assert no_kind.status_code == 422 and "请选择一项" in no_kind.text
    wrong = _upload(office, b"x", filename="库.xls")
    assert wrong.status_code == 422 and "只能导入 CSV 或 XLSX" in wrong.text
    missing = _upload(office, "企业名称\n无锡甲公司\n".encode())
    assert missing.status_code == 422 and "缺少必需的列：统一社会信用代码" in missing.text
    assert 'aria-invalid="true"' in missing.text


def test_a_forged_or_missing_token_changes_nothing(browser_as: Any, client: TestClient) -> None:
    office = browser_as("office")
    content = f"统一社会信用代码,企业名称\n{credit_code()},无锡伪造有限公司\n".encode()
    before = client.get("/api/v1/enterprises").json()["items"]
    assert _upload(office, content, token="forged").status_code == 403
    assert client.get("/api/v1/enterprises").json()["items"] == before


def test_other_roles_cannot_import(browser_as: Any, client: TestClient) -> None:
    firm = create_enterprise(client)
    itself = browser_as("enterprise", enterprise_id=firm["id"])
    page = itself.get("/web/enterprise").text
    response = itself.post(
        UPLOAD,
        data={"kind": "enterprise", "csrf_token": form_token(page)},
        files={"file": ("a.csv", b"x")},
        follow_redirects=False,
    )
    assert response.status_code == 403

"""The office imports a government list through its page: the upload form (multipart,
CSRF-checked), the preview in words with every rejected row and why, committing it; bad
files, a forged form and other roles answered with a page that changes nothing."""

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.edge import route_table
from service.core.settings import get_settings
from service.core.tables import Limits, read_limits
from tests import spreadsheets as s
from tests.factories import create_enterprise
from tests.web.conftest import form_token

LISTS = "/web/office/lists"
UPLOAD = "/web/office/lists/imports"
FORM = {
    "qualification_type": "little_giant",
    "title": "2026年第一批专精特新小巨人企业名单",
    "source": "工业和信息化部",
    "batch": "第一批",
    "issued_date": "2026-03-01",
    "expires_date": "",
}


def _list_csv(firm: dict[str, Any]) -> bytes:
    """A title line, the header (row 2) and four companies: one by its credit code, one the
    library does not hold, one with a bad code and a date that does not exist (row 5), and
    one with a district nobody knows but a usable name."""
    return "\n".join(
        [
            "2026年第一批专精特新“小巨人”企业名单",
            "序号,企业名称,统一社会信用代码,所在地区,认定日期",
            f"1,{firm['name']},{firm['credit_code']},新吴区,",
            "2,无锡澄星远航新材料有限公司,,江阴市,",
            "3,无锡错码精工有限公司,91320200MA1234567X,新吴区,2026-02-30",
            "4,无锡远方测控有限公司,,火星区,",
        ]
    ).encode()


def _upload(
    office: TestClient,
    content: bytes,
    filename: str = "名单.csv",
    token: str | None = None,
    **form: str,
) -> Any:
    fields = {**FORM, **form}
    if token is None:
        token = form_token(office.get(LISTS).text)
    if token:
        fields["csrf_token"] = token
    return office.post(
        UPLOAD,
        data=fields,
        files={"file": (filename, content, "application/octet-stream")},
        follow_redirects=False,
    )


def _imports(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/v1/lists/imports").json()["items"]


def _text(page: str) -> str:
    """What a person reads: the tags dropped, entities resolved, space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_form_names_each_qualification_type_in_words(browser_as) -> None:
    page = browser_as("office").get(LISTS).text
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    assert '<option value="little_giant">专精特新&#34;小巨人&#34;企业</option>' in page
    assert "little_giant" not in _text(page)  # codes only as the options' values
    assert "待审核条目" in page  # the review queue is still there


def test_a_list_uploaded_through_the_page_is_previewed_then_committed(browser_as, client) -> None:
    firm = create_enterprise(client)
    office = browser_as("office")
    response = _upload(office, _list_csv(firm))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    [record] = _imports(client)
    assert location == f"/web/office/lists/imports/{record['id']}"
    assert record["status"] == "preview" and record["title"] == FORM["title"]
    assert (record["source"], record["batch"], record["issued_date"]) == (
        "工业和信息化部",
        "第一批",
        "2026-03-01",
    )
    assert record["filename"] == "名单.csv"

    preview = office.get(location)
    assert preview.status_code == 200
    words = _text(preview.text)
    assert "名单共 4 行企业" in words
    assert "按信用代码匹配 1 行" in words and "拟新增 2 行" in words
    assert "无效（未导入） 1 行" in words and "待人工审核 0 行" in words
    assert '专精特新"小巨人"企业' in words and "little_giant" not in words
    # the rejected row: its number in the file and every reason
    rejected = re.search(r'<tr id="row-5">(.*?)</tr>', preview.text, re.S)
    assert rejected, preview.text
    row = _text(rejected.group(1))
    assert "第 5 行" in row and "无锡错码精工有限公司" in row
    assert "统一社会信用代码 91320200MA1234567X" in row
    assert "认定日期「2026-02-30」不是有效日期" in row
    assert len(re.findall(r"<li>", rejected.group(1))) == 2
    assert 'id="row-6"' not in preview.text  # an unknown district alone does not reject a row

    # the button commits it: the firm found by its code gets the qualification
    commit = re.search(r'action="(/web/office/lists/imports/\d+/commit)"', preview.text)
    assert commit
    token = form_token(preview.text)
    done = office.post(commit.group(1), data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get(f"/api/v1/lists/imports/{record['id']}").json()["status"] == "committed"
    qualifications = client.get(f"/api/v1/enterprises/{firm['id']}").json()["qualifications"]
    assert [(q["type_code"], q["issued_date"]) for q in qualifications] == [
        ("little_giant", "2026-03-01")
    ]
    assert "工业和信息化部" in qualifications[0]["source"]
    after = office.get(location)
    assert "名单已提交，资质已生效" in after.text and "提交名单</button>" not in after.text
    # the lists page links the import to its preview
    assert f'href="{location}"' in office.get(LISTS).text


def test_the_same_file_again_shows_the_first_import(browser_as, client) -> None:
    firm = create_enterprise(client)
    office = browser_as("office")
    first = _upload(office, _list_csv(firm)).headers["location"]
    again = _upload(office, _list_csv(firm), title="又一次")
    assert again.status_code == 303 and again.headers["location"] == f"{first}?duplicate=1"
    assert "没有重复导入" in office.get(again.headers["location"]).text
    assert len(_imports(client)) == 1


def test_a_long_file_name_is_kept_shortened(browser_as, client) -> None:
    office = browser_as("office")
    name = "名" * 250 + ".CSV"
    response = _upload(office, "企业名称\n无锡甲精密有限公司\n".encode(), name)
    assert response.status_code == 303, response.text
    kept = _imports(client)[0]["filename"]
    assert len(kept) == 200 and kept.endswith("名.CSV")


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"%PDF-1.7\n...", "名单.pdf", "只能导入 CSV 或 XLSX 文件，「名单.pdf」不是"),
        (OLE, "名单.xls", "只能导入 CSV 或 XLSX 文件"),
        (OLE, "名单.xlsx", "不支持旧版 .xls 或加密的工作簿"),
        ("序号,备注\n1,无\n".encode(), "名单.csv", "找不到企业名称列"),
        (s.xlsx([["序号", "备注"], [1, "无"]]), "名单.xlsx", "找不到企业名称列"),
        (s.truncated(s.xlsx([["企业名称"], ["无锡甲有限公司"]])), "名单.xlsx", "无法读取 XLSX"),
        (s.billion_laughs([["企业名称"], ["无锡甲有限公司"]]), "名单.xlsx", "含有 DTD"),
        (b"", "empty.csv", "请选择名单文件"),  # a browser's empty file input
    ],
    ids=[
        "pdf",
        "xls-name",
        "xls-content",
        "csv-no-name-column",
        "xlsx-no-name-column",
        "truncated",
        "dtd",
        "no-file",
    ],
)
def test_a_bad_file_is_a_page_keeping_what_was_typed(
    browser_as, client, content, filename, message
) -> None:
    office = browser_as("office")
    response = _upload(office, content, filename if content else "")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="file-error"' in response.text and message in _text(response.text)
    assert "名单未导入" in response.text
    # what was typed is still there, the type still chosen
    assert f'value="{FORM["title"]}"' in response.text
    assert 'value="工业和信息化部"' in response.text and 'value="2026-03-01"' in response.text
    assert '<option value="little_giant" selected>' in response.text
    assert _imports(client) == []


def test_a_file_over_the_limit_is_a_413_page(browser_as, client, monkeypatch) -> None:
    monkeypatch.setattr(read_limits, "LIMITS", Limits(file_bytes=100))
    office = browser_as("office")
    response = _upload(office, "企业名称\n".encode() + "无锡甲有限公司\n".encode() * 20)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    words = _text(response.text)
    assert "文件超过 100 字节 的大小上限" in words
    assert f'value="{FORM["title"]}"' in response.text
    assert _imports(client) == []


def test_text_that_looks_like_a_formula_is_shown_as_text(browser_as, client) -> None:
    """A cell a spreadsheet would run (=, +, @ …) is only text to the page: shown escaped,
    never as markup."""
    office = browser_as("office")
    content = "企业名称,统一社会信用代码\n=<b>点我</b>有限公司,123\n".encode()
    response = _upload(office, content)
    assert response.status_code == 303, response.text
    page = office.get(response.headers["location"]).text
    assert "=&lt;b&gt;点我&lt;/b&gt;有限公司" in page and "<b>点我</b>" not in page


def test_each_field_is_told_beside_it(browser_as, client) -> None:
    office = browser_as("office")
    content = "企业名称\n无锡甲精密有限公司\n".encode()
    response = _upload(
        office,
        content,
        qualification_type="no_such_type",
        title="",
        issued_date="2026-13-01",
        expires_date="2026-01-01",
    )
    assert response.status_code == 422
    assert 'id="qualification_type-error"' in response.text
    assert 'id="title-error"' in response.text and "请填写此项" in response.text
    assert 'id="issued_date-error"' in response.text and "日期格式应为" in response.text
    assert "no_such_type" not in _text(response.text)
    late = _upload(office, content, issued_date="2026-03-01", expires_date="2026-01-01")
    assert late.status_code == 422 and 'id="expires_date-error"' in late.text
    assert "有效期不能早于认定日期" in late.text
    assert _imports(client) == []


def test_an_upload_without_the_form_token_changes_nothing(browser_as, client) -> None:
    office = browser_as("office")
    content = "企业名称\n无锡甲精密有限公司\n".encode()
    for token in ("", "forged"):
        response = _upload(office, content, token=token)
        assert response.status_code == 403
        assert "表单已失效" in response.text
    other_site = office.post(
        UPLOAD,
        data={**FORM, "csrf_token": form_token(office.get(LISTS).text)},
        files={"file": ("名单.csv", content, "text/csv")},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert _imports(client) == []


@pytest.mark.parametrize("role", ["bank", "enterprise"])
def test_only_the_office_may_upload_a_list(browser_as, client, role) -> None:
    firm = create_enterprise(client)
    who = (
        browser_as("bank", bank_code="jsbank-wx")
        if role == "bank"
        else browser_as("enterprise", enterprise_id=firm["id"])
    )
    home = who.get("/web/" + role).text
    response = _upload(who, _list_csv(firm), token=form_token(home))
    assert response.status_code == 403 and "无权" in response.text
    assert _imports(client) == []
    assert who.get(f"{UPLOAD}/1").status_code == 403  # nor see an import's preview


def test_a_signed_out_upload_is_sent_to_sign_in(anonymous, client) -> None:
    response = anonymous.post(
        UPLOAD, data=FORM, files={"file": ("名单.csv", b"x", "text/csv")}, follow_redirects=False
    )
    assert response.status_code == 303 and "/web/sign-in" in response.headers["location"]
    assert _imports(client) == []


def test_the_upload_route_has_the_upload_limit_not_the_form_limit(app, browser_as, client) -> None:
    office = browser_as("office")
    endpoint, _ = route_table(app).find("POST", UPLOAD)
    assert endpoint.kind.upload
    assert not route_table(app).find("POST", "/web/office/releases")[0].kind.upload
    # Over the 1 MB of a form: a list whose rows carry long remarks, still read.
    remark = "备" * 40_000
    rows = [f"无锡长备注{i:02d}精密机械有限公司,{remark}" for i in range(12)]
    content = ("企业名称,备注\n" + "\n".join(rows) + "\n").encode()
    assert len(content) > 1024 * 1024
    response = _upload(office, content)
    assert response.status_code == 303, response.text[:500]
    assert _imports(client)[0]["rows"] == 12


def test_a_request_over_the_upload_limit_is_refused_with_a_page(app, browser_as) -> None:
    office = browser_as("office")
    limit = get_settings().max_upload_bytes
    response = office.post(
        UPLOAD,
        content=b"x" * 16,
        headers={
            "content-type": "multipart/form-data; boundary=b",
            "content-length": str(limit + 1),
        },
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert f"上传的文件超过上限 {limit // (1024 * 1024)} MB" in _text(response.text)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")

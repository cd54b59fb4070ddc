"""People's pages through the TestClient: signing in with a password, accepting an
invitation, changing the password, the office inviting, a bank's administrator inviting an
account manager, and a header that names people and banks, never codes."""

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.access import invitations
from service.access.models import BankRole, Role
from service.access.policy import Principal
from service.access.schemas import InvitationRequest
from tests.web.conftest import form_token

PASSWORD = "长江后浪推前浪-2026"
BANK = "jsbank-wx"
BANK_NAME = "江苏银行股份有限公司无锡分行"


def _login() -> str:
    return f"w{uuid.uuid4().hex[:10]}@test.example"


def _invite(session: Session, role: Role, bank_role: BankRole | None = None, **kw: Any) -> Any:
    data = InvitationRequest(
        login=_login(), display_name="王小明", role=role, bank_role=bank_role, **kw
    )
    return invitations.invite(session, Principal(Role.office), data)


def _accept(
    client: TestClient, path: str, password: str = PASSWORD, again: str | None = None
) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(
        path,
        data={
            "password": password,
            "again": again or password,
            "sign_in": form_token(page.text, "sign_in"),
        },
        follow_redirects=False,
    )


def _person(
    app: Any, session: Session, role: Role, bank_role: BankRole | None = None, **kw: Any
) -> tuple[TestClient, Any]:
    created = _invite(session, role, bank_role, **kw)
    client = TestClient(app)
    assert _accept(client, created.path).status_code == 303
    return client, created


def sign_in_as(client: TestClient, login: str, password: str) -> Any:
    page = client.get("/web/sign-in")
    return client.post(
        "/web/sign-in",
        data={"login": login, "password": password, "sign_in": form_token(page.text, "sign_in")},
        follow_redirects=False,
    )


def test_the_sign_in_page_offers_password_first_and_the_key_below(anonymous: Any) -> None:
    page = anonymous.get("/web/sign-in").text
    assert page.index('id="login"') < page.index('id="key"')
    assert "演示：使用 API 密钥登录" in page


def test_invitation_page_creates_the_account_and_signs_in(app: Any, session: Session) -> None:
    created = _invite(session, Role.bank, BankRole.admin, bank_code=BANK)
    client = TestClient(app)
    page = client.get(created.path)
    assert page.status_code == 200
    assert "王小明" in page.text and "银行管理员" in page.text and BANK_NAME in page.text
    assert BANK not in page.text.replace(created.path, "")
    assert client.get(created.path).status_code == 200  # reading never uses the link
    mismatch = _accept(client, created.path, PASSWORD, "另一个不同的密码-1")
    assert mismatch.status_code == 422 and "不一致" in mismatch.text
    weak = _accept(client, created.path, "1234567890")
    assert weak.status_code == 422 and "常见" in weak.text
    done = _accept(client, created.path)
    assert done.status_code == 303 and done.headers["location"] == "/web/bank"
    team = client.get("/web/bank/team")
    assert team.status_code == 200 and "王小明" in team.text
    header = re.search(r'<header class="top">.*?</header>', client.get("/web/account").text, re.S)
    assert header is not None
    assert "王小明" in header.group(0) and "银行管理员" in header.group(0)
    assert BANK_NAME in header.group(0) and BANK not in header.group(0)
    assert "团队" in header.group(0) and "账户" in header.group(0)

    used = TestClient(app).get(created.path)
    assert used.status_code == 410 and "已经使用过" in used.text


def test_expired_and_unknown_links_show_clear_pages(app: Any, session: Session) -> None:
    created = _invite(session, Role.office)
    later = datetime.now().astimezone() + timedelta(days=8)
    with time_machine.travel(later):
        page = TestClient(app).get(created.path)
    assert page.status_code == 410 and "已过期" in page.text
    unknown = TestClient(app).get("/web/invitations/" + "x" * 43)
    assert unknown.status_code == 404 and "链接无效" in unknown.text


def test_sign_in_with_a_password_and_the_failure_messages(app: Any, session: Session) -> None:
    _, created = _person(app, session, Role.office)
    client = TestClient(app)
    wrong = sign_in_as(client, created.login, "wrong-password-1")
    unknown = sign_in_as(client, "nobody@test.example", "wrong-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert "账号或密码不正确" in wrong.text and "账号或密码不正确" in unknown.text
    for _ in range(3):
        sign_in_as(client, created.login, "wrong-password-1")
    locked = sign_in_as(client, created.login, "wrong-password-1")
    assert locked.status_code == 429 and "之后再试" in locked.text
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    ok = sign_in_as(TestClient(app), "nobody2@test.example", PASSWORD)
    assert ok.status_code == 401


def test_change_password_on_the_account_page(app: Any, session: Session) -> None:
    client, created = _person(app, session, Role.office)
    other = TestClient(app)
    assert sign_in_as(other, created.login, PASSWORD).status_code == 303
    page = client.get("/web/account")
    assert page.status_code == 200 and created.login in page.text and "金融办" in page.text
    csrf = form_token(page.text)
    wrong = client.post(
        "/web/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "not-it",
            "password": "新的密码够长了-2027",
            "again": "新的密码够长了-2027",
        },
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    changed = client.post(
        "/web/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "password": "新的密码够长了-2027",
            "again": "新的密码够长了-2027",
        },
        follow_redirects=False,
    )
    assert (
        changed.status_code == 303 and changed.headers["location"] == "/web/account?done=password"
    )
    assert "密码已修改" in client.get("/web/account?done=password").text
    assert other.get("/web/account", follow_redirects=False).status_code == 303  # signed out
    assert sign_in_as(TestClient(app), created.login, "新的密码够长了-2027").status_code == 303


def test_the_office_invites_and_resets_on_the_users_page(app: Any, session: Session) -> None:
    office, _ = _person(app, session, Role.office)
    page = office.get("/web/office/users")
    assert page.status_code == 200 and "邀请新成员" in page.text
    login = _login()
    answer = office.post(
        "/web/office/users/invite",
        data={
            "csrf_token": form_token(page.text),
            "login": login,
            "display_name": "赵行长",
            "role": "bank",
            "bank_code": BANK,
            "bank_role": "admin",
        },
    )
    assert answer.status_code == 201, answer.text
    assert "复制此链接发给对方" in answer.text
    link = re.search(r'id="invitation-link" readonly value="([^"]+)"', answer.text)
    assert link and link.group(1).startswith("http://testserver/web/invitations/")
    assert BANK_NAME in answer.text
    assert "复制此链接" not in office.get("/web/office/users").text  # shown once
    bad = office.post(
        "/web/office/users/invite",
        data={
            "csrf_token": form_token(page.text),
            "login": "not a login",
            "display_name": "某",
            "role": "office",
        },
    )
    assert bad.status_code == 422 and "电子邮箱" in bad.text

    invitee = TestClient(app)
    path = link.group(1).removeprefix("http://testserver")
    assert _accept(invitee, path).status_code == 303
    listing = office.get("/web/office/users").text
    person = re.search(r'id="person-(\d+)">\s*<td data-label="姓名">赵行长', listing)
    assert person
    pid = person.group(1)
    refused = office.post(
        f"/web/office/users/{pid}/reset", data={"csrf_token": form_token(page.text)}
    )
    assert refused.status_code == 422
    reset = office.post(
        f"/web/office/users/{pid}/reset",
        data={"csrf_token": form_token(page.text), "confirm": "on"},
    )
    assert reset.status_code == 201 and "重置密码链接" in reset.text
    assert invitee.get("/web/bank", follow_redirects=False).status_code == 303  # signed out
    disabled = office.post(
        f"/web/office/users/{pid}/disable",
        data={"csrf_token": form_token(page.text), "confirm": "on"},
        follow_redirects=False,
    )
    assert disabled.headers["location"] == "/web/office/users?done=disabled"
    assert "已停用" in office.get("/web/office/users?done=disabled").text


def test_a_bank_admin_invites_a_manager_who_cannot_manage_the_team(
    app: Any, session: Session
) -> None:
    admin, _ = _person(app, session, Role.bank, BankRole.admin, bank_code=BANK)
    page = admin.get("/web/bank/team")
    assert page.status_code == 200
    answer = admin.post(
        "/web/bank/team/invite",
        data={
            "csrf_token": form_token(page.text),
            "login": _login(),
            "display_name": "钱经理",
            "role": "bank",
            "bank_role": "manager",
        },
    )
    assert answer.status_code == 201, answer.text
    path = re.search(r'value="http://testserver(/web/invitations/[^"]+)"', answer.text)
    assert path
    manager = TestClient(app)
    assert _accept(manager, path.group(1)).headers["location"] == "/web/bank"
    home = manager.get("/web/bank").text
    header = re.search(r'<header class="top">.*?</header>', home, re.S)
    assert header and "钱经理" in header.group(0) and "客户经理" in header.group(0)
    assert "团队" not in header.group(0)
    assert manager.get("/web/bank/team").status_code == 403
    assert manager.get("/web/office/users").status_code == 403
    assert admin.get("/web/office/users").status_code == 403


def test_a_key_session_still_works_and_shows_the_bank_by_name(browser_as: Any) -> None:
    bank = browser_as("bank", bank_code=BANK)
    page = bank.get("/web/bank")
    assert page.status_code == 200
    header = re.search(r'<header class="top">.*?</header>', page.text, re.S)
    assert header and BANK_NAME in header.group(0) and BANK not in header.group(0)
    assert bank.get("/web/bank/team").status_code == 403  # a bank's system manages no people

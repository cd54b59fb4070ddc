"""People's accounts: invitations (API and use cases), accepting them, signing in with a
password (no enumeration, lockout), resets, disabling, the roles matrix and the audit log."""

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import delete, select
from sqlmodel import Session, col

from service.access import invitations, users
from service.access.models import (
    AuditEntry,
    BankRole,
    Invitation,
    Role,
    UserAccount,
    WebSession,
)
from service.access.policy import Principal
from service.access.schemas import InvitationRequest
from service.core.errors import AppError
from service.core.pagination import PageParams
from tests.factories import create_enterprise

PASSWORD = "长江后浪推前浪-2026"
BANK = "jsbank-wx"
OTHER_BANK = "icbc-wx"
OFFICE = Principal(Role.office, key_id=None)


def _login() -> str:
    return f"p{uuid.uuid4().hex[:10]}@test.example"


def _person(
    session: Session, role: Role, bank_role: BankRole | None = None, bank: str | None = None
) -> tuple[UserAccount, Principal]:
    """A person with PASSWORD, made through an invitation as the office."""
    data = InvitationRequest(
        login=_login(),
        display_name="测试人员",
        role=role,
        bank_role=bank_role,
        bank_code=bank,
        enterprise_id=None,
    )
    created = invitations.invite(session, OFFICE, data)
    assert created.token
    user, _ = invitations.accept(session, created.token, PASSWORD)
    return user, users.principal_of(user)


def _invite(client: Any, **payload: Any) -> Any:
    body = {"login": _login(), "display_name": "张三", "role": "office", **payload}
    return client.post("/api/v1/invitations", json=body)


# --- invitations through the API -------------------------------------------------------------


def test_office_invites_and_the_link_creates_the_account(client: Any, anonymous: Any) -> None:
    response = _invite(client, role="bank", bank_role="admin", bank_code=BANK)
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["path"] == "/web/invitations/" + invitation["token"]
    assert invitation["expires_at"]
    listed = client.get("/api/v1/invitations").json()["items"]
    assert invitation["id"] in [i["id"] for i in listed]
    assert all("token" not in i for i in listed)

    accepted = anonymous.post(
        "/api/v1/invitations/accept", json={"token": invitation["token"], "password": PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    user = accepted.json()
    assert user["role"] == "bank" and user["bank_role"] == "admin" and user["bank_code"] == BANK
    assert "password_hash" not in user
    again = anonymous.post(
        "/api/v1/invitations/accept", json={"token": invitation["token"], "password": PASSWORD}
    )
    assert again.status_code == 410 and again.json()["code"] == "invitation_used"

    read = client.get(f"/api/v1/users/{user['id']}")
    assert read.status_code == 200 and read.headers["ETag"] == f'"{user["version"]}"'
    assert user["id"] in [u["id"] for u in client.get("/api/v1/users").json()["items"]]


def test_invitation_replay_withholds_the_token(client: Any) -> None:
    body = {"login": _login(), "display_name": "张三", "role": "office"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/api/v1/invitations", json=body, headers=headers)
    replay = client.post("/api/v1/invitations", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert first.json()["token"] and replay.json()["token"] is None
    assert replay.json()["path"] is None and replay.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"login": "not a login"}, "invalid_login"),
        ({"display_name": "   "}, "invalid_display_name"),
        ({"role": "bank"}, "unknown_bank"),
        ({"role": "bank", "bank_code": "no-such-bank"}, "unknown_bank"),
        ({"role": "enterprise"}, "unknown_enterprise"),
        ({"role": "enterprise", "enterprise_id": 2_000_000_000}, "unknown_enterprise"),
        ({"role": "office", "bank_code": BANK}, "office_not_bound"),
        ({"role": "office", "bank_role": "admin"}, "bank_role_not_bank"),
    ],
)
def test_invalid_invitations_are_422(client: Any, payload: dict[str, Any], code: str) -> None:
    response = _invite(client, **payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_a_taken_login_is_a_409_and_a_new_invitation_replaces_the_pending_one(
    client: Any, session: Session
) -> None:
    user, _ = _person(session, Role.office)
    taken = _invite(client, login=user.login.upper())
    assert taken.status_code == 409 and taken.json()["code"] == "login_taken"
    login = _login()
    first = _invite(client, login=login).json()
    second = _invite(client, login=login).json()
    pending = [i["id"] for i in client.get("/api/v1/invitations").json()["items"]]
    assert second["id"] in pending and first["id"] not in pending
    assert invitations.open_invitation(session, second["token"]).login == login
    with pytest.raises(AppError) as gone:
        invitations.open_invitation(session, first["token"])
    assert gone.value.code == "invitation_revoked"


def test_revoked_expired_and_unknown_tokens(client: Any, anonymous: Any) -> None:
    def accept(token: str) -> Any:
        return anonymous.post(
            "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
        )

    revoked = _invite(client).json()
    answer = client.delete(f"/api/v1/invitations/{revoked['id']}")
    assert answer.status_code == 200 and answer.json()["revoked_at"]
    assert client.delete(f"/api/v1/invitations/{revoked['id']}").status_code == 200
    response = accept(revoked["token"])
    assert response.status_code == 410 and response.json()["code"] == "invitation_revoked"

    expired = _invite(client).json()
    with time_machine.travel(datetime.now().astimezone() + timedelta(days=7, minutes=1)):
        response = accept(expired["token"])
    assert response.status_code == 410 and response.json()["code"] == "invitation_expired"

    unknown = accept("x" * 43)
    assert unknown.status_code == 404 and unknown.json()["code"] == "invitation_not_found"
    assert client.delete("/api/v1/invitations/2000000000").status_code == 404


def test_an_accepted_invitation_cannot_be_revoked(client: Any, anonymous: Any) -> None:
    created = _invite(client).json()
    anonymous.post(
        "/api/v1/invitations/accept", json={"token": created["token"], "password": PASSWORD}
    )
    response = client.delete(f"/api/v1/invitations/{created['id']}")
    assert response.status_code == 409 and response.json()["code"] == "invitation_used"


@pytest.mark.parametrize(
    ("password", "message"),
    [("short1", "至少"), ("a" * 12, "同一个"), ("password123", "常见"), ("x" * 129, "最多")],
)
def test_weak_passwords_are_refused_and_the_link_still_works(
    client: Any, anonymous: Any, password: str, message: str
) -> None:
    created = _invite(client).json()
    response = anonymous.post(
        "/api/v1/invitations/accept", json={"token": created["token"], "password": password}
    )
    assert response.status_code == 422
    if len(password) <= 128:
        assert response.json()["code"] == "weak_password" and message in response.json()["detail"]
    fine = anonymous.post(
        "/api/v1/invitations/accept", json={"token": created["token"], "password": PASSWORD}
    )
    assert fine.status_code == 201


def test_the_password_may_not_be_the_login(client: Any, anonymous: Any) -> None:
    login = "13912345678"
    created = _invite(client, login=login).json()
    response = anonymous.post(
        "/api/v1/invitations/accept", json={"token": created["token"], "password": login}
    )
    assert response.status_code == 422 and "账号" in response.json()["detail"]


# --- the roles matrix -----------------------------------------------------------------------


ENDPOINTS = [
    (
        "POST",
        "/api/v1/invitations",
        {"login": "x@test.example", "display_name": "某", "role": "office"},
    ),
    ("GET", "/api/v1/invitations", None),
    ("DELETE", "/api/v1/invitations/1", None),
    ("GET", "/api/v1/users", None),
    ("GET", "/api/v1/users/1", None),
    ("POST", "/api/v1/users/1/reset", None),
    ("POST", "/api/v1/users/1/disable", None),
    ("POST", "/api/v1/users/1/enable", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("role", ["bank", "enterprise"])
def test_bank_and_enterprise_keys_manage_no_people(
    client: Any, as_role: Any, method: str, path: str, body: Any, role: str
) -> None:
    if role == "bank":
        caller = as_role("bank", bank_code=BANK)
    else:
        caller = as_role("enterprise", enterprise_id=create_enterprise(client)["id"])
    response = caller.request(method, path, json=body)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden_role"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_people_endpoints_need_a_key(anonymous: Any, method: str, path: str, body: Any) -> None:
    assert anonymous.request(method, path, json=body).status_code == 401


def test_a_bank_administrator_manages_its_own_bank_only(session: Session) -> None:
    _, admin = _person(session, Role.bank, BankRole.admin, BANK)
    _, manager = _person(session, Role.bank, BankRole.manager, BANK)
    colleague, _ = _person(session, Role.bank, BankRole.manager, BANK)
    stranger, _ = _person(session, Role.bank, BankRole.manager, OTHER_BANK)
    office_person, office = _person(session, Role.office)

    request = InvitationRequest(
        login=_login(), display_name="客户经理", role=Role.bank, bank_role=BankRole.manager
    )
    created = invitations.invite(session, admin, request)  # its own bank by default
    assert created.bank_code == BANK and created.bank_role == BankRole.manager
    second_admin = request.model_copy(update={"login": _login(), "bank_role": BankRole.admin})
    assert invitations.invite(session, admin, second_admin).bank_role == BankRole.admin
    for refused in (
        request.model_copy(update={"bank_code": OTHER_BANK}),
        request.model_copy(update={"role": Role.office, "bank_role": None}),
        request.model_copy(update={"role": Role.office, "bank_role": None, "bank_code": None}),
    ):
        with pytest.raises(AppError) as refusal:
            invitations.invite(session, admin, refused)
        assert refusal.value.status in (403, 422)

    page = PageParams(limit=200, cursor=None)
    seen = {u.id for u in users.list_people(session, admin, page).items}
    assert colleague.id in seen and stranger.id not in seen and office_person.id not in seen
    for action in (
        lambda uid: users.get_person(session, admin, uid),
        lambda uid: users.reset_password(session, admin, uid),
        lambda uid: users.set_disabled(session, admin, uid, True),
    ):
        with pytest.raises(AppError) as hidden:
            action(stranger.id)
        assert hidden.value.status == 404 and hidden.value.code == "user_not_found"
    assert users.get_person(session, admin, colleague.id).id == colleague.id
    assert users.get_person(session, office, stranger.id).id == stranger.id

    for caller in (manager, Principal(Role.bank, key_id=1, bank_code=BANK)):
        for call in (
            lambda c: users.list_people(session, c, page),
            lambda c: invitations.invite(
                session, c, request.model_copy(update={"login": _login()})
            ),
            lambda c: invitations.list_invitations(session, c, page),
            lambda c: users.get_person(session, c, colleague.id),
        ):
            with pytest.raises(AppError) as forbidden:
                call(caller)
            assert forbidden.value.status == 403
    enterprise = Principal(Role.enterprise, enterprise_id=1, user_id=office_person.id)
    with pytest.raises(AppError) as forbidden:
        users.list_people(session, enterprise, page)
    assert forbidden.value.status == 403

    listed = invitations.list_invitations(session, admin, page).items
    assert created.id in [i.id for i in listed]
    assert all(i.bank_code == BANK for i in listed)


# --- signing in ------------------------------------------------------------------------------


def test_no_enumeration_unknown_login_and_wrong_password_answer_alike(session: Session) -> None:
    user, _ = _person(session, Role.office)
    answers = []
    for login in (user.login, "nobody@test.example"):
        with pytest.raises(AppError) as refusal:
            users.sign_in(session, login, "wrong-password-1")
        answers.append((refusal.value.status, refusal.value.code, refusal.value.detail))
    assert answers[0] == answers[1] == (401, "invalid_credentials", "账号或密码不正确。")
    signed = users.sign_in(session, user.login.upper() + " ", PASSWORD)
    assert signed.principal.user_id == user.id and signed.principal.role == Role.office


def test_lockout_doubles_and_a_success_resets(session: Session) -> None:
    user, _ = _person(session, Role.office)
    start = datetime(2026, 12, 1, 2, 0, tzinfo=datetime.now().astimezone().tzinfo)

    def fail() -> AppError:
        with pytest.raises(AppError) as refusal:
            users.sign_in(session, user.login, "wrong-password-1")
        return refusal.value

    with time_machine.travel(start, tick=False) as clock:
        assert [fail().status for _ in range(4)] == [401] * 4
        fifth = fail()
        assert fifth.status == 429 and fifth.code == "account_locked"
        session.refresh(user)
        assert user.locked_until is not None
        assert user.locked_until - start == timedelta(minutes=1)
        right_but_locked = pytest.raises(AppError)
        with right_but_locked as refusal:
            users.sign_in(session, user.login, PASSWORD)
        assert refusal.value.status == 429 and "之后再试" in refusal.value.detail
        clock.shift(timedelta(minutes=1, seconds=1))
        sixth = fail()
        assert sixth.status == 429
        session.refresh(user)
        assert user.locked_until is not None
        assert user.locked_until - datetime.now().astimezone() == timedelta(minutes=2)
        clock.shift(timedelta(minutes=2, seconds=1))
        users.sign_in(session, user.login, PASSWORD)
        session.refresh(user)
        assert user.failed_attempts == 0 and user.locked_until is None
        assert fail().status == 401  # counting starts again


def test_disabled_account_is_refused_and_its_sessions_end(client: Any, session: Session) -> None:
    user, _ = _person(session, Role.bank, BankRole.manager, BANK)
    users.sign_in(session, user.login, PASSWORD)
    assert session.scalars(select(WebSession).where(col(WebSession.user_id) == user.id)).first()
    response = client.post(f"/api/v1/users/{user.id}/disable", headers={"If-Match": '"99"'})
    assert response.status_code == 412
    response = client.post(f"/api/v1/users/{user.id}/disable")
    assert response.status_code == 200 and response.json()["disabled_at"]
    assert not session.scalars(select(WebSession).where(col(WebSession.user_id) == user.id)).all()
    with pytest.raises(AppError) as refusal:
        users.sign_in(session, user.login, PASSWORD)
    assert refusal.value.code == "account_disabled"
    with pytest.raises(AppError) as wrong:
        users.sign_in(session, user.login, "wrong-password-1")
    assert wrong.value.code == "invalid_credentials"  # the state shows only to its owner
    assert client.post(f"/api/v1/users/{user.id}/enable").json()["disabled_at"] is None
    users.sign_in(session, user.login, PASSWORD)


def test_nobody_disables_themselves(session: Session) -> None:
    user, office = _person(session, Role.office)
    with pytest.raises(AppError) as refusal:
        users.set_disabled(session, office, user.id or 0, True)
    assert refusal.value.code == "cannot_disable_self"


def test_change_password_needs_the_current_one_and_ends_other_sessions(session: Session) -> None:
    user, person = _person(session, Role.office)
    here = users.sign_in(session, user.login, PASSWORD)
    users.sign_in(session, user.login, PASSWORD)  # another browser
    with pytest.raises(AppError) as wrong:
        users.change_password(session, person, "not-it-at-all", "新的密码也够长-2027", here.token)
    assert wrong.value.code == "wrong_password"
    with pytest.raises(AppError) as weak:
        users.change_password(session, person, PASSWORD, "1234567890", here.token)
    assert weak.value.code == "weak_password"
    users.change_password(session, person, PASSWORD, "新的密码也够长-2027", here.token)
    left = session.scalars(select(WebSession).where(col(WebSession.user_id) == user.id)).all()
    assert len(left) == 1
    with pytest.raises(AppError):
        users.sign_in(session, user.login, PASSWORD)
    users.sign_in(session, user.login, "新的密码也够长-2027")
    with pytest.raises(AppError) as key_holder:
        users.change_password(session, OFFICE, "a", "b", None)
    assert key_holder.value.code == "person_only"


def test_reset_issues_a_link_and_ends_the_old_password(
    client: Any, anonymous: Any, session: Session
) -> None:
    user, _ = _person(session, Role.office)
    users.sign_in(session, user.login, PASSWORD)
    response = client.post(f"/api/v1/users/{user.id}/reset")
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["purpose"] == "reset" and link["user_id"] == user.id
    expires = datetime.fromisoformat(link["expires_at"]) - datetime.fromisoformat(
        link["created_at"]
    )
    assert expires == timedelta(hours=72)
    assert not session.scalars(select(WebSession).where(col(WebSession.user_id) == user.id)).all()
    with pytest.raises(AppError):
        users.sign_in(session, user.login, PASSWORD)
    accepted = anonymous.post(
        "/api/v1/invitations/accept",
        json={"token": link["token"], "password": "重新设置的密码-2026"},
    )
    assert accepted.status_code == 201 and accepted.json()["id"] == user.id
    users.sign_in(session, user.login, "重新设置的密码-2026")
    assert client.post("/api/v1/users/2000000000/reset").status_code == 404


# --- the audit log ---------------------------------------------------------------------------


def test_audit_has_every_event_and_no_password(client: Any, session: Session) -> None:
    typed_as_login = "my-secret-password-typed-in-the-wrong-box"
    user, _ = _person(session, Role.office)
    with pytest.raises(AppError):
        users.sign_in(session, typed_as_login, PASSWORD)
    for _ in range(5):
        with pytest.raises(AppError):
            users.sign_in(session, user.login, "wrong-password-1")
    client.post(f"/api/v1/users/{user.id}/enable")
    users.sign_in(session, user.login, PASSWORD)
    client.post(f"/api/v1/users/{user.id}/disable")
    client.post(f"/api/v1/users/{user.id}/reset")
    entries = session.scalars(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    mine = [e for e in entries if e.subject_type in ("user", "invitation")]
    actions = {(e.action, e.subject_type) for e in mine}
    for wanted in [
        ("create", "invitation"),
        ("create", "user"),
        ("accept", "invitation"),
        ("sign_in_failed", "user"),
        ("locked", "user"),
        ("sign_in", "user"),
        ("update", "user"),
        ("reset", "user"),
    ]:
        assert wanted in actions, wanted
    text = " ".join(repr((e.subject_id, e.changes)) for e in entries)
    for secret in (PASSWORD, "wrong-password-1", typed_as_login, "argon2"):
        assert secret not in text
    signed = [e for e in mine if e.action == "sign_in"]
    assert signed[-1].actor_user_id == user.id and signed[-1].subject_id == str(user.id)


# --- a link used twice at once ---------------------------------------------------------------


def test_concurrent_acceptance_creates_one_account(engine: Any) -> None:
    with Session(engine, expire_on_commit=False) as setup:
        created = invitations.invite(
            setup, OFFICE, InvitationRequest(login=_login(), display_name="并发", role=Role.office)
        )
    assert created.token
    results: list[str] = []
    barrier = threading.Barrier(2)

    def accept() -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                invitations.accept(own, created.token or "", PASSWORD)
                results.append("created")
            except AppError as exc:
                results.append(exc.code)
            except Exception as exc:  # SQLite: the other writer held the database
                results.append(type(exc).__name__)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert results.count("created") == 1, results
        with Session(engine) as check:
            accounts = check.scalars(
                select(UserAccount).where(col(UserAccount.login) == created.login)
            ).all()
            assert len(accounts) == 1
    finally:
        with Session(engine) as cleanup:
            cleanup.execute(delete(Invitation).where(col(Invitation.id) == created.id))
            cleanup.execute(delete(UserAccount).where(col(UserAccount.login) == created.login))
            cleanup.commit()

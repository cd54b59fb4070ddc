"""People's accounts: signing in with a login and a password, changing one's own password, an
administrator's reset, disabling and enabling an account, and the lists of people.

Signing in never tells whether a login exists: an unknown login and a wrong password get the
same 401 (``invalid_credentials``), and an unknown login has a dummy hash verified so that it
takes as long. After 5 failures in a row the account is locked (``passwords.lock_for``: one
minute, doubled by each further failure, at most an hour) and an attempt while locked is a
429 that says until when; a disabled account is refused (403) once its password is right.
Every sign-in, failure and lock is in the audit log (``sign_in``, ``sign_in_failed``,
``locked``, subject ``user``); of a login nobody has, only a short SHA-256 prefix is kept.

A reset (the office for anyone, a bank's administrator for its own bank's people) makes the
old password unusable, ends the person's sessions and issues a one-time link valid 72 hours
with which they choose a new one. Disabling an account ends its sessions at once."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.access import invitations
from service.access.audit import record
from service.access.exceptions import Forbidden, Unauthenticated
from service.access.models import BankRole, InvitationPurpose, Role, UserAccount
from service.access.passwords import (
    hash_password,
    locked_until,
    login_fingerprint,
    needs_rehash,
    verify_password,
)
from service.access.policy import Principal, manages_person, people_scope
from service.access.schemas import InvitationCreated, UserPublic
from service.access.service import (
    WebSignIn,
    end_person_sessions,
    person_principal,
    start_person_session,
)
from service.core.concurrency import check_version
from service.core.database import ROW_LOCK
from service.core.errors import AppError, Conflict, NotFound, Unprocessable
from service.core.models import utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.settings import get_settings

MAX_LOGIN_TYPED = 200  # longer is no login of ours; refused like an unknown one


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class AccountLocked(AppError):
    status = 429
    code = "account_locked"
    title = "Too Many Requests"


class AccountDisabled(Forbidden):
    code = "account_disabled"


def get_public(user: UserAccount) -> UserPublic:
    """An account as the API shows it (never its password hash)."""
    return _public(user)


def _public(user: UserAccount) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


def _local(at: datetime) -> str:
    return at.astimezone(ZoneInfo(get_settings().timezone)).strftime("%H:%M")


def _locked(until: datetime) -> AccountLocked:
    return AccountLocked(
        f"密码错误次数过多，账号已暂时锁定，请于 {_local(until)}（北京时间）之后再试。",
        locked_until=until.isoformat(),
    )


def _write(session: Session, user_id: int | None, **values: object) -> None:
    """Counters and times of a sign-in, written without the ORM: they are not a change of the
    account anyone made (the audit log has the sign-in itself)."""
    session.execute(
        update(UserAccount)
        .where(col(UserAccount.id) == user_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def sign_in(session: Session, login: str, password: str) -> WebSignIn:
    """Open a browser session for the person with this login and password."""
    now = utcnow()
    typed = login.strip().lower()
    user = None
    if 0 < len(typed) <= MAX_LOGIN_TYPED:
        user = session.scalars(select(UserAccount).where(col(UserAccount.login) == typed)).first()
    wrong = InvalidCredentials("账号或密码不正确。")
    if user is None:
        verify_password(None, password)  # as long as for a real account
        record(
            session, None, "sign_in_failed", "user", "", {"login_sha256": login_fingerprint(typed)}
        )
        session.commit()
        raise wrong
    if user.locked_until is not None and user.locked_until > now:
        record(session, None, "sign_in_failed", "user", user.id, {"reason": "locked"})
        session.commit()
        raise _locked(user.locked_until)
    if not verify_password(user.password_hash, password):
        failures = session.execute(
            update(UserAccount)
            .where(col(UserAccount.id) == user.id)
            .values(failed_attempts=col(UserAccount.failed_attempts) + 1)
            .returning(col(UserAccount.failed_attempts))
            .execution_options(synchronize_session=False)
        ).scalar_one()
        record(session, None, "sign_in_failed", "user", user.id, {"failed_attempts": failures})
        until = locked_until(failures, now)
        if until is not None:
            _write(session, user.id, locked_until=until)
            record(session, None, "locked", "user", user.id, {"locked_until": until.isoformat()})
            session.commit()
            raise _locked(until)
        session.commit()
        raise wrong
    if user.disabled_at is not None:
        record(session, None, "sign_in_failed", "user", user.id, {"reason": "disabled"})
        session.commit()
        raise AccountDisabled("账号已停用，请联系管理员。")
    values: dict[str, object] = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
    if user.password_hash and needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    _write(session, user.id, **values)
    signed = start_person_session(session, user, now)
    record(session, signed.principal, "sign_in", "user", user.id)
    session.commit()
    return signed


def _own(session: Session, principal: Principal) -> UserAccount:
    user = session.get(UserAccount, principal.user_id) if principal.user_id else None
    if user is None:
        raise Forbidden("仅限以账号登录的人员。", code="person_only")
    return user


def my_account(session: Session, principal: Principal) -> UserPublic:
    """The signed-in person's own account."""
    return _public(_own(session, principal))


def change_password(
    session: Session, principal: Principal, current: str, new: str, keep_token: str | None
) -> UserPublic:
    """A person changes their own password (the current one is asked for); their other
    sessions end, the one in ``keep_token``'s browser goes on."""
    user = _own(session, principal)
    if not verify_password(user.password_hash, current):
        raise Unprocessable("当前密码不正确。", code="wrong_password", field="current_password")
    invitations.check_new_password(new, user.login)
    now = utcnow()
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    user.version += 1
    assert user.id is not None
    ended = end_person_sessions(session, user.id, keep_token)
    record(session, principal, "password_changed", "user", user.id, {"sessions_ended": ended})
    session.commit()
    return _public(user)


def _managed(
    session: Session, principal: Principal, user_id: int, for_update: bool = False
) -> UserAccount:
    """A person the caller manages; any other is as missing (404)."""
    people_scope(principal)
    lock = ROW_LOCK if for_update else None
    user = session.get(UserAccount, user_id, with_for_update=lock, populate_existing=for_update)
    if user is None or not manages_person(principal, Role(user.role), user.bank_code):
        raise NotFound("人员不存在。", code="user_not_found")
    return user


def get_person(session: Session, principal: Principal, user_id: int) -> UserPublic:
    return _public(_managed(session, principal, user_id))


def list_people(
    session: Session,
    principal: Principal,
    page: PageParams,
    role: Role | None = None,
    bank_code: str | None = None,
) -> Page[UserPublic]:
    """The people the caller manages, by id: the office everyone, a bank's administrator its
    own bank's."""
    scope = people_scope(principal)
    statement = select(UserAccount)
    if scope is not None:
        role, bank_code = Role.bank, scope
    if role is not None:
        statement = statement.where(col(UserAccount.role) == role)
    if bank_code is not None:
        statement = statement.where(col(UserAccount.bank_code) == bank_code)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(col(UserAccount.id) > key[0])
    rows = list(session.scalars(statement.order_by(col(UserAccount.id)).limit(page.limit + 1)))
    result = make_page(rows, page.limit, lambda r: [r.id])
    result.items = [_public(r) for r in result.items]
    return result


def reset_password(
    session: Session, principal: Principal, user_id: int, expected_version: int | None = None
) -> InvitationCreated:
    """An administrator's reset: the old password stops working, the person is signed out
    everywhere, and a one-time link (valid 72 hours, in this answer only) lets them choose a
    new one. An earlier reset link still pending is revoked."""
    user = _managed(session, principal, user_id, for_update=True)
    check_version(expected_version, user.version, "账号")
    now = utcnow()
    assert user.id is not None
    invitations.revoke_pending(session, now, user_id=user.id)
    user.password_hash = None
    user.version += 1
    end_person_sessions(session, user.id)
    row, token = invitations.issue(
        session,
        principal,
        InvitationPurpose.reset,
        user,
        user.bank_role,
        user.bank_code,
        user.enterprise_id,
        now,
    )
    session.flush()
    record(session, principal, "reset", "user", user.id, {"invitation_id": row.id})
    session.commit()
    return invitations.created_answer(row, token)


def set_disabled(
    session: Session,
    principal: Principal,
    user_id: int,
    disabled: bool,
    expected_version: int | None = None,
) -> UserPublic:
    """Disable an account (it can no longer sign in and its sessions end at once) or enable it
    again, which also lifts a lock (its failures forgotten). Nobody disables their own account."""
    user = _managed(session, principal, user_id, for_update=True)
    check_version(expected_version, user.version, "账号")
    if disabled and user.id == principal.user_id:
        raise Conflict("不能停用自己的账号。", code="cannot_disable_self")
    if disabled and user.disabled_at is None:
        user.disabled_at = utcnow()
        user.version += 1
        assert user.id is not None
        end_person_sessions(session, user.id)
    elif not disabled and (user.disabled_at or user.locked_until or user.failed_attempts):
        user.disabled_at = None
        user.failed_attempts = 0
        user.locked_until = None
        user.version += 1
    session.commit()
    return _public(user)


def principal_of(user: UserAccount) -> Principal:
    """The caller a person acts as (for the command line and tests)."""
    return person_principal(user)


def install_person(
    session: Session,
    login: str,
    display_name: str,
    role: Role,
    password: str,
    bank_role: BankRole | None = None,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
) -> bool:
    """Store an account whose password is chosen by the caller (the demo's published
    accounts), unless its login is there already; no commit. Returns whether it was added."""
    login = invitations.check_login(login)
    taken = session.scalars(select(col(UserAccount.id)).where(col(UserAccount.login) == login))
    if taken.first() is not None:
        return False
    session.add(
        UserAccount(
            login=login,
            display_name=display_name,
            role=role,
            bank_role=bank_role,
            bank_code=bank_code,
            enterprise_id=enterprise_id,
            password_hash=hash_password(password),
            password_changed_at=utcnow(),
            created_by="system",
        )
    )
    session.flush()
    return True

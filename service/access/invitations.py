"""Invitations: the one-time links that create a person's account (``invite``, valid 7 days)
or let a person choose a new password after an administrator's reset (``reset``, valid 72
hours, issued in ``users``). A link's token is random (``secrets.token_urlsafe(32)``), shown
once in the answer, and only its SHA-256 is kept. It works once: accepting it is a
conditional update on ``accepted_at IS NULL``, and an account's login is unique, so two
acceptances at once create one account.

Who invites whom is ``access.policy.check_may_invite``: the office anyone, a bank's
administrator the account managers and administrators of its own bank; a bank's system (its
API key) invites nobody. A new invitation to a login replaces the one still pending."""

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.access.audit import act_as, record
from service.access.models import BankRole, Invitation, InvitationPurpose, Role, UserAccount
from service.access.passwords import hash_password, password_problem
from service.access.policy import (
    Principal,
    check_may_invite,
    manages_person,
    people_scope,
)
from service.access.schemas import InvitationCreated, InvitationPublic, InvitationRequest
from service.access.service import (
    WebSignIn,
    end_person_sessions,
    person_principal,
    start_person_session,
)
from service.core.errors import AppError, Conflict, NotFound, Unprocessable
from service.core.models import utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page

INVITE_VALIDITY = timedelta(days=7)
RESET_VALIDITY = timedelta(hours=72)
LINK_PATH = "/web/invitations/"  # + the token: the page that accepts it
_LOGIN = re.compile(r"^(?:[^@\s]{1,64}@[^@\s]+\.[^@\s]+|1\d{10})$")


class InvitationGone(AppError):
    """A link that worked once, or could have: used, revoked or expired (each its own code)."""

    status = 410
    title = "Gone"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def normalize_login(login: str) -> str:
    return login.strip().lower()


def check_login(login: str) -> str:
    """The login as stored (trimmed, lower-case): an e-mail address or a mobile number."""
    login = normalize_login(login)
    if len(login) > 100 or not _LOGIN.match(login):
        raise Unprocessable("账号应为电子邮箱或 11 位手机号。", code="invalid_login", field="login")
    return login


def check_display_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 50 or any(unicodedata.category(c)[0] == "C" for c in name):
        raise Unprocessable(
            "请填写姓名（1–50 字，不含控制字符）。",
            code="invalid_display_name",
            field="display_name",
        )
    return name


def check_new_password(password: str, login: str) -> None:
    problem = password_problem(password, login)
    if problem:
        raise Unprocessable(problem, code="weak_password", field="password")


def _public(row: Invitation) -> InvitationPublic:
    return InvitationPublic.model_validate(row, from_attributes=True)


def created_answer(row: Invitation, token: str) -> InvitationCreated:
    return InvitationCreated(**_public(row).model_dump(), token=token, path=LINK_PATH + token)


def _holder(
    principal: Principal, data: InvitationRequest
) -> tuple[BankRole | None, str | None, int | None]:
    """(bank_role, bank_code, enterprise_id) of the invited person, as their role binds them."""
    if data.role == Role.bank:
        bank_code = data.bank_code or (None if principal.is_office else principal.bank_code)
        if not bank_code:
            raise Unprocessable("请选择银行。", code="unknown_bank", field="bank_code")
        return data.bank_role or BankRole.manager, bank_code, None
    if data.bank_role is not None:
        raise Unprocessable(
            "只有银行人员有行内角色。", code="bank_role_not_bank", field="bank_role"
        )
    if data.role == Role.enterprise:
        if data.enterprise_id is None:
            raise Unprocessable(
                "请填写企业编号。", code="unknown_enterprise", field="enterprise_id"
            )
        return None, None, data.enterprise_id
    if data.bank_code is not None or data.enterprise_id is not None:
        raise Unprocessable("金融办人员不绑定银行或企业。", code="office_not_bound", field="role")
    return None, None, None


def issue(
    session: Session,
    principal: Principal,
    purpose: InvitationPurpose,
    user: UserAccount | InvitationRequest,
    bank_role: BankRole | None,
    bank_code: str | None,
    enterprise_id: int | None,
    now: datetime,
) -> tuple[Invitation, str]:
    """A new link (no commit): the token, once, and the row that keeps its hash."""
    token = secrets.token_urlsafe(32)
    validity = INVITE_VALIDITY if purpose == InvitationPurpose.invite else RESET_VALIDITY
    row = Invitation(
        token_hash=token_hash(token),
        purpose=purpose,
        login=user.login,
        display_name=user.display_name,
        role=user.role,
        bank_role=bank_role,
        bank_code=bank_code,
        enterprise_id=enterprise_id,
        user_id=user.id if isinstance(user, UserAccount) else None,
        created_by=principal.ref,
        created_at=now,
        expires_at=now + validity,
    )
    session.add(row)
    return row, token


def _pending(statement: object, now: datetime) -> object:
    return statement.where(  # type: ignore[attr-defined]
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > now,
    )


def revoke_pending(session: Session, now: datetime, **match: object) -> None:
    """Revoke the links still pending that match (``login=…``, ``user_id=…``); no commit."""
    statement = select(Invitation)
    for name, value in match.items():
        statement = statement.where(col(getattr(Invitation, name)) == value)
    for row in session.scalars(_pending(statement, now)):  # type: ignore[call-overload]
        row.revoked_at = now


def invite(session: Session, principal: Principal, data: InvitationRequest) -> InvitationCreated:
    """Invite a person: a link (valid 7 days) with which they choose their password and so
    create their account. The token is in this answer only."""
    login = check_login(data.login)
    name = check_display_name(data.display_name)
    bank_role, bank_code, enterprise_id = _holder(principal, data)
    check_may_invite(principal, data.role, bank_role, bank_code)
    taken = session.scalars(select(col(UserAccount.id)).where(col(UserAccount.login) == login))
    if taken.first() is not None:
        raise Conflict(f"账号 {login} 已存在。", code="login_taken", field="login")
    now = utcnow()
    revoke_pending(session, now, login=login, purpose=InvitationPurpose.invite)
    request = data.model_copy(update={"login": login, "display_name": name})
    row, token = issue(
        session,
        principal,
        InvitationPurpose.invite,
        request,
        bank_role,
        bank_code,
        enterprise_id,
        now,
    )
    try:
        session.flush()  # a bank or an enterprise that does not exist fails its foreign key
    except IntegrityError:
        session.rollback()
        if data.role == Role.bank:
            raise Unprocessable(
                f"银行 {bank_code!r} 不存在。", code="unknown_bank", field="bank_code"
            ) from None
        raise Unprocessable(
            f"企业 {enterprise_id} 不存在。", code="unknown_enterprise", field="enterprise_id"
        ) from None
    session.commit()
    return created_answer(row, token)


def list_invitations(
    session: Session, principal: Principal, page: PageParams, include_closed: bool = False
) -> Page[InvitationPublic]:
    """The links the caller manages, newest first: the office every one, a bank's
    administrator its own bank's; pending only unless ``include_closed``."""
    scope = people_scope(principal)
    statement = select(Invitation)
    if scope is not None:
        statement = statement.where(
            col(Invitation.role) == Role.bank, col(Invitation.bank_code) == scope
        )
    if not include_closed:
        statement = _pending(statement, utcnow())  # type: ignore[assignment]
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(col(Invitation.id) < key[0])
    rows = list(
        session.scalars(statement.order_by(col(Invitation.id).desc()).limit(page.limit + 1))
    )
    result = make_page(rows, page.limit, lambda r: [r.id])
    result.items = [_public(r) for r in result.items]
    return result


def revoke_invitation(
    session: Session, principal: Principal, invitation_id: int
) -> InvitationPublic:
    """The link stops working; revoking twice is the same as once, a used one is a 409."""
    people_scope(principal)
    row = session.get(Invitation, invitation_id)
    if row is None or not manages_person(principal, Role(row.role), row.bank_code):
        raise NotFound("邀请不存在。", code="invitation_not_found")
    if row.accepted_at is not None:
        raise Conflict("邀请已被接受，无法撤销。", code="invitation_used")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.commit()
    return _public(row)


def open_invitation(session: Session, token: str) -> InvitationPublic:
    """What a link is for (who is invited, or whose password is reset), as long as it still
    works; reading it never uses it up. An unknown token is a 404, a used, revoked or expired
    one a 410 with its own code."""
    return _public(_usable(session, token, utcnow()))


def _usable(session: Session, token: str, now: datetime) -> Invitation:
    row = None
    if 20 <= len(token) <= 100:
        row = session.scalars(
            select(Invitation).where(col(Invitation.token_hash) == token_hash(token))
        ).first()
    if row is None:
        raise NotFound("链接无效，请核对链接是否完整。", code="invitation_not_found")
    if row.accepted_at is not None:
        raise InvitationGone("这个链接已经使用过。", code="invitation_used")
    if row.revoked_at is not None:
        raise InvitationGone("这个链接已被撤销，请联系管理员重新发送。", code="invitation_revoked")
    if row.expires_at <= now:
        raise InvitationGone("这个链接已过期，请联系管理员重新发送。", code="invitation_expired")
    return row


def accept(
    session: Session, token: str, password: str, sign_in: bool = False
) -> tuple[UserAccount, WebSignIn | None]:
    """Use a link: an invitation creates the account with this password, a reset link sets
    the account's new password (and signs it out everywhere). With ``sign_in`` the browser
    that used it is signed in as well. A link works once, even if used twice at once."""
    now = utcnow()
    row = _usable(session, token, now)
    check_new_password(password, row.login)
    hashed = hash_password(password)
    claimed = session.execute(
        update(Invitation)
        .where(
            col(Invitation.id) == row.id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise InvitationGone("这个链接已经使用过。", code="invitation_used")
    act_as(
        session,
        Principal(
            Role(row.role),
            None,
            row.bank_code,
            row.enterprise_id,
            bank_role=BankRole(row.bank_role) if row.bank_role else None,
        ),
    )
    if row.purpose == InvitationPurpose.invite:
        user = _create_account(session, row, hashed, now)
    else:
        user = _set_password(session, row, hashed, now)
    act_as(session, person_principal(user))
    record(
        session,
        person_principal(user),
        "accept",
        "invitation",
        row.id,
        {"purpose": str(row.purpose)},
    )
    signing_in = sign_in and user.disabled_at is None  # a disabled account stays out
    signed = start_person_session(session, user, now) if signing_in else None
    if signed is not None:
        session.execute(
            update(UserAccount)
            .where(col(UserAccount.id) == user.id)
            .values(last_sign_in_at=now)
            .execution_options(synchronize_session=False)
        )
        record(session, signed.principal, "sign_in", "user", user.id)
    session.commit()
    return user, signed


def _create_account(session: Session, row: Invitation, hashed: str, now: datetime) -> UserAccount:
    taken = Conflict(f"账号 {row.login} 已存在。", code="login_taken", field="login")
    exists = session.scalars(select(col(UserAccount.id)).where(col(UserAccount.login) == row.login))
    if exists.first() is not None:
        session.rollback()
        raise taken
    user = UserAccount(
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        bank_role=row.bank_role,
        bank_code=row.bank_code,
        enterprise_id=row.enterprise_id,
        password_hash=hashed,
        password_changed_at=now,
        created_by=row.created_by,
        created_at=now,
    )
    session.add(user)
    try:
        session.flush()  # the login is unique: of two acceptances at once, one account
    except IntegrityError:
        session.rollback()
        raise taken from None
    return user


def _set_password(session: Session, row: Invitation, hashed: str, now: datetime) -> UserAccount:
    user = session.get(UserAccount, row.user_id) if row.user_id else None
    if user is None:
        session.rollback()
        raise NotFound("链接无效，请核对链接是否完整。", code="invitation_not_found")
    user.password_hash = hashed
    user.password_changed_at = now
    user.failed_attempts = 0
    user.locked_until = None
    user.version += 1
    assert user.id is not None
    end_person_sessions(session, user.id)
    return user

"""API keys: created (shown once), found by prefix and checked by hash, revoked; the pages'
sessions (opened with a key, or by a person's sign-in in ``users``); and the audit log of
banks' reads of enterprise details and of every change.

Issuing, listing and revoking keys and reading the audit log are the office's: those use cases
check who asks (``require``). The command line and scripts act as the system (``SYSTEM``, the
office without a key)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.access.audit import SYSTEM
from service.access.exceptions import Unauthenticated
from service.access.models import ApiKey, AuditEntry, BankRole, Role, UserAccount, WebSession
from service.access.policy import Principal, require
from service.access.schemas import ApiKeyCreated, ApiKeyPublic, AuditEntryPublic
from service.core.database import ROW_LOCK, Statement, fetch, fetch_all
from service.core.errors import NotFound, Unprocessable
from service.core.models import UTCDateTime, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page

KEY_PREFIX = "fmk"
LAST_USED_RESOLUTION = timedelta(minutes=5)  # last_used_at is written at most this often
WEB_SESSION_IDLE = timedelta(hours=8)  # a browser left alone this long signs in again
WEB_SESSION_LIFETIME = timedelta(hours=24)  # and after this long whatever it did


def key_hash(key: str) -> str:
    """What is kept of a key: its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


def _public(row: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(row, from_attributes=True)


def create_key(
    session: Session,
    role: Role,
    name: str,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    principal: Principal = SYSTEM,
) -> ApiKeyCreated:
    """A new random key for a holder; the key itself is returned only here."""
    require(principal, Role.office)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Unprocessable(
            "请为密钥起一个名称（1–100 字）。", code="invalid_key_name", field="name"
        )
    unknown_bank = Unprocessable(
        f"银行 {bank_code!r} 不存在。", code="unknown_bank", field="bank_code"
    )
    unknown_enterprise = Unprocessable(
        f"企业 {enterprise_id} 不存在。", code="unknown_enterprise", field="enterprise_id"
    )
    if role == Role.bank:
        if not bank_code:
            raise unknown_bank
        enterprise_id = None
    elif role == Role.enterprise:
        if enterprise_id is None:
            raise unknown_enterprise
        bank_code = None
    elif bank_code is not None or enterprise_id is not None:
        raise Unprocessable(
            "金融办密钥不绑定银行或企业。", code="office_key_not_bound", field="role"
        )
    prefix = secrets.token_hex(5)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        prefix=prefix,
        secret_hash=key_hash(key),
        role=role,
        bank_code=bank_code,
        enterprise_id=enterprise_id,
        name=name,
    )
    session.add(row)
    try:
        session.flush()  # a holder that does not exist fails its foreign key here
    except IntegrityError:
        session.rollback()
        raise unknown_bank if role == Role.bank else unknown_enterprise from None
    session.commit()
    return ApiKeyCreated(**_public(row).model_dump(), key=key)


def install_key(
    session: Session,
    key: str,
    role: Role,
    name: str,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
) -> bool:
    """Store a key whose value is chosen by the caller (the demo's published keys), unless its
    prefix is already there; no commit. Returns whether it was added."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        raise ValueError(f"not a FinMatch key: {key!r}")
    if (
        session.scalars(select(col(ApiKey.id)).where(col(ApiKey.prefix) == parts[1])).first()
        is not None
    ):
        return False
    session.add(
        ApiKey(
            prefix=parts[1],
            secret_hash=key_hash(key),
            role=role,
            bank_code=bank_code,
            enterprise_id=enterprise_id,
            name=name,
        )
    )
    session.flush()
    return True


def list_keys(
    session: Session,
    role: Role | None = None,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    include_revoked: bool = False,
    principal: Principal = SYSTEM,
) -> list[ApiKeyPublic]:
    require(principal, Role.office)
    statement = select(ApiKey)
    if role is not None:
        statement = statement.where(col(ApiKey.role) == role)
    if bank_code is not None:
        statement = statement.where(col(ApiKey.bank_code) == bank_code)
    if enterprise_id is not None:
        statement = statement.where(col(ApiKey.enterprise_id) == enterprise_id)
    if not include_revoked:
        statement = statement.where(col(ApiKey.revoked_at).is_(None))
    return [_public(k) for k in session.scalars(statement.order_by(col(ApiKey.id)))]


def revoke_key(
    session: Session, key_id_or_prefix: str, principal: Principal = SYSTEM
) -> ApiKeyPublic:
    """Revoke by id or prefix; revoking twice is the same as once. A prefix is ten hex digits
    and may be all digits, so a match on the prefix is taken before one on the id."""
    require(principal, Role.office)
    matches = col(ApiKey.prefix) == key_id_or_prefix
    if key_id_or_prefix.isdigit() and int(key_id_or_prefix) < 2**31:  # ids are 32-bit
        matches = or_(matches, col(ApiKey.id) == int(key_id_or_prefix))
    statement = (
        select(ApiKey).where(matches).order_by((col(ApiKey.prefix) == key_id_or_prefix).desc())
    )
    row = session.scalars(statement.with_for_update(**ROW_LOCK)).first()
    if row is None:
        raise NotFound(f"密钥 {key_id_or_prefix} 不存在。", code="api_key_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.commit()
    return _public(row)


def parse_key(authorization: str | None) -> tuple[str, str]:
    """(prefix, key) of an ``Authorization: Bearer <key>`` header."""
    if not authorization:
        raise Unauthenticated(
            "请在 Authorization 头中提供 API 密钥：Authorization: Bearer <key>。",
            code="missing_api_key",
        )
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthenticated("Authorization 头应为 Bearer <key>。", code="invalid_authorization")
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        raise Unauthenticated("API 密钥无效。", code="invalid_api_key")
    return parts[1], key


def _key_statement() -> Any:
    return select(
        col(ApiKey.id),
        col(ApiKey.secret_hash),
        col(ApiKey.role),
        col(ApiKey.bank_code),
        col(ApiKey.enterprise_id),
        col(ApiKey.last_used_at),
        col(ApiKey.revoked_at),
    ).where(col(ApiKey.prefix) == bindparam("prefix", type_=String))


def key_lookup(prefix: str) -> Statement:
    return Statement("access.key", _key_statement, {"prefix": prefix})


def check_key(rows: list[Any], key: str, now: datetime) -> tuple[Principal, Statement | None]:
    """The caller holding ``key``, given ``key_lookup``'s rows; and the statement that
    records its use when ``last_used_at`` is older than its resolution (else None)."""
    row = rows[0] if rows else None
    if row is None or not hmac.compare_digest(row.secret_hash, key_hash(key)):
        raise Unauthenticated("API 密钥无效。", code="invalid_api_key")
    if row.revoked_at is not None:
        raise Unauthenticated("API 密钥已吊销。", code="revoked_api_key")
    touch = None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        params = {"key_id": row.id, "now": now}
        touch = Statement("access.key_used", _touch_statement, params, writes=True)
    return Principal(Role(row.role), row.id, row.bank_code, row.enterprise_id), touch


def _touch_statement() -> Any:
    return (
        update(ApiKey)
        .where(col(ApiKey.id) == bindparam("key_id", type_=Integer))
        .values(last_used_at=bindparam("now", type_=UTCDateTime))
    )


def authenticate(session: Session, authorization: str | None) -> Principal:
    """The caller named by an ``Authorization: Bearer <key>`` header."""
    prefix, key = parse_key(authorization)
    principal, touch = check_key(fetch(session, key_lookup(prefix)), key, utcnow())
    if touch is not None:
        fetch_all(session, [touch])
        session.commit()
    return principal


# --- pages' sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class WebSignIn:
    token: str  # for the cookie; only its hash is kept
    csrf_token: str
    principal: Principal


def open_web_session(session: Session, key: str) -> WebSignIn:
    """Sign a browser in with an API key: the key is checked as the API checks it, and the
    session acts with it (and ends when it is revoked)."""
    prefix, key = parse_key(f"Bearer {key.strip()}")
    now = utcnow()
    principal, touch = check_key(fetch(session, key_lookup(prefix)), key, now)
    if touch is not None:
        fetch_all(session, [touch])
    assert principal.key_id is not None
    session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))  # tidy as we go
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=key_hash(token),
            api_key_id=principal.key_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + WEB_SESSION_IDLE,
        )
    )
    session.commit()
    return WebSignIn(token, csrf_token, principal)


@dataclass(frozen=True)
class WebCaller:
    """Who a signed-in browser is: the caller, the session's CSRF secret, and the name the
    header shows (a person's display name, or the key's name)."""

    principal: Principal
    csrf_token: str
    display_name: str


def person_principal(user: UserAccount) -> Principal:
    """The caller a person's session acts as: its role and holder, and who they are."""
    return Principal(
        Role(user.role),
        None,
        user.bank_code,
        user.enterprise_id,
        user_id=user.id,
        bank_role=BankRole(user.bank_role) if user.bank_role else None,
    )


def start_person_session(session: Session, user: UserAccount, now: datetime) -> WebSignIn:
    """A new browser session for a person whose password was just checked; no commit."""
    session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))  # tidy as we go
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=key_hash(token),
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + WEB_SESSION_IDLE,
        )
    )
    return WebSignIn(token, csrf_token, person_principal(user))


def end_person_sessions(session: Session, user_id: int, keep_token: str | None = None) -> int:
    """Sign a person out everywhere (but in the browser holding ``keep_token``); no commit."""
    statement = delete(WebSession).where(col(WebSession.user_id) == user_id)
    if keep_token:
        statement = statement.where(col(WebSession.token_hash) != key_hash(keep_token))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def web_session_caller(session: Session, token: str | None) -> WebCaller | None:
    """The caller of a signed-in browser; None when the token is unknown or expired, its key
    revoked or its person's account disabled. (A lock refuses new sign-ins only.)"""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(WebSession, ApiKey, UserAccount)
        .outerjoin(ApiKey, col(ApiKey.id) == col(WebSession.api_key_id))
        .outerjoin(UserAccount, col(UserAccount.id) == col(WebSession.user_id))
        .where(col(WebSession.token_hash) == key_hash(token))
    ).first()
    now = utcnow()
    if row is None:
        return None
    web, key, user = row
    if web.expires_at <= now:
        return None
    if user is not None:
        if user.disabled_at is not None:
            return None
        principal, name = person_principal(user), user.display_name
    elif key is not None and key.revoked_at is None:
        principal = Principal(Role(key.role), key.id, key.bank_code, key.enterprise_id)
        name = key.name
    else:
        return None
    if now - web.last_seen_at > LAST_USED_RESOLUTION:  # slide the idle limit, not too often
        web.last_seen_at = now
        web.expires_at = min(now + WEB_SESSION_IDLE, web.created_at + WEB_SESSION_LIFETIME)
        session.commit()
    return WebCaller(principal, web.csrf_token, name)


def web_session_principal(session: Session, token: str | None) -> tuple[Principal, str] | None:
    """The caller of a signed-in browser and its CSRF secret (``web_session_caller``)."""
    caller = web_session_caller(session, token)
    return None if caller is None else (caller.principal, caller.csrf_token)


def close_web_session(session: Session, token: str | None) -> None:
    """Sign out: the token stops working at once."""
    if token:
        session.execute(delete(WebSession).where(col(WebSession.token_hash) == key_hash(token)))
        session.commit()


# --- the audit log --------------------------------------------------------------------------


def _lists(session: Session, column: Any, value: int) -> Any:
    """``value`` is in the id list ``column`` (``@>`` through its GIN index on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, ARRAY(Integer)).contains([value])
    each = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == value))


def list_audit(
    session: Session,
    principal: Principal,
    page: PageParams,
    enterprise_id: int | None = None,
    bank_code: str | None = None,
    action: str | None = None,
    subject_type: str | None = None,
    since: datetime | None = None,
) -> Page[AuditEntryPublic]:
    """Newest first."""
    require(principal, Role.office)
    statement = select(AuditEntry)
    if enterprise_id is not None:
        statement = statement.where(
            or_(
                col(AuditEntry.enterprise_id) == enterprise_id,
                _lists(session, col(AuditEntry.enterprise_ids), enterprise_id),
            )
        )
    if bank_code is not None:
        statement = statement.where(col(AuditEntry.actor_bank_code) == bank_code)
    if action is not None:
        statement = statement.where(col(AuditEntry.action) == action)
    if subject_type is not None:
        statement = statement.where(col(AuditEntry.subject_type) == subject_type)
    if since is not None:
        statement = statement.where(col(AuditEntry.at) >= since)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(col(AuditEntry.id) < key[0])
    rows = list(
        session.scalars(statement.order_by(col(AuditEntry.id).desc()).limit(page.limit + 1))
    )
    result = make_page(rows, page.limit, lambda r: [r.id])
    result.items = [AuditEntryPublic.model_validate(r, from_attributes=True) for r in result.items]
    return result

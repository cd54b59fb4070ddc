"""People's passwords: Argon2id hashes (``argon2.PasswordHasher``), the rule a new password
must meet, and the lockout back-off. No session and no I/O: the use cases in ``users`` and
``invitations`` store what these compute.

Lockout: after ``LOCK_AFTER`` (5) failures in a row an account is locked for one minute; each
further failure (once the lock has run out) doubles the lock, up to one hour; a successful
sign-in resets the count. While locked, an attempt is refused without checking the password."""

import hashlib
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 128
LOCK_AFTER = 5  # failures in a row before the first lock
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)

# The most common passwords of the published leak lists that are 10 characters or longer (the
# shorter ones fail the length rule anyway), and the obvious ones of this service.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789a",
        "0123456789",
        "0987654321",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "qwerty1234",
        "qwerty123456",
        "1234qwer!@#$",
        "a123456789",
        "abc1234567",
        "abcd123456",
        "abcdefghij",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "woaini1314",
        "woaini520520",
        "5201314520",
        "1314520520",
        "aa12345678",
        "asdfghjkl;",
        "zxcvbnm123",
        "admin12345",
        "admin123456",
        "administrator",
        "changeme123",
        "welcome123",
        "p@ssw0rd123",
        "finmatch123",
        "finmatch2026",
    }
)

_hasher = PasswordHasher()  # Argon2id with the library's defaults (RFC 9106, low memory)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from. With no hash (an
    account whose password an administrator reset) the dummy hash is verified all the same,
    so that the answer takes as long as for a real one."""
    try:
        return _hasher.verify(password_hash or dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash checked for a login nobody has, so that an unknown login takes as long to refuse
    as a wrong password."""
    return _hasher.hash("no account has this password, it only takes time")


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with weaker parameters than today's: hash the password again at the
    next successful sign-in."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problem(password: str, login: str) -> str | None:
    """What is wrong with a new password, in words for the person choosing it; None if it is
    acceptable: 10 to 128 characters, not the login, not one character repeated, not one of
    the most common passwords."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符。"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符。"
    if "\x00" in password:
        return "密码不能包含空字符。"
    lowered = password.lower()
    if lowered == login.strip().lower() or lowered == login.strip().lower().split("@")[0]:
        return "密码不能与账号相同。"
    if len(set(password)) == 1:
        return "密码不能全部是同一个字符。"
    if lowered in COMMON_PASSWORDS:
        return "这个密码太常见，容易被猜到，请换一个。"
    return None


def lock_for(failures: int) -> timedelta | None:
    """How long an account is locked after ``failures`` failures in a row (None: not locked):
    one minute at the fifth, doubled at each further one, at most an hour."""
    if failures < LOCK_AFTER:
        return None
    doublings = min(failures - LOCK_AFTER, 6)  # 2**6 minutes is past the cap already
    return min(FIRST_LOCK * 2**doublings, MAX_LOCK)


def locked_until(failures: int, now: datetime) -> datetime | None:
    lock = lock_for(failures)
    return None if lock is None else now + lock


def login_fingerprint(login: str) -> str:
    """What the audit log keeps of a login nobody has: a short SHA-256 prefix, never the text
    (a password typed into the login box must not end up in the log)."""
    return hashlib.sha256(login.encode("utf-8", "replace")).hexdigest()[:12]

"""The password rule, Argon2id hashing and the lockout back-off (pure)."""

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st

from service.access.passwords import (
    FIRST_LOCK,
    LOCK_AFTER,
    MAX_LOCK,
    hash_password,
    lock_for,
    locked_until,
    login_fingerprint,
    needs_rehash,
    password_problem,
    verify_password,
)


def test_hash_and_verify() -> None:
    hashed = hash_password("长江后浪推前浪-2026")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "长江后浪推前浪-2026")
    assert not verify_password(hashed, "长江后浪推前浪-2025")
    assert not verify_password(None, "长江后浪推前浪-2026")
    assert not verify_password("not a hash", "whatever")
    assert not needs_rehash(hashed)


def test_a_weaker_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("够长的一个密码-1")
    assert verify_password(weak, "够长的一个密码-1")
    assert needs_rehash(weak)


def test_the_password_rule() -> None:
    login = "zhang.san@bank.example"
    assert password_problem("长江后浪推前浪-2026", login) is None
    assert "至少" in (password_problem("short", login) or "")
    assert "最多" in (password_problem("a1" * 65, login) or "")
    assert "账号" in (password_problem("ZHANG.SAN@bank.example", login) or "")
    assert "账号" in (password_problem("zhang.san.wx", "zhang.san.wx@bank.example") or "")
    assert "同一个" in (password_problem("0000000000", login) or "")
    assert "常见" in (password_problem("Password123", login) or "")
    assert "空字符" in (password_problem("abc\x00defghijk", login) or "")


def test_the_lockout_steps() -> None:
    assert [lock_for(n) for n in range(LOCK_AFTER)] == [None] * LOCK_AFTER
    assert lock_for(5) == timedelta(minutes=1)
    assert lock_for(6) == timedelta(minutes=2)
    assert lock_for(7) == timedelta(minutes=4)
    assert lock_for(11) == MAX_LOCK == timedelta(hours=1)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert locked_until(4, now) is None
    assert locked_until(5, now) == now + timedelta(minutes=1)


@given(st.integers(min_value=0, max_value=10**9))
def test_lockout_properties(failures: int) -> None:
    lock = lock_for(failures)
    if failures < LOCK_AFTER:
        assert lock is None
        return
    assert lock is not None and FIRST_LOCK <= lock <= MAX_LOCK
    following = lock_for(failures + 1)
    assert following is not None
    assert following == min(lock * 2, MAX_LOCK)  # each further failure doubles it, capped


def test_the_audit_keeps_only_a_fingerprint_of_an_unknown_login() -> None:
    fingerprint = login_fingerprint("my-password-typed-as-login")
    assert len(fingerprint) == 12 and "password" not in fingerprint

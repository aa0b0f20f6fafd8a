"""Password hashing with argon2id, and the dummy work done for unknown usernames."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app


@lru_cache(maxsize=8)
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism, type=Type.ID
    )


def hasher() -> PasswordHasher:
    """The hasher with the configured parameters (m=19456 KiB, t=2, p=1 by default)."""
    config = current_app.config
    return _hasher(
        config["ARGON2_MEMORY_KIB"], config["ARGON2_TIME_COST"], config["ARGON2_PARALLELISM"]
    )


def normalize(password: str) -> str:
    """Passwords are compared as NFKC, so that the same typed text always matches."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return hasher().hash(normalize(password))


def verify(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing or malformed hash never matches."""
    if not password_hash:
        dummy_verify(password)
        return False
    try:
        return hasher().verify(password_hash, normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than the configured ones."""
    return hasher().check_needs_rehash(password_hash)


def dummy_verify(password: str) -> None:
    """Spend the time a real verification takes, so unknown usernames cannot be timed."""
    verify(_dummy_hash(), password + "\0")


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("kleidi.dummy_hash", {})
    key = (current_app.config["ARGON2_MEMORY_KIB"], current_app.config["ARGON2_TIME_COST"])
    if key not in cache:
        cache[key] = hash_password("kleidi dummy password")
    return cache[key]

"""Passwords: argon2id hashes, and checks that take as long whether or not the account exists."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12


@cache
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's low-memory profile: argon2id, 64 MiB, 3 passes.
    return PasswordHasher()


@cache
def _decoy() -> str:
    """A hash to check against when the account does not exist, so timing does not tell."""
    return _hasher().hash("no such account: this hash only costs time")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _decoy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True once the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


def weakness(password: str, account: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"must have at least {MIN_LENGTH} characters"
    if account.casefold() in password.casefold():
        return "must not contain the account name"
    return None

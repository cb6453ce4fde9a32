"""The key access tokens are signed with, and the tokens themselves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.access import Role
from contracts.tokens import AUDIENCE, LOCAL_ISSUER


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at `path`; made (mode 0600) with its public half at `path`.pub if absent."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
    else:
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    public = public_key_path(path)
    if not public.exists():
        public.write_bytes(public_pem(key.public_key()))
    return key


def public_key_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".key") + ".pub")


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class TokenFacts:
    account: str
    role: Role
    team: str | None
    session_id: str
    auth_time: datetime


def access_token(key: Ed25519PrivateKey, facts: TokenFacts, now: datetime,
                 lifetime: timedelta) -> str:
    """A signed JWT: issued now (to the microsecond, so a revocation a moment before it does
    not catch it), valid for `lifetime`."""
    issued = now.timestamp()
    claims = {
        "iss": LOCAL_ISSUER, "aud": AUDIENCE, "sub": facts.account, "role": facts.role.value,
        "team": facts.team, "sid": facts.session_id, "iat": issued,
        "exp": issued + lifetime.total_seconds(), "auth_time": facts.auth_time.timestamp(),
    }
    return jwt.encode(claims, key, algorithm="EdDSA")

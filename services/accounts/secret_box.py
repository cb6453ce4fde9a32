"""Second-factor secrets at rest: AES-GCM with a key from the environment or a file.

A copy of the accounts database alone (a stolen backup, a seized disk) then gives no one the
codes of anyone's authenticator.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.accounts.config import Settings


class SecretKeyMissing(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the secrets key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, *, context: str) -> str:
        raw = base64.urlsafe_b64decode(token.encode())
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()


def load_secret_box(settings: Settings) -> SecretBox:
    """From SECRETS_KEY or SECRETS_KEY_FILE; in demo mode a key is made if there is none."""
    if settings.secrets_key is not None:
        return SecretBox(base64.b64decode(settings.secrets_key.get_secret_value()))
    path = settings.secrets_key_file
    if path is None and settings.demo_mode:
        path = settings.signing_key_file.with_name("accounts-secrets.key")
    if path is None:
        raise SecretKeyMissing("set SECRETS_KEY or SECRETS_KEY_FILE (32 random bytes, base64)")
    if not path.exists():
        if not settings.demo_mode:
            raise SecretKeyMissing(f"SECRETS_KEY_FILE {path} does not exist")
        _write_private(path, base64.b64encode(secrets.token_bytes(32)))
    return SecretBox(base64.b64decode(path.read_bytes().strip()))


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)

"""The key store: each case's data key, wrapped by a master key, kept apart from the log.

Kafka and every read model hold personal fields only encrypted (contracts.personal_data). The
keys that open them live here, in a database of their own (`KEYSTORE_DATABASE_URL`), each
wrapped (AES-256-GCM) by a master key that is never stored beside them: it comes from the
environment (`MASTER_KEY`) or a file (`MASTER_KEY_FILE`). A stolen log, a seized read-model
database or a backup of either is ciphertext; the key store alone is ciphertext too.

Erasing a subject destroys its case's key and leaves a tombstone, so the key is never made
again and every reader can tell "erased" from "unknown". intake writes here (new keys,
erasures); casefile only reads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from contracts.personal_data import FieldCipher

KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12

metadata = MetaData()

case_key = Table(
    "case_key", metadata,
    Column("case_id", String(36), primary_key=True),
    # nonce | AES-256-GCM(master key, data key); NULL once erased
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("master_key_id", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)


class KeyStoreSettings(BaseModel):
    """Where the case keys are and what opens them: mixed into a service's Settings."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = ConfigDict(use_attribute_docstrings=True)

    keystore_database_url: str = "sqlite:///var/keystore.db"
    """The key store's database (each case's key, wrapped by the master key); never the log's
    or a read model's database. Casefile needs only SELECT on it."""
    master_key: SecretStr | None = None
    """The master key, base64 of 32 random bytes; better, MASTER_KEY_FILE."""
    master_key_file: Path | None = Path("var/keys/master.key")
    """A file holding the master key (0600; `python -m contracts.keystore new-master-key FILE`
    makes one). Keep it in a secret store, never beside the key store or in its backups."""
    keystore_cache_seconds: float = 60.0
    """How long an opened case key is reused before it is read again."""


class MasterKeyMissing(RuntimeError):
    """No usable master key was given; the message says what to set."""


class KeyErased(LookupError):
    """The case's key was destroyed: nothing personal can be read or written for it again."""


class KeyUnavailable(LookupError):
    """The case has no key here (never made, or a key store restored without it)."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def key_id(self) -> str:
        """Names the master key a data key was wrapped by, without revealing it."""
        return hashlib.sha256(b"casetracker master key id:" + self.key).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: KeyStoreSettings) -> MasterKey:
        if settings.master_key is not None:
            return cls(decode_key(settings.master_key.get_secret_value(), "MASTER_KEY"))
        path = settings.master_key_file
        if path is None or not path.is_file():
            raise MasterKeyMissing(
                f"no master key: MASTER_KEY_FILE ({path}) does not exist and MASTER_KEY is unset; "
                "make one with `python -m contracts.keystore new-master-key FILE`")
        return cls(decode_key(path.read_text().strip(), "MASTER_KEY_FILE"))

    def wrap(self, case_id: UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.key).encrypt(nonce, data_key, _wrapping_context(case_id))

    def unwrap(self, case_id: UUID, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self.key).decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:],
                                            _wrapping_context(case_id))
        except InvalidTag:
            raise KeyUnavailable(
                f"case {case_id}: its key does not open with this master key") from None

    def derive(self, purpose: str) -> bytes:
        """A key for another purpose (e.g. keyed fingerprints), never the master key itself."""
        return hashlib.blake2b(self.key, key=purpose.encode(), digest_size=32).digest()


def decode_key(text: str, source: str) -> bytes:
    """A 32-byte key written as base64 (what write_new_master_key makes); MasterKeyMissing
    names `source` when it is not one."""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyMissing(f"{source} is not base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyMissing(f"{source} must hold {KEY_BYTES} random bytes (base64), "
                               f"it holds {len(key)}")
    return key


def _wrapping_context(case_id: UUID) -> bytes:
    return b"casetracker case data key v1:" + case_id.bytes


def new_master_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def write_new_master_key(path: Path) -> None:
    """Create a key file (32 random bytes, base64) readable by its owner only; never
    overwrites one. Also what other services' keys are made with (accounts' secrets key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(new_master_key_text() + "\n")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_durable)
    return engine


def _sqlite_durable(dbapi_connection, _record) -> None:
    # A key must be on disk before an event encrypted with it is acknowledged.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class KeyStore:
    """Case keys for one service: made, opened (and kept a short while), erased."""

    def __init__(self, engine: Engine, master: MasterKey, *, cache_seconds: float = 60.0) -> None:
        self._engine = engine
        self._master = master
        self._cache_seconds = cache_seconds
        self._opened: dict[UUID, tuple[float, bytes]] = {}
        self._made: dict[UUID, bytes] = {}  # made, not yet stored (see `store_made`)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: KeyStoreSettings) -> KeyStore:
        master = MasterKey.from_settings(settings)
        return cls(make_engine(settings.keystore_database_url), master,
                   cache_seconds=settings.keystore_cache_seconds)

    @property
    def master(self) -> MasterKey:
        return self._master

    def prepare(self) -> None:
        """Create the table if missing. intake and casefile start side by side: if the other
        created it between our check and our CREATE, that is as good."""
        try:
            metadata.create_all(self._engine, checkfirst=True)
        except DBAPIError:
            if not inspect(self._engine).has_table(case_key.name):
                raise

    def dispose(self) -> None:
        self._engine.dispose()

    def cipher(self, case_id: UUID) -> FieldCipher:
        """The cipher of an existing case; KeyUnavailable or KeyErased otherwise."""
        return FieldCipher(case_id, self._key(case_id))

    def cipher_for_writing(self, case_id: UUID) -> FieldCipher:
        """The case's cipher, making its key if it has none yet (a new case, or one recorded
        before encryption existed); the key is stored by `store_made`, before the events."""
        with self._lock:
            made = self._made.get(case_id)
        if made is not None:
            return FieldCipher(case_id, made)
        try:
            return self.cipher(case_id)
        except KeyUnavailable:
            key = os.urandom(KEY_BYTES)
            with self._lock:
                key = self._made.setdefault(case_id, key)
            return FieldCipher(case_id, key)

    def store_made(self) -> None:
        """Store every key made since the last call, in one transaction, durably."""
        with self._lock:
            made, self._made = self._made, {}
        if not made:
            return
        now = datetime.now(UTC)
        rows = [{"case_id": str(case_id), "wrapped_key": self._master.wrap(case_id, key),
                 "master_key_id": self._master.key_id, "created_at": now}
                for case_id, key in made.items()]
        # On failure the keys are dropped with the batch that used them, which fails too (an
        # IntegrityError: another replica keyed one of these older cases first; the retry
        # reads its key).
        with self._engine.begin() as connection:
            connection.execute(insert(case_key), rows)
        expires = time.monotonic() + self._cache_seconds
        with self._lock:
            for case_id, key in made.items():
                self._opened[case_id] = (expires, key)

    def forget_made(self) -> None:
        """Drop keys made for a batch that was not committed."""
        with self._lock:
            self._made.clear()

    def erase(self, case_ids: Iterable[UUID]) -> None:
        """Destroy the keys for good (crypto-shredding); a tombstone remembers each erasure."""
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            for case_id in case_ids:
                with self._lock:
                    self._opened.pop(case_id, None)
                    self._made.pop(case_id, None)
                done = connection.execute(
                    update(case_key).where(case_key.c.case_id == str(case_id),
                                           case_key.c.erased_at.is_(None))
                    .values(wrapped_key=None, erased_at=now))
                if done.rowcount == 0:
                    exists = connection.execute(select(case_key.c.case_id).where(
                        case_key.c.case_id == str(case_id))).first()
                    if exists is None:  # a case with no key yet: its tombstone alone
                        connection.execute(insert(case_key).values(
                            case_id=str(case_id), wrapped_key=None,
                            master_key_id=self._master.key_id, created_at=now, erased_at=now))

    def erased(self, case_ids: Iterable[UUID]) -> set[UUID]:
        """Those of the cases whose key was destroyed."""
        ids = [str(c) for c in case_ids]
        if not ids:
            return set()
        with self._engine.connect() as connection:
            rows = connection.execute(select(case_key.c.case_id).where(
                case_key.c.case_id.in_(ids), case_key.c.erased_at.is_not(None)))
            return {UUID(row.case_id) for row in rows}

    def _key(self, case_id: UUID) -> bytes:
        now = time.monotonic()
        with self._lock:
            cached = self._opened.get(case_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._engine.connect() as connection:
            row = connection.execute(
                select(case_key.c.wrapped_key, case_key.c.erased_at)
                .where(case_key.c.case_id == str(case_id))).first()
        if row is None:
            raise KeyUnavailable(f"case {case_id} has no key in this key store")
        if row.erased_at is not None or row.wrapped_key is None:
            raise KeyErased(f"case {case_id}: the subject was erased")
        key = self._master.unwrap(case_id, row.wrapped_key)
        with self._lock:
            self._opened[case_id] = (now + self._cache_seconds, key)
        return key


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Key store tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("new-master-key", help="write a new random master key (0600)")
    made.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        write_new_master_key(args.file)
    except FileExistsError:
        parser.error(f"{args.file} exists; a master key is never overwritten")
    print(f"master key written to {args.file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

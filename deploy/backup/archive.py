"""An encrypted, integrity-checked archive: a stream of JSON items in authenticated parts.

    header  "CTBACKUP" | format version | kind | backup key id (16) | salt (32)
    parts   length (4, big-endian) | AES-256-GCM(part key, nonce, zlib(JSON lines), header)

Each archive has its own part key, derived (HKDF-SHA256) from the backup key and the
archive's random salt, so the part's number can serve as its nonce. The nonce also says
whether a part is the last one (the STREAM construction of online authenticated
encryption): a part changed, dropped, repeated or moved, an archive cut short or with bytes
after its end, or a header changed, all fail to read, with an error that says which.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CTBACKUP"
FORMAT_VERSION = 1
_HEADER = struct.Struct(">8sBB16s32s")
_LENGTH = struct.Struct(">I")
PART_BYTES = 1 << 20  # plain text per part, before compression
KEY_BYTES = 32


class ArchiveKind(IntEnum):
    LOG = 1
    KEY_STORE = 2


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says what is wrong and with what."""


class ArchiveDamaged(BackupError):
    """The archive does not read back exactly as it was written."""


class WrongBackupKey(BackupError):
    """The archive was encrypted with another backup key."""


@dataclass(frozen=True)
class BackupKey:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise BackupError(f"a backup key is {KEY_BYTES} random bytes, this one is "
                              f"{len(self.key)}")

    @property
    def key_id(self) -> bytes:
        """Names the key an archive was made with, without revealing it."""
        return hashlib.sha256(b"casetracker backup key id:" + self.key).digest()[:16]

    def part_key(self, header: bytes) -> bytes:
        salt = header[-32:]
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt,
                    info=b"casetracker backup parts v1").derive(self.key)


def _nonce(number: int, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class ArchiveWriter:
    """Writes items to `path` by way of `path.partial` (0600), renamed only once complete:
    an export that fails half-way leaves no file that looks like a backup."""

    def __init__(self, path: Path, key: BackupKey, kind: ArchiveKind) -> None:
        self.path = path
        self._partial = path.with_name(path.name + ".partial")
        self._header = _HEADER.pack(MAGIC, FORMAT_VERSION, kind, key.key_id, os.urandom(32))
        self._aead = AESGCM(key.part_key(self._header))
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._parts = 0
        self._file: BinaryIO | None = None

    def __enter__(self) -> ArchiveWriter:
        if self.path.exists():
            raise BackupError(f"{self.path} exists; a backup is never overwritten")
        self._partial.unlink(missing_ok=True)
        descriptor = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(descriptor, "wb")
        self._file.write(self._header)
        return self

    def write(self, item: dict) -> None:
        line = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        self._buffer.append(line)
        self._buffered += len(line)
        if self._buffered >= PART_BYTES:
            self._seal(last=False)

    def __exit__(self, exc_type, exc, traceback) -> None:
        assert self._file is not None
        try:
            if exc_type is None:
                self._seal(last=True)
                self._file.flush()
                os.fsync(self._file.fileno())
        finally:
            self._file.close()
        if exc_type is None:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)

    def _seal(self, *, last: bool) -> None:
        assert self._file is not None
        plain = zlib.compress(b"".join(self._buffer), 6)
        sealed = self._aead.encrypt(_nonce(self._parts, last), plain, self._header)
        self._file.write(_LENGTH.pack(len(sealed)) + sealed)
        self._buffer, self._buffered = [], 0
        self._parts += 1


def read_archive(path: Path, key: BackupKey, kind: ArchiveKind) -> Iterator[dict]:
    """Every item, in the order written; ArchiveDamaged or WrongBackupKey as soon as anything
    does not authenticate (items already yielded came from authentic parts)."""
    try:
        file = path.open("rb")
    except OSError as exc:
        raise BackupError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    with file:
        header = _read_header(file, path, key, kind)
        aead = AESGCM(key.part_key(header))
        number = 0
        while True:
            length = file.read(_LENGTH.size)
            if len(length) < _LENGTH.size:
                raise ArchiveDamaged(f"{path} is truncated: it ends before its last part")
            (size,) = _LENGTH.unpack(length)
            sealed = file.read(size)
            if len(sealed) < size:
                raise ArchiveDamaged(f"{path} is truncated or damaged at part {number}")
            plain, last = _open_part(aead, number, sealed, header, path)
            for line in zlib.decompress(plain).splitlines():
                yield _item(line, path, number)
            if last:
                if file.read(1):
                    raise ArchiveDamaged(f"{path} has data after its last part")
                return
            number += 1


def _read_header(file: BinaryIO, path: Path, key: BackupKey, kind: ArchiveKind) -> bytes:
    header = file.read(_HEADER.size)
    if len(header) < _HEADER.size or not header.startswith(MAGIC):
        raise ArchiveDamaged(f"{path} is not a casetracker backup")
    _, version, found, key_id, _ = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise ArchiveDamaged(f"{path} is a backup of format {version}; this version reads "
                             f"format {FORMAT_VERSION}")
    if found != kind:
        what = {ArchiveKind.LOG: "log", ArchiveKind.KEY_STORE: "key-store"}
        raise BackupError(f"{path} is a {what.get(found, 'unknown')} backup, not a "
                          f"{what[kind]} backup")
    if key_id != key.key_id:
        raise WrongBackupKey(f"{path} was encrypted with another backup key (key id "
                             f"{key_id.hex()}, this key's is {key.key_id.hex()})")
    return header


def _open_part(aead: AESGCM, number: int, sealed: bytes, header: bytes,
               path: Path) -> tuple[bytes, bool]:
    for last in (False, True):
        try:
            return aead.decrypt(_nonce(number, last), sealed, header), last
        except InvalidTag:
            continue
    raise ArchiveDamaged(f"{path} is damaged or was tampered with: part {number} does not "
                         "authenticate")


def _item(line: bytes, path: Path, number: int) -> dict:
    try:
        item = json.loads(line)
    except ValueError:
        item = None
    if not isinstance(item, dict):
        raise ArchiveDamaged(f"{path}: part {number} holds something that is not an item")
    return item

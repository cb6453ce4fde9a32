"""Back up and restore the key store: each case's key as stored (still wrapped by the master
key, which is never in a backup), and every erasure's tombstone.

Kept apart from the log's backup on purpose: a log restored without it reads `[unreadable]`
wherever a personal field was, and a key-store backup taken before an erasure still holds the
erased case's key until that backup is destroyed.

    {"key_store": {"created_at": "..."}}                                             first
    {"key": {"case_id", "wrapped_key", "master_key_id", "created_at", "erased_at"}}   each
    {"end": {"keys": N}}                                                              last
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from contracts.keystore import case_key, make_engine, metadata
from deploy.backup.archive import (
    ArchiveDamaged,
    ArchiveKind,
    ArchiveWriter,
    BackupError,
    BackupKey,
    read_archive,
)


def export_key_store(database_url: str, out: Path, key: BackupKey) -> int:
    """Write every row of the key store to `out`; returns how many."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection, ArchiveWriter(out, key, ArchiveKind.KEY_STORE) as archive:
            archive.write({"key_store": {"created_at": datetime.now(UTC).isoformat()}})
            count = 0
            for row in connection.execute(select(case_key).order_by(case_key.c.case_id)):
                archive.write({"key": _item(row._mapping)})
                count += 1
            archive.write({"end": {"keys": count}})
        return count
    finally:
        engine.dispose()


def read_key_store_archive(path: Path, key: BackupKey) -> list[dict]:
    """Every row the archive holds, checked whole; ArchiveDamaged or WrongBackupKey otherwise."""
    items = iter(read_archive(path, key, ArchiveKind.KEY_STORE))
    if "key_store" not in (next(items, None) or {}):
        raise ArchiveDamaged(f"{path} does not begin with a key-store backup's header")
    rows: list[dict] = []
    for item in items:
        if "key" in item:
            rows.append(_row(item["key"], path))
        elif item.get("end") == {"keys": len(rows)}:
            if next(items, None) is not None:
                raise ArchiveDamaged(f"{path} holds items after its end")
            return rows
        else:
            raise ArchiveDamaged(f"{path}: its end does not count the keys it holds")
    raise ArchiveDamaged(f"{path} has no end: the export did not finish")


def restore_key_store(database_url: str, path: Path, key: BackupKey) -> int:
    """Put the archive's rows into an empty key store, in one transaction; returns how many."""
    rows = read_key_store_archive(path, key)
    engine = make_engine(database_url)
    try:
        metadata.create_all(engine, checkfirst=True)
        with engine.begin() as connection:
            held = connection.execute(select(func.count()).select_from(case_key)).scalar_one()
            if held:
                raise BackupError(f"the key store at KEYSTORE_DATABASE_URL already holds {held} "
                                  "keys: restore into an empty one")
            if rows:
                connection.execute(insert(case_key), rows)
        return len(rows)
    finally:
        engine.dispose()


def _item(row) -> dict:
    wrapped = row["wrapped_key"]
    return {"case_id": row["case_id"],
            "wrapped_key": None if wrapped is None else base64.b64encode(wrapped).decode(),
            "master_key_id": row["master_key_id"],
            "created_at": _iso(row["created_at"]), "erased_at": _iso(row["erased_at"])}


def _row(item: object, path: Path) -> dict:
    try:
        wrapped = item["wrapped_key"]  # type: ignore[index]
        return {"case_id": str(item["case_id"]),  # type: ignore[index]
                "wrapped_key": None if wrapped is None else base64.b64decode(wrapped, validate=True),
                "master_key_id": str(item["master_key_id"]),  # type: ignore[index]
                "created_at": datetime.fromisoformat(item["created_at"]),  # type: ignore[index]
                "erased_at": (None if item["erased_at"] is None  # type: ignore[index]
                              else datetime.fromisoformat(item["erased_at"]))}  # type: ignore[index]
    except (TypeError, KeyError, ValueError, binascii.Error):
        raise ArchiveDamaged(f"{path} holds a key of the wrong shape") from None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()

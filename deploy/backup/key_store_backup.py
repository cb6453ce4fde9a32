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
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from sqlalchemy import func, insert, select, update

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
        with engine.connect() as connection, \
                ArchiveWriter(out, key, ArchiveKind.KEY_STORE) as archive:
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


def restore_key_store(
    database_url: str, path: Path, key: BackupKey, *, erased: Iterable[UUID] = ()
) -> tuple[int, int]:
    """Put the archive's rows into an empty key store and destroy again, in the same
    transaction, the keys of the `erased` cases (erased after the backup was taken); returns
    how many keys were restored and how many of them destroyed again."""
    rows = read_key_store_archive(path, key)
    erased = [str(case_id) for case_id in erased]
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
            destroyed = 0
            if erased:
                destroyed = connection.execute(
                    update(case_key).where(case_key.c.case_id.in_(erased),
                                           case_key.c.erased_at.is_(None))
                    .values(wrapped_key=None, erased_at=datetime.now(UTC))).rowcount
        return len(rows), destroyed
    finally:
        engine.dispose()


def _item(row) -> dict:
    wrapped = row["wrapped_key"]
    return {"case_id": row["case_id"],
            "wrapped_key": None if wrapped is None else base64.b64encode(wrapped).decode(),
            "master_key_id": row["master_key_id"],
            "created_at": _iso(row["created_at"]), "erased_at": _iso(row["erased_at"])}


def _row(item: dict, path: Path) -> dict:
    try:
        wrapped, erased_at = item["wrapped_key"], item["erased_at"]
        if wrapped is not None:
            wrapped = base64.b64decode(wrapped, validate=True)
        return {"case_id": str(UUID(item["case_id"])), "wrapped_key": wrapped,
                "master_key_id": str(item["master_key_id"]),
                "created_at": datetime.fromisoformat(item["created_at"]),
                "erased_at": None if erased_at is None else datetime.fromisoformat(erased_at)}
    except (TypeError, KeyError, ValueError, AttributeError, binascii.Error):
        raise ArchiveDamaged(f"{path} holds a key of the wrong shape") from None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()

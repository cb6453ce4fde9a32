"""A fingerprint of the read models: equal checksums mean a replay rebuilt the live state."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Engine, select

from services.casefile.store import READ_MODELS


def read_model_checksum(engine: Engine) -> str:
    """sha256 over every row of every read-model table, independent of the order rows come back."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for model in sorted(READ_MODELS, key=lambda m: m.__tablename__):
            table = model.__table__
            columns = sorted(table.columns, key=lambda c: c.name)
            rows = sorted(
                json.dumps([_normal(value) for value in row], ensure_ascii=False)
                for row in connection.execute(select(*columns))
            )
            digest.update(f"{table.name}:{[c.name for c in columns]}:{len(rows)}\n".encode())
            for line in rows:
                digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def _normal(value: object) -> object:
    """Values as JSON-able text the same way whatever the driver returned (UUID, str, ...)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value

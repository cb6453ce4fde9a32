"""A fingerprint of the read models: equal checksums mean a replay rebuilt the live state."""

from __future__ import annotations

import hashlib
from uuid import UUID

from sqlalchemy import Engine, Uuid

from services.casefile.store import READ_MODELS


def read_model_checksum(engine: Engine) -> str:
    """sha256 over every row of every read-model table, independent of the order rows come
    back and of the database: SQLite and PostgreSQL holding the same rows give the same sum."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for model in sorted(READ_MODELS, key=lambda m: m.__tablename__):
            table = model.__table__
            columns = sorted(table.columns, key=lambda c: c.name)
            uuids = [i for i, column in enumerate(columns) if isinstance(column.type, Uuid)]
            names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
            lines = []
            # Straight from the driver: a rebuild's checksum reads every event it wrote.
            for row in connection.exec_driver_sql(f"SELECT {names} FROM {table.name}"):
                values = list(row)
                for i in uuids:
                    values[i] = _uuid_hex(values[i])
                lines.append(repr(values))
            lines.sort()
            digest.update(f"{table.name}:{[c.name for c in columns]}:{len(lines)}\n".encode())
            digest.update("\n".join(lines).encode())
    return digest.hexdigest()


def _uuid_hex(value: object) -> object:
    """UUIDs as 32 hex digits, whether the driver gave a UUID (PostgreSQL) or text (SQLite)."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, str):
        return value.replace("-", "").lower()
    return value

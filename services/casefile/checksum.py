"""A fingerprint of the read models: equal checksums mean a replay rebuilt the live state."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from uuid import UUID

from sqlalchemy import Connection, Engine, Table, Uuid

from services.casefile.store import READ_MODELS


def read_model_checksum(engine: Engine) -> str:
    """sha256 over every row of every read-model table, independent of the order rows were
    written in and of the database: SQLite and PostgreSQL holding the same rows agree."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for model in sorted(READ_MODELS, key=lambda m: m.__tablename__):
            table = model.__table__
            columns = sorted(c.name for c in table.columns)
            digest.update(f"{table.name}:{columns}\n".encode())
            count = 0
            for line in _rows_in_key_order(connection, table, columns):
                digest.update(line.encode())
                digest.update(b"\n")
                count += 1
            digest.update(f"{count}\n".encode())
    return digest.hexdigest()


def _rows_in_key_order(connection: Connection, table: Table, columns: list[str]) -> Iterator[str]:
    """Each row as text, in primary-key order.

    A table keyed by one UUID is streamed in the database's key order (the same on SQLite's
    hex text and PostgreSQL's uuid: byte order), so hashing the events of a large log does not
    hold them all in memory; other tables are small and are sorted here, away from any
    database's collation.
    """
    uuids = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, Uuid)]
    key = [c.name for c in table.primary_key.columns]
    quote = connection.dialect.identifier_preparer.quote
    select = f"SELECT {', '.join(quote(c) for c in columns)} FROM {table.name}"
    by_uuid = len(key) == 1 and isinstance(table.c[key[0]].type, Uuid)
    if by_uuid:
        select += f" ORDER BY {quote(key[0])}"
    rows = (_text(row, uuids) for row in connection.exec_driver_sql(select))
    yield from rows if by_uuid else sorted(rows)


def _text(row: Iterable, uuids: list[int]) -> str:
    values = list(row)
    for i in uuids:
        values[i] = _uuid_hex(values[i])
    return repr(values)


def _uuid_hex(value: object) -> object:
    """UUIDs as 32 hex digits, whether the driver gave a UUID (PostgreSQL) or text (SQLite)."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, str):
        return value.replace("-", "").lower()
    return value

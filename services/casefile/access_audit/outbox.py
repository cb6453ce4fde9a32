"""Casefile's access outbox: reads recorded but not yet acknowledged by the log.

A read is committed here before its data is sent; the relay publishes from here. The table
lives in casefile's database but apart from the read models (its own metadata): dropping and
rebuilding them from the log leaves it alone, and a rebuild never reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import BigInteger, Column, Engine, Integer, LargeBinary, delete, func, insert
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, select

from services.casefile import store


class OutboxTable(SQLModel, registry=registry()):
    """Tables kept out of the read models' metadata, so a rebuild's drop never reaches them."""


class AccessOutbox(OutboxTable, table=True):
    __tablename__ = "access_outbox"

    position: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True))
    event_id: UUID = Field(unique=True)
    key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


@dataclass(frozen=True)
class Pending:
    position: int
    event_id: UUID
    key: bytes
    body: bytes


def make_engine(url: str) -> Engine:
    """An engine whose commits are on disk before they return (SQLite: WAL, synchronous=FULL):
    a read is answered only once its record would survive a crash of the machine."""
    return store.make_engine(url, durable=True, prepare_store=False)


def prepare(engine: Engine) -> None:
    """Create the outbox if missing (under a lock on PostgreSQL: replicas start together)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtext('casefile_access_outbox'))")
        OutboxTable.metadata.create_all(connection)


_outbox = AccessOutbox.__table__


def add(engine: Engine, event_id: UUID, key: bytes, body: bytes) -> None:
    """Keep one access event, committed (durably) when this returns."""
    with engine.begin() as connection:
        connection.execute(insert(_outbox).values(event_id=event_id, key=key, body=body))


def pending(engine: Engine, *, limit: int) -> list[Pending]:
    """The oldest entries, in the order they were recorded."""
    statement = select(_outbox.c.position, _outbox.c.event_id, _outbox.c.key, _outbox.c.body
                       ).order_by(_outbox.c.position).limit(limit)
    with engine.connect() as connection:
        return [Pending(*row) for row in connection.execute(statement)]


def forget(engine: Engine, positions: list[int]) -> None:
    """Drop the entries the log has acknowledged."""
    if positions:
        with engine.begin() as connection:
            connection.execute(delete(_outbox).where(_outbox.c.position.in_(positions)))


def size(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(_outbox)).scalar_one()

"""Intake's own store: the case streams, every event appended, the outbox and idempotency keys.

An event, its case's new version and its outbox entry are written in one transaction; the
relay publishes from the outbox afterwards. The schema is owned by the alembic migrations in
services/intake/migrations; these models are what the code reads and writes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    LargeBinary,
    UniqueConstraint,
    bindparam,
    delete,
    event,
    func,
    insert,
    update,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, create_engine, select

from contracts.events import EventEnvelope, decode_event, encode_event, read_event
from services.intake.decisions import CaseState, fold


class IntakeTable(SQLModel, registry=registry()):
    """Intake's tables live in their own metadata, apart from other services' models."""


metadata = IntakeTable.metadata


class CaseStream(IntakeTable, table=True):
    __tablename__ = "case_stream"

    case_id: UUID = Field(primary_key=True)
    version: int = Field(description="Sequence of the last event appended to the case.")
    head_hash: str | None = Field(default=None, max_length=64)
    state: str = Field(
        description="JSON of the rest of CaseState: closed flag, inquiries, their dates and pauses."
    )


class CaseEvent(IntakeTable, table=True):
    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "sequence", name="uq_case_event_sequence"),)

    event_id: UUID = Field(primary_key=True)
    case_id: UUID
    sequence: int
    type: str = Field(max_length=64)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Outbox(IntakeTable, table=True):
    """Events committed but not yet acknowledged by the log, in commit order."""

    __tablename__ = "outbox"

    position: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    event_id: UUID = Field(foreign_key="case_event.event_id", unique=True)


class IdempotencyRecord(IntakeTable, table=True):
    __tablename__ = "idempotency_record"

    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64, description="SHA-256 of caller, method, path and body.")
    event_id: UUID = Field(foreign_key="case_event.event_id")


class PendingErasure(IntakeTable, table=True):
    """A subject erased whose case key may still exist: written with the erasure, deleted
    once the key is destroyed, so a start finds what is left without reading every event."""

    __tablename__ = "pending_erasure"

    case_id: UUID = Field(primary_key=True)


class StreamConflict(RuntimeError):
    """Another writer appended to the case between our read and our write."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_durability)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_durability(dbapi_connection, _record) -> None:
    # WAL with synchronous=FULL: every commit is on disk before intake answers 2xx,
    # and the relay can read while a command is written.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin


def _sqlite_begin(connection) -> None:
    # A writing transaction takes the write lock at BEGIN: a deferred one that read first would
    # fail at once (SQLITE_BUSY_SNAPSHOT, no waiting) if the relay or another process committed
    # meanwhile. One that only reads (READS_ONLY) begins deferred: in WAL it reads a snapshot
    # and never makes the command writer wait for the lock.
    if connection.get_execution_options().get("intake_reads_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


READS_ONLY = {"intake_reads_only": True}
"""Execution options for a connection that never writes."""

_SQLITE_WRITE_TURNS = threading.Lock()


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A session for one write transaction; the caller commits.

    On SQLite this process's writers (the command writer, the relay's outbox cleanup) take
    turns here before BEGIN IMMEDIATE. A writer meeting SQLite's lock instead waits in its busy
    handler, which sleeps in growing steps (1, 2, 5, 10 ms ...) and so oversleeps the release
    by up to tens of milliseconds. Writers in other processes still meet at SQLite's lock.
    """
    turn = _SQLITE_WRITE_TURNS if engine.dialect.name == "sqlite" else nullcontext()
    with turn, Session(engine) as session:
        yield session


# The command writer's statements, built once: an ORM statement rebuilt per command (or a
# unit-of-work flush) costs several times the SQL it runs, and the writer is intake's hot path.
_streams, _events, _outbox, _keys = (
    table.__table__ for table in (CaseStream, CaseEvent, Outbox, IdempotencyRecord)
)
# FOR UPDATE (PostgreSQL; SQLite has no such clause and needs none: BEGIN IMMEDIATE already
# makes its writers take turns): a replica writing a case another replica is writing waits for
# that commit and reads the version it made, instead of both reading one version and one
# failing the compare-and-set, again and again on a busy case, until its command is turned
# away (503). Locked in case_id order, so two batches never each hold a case the other waits for.
_LOAD_CASES = (
    select(_streams.c.case_id, _streams.c.version, _streams.c.head_hash, _streams.c.state)
    .where(_streams.c.case_id.in_(bindparam("case_ids", expanding=True)))
    .order_by(_streams.c.case_id)
    .with_for_update()
)
_OPEN_STREAM = insert(_streams)
_ADVANCE_STREAM = update(_streams).where(  # compare-and-set on the version read
    _streams.c.case_id == bindparam("expected_case_id", type_=_streams.c.case_id.type),
    _streams.c.version == bindparam("expected_version", type_=_streams.c.version.type),
)
_INSERT_EVENT = insert(_events)
_INSERT_OUTBOX = insert(_outbox)
_FIND_KEYS = select(_keys.c.key, _keys.c.fingerprint, _keys.c.event_id).where(
    _keys.c.key.in_(bindparam("keys", expanding=True))
)
_REMEMBER_KEY = insert(_keys)
_LOAD_EVENT = select(_events.c.body).where(
    _events.c.event_id == bindparam("event_id", type_=_events.c.event_id.type)
)
_LOAD_STREAMS = (
    select(_events.c.case_id, _events.c.sequence, _events.c.body)
    .where(_events.c.case_id.in_(bindparam("case_ids", expanding=True)))
    .order_by(_events.c.case_id, _events.c.sequence)
)


@dataclass(frozen=True)
class IdempotencyKeyUse:
    """The request an Idempotency-Key was first used for, and the event it recorded."""

    fingerprint: str
    event_id: UUID


class Batch:
    """The cases and keys a batch of commands reads, and what it appends, in one transaction.

    Everything is read with one query per table before the commands are decided, and written
    with one statement per table afterwards, in decision order (the outbox keeps it). The
    cases read are locked until the commit (PostgreSQL), so another intake process writing
    the same case waits its turn; the case versions stay a compare-and-set against the
    versions read, so should two writers still meet, `write` raises StreamConflict instead of
    forking the stream.
    """

    def __init__(self, session: Session, *, case_ids: Collection[UUID], keys: Collection[str]) -> None:
        self._connection = session.connection()
        rows = self._connection.execute(_LOAD_CASES, {"case_ids": list(case_ids)}) if case_ids else ()
        self._cases: dict[UUID, CaseState] = {
            row.case_id: CaseState.from_json(row.case_id, row.version, row.head_hash, json.loads(row.state))
            for row in rows
        }
        self._cases |= self._fold_again([c for c in self._cases.values() if c.missing_facts])
        self._versions_read = {case_id: case.version for case_id, case in self._cases.items()}
        rows = self._connection.execute(_FIND_KEYS, {"keys": list(keys)}) if keys else ()
        self._key_uses = {row.key: IdempotencyKeyUse(row.fingerprint, row.event_id) for row in rows}
        self._events: dict[UUID, EventEnvelope] = {}
        self._new_keys: list[dict] = []
        self._changed: dict[UUID, None] = {}  # an ordered set of the cases appended to

    def _fold_again(self, stale: list[CaseState]) -> dict[UUID, CaseState]:
        """Cases whose stored state lacks facts this version keeps (stored by an earlier one),
        folded again from the events intake recorded on them, up to the version read."""
        if not stale:
            return {}
        versions = {case.case_id: case.version for case in stale}
        rows = self._connection.execute(_LOAD_STREAMS, {"case_ids": list(versions)})
        streams: dict[UUID, list[EventEnvelope]] = {case_id: [] for case_id in versions}
        for row in rows:
            if row.sequence <= versions[row.case_id]:  # not what another writer added since
                streams[row.case_id].append(read_event(row.body))
        folded = {case_id: fold(events) for case_id, events in streams.items()}
        for case in stale:
            again = folded[case.case_id]
            if again is None or (again.version, again.head_hash) != (case.version, case.head_hash):
                # Fail loudly: deciding on a state that disagrees with the events is worse.
                raise RuntimeError(f"case {case.case_id}: its events do not add up to its stream")
        return folded

    def case(self, case_id: UUID) -> CaseState | None:
        """The case as it stands, including what this batch appended to it so far."""
        return self._cases.get(case_id)

    def key_use(self, key: str) -> IdempotencyKeyUse | None:
        return self._key_uses.get(key)

    def event(self, event_id: UUID) -> EventEnvelope:
        if event_id in self._events:
            return self._events[event_id]
        body = self._connection.execute(_LOAD_EVENT, {"event_id": event_id}).scalar_one()
        return decode_event(body)

    def append(self, after: CaseState, event: EventEnvelope) -> None:
        """Stage the event, its outbox entry and the case's new state; `write` writes them."""
        self._cases[after.case_id] = after
        self._changed[after.case_id] = None
        self._events[event.event_id] = event

    def remember(self, key: str, fingerprint: str, event_id: UUID) -> None:
        self._key_uses[key] = IdempotencyKeyUse(fingerprint, event_id)
        self._new_keys.append({"key": key, "fingerprint": fingerprint, "event_id": event_id})

    def write(self) -> None:
        """Write what was staged; the caller commits."""
        if not self._events:
            return
        opened, advanced = [], []
        for case_id in self._changed:
            case = self._cases[case_id]
            stream = {"version": case.version, "head_hash": case.head_hash,
                      "state": json.dumps(case.to_json(), sort_keys=True)}
            if case_id in self._versions_read:
                advanced.append({"expected_case_id": case_id,
                                 "expected_version": self._versions_read[case_id], **stream})
            else:
                opened.append({"case_id": case_id, **stream})
        if opened:
            self._connection.execute(_OPEN_STREAM, opened)
        if advanced and self._connection.execute(_ADVANCE_STREAM, advanced).rowcount != len(advanced):
            raise StreamConflict("a case was appended to by another writer")
        self._connection.execute(_INSERT_EVENT, [
            {"event_id": event.event_id, "case_id": event.case_id, "sequence": event.sequence,
             "type": event.type, "body": encode_event(event)}
            for event in self._events.values()
        ])
        self._connection.execute(_INSERT_OUTBOX, [{"event_id": event_id} for event_id in self._events])
        if erased := [{"case_id": e.case_id} for e in self._events.values()
                      if e.type == "subject_erased"]:
            self._connection.execute(insert(PendingErasure), erased)
        if self._new_keys:
            self._connection.execute(_REMEMBER_KEY, self._new_keys)


@dataclass(frozen=True)
class Pending:
    """An outbox entry with the exact bytes to publish."""

    position: int
    event_id: UUID
    case_id: UUID
    type: str
    body: bytes


# The relay's statements, built once like the writer's.
_PENDING = (
    select(_outbox.c.position, _events.c.event_id, _events.c.case_id, _events.c.type, _events.c.body)
    .join(_events, _events.c.event_id == _outbox.c.event_id)
    .order_by(_outbox.c.position)
    .limit(bindparam("limit", type_=Integer))
)
_FORGET_PUBLISHED = delete(_outbox).where(_outbox.c.position.in_(bindparam("positions", expanding=True)))


def pending(engine: Engine, *, limit: int) -> list[Pending]:
    """The oldest outbox entries, in commit order."""
    with engine.connect() as connection:
        connection.execution_options(**READS_ONLY)
        return [Pending(*row) for row in connection.execute(_PENDING, {"limit": limit})]


def mark_published(engine: Engine, positions: Sequence[int]) -> None:
    if not positions:
        return
    with writing(engine) as session:
        session.connection().execute(_FORGET_PUBLISHED, {"positions": list(positions)})
        session.commit()


def pending_erasures(engine: Engine) -> list[UUID]:
    """Cases whose subject was erased and whose key may not be destroyed yet."""
    with engine.connect() as connection:
        connection.execution_options(**READS_ONLY)
        return [row[0] for row in connection.execute(select(PendingErasure.case_id))]


def erasures_done(engine: Engine, case_ids: Collection[UUID]) -> None:
    """The keys of these cases are destroyed: nothing is pending for them any more."""
    with writing(engine) as session:
        session.connection().execute(
            delete(PendingErasure).where(PendingErasure.case_id.in_(list(case_ids))))
        session.commit()


def outbox_size(engine: Engine) -> int:
    with engine.connect() as connection:
        connection.execution_options(**READS_ONLY)
        return connection.execute(select(func.count()).select_from(Outbox)).scalar_one()



"""Casefile's tables and the writes its consumer and rebuild make; rows mirror projections.

Every read-model column is derived from events only (no "applied at now()"), and instants are
stored as fixed-width UTC text, so a replay writes identical rows on SQLite and PostgreSQL.
The read models carry no migrations: when their shape changes, READ_MODEL_VERSION changes and
casefile drops them on start and rebuilds them from the log (positions go with them).
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Connection, Engine, Index, Text, event, insert, inspect, text
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

from services.casefile.access_audit.tables import AccessCase, AccessRecord
from services.casefile.projections import CaseView, EventRow, InquiryView

V = TypeVar("V")

READ_MODEL_VERSION = "6"
"""Bump whenever a read-model table changes shape: casefile then rebuilds them on start."""


class CaseSummary(SQLModel, table=True):
    __tablename__ = "case_summary"

    case_id: UUID = Field(primary_key=True)
    status: str = Field(index=True)
    subject_status: str | None = None
    subject_status_key: str | None = None
    subject_name: str | None = None
    opened_at: str | None = None
    opened_sort: str | None = Field(default=None, index=True)
    team: str | None = Field(default=None, index=True)
    assignee: str | None = Field(default=None, index=True)
    last_contact_at: str | None = None
    last_contact_sort: str | None = None
    last_contact_until: str | None = Field(default=None, index=True)
    contact_state: str | None = None
    contact_key: str | None = None
    last_sequence: int
    last_recorded_at: str | None = None
    inquiries_open: int
    inquiries_overdue: int
    inquiries_answered: int
    threats_reported: int
    attention: int
    erased_at: str | None = None


class Inquiry(SQLModel, table=True):
    __tablename__ = "inquiry"

    inquiry_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)
    state: str
    recipient_name: str | None = None
    recipient_kind: str | None = None
    recipient_country: str | None = Field(default=None, index=True)
    recipient_key: str | None = Field(default=None, index=True)
    channel: str | None = None
    sent_at: str | None = None
    sent_sort: str | None = None
    due_at: str | None = None
    due_explanation: str | None = None
    deadline_revision: int
    overdue_for: str | None = None
    paused_since: str | None = None
    answered_at: str | None = None
    classification: str | None = None
    days_to_answer: int | None = None
    follow_ups: int
    last_follow_up_at: str | None = None
    withdrawn_at: str | None = None


class CaseEvent(SQLModel, table=True):
    """Every applied event, as recorded; its presence is also the record that it was applied."""

    __tablename__ = "case_event"
    __table_args__ = (
        Index("ix_case_event_timeline", "case_id", "occurred_sort", "recorded_at"),
        Index("ix_case_event_stream", "case_id", "stream", "sequence"),
    )

    event_id: UUID = Field(primary_key=True)
    case_id: UUID
    stream: str
    sequence: int
    type: str
    schema_version: int
    occurred_at: str
    occurred_sort: str
    recorded_at: str
    actor: str
    body: str = Field(sa_column=Column(Text, nullable=False))


class CaseAttention(SQLModel, table=True):
    """A message that could not be decoded or applied: dead-lettered, and its case flagged."""

    __tablename__ = "case_attention"

    topic: str = Field(primary_key=True)
    partition: int = Field(primary_key=True)
    offset: int = Field(primary_key=True)
    case_id: UUID | None = Field(default=None, index=True)
    event_id: UUID | None = None
    stage: str  # decode or apply
    reason: str  # type and field names only, never the message's content


class ConsumerPosition(SQLModel, table=True):
    """The next offset to read per partition, committed with the changes it covers."""

    __tablename__ = "consumer_position"

    topic: str = Field(primary_key=True)
    partition: int = Field(primary_key=True)
    next_offset: int


class ReadModelMeta(SQLModel, table=True):
    __tablename__ = "casefile_meta"

    key: str = Field(primary_key=True)
    value: str


READ_MODELS = (CaseSummary, Inquiry, CaseEvent, CaseAttention, AccessRecord, AccessCase)
"""What a rebuild reproduces exactly (the checksum covers these). The access outbox is not
one: it holds what is not on the log yet (services.casefile.access_audit.outbox)."""
_ALL_TABLES = (*READ_MODELS, ConsumerPosition, ReadModelMeta)
_RETIRED_TABLES = ("timeline_entry",)  # read models of older versions, dropped on upgrade


def make_engine(
    url: str, *, bulk_load: bool = False, durable: bool = False, prepare_store: bool = True
) -> Engine:
    """An engine on a prepared store. `bulk_load` trades SQLite durability for speed; only a
    rebuild uses it, since a crash there is recovered by rebuilding again (see
    `end_bulk_load`). `durable` has every SQLite commit on disk before it returns
    (synchronous=FULL), for what the log cannot give back: the access outbox."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        synchronous = "OFF" if bulk_load else "FULL" if durable else "NORMAL"
        _tune_sqlite(engine, synchronous=synchronous,
                     journal_mode=_BULK_LOAD_JOURNAL if bulk_load else "WAL")
    if prepare_store:
        prepare(engine)
    return engine


# Loading empty tables, a rollback journal has next to nothing to save (pages beyond the old
# end of the file are not journaled), while WAL writes every page twice and slows as it grows:
# the events of a 200,000-event log went in at ~4 us a row instead of 7-10. The live service
# switches the file back to WAL when it connects, and a rebuild does when it is done.
_BULK_LOAD_JOURNAL = "TRUNCATE"


def _tune_sqlite(engine: Engine, *, synchronous: str, journal_mode: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(connection, _record) -> None:
        cursor = connection.cursor()
        # Leaving WAL needs the file to itself; if another connection has it open the mode
        # stays WAL, which is only slower.
        cursor.execute(f"PRAGMA journal_mode={journal_mode}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB
        cursor.close()


def prepare(engine: Engine) -> bool:
    """Create the tables; if they were built by another READ_MODEL_VERSION, drop them first.

    True if the read models were (re)created empty, so the consumer replays from offset 0.
    One transaction, under a lock on PostgreSQL, so replicas starting together agree.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('casefile_prepare'))"))
        version = None
        if "casefile_meta" in set(inspect(connection).get_table_names()):
            version = connection.execute(
                select(ReadModelMeta.value).where(ReadModelMeta.key == "read_model_version")
            ).scalar_one_or_none()
        current = version == READ_MODEL_VERSION
        if not current:
            _drop(connection)
        SQLModel.metadata.create_all(connection, tables=[m.__table__ for m in _ALL_TABLES])
        if not current:
            connection.execute(insert(ReadModelMeta.__table__).values(
                key="read_model_version", value=READ_MODEL_VERSION))
    return not current


def drop_read_models(engine: Engine) -> None:
    """Drop every table casefile keeps, positions included: the next start replays from 0."""
    with engine.begin() as connection:
        _drop(connection)


def _drop(connection: Connection) -> None:
    SQLModel.metadata.drop_all(connection, tables=[m.__table__ for m in _ALL_TABLES])
    for name in _RETIRED_TABLES:
        connection.execute(text(f"DROP TABLE IF EXISTS {name}"))


def reset(engine: Engine, *, defer_indexes: bool = False) -> None:
    """Empty read models at the current version, as a rebuild starts from.

    With `defer_indexes` the read models' secondary indexes are left out until
    `create_deferred_indexes`: building them once over the loaded rows is cheaper than
    keeping them sorted through every insert.
    """
    drop_read_models(engine)
    prepare(engine)
    if defer_indexes:
        for index in _deferrable_indexes():
            index.drop(engine)


def create_deferred_indexes(engine: Engine) -> None:
    for index in _deferrable_indexes():
        index.create(engine, checkfirst=True)


def _deferrable_indexes() -> list[Index]:
    return [index for model in READ_MODELS for index in model.__table__.indexes]


def end_bulk_load(engine: Engine) -> None:
    """Put a SQLite file back in WAL mode, as the live service uses it, once the rebuild's own
    connections are the only ones left."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")


# --- writes of the live consumer (inside the caller's transaction) ----------------------------

def already_applied(session: Session, event_id: UUID) -> bool:
    return session.get(CaseEvent, event_id) is not None


def view_of_case(row: CaseSummary) -> CaseView:
    return _view(CaseView, row)


def get_case_for_update(session: Session, case_id: UUID) -> CaseView | None:
    """The case, row-locked on PostgreSQL so two replicas cannot interleave updates to it."""
    return _view(CaseView, session.get(CaseSummary, case_id, with_for_update=True))


def get_inquiry_for_update(session: Session, inquiry_id: UUID) -> InquiryView | None:
    return _view(InquiryView, session.get(Inquiry, inquiry_id, with_for_update=True))


def save(
    session: Session, case: CaseView, inquiry: InquiryView | None, row: EventRow | None
) -> None:
    _upsert(session, CaseSummary, case.case_id, values(case))
    if inquiry is not None:
        _upsert(session, Inquiry, inquiry.inquiry_id, values(inquiry))
    if row is not None:
        session.add(CaseEvent(**values(row)))
    session.flush()


def record_attention(session: Session, attention: CaseAttention) -> bool:
    """False if this message was flagged before (a redelivery of a dead-lettered message)."""
    key = (attention.topic, attention.partition, attention.offset)
    if session.get(CaseAttention, key) is not None:
        return False
    session.add(attention)
    return True


def advance_position(session: Session, topic: str, partition: int, next_offset: int) -> None:
    position = session.get(ConsumerPosition, (topic, partition), with_for_update=True)
    if position is None:
        session.add(ConsumerPosition(topic=topic, partition=partition, next_offset=next_offset))
    elif next_offset > position.next_offset:
        position.next_offset = next_offset
        session.add(position)


def positions(engine: Engine) -> dict[tuple[str, int], int]:
    """Next offset to read per (topic, partition), as committed with the read models."""
    with Session(engine) as session:
        rows = session.exec(select(ConsumerPosition))
        return {(p.topic, p.partition): p.next_offset for p in rows}


# --- bulk writes of a rebuild (one transaction per call) -------------------------------------

def insert_rows(engine: Engine, model: type[SQLModel], rows: Iterable[Any]) -> None:
    """Insert rows (views, or anything with the table's column names as attributes) with one
    executemany, in one transaction.

    Straight to the driver with the columns' own bind conversions: the ORM's per-row
    bookkeeping would cost more than the insert itself over the millions of rows of a rebuild.
    """
    table = model.__table__
    with engine.begin() as connection:
        dialect = connection.dialect
        compiled = insert(table).compile(dialect=dialect)
        names = list(compiled.positiontup) if compiled.positional else list(compiled.params)
        values_of = attrgetter(*names)
        converters = [
            (i, convert) for i, name in enumerate(names)
            if (convert := table.c[name].type.bind_processor(dialect)) is not None
        ]
        params: list[Any] = []
        for row in rows:
            row_values = list(values_of(row))
            for i, convert in converters:
                if row_values[i] is not None:
                    row_values[i] = convert(row_values[i])
            params.append(tuple(row_values) if compiled.positional
                          else dict(zip(names, row_values, strict=True)))
        if params:
            connection.exec_driver_sql(compiled.string, params)


def values(view: Any) -> dict[str, Any]:
    return view._asdict()


def _upsert(session: Session, model: type[SQLModel], key: UUID, row: dict) -> None:
    existing = session.get(model, key)
    if existing is None:
        session.add(model(**row))
        return
    for name, value in row.items():
        setattr(existing, name, value)
    session.add(existing)


def _view(view: type[V], row: SQLModel | None) -> V | None:
    if row is None:
        return None
    return view(**{name: getattr(row, name) for name in view._fields})

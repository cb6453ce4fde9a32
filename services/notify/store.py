"""Notify's tables. Everything here can be rebuilt from the log (case-events and notify's own
alert-events), so the tables carry no migrations: a store of another STORE_VERSION is dropped
on start and notify replays the log into it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

from sqlalchemy import DateTime, Engine, Index, Text, TypeDecorator, UniqueConstraint, event, text
from sqlmodel import Column, Field, SQLModel, create_engine, select

STORE_VERSION = "4"
"""Bump whenever a table changes shape: notify then drops its store and replays the log."""


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, stored naive in UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _moment(**kwargs):
    return Field(sa_type=UTCDateTime, **kwargs)


class TrackedInquiry(SQLModel, table=True):
    """An inquiry's facts from the case's events, and the deadline notify last recorded."""

    __tablename__ = "tracked_inquiry"

    inquiry_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)
    # from inquiry_sent; None while only notify's own events have been read (a replay)
    sent_at: str | None = None
    recipient_kind: str | None = None
    recipient_country: str | None = None
    channel: str | None = None
    explicit_due_at: datetime | None = _moment(default=None)
    extension_due_at: datetime | None = _moment(default=None)
    extension_granted_on: date | None = None
    pauses: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    status: str = "open"  # open, answered, withdrawn
    sent_event_id: UUID | None = None
    correlation_id: UUID | None = None
    # what notify last recorded about its deadline (deadline_set / deadline_recalculated)
    revision: int = 0
    deadline: str | None = Field(default=None, sa_column=Column(Text))  # contract Deadline JSON
    recalculation_cause: str | None = None  # why the facts changed since, for the next event


class CaseWatch(SQLModel, table=True):
    """What notify follows of a case; `dirty` marks it for the reconciler."""

    __tablename__ = "case_watch"

    case_id: UUID = Field(primary_key=True)
    team: str | None = Field(default=None, index=True)  # the report's: whose case it is
    assignee: str | None = None
    closed: bool = False
    contact_lost: bool = False
    last_heard_at: datetime | None = _moment(default=None)  # from the family, since the loss
    dirty: bool = Field(default=False, index=True)
    cause_event_id: UUID | None = None  # the last case event that made it dirty
    correlation_id: UUID | None = None


class NotifyStream(SQLModel, table=True):
    """The head of notify's own stream of events for a case: sequence and hash chain."""

    __tablename__ = "notify_stream"

    case_id: UUID = Field(primary_key=True)
    last_sequence: int = 0
    head_hash: str | None = None


class OutboxEvent(SQLModel, table=True):
    """Every event notify recorded, kept until it is on the log (and after, as its record)."""

    __tablename__ = "notify_outbox"
    __table_args__ = (
        UniqueConstraint("case_id", "sequence"),
        Index("ix_notify_outbox_unpublished", "published", "case_id", "sequence"),
    )

    event_id: UUID = Field(primary_key=True)
    case_id: UUID
    sequence: int
    type: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    published: bool = False


class Timer(SQLModel, table=True):
    """An alert that falls due at `fire_at` unless resolved first: the scheduler's index."""

    __tablename__ = "alert_timer"

    alert_id: UUID = Field(primary_key=True)
    kind: str
    case_id: UUID = Field(index=True)
    fire_at: datetime = _moment(index=True)
    inquiry_id: UUID | None = None
    deadline_due_at: datetime | None = _moment(default=None)
    deadline_revision: int | None = None


class Alert(SQLModel, table=True):
    __tablename__ = "alert"

    alert_id: UUID = Field(primary_key=True)
    kind: str
    case_id: UUID = Field(index=True)
    inquiry_id: UUID | None = Field(default=None, index=True)
    deadline_due_at: datetime | None = _moment(default=None)
    deadline_revision: int | None = None
    due_at: datetime = _moment()
    raised_at: datetime = _moment(index=True)
    reason: str
    state: str = Field(default="open", index=True)  # open, acknowledged, withdrawn
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = _moment(default=None)
    snoozed_until: datetime | None = _moment(default=None)
    withdrawn_reason: str | None = None


class AlertRecipient(SQLModel, table=True):
    __tablename__ = "alert_recipient"

    alert_id: UUID = Field(primary_key=True)
    account: str = Field(primary_key=True, index=True)


class Delivery(SQLModel, table=True):
    """One alert to one advocate through one channel, tried until delivered or given up."""

    __tablename__ = "alert_delivery"

    alert_id: UUID = Field(primary_key=True)
    recipient: str = Field(primary_key=True)
    channel: str = Field(primary_key=True)
    case_id: UUID
    state: str = Field(default="pending", index=True)  # pending, delivered, failed
    attempts: int = 0
    next_attempt_at: datetime = _moment(index=True)
    last_error: str | None = None


class DigestSent(SQLModel, table=True):
    """The days each advocate's digest went out (not on the log: at worst sent once more)."""

    __tablename__ = "digest_sent"

    account: str = Field(primary_key=True)
    day: date = Field(primary_key=True)


class AppliedEvent(SQLModel, table=True):
    """Events of either topic already applied: a redelivery changes nothing."""

    __tablename__ = "applied_event"

    event_id: UUID = Field(primary_key=True)


class PolicyRecord(SQLModel, table=True):
    """The content digest of every policy version notify has applied."""

    __tablename__ = "policy_record"

    label: str = Field(primary_key=True)
    digest: str


class StoreMeta(SQLModel, table=True):
    __tablename__ = "notify_meta"

    key: str = Field(primary_key=True)
    value: str


TABLES = [m.__table__ for m in (
    TrackedInquiry, CaseWatch, NotifyStream, OutboxEvent, Timer, Alert, AlertRecipient, Delivery,
    DigestSent, AppliedEvent, PolicyRecord, StoreMeta,
)]


def make_engine(url: str) -> Engine:
    """An engine on a prepared store (see `prepare`)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    prepare(engine)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a decided alert survives a crash
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin


def _sqlite_begin(connection) -> None:
    # Writers take the lock at BEGIN: the consumer, the scheduler, the API and other replicas
    # on the same file then take turns instead of failing on a stale snapshot.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def prepare(engine: Engine) -> bool:
    """Create the tables; drop a store of another version first. True if (re)created empty."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('notify_prepare'))"))
        tables = set(connection.dialect.get_table_names(connection))
        version = None
        if "notify_meta" in tables:
            version = connection.execute(
                select(StoreMeta.value).where(StoreMeta.key == "store_version")
            ).scalar_one_or_none()
        current = version == STORE_VERSION
        if not current:
            SQLModel.metadata.drop_all(connection, tables=TABLES)  # older shapes by the same names
        SQLModel.metadata.create_all(connection, tables=TABLES)
        if not current:
            connection.execute(StoreMeta.__table__.insert().values(
                key="store_version", value=STORE_VERSION))
    return not current

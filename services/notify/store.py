"""Notify's own store: tracked inquiries, events already applied, and the alerts it raised."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from sqlalchemy import DateTime, Engine, TypeDecorator, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, create_engine, select
from sqlmodel.sql.expression import Select

from services.notify.deadlines import Deadline

OVERDUE = "inquiry_overdue"


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, stored naive in UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class TrackedInquiry(SQLModel, table=True):
    __tablename__ = "tracked_inquiry"

    inquiry_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)
    sent_at: str = Field(description="Partial date, as recorded.")
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    sent_event_id: UUID = Field(description="The inquiry_sent event: cause of any alert.")
    correlation_id: UUID
    answered_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When the system learnt of the answer."
    )
    overdue_event_id: UUID | None = Field(default=None, description="Set once an alert is decided.")

    def deadline(self) -> Deadline:
        return Deadline(
            inquiry_id=self.inquiry_id, case_id=self.case_id, due_at=self.due_at,
            answered=self.answered_at is not None, raised=self.overdue_event_id is not None,
        )


class AppliedEvent(SQLModel, table=True):
    __tablename__ = "applied_event"

    event_id: UUID = Field(primary_key=True)


class Alert(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    event_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)
    sequence: int = Field(description="Position in notify's own stream of events for the case.")
    inquiry_id: UUID = Field(unique=True)
    kind: str = OVERDUE
    due_at: datetime = Field(sa_type=UTCDateTime)
    raised_at: datetime = Field(sa_type=UTCDateTime)
    correlation_id: UUID
    causation_id: UUID
    prev_hash: str | None = Field(
        default=None, max_length=64, description="Hash of notify's previous event for the case."
    )
    published: bool = Field(default=False, index=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    return engine


def claim_event(session: Session, event_id: UUID) -> bool:
    """Record an event as applied; False if it already was (a redelivery)."""
    if session.get(AppliedEvent, event_id) is not None:
        return False
    session.add(AppliedEvent(event_id=event_id))
    return True


def track(session: Session, inquiry: TrackedInquiry) -> None:
    if session.get(TrackedInquiry, inquiry.inquiry_id) is None:
        session.add(inquiry)


def mark_answered(session: Session, inquiry_id: UUID, answered_at: datetime) -> bool:
    """False if the inquiry is unknown to notify."""
    inquiry = session.get(TrackedInquiry, inquiry_id)
    if inquiry is None:
        return False
    if inquiry.answered_at is None:
        inquiry.answered_at = answered_at
        session.add(inquiry)
    return True


def stop_tracking(session: Session, inquiry_id: UUID) -> bool:
    """Forget a withdrawn inquiry's deadline, so it never goes overdue; False if unknown.

    An alert already raised for it stays, like one raised before an answer arrived. The
    scheduler re-reads the inquiry under a row lock before raising, so it cannot race this.
    """
    inquiry = session.get(TrackedInquiry, inquiry_id)
    if inquiry is None:
        return False
    session.delete(inquiry)
    return True


def due_query(now: datetime, *, limit: int) -> Select:
    """Unanswered, unalerted inquiries due by `now`, earliest first: a range on the due_at index."""
    return (
        select(TrackedInquiry)
        .where(TrackedInquiry.due_at <= now)
        .where(TrackedInquiry.answered_at.is_(None), TrackedInquiry.overdue_event_id.is_(None))
        .order_by(TrackedInquiry.due_at, TrackedInquiry.inquiry_id)
        .limit(limit)
    )


def due_deadlines(session: Session, now: datetime, *, limit: int) -> list[Deadline]:
    return [row.deadline() for row in session.exec(due_query(now, limit=limit))]


def locked_inquiry(session: Session, inquiry_id: UUID) -> TrackedInquiry | None:
    """The inquiry, locked against a concurrent answer or another replica until commit."""
    statement = select(TrackedInquiry).where(TrackedInquiry.inquiry_id == inquiry_id)
    return session.exec(statement.with_for_update()).first()


def next_sequence(session: Session, case_id: UUID) -> int:
    count = session.exec(select(func.count()).select_from(Alert).where(Alert.case_id == case_id))
    return count.one() + 1


def alert_at(session: Session, case_id: UUID, sequence: int) -> Alert | None:
    statement = select(Alert).where(Alert.case_id == case_id, Alert.sequence == sequence)
    return session.exec(statement).first()


def unpublished_alerts(session: Session) -> list[Alert]:
    statement = select(Alert).where(Alert.published == False).order_by(  # noqa: E712
        Alert.raised_at, Alert.case_id, Alert.sequence
    )
    return list(session.exec(statement))


def mark_published(session: Session, event_id: UUID) -> None:
    alert = session.get(Alert, event_id)
    if alert is not None and not alert.published:
        alert.published = True
        session.add(alert)


def list_alerts(session: Session, *, case_id: UUID | None = None) -> list[Alert]:
    statement = select(Alert).order_by(Alert.raised_at, Alert.case_id, Alert.sequence)
    if case_id is not None:
        statement = statement.where(Alert.case_id == case_id)
    return list(session.exec(statement))

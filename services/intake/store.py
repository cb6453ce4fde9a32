"""Intake's own store: which cases and inquiries exist, and every event it has appended."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from sqlalchemy import Engine, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, create_engine, select

from contracts.events import EventEnvelope, encode_event
from services.intake.decisions import CaseNotFound, CaseState, new_inquiry_id


class CaseStream(SQLModel, table=True):
    __tablename__ = "case_stream"

    case_id: UUID = Field(primary_key=True)
    version: int = Field(description="Sequence of the last event appended to the case.")


class KnownInquiry(SQLModel, table=True):
    __tablename__ = "known_inquiry"

    inquiry_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)


class AppendedEvent(SQLModel, table=True):
    __tablename__ = "appended_event"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    event_id: UUID = Field(primary_key=True)
    case_id: UUID
    sequence: int
    type: str
    body: bytes


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    return engine


def load_case(session: Session, case_id: UUID) -> CaseState:
    stream = session.get(CaseStream, case_id)
    if stream is None:
        raise CaseNotFound(case_id)
    inquiries = session.exec(select(KnownInquiry.inquiry_id).where(KnownInquiry.case_id == case_id))
    return CaseState(case_id=case_id, version=stream.version, inquiry_ids=frozenset(inquiries))


def append(session: Session, event: EventEnvelope) -> None:
    """Stage the event and the case's new version; the caller commits once it is on the log."""
    stream = session.get(CaseStream, event.case_id)
    if stream is None:
        stream = CaseStream(case_id=event.case_id, version=0)
    if event.sequence != stream.version + 1:
        raise RuntimeError(f"sequence {event.sequence} does not follow version {stream.version}")
    stream.version = event.sequence
    session.add(stream)
    if (inquiry_id := new_inquiry_id(event)) is not None:
        session.add(KnownInquiry(inquiry_id=inquiry_id, case_id=event.case_id))
    session.add(
        AppendedEvent(
            event_id=event.event_id,
            case_id=event.case_id,
            sequence=event.sequence,
            type=event.type,
            body=encode_event(event),
        )
    )
    session.flush()

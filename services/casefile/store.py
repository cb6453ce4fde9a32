"""Casefile's read models and the few queries it needs; rows mirror the views in projections.

Every column is derived from events only (no "applied at now()"), and instants are stored as
fixed-width UTC text, so a replay writes byte-identical rows on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from sqlalchemy import Engine, Text, func
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

from contracts.partial_dates import sort_key
from services.casefile.projections import CaseView, InquiryView, TimelineEntry

V = TypeVar("V")


class CaseSummary(SQLModel, table=True):
    __tablename__ = "case_summary"

    case_id: UUID = Field(primary_key=True)
    status: str
    subject_status: str | None = None
    subject_status_key: str | None = None
    subject_name: str | None = None
    reporter_name: str | None = None
    reporter_relationship: str | None = None
    summary: str | None = Field(default=None, sa_column=Column(Text))
    opened_at: str | None = None
    opened_sort: str | None = Field(default=None, index=True)
    last_sequence: int
    inquiries_open: int
    inquiries_overdue: int
    inquiries_answered: int
    last_contact_at: str | None = None


class Inquiry(SQLModel, table=True):
    __tablename__ = "inquiry"

    inquiry_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)
    state: str
    recipient_name: str | None = None
    recipient_kind: str | None = None
    recipient_country: str | None = None
    channel: str | None = None
    sent_at: str | None = None
    due_at: str | None = None
    answered_at: str | None = None


class TimelineRow(SQLModel, table=True):
    """One applied event; its presence is also the record that the event was applied."""

    __tablename__ = "timeline_entry"

    event_id: UUID = Field(primary_key=True)
    case_id: UUID = Field(index=True)
    sequence: int
    type: str
    occurred_at: str
    occurred_sort: str
    recorded_at: str
    actor: str
    data: str = Field(sa_column=Column(Text, nullable=False))


READ_MODELS = (CaseSummary, Inquiry, TimelineRow)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    create_read_models(engine)
    return engine


def create_read_models(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=[m.__table__ for m in READ_MODELS])


def drop_read_models(engine: Engine) -> None:
    SQLModel.metadata.drop_all(engine, tables=[m.__table__ for m in READ_MODELS])


# --- writes (used by handlers, inside the caller's transaction) -----------------------------

def already_applied(session: Session, event_id: UUID) -> bool:
    return session.get(TimelineRow, event_id) is not None


def get_case_for_update(session: Session, case_id: UUID) -> CaseView | None:
    """The case, row-locked on PostgreSQL so two replicas cannot interleave updates to it."""
    return _view(CaseView, session.get(CaseSummary, case_id, with_for_update=True))


def get_inquiry_for_update(session: Session, inquiry_id: UUID) -> InquiryView | None:
    return _view(InquiryView, session.get(Inquiry, inquiry_id, with_for_update=True))


def save(
    session: Session, case: CaseView, inquiry: InquiryView | None, entry: TimelineEntry
) -> None:
    _upsert(session, CaseSummary, case.case_id, asdict(case))
    if inquiry is not None:
        _upsert(session, Inquiry, inquiry.inquiry_id, asdict(inquiry))
    session.add(TimelineRow(**asdict(entry)))
    session.flush()


def _upsert(session: Session, model: type[SQLModel], key: UUID, values: dict) -> None:
    row = session.get(model, key)
    if row is None:
        session.add(model(**values))
        return
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)


def _view(view: type[V], row: SQLModel | None) -> V | None:
    if row is None:
        return None
    return view(**{f.name: getattr(row, f.name) for f in fields(view)})


# --- reads (used by the API) ------------------------------------------------------------------

def list_cases(session: Session, *, limit: int, offset: int) -> tuple[list[CaseSummary], int]:
    """Newest reports first; cases still awaiting their report come last."""
    statement = (
        select(CaseSummary)
        .order_by(CaseSummary.opened_sort.desc().nulls_last(), CaseSummary.case_id)
        .limit(limit)
        .offset(offset)
    )
    total = session.exec(select(func.count()).select_from(CaseSummary)).one()
    return list(session.exec(statement)), total


def get_case(session: Session, case_id: UUID) -> CaseSummary | None:
    return session.get(CaseSummary, case_id)


def inquiries_of(session: Session, case_id: UUID) -> list[Inquiry]:
    """A case's inquiries in the order they were sent (placeholders for unseen ones last)."""
    rows = session.exec(select(Inquiry).where(Inquiry.case_id == case_id)).all()
    return sorted(
        rows, key=lambda r: (r.sent_at is None, sort_key(r.sent_at or "1900"), r.inquiry_id)
    )


def timeline_of(session: Session, case_id: UUID) -> list[TimelineRow]:
    statement = (
        select(TimelineRow)
        .where(TimelineRow.case_id == case_id)
        .order_by(
            TimelineRow.occurred_sort, TimelineRow.recorded_at, TimelineRow.sequence,
            TimelineRow.event_id,
        )
    )
    return list(session.exec(statement))


def case_exists(session: Session, case_id: UUID) -> bool:
    return session.get(CaseSummary, case_id) is not None

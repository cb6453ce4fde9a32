"""Deciding an overdue alert (one transaction) and the event that announces it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlmodel import Session

from contracts.chain import seal
from contracts.events import InquiryOverdue, InquiryOverdueData
from services.notify import deadlines, store

ACTOR = "notify"


def decide_overdue(session: Session, inquiry_id: UUID, now: datetime) -> store.Alert | None:
    """Stage the alert and mark the inquiry raised, if it is still overdue; the caller commits.

    The inquiry is re-read under a row lock, so an answer or another replica that got there
    first is respected rather than raced.
    """
    inquiry = store.locked_inquiry(session, inquiry_id)
    if inquiry is None or not deadlines.is_overdue(inquiry.deadline(), now):
        return None
    sequence = store.next_sequence(session, inquiry.case_id)
    previous = store.alert_at(session, inquiry.case_id, sequence - 1)
    alert = store.Alert(
        event_id=deadlines.overdue_event_id(inquiry.inquiry_id),
        case_id=inquiry.case_id,
        sequence=sequence,
        prev_hash=overdue_event(previous).hash if previous else None,
        inquiry_id=inquiry.inquiry_id,
        due_at=inquiry.due_at,
        raised_at=now,
        correlation_id=inquiry.correlation_id,
        causation_id=inquiry.sent_event_id,
    )
    inquiry.overdue_event_id = alert.event_id
    session.add(inquiry)
    session.add(alert)
    session.flush()
    return alert


def overdue_event(alert: store.Alert) -> InquiryOverdue:
    """The event for a decided alert: built only from stored fields, so every
    re-publication carries the same bytes, event_id and hash."""
    return seal(
        InquiryOverdue,
        event_id=alert.event_id,
        case_id=alert.case_id,
        sequence=alert.sequence,
        occurred_at=_iso_z(alert.due_at),
        recorded_at=alert.raised_at.astimezone(UTC),  # the same bytes however it was loaded
        actor=ACTOR,
        correlation_id=alert.correlation_id,
        causation_id=alert.causation_id,
        prev_hash=alert.prev_hash,
        data=InquiryOverdueData(
            inquiry_id=alert.inquiry_id, due_at=alert.due_at.astimezone(UTC),
            detected_at=alert.raised_at.astimezone(UTC),
        ),
    )


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

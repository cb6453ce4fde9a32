"""What the case's events tell notify: inquiries and their clocks, assignment, contact, threats.

Applying a case event only records facts and marks the case for the reconciler, which decides
what to record in notify's stream once the consumer has caught up with the log. Deciding
nothing here keeps a replay from offset 0 from raising anything twice: by the time anything
is decided, notify's own earlier decisions have been read back from alert-events as well.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlmodel import Session

from contracts.alert_events import RecalculationCause
from contracts.case_events import (
    ContactLost,
    ContactRestored,
    FamilyCheckedIn,
    ReportReceived,
    ThreatReported,
)
from contracts.casework_events import CaseAssigned, CaseClosed, CaseReopened
from contracts.envelope import EventEnvelope
from contracts.inquiry_events import (
    DeadlineExtended,
    InquiryPaused,
    InquiryResumed,
    InquirySent,
    InquiryWithdrawn,
    OfficialResponseReceived,
)
from contracts.partial_dates import earliest_instant, latest_instant
from services.notify import rules
from services.notify.deadlines import Extension, InquiryFacts, Pause
from services.notify.store import Alert, AppliedEvent, CaseWatch, Timer, TrackedInquiry
from services.notify.stream import lock_stream, lock_streams
from services.notify.working_set import find, preload, remember

_INQUIRY_EVENTS = (OfficialResponseReceived, InquiryWithdrawn, InquiryPaused, InquiryResumed,
                   DeadlineExtended)


def apply_case_event(session: Session, event: EventEnvelope) -> str:
    """Record what the event says; returns what happened, for the log."""
    if find(session, AppliedEvent, event.event_id) is not None:
        return "duplicate"
    # The case's stream lock, as every decision about the case takes it: a reconciler reading
    # the case meanwhile would otherwise clear a dirty mark it never saw being set.
    lock_stream(session, event.case_id)
    _add(session, AppliedEvent(event_id=event.event_id))
    watch = find(session, CaseWatch, event.case_id)
    if watch is None:
        watch = CaseWatch(case_id=event.case_id)
        remember(session, watch)
    if isinstance(event, InquirySent):
        outcome = _inquiry_sent(session, event)
    elif isinstance(event, _INQUIRY_EVENTS):
        outcome = _inquiry_changed(session, event)
    elif isinstance(event, ThreatReported):
        outcome = _threat(session, event)
    else:
        outcome = _case_changed(watch, event)
    if outcome != "ignored":
        watch.dirty, watch.cause_event_id = True, event.event_id
        watch.correlation_id = event.correlation_id
        session.add(watch)
    return outcome


def prepare(session: Session, events: list[EventEnvelope]) -> None:
    """Lock the cases of a batch of events and read what applying them needs, at once."""
    lock_streams(session, (event.case_id for event in events))
    preload(session, AppliedEvent, (event.event_id for event in events))
    preload(session, CaseWatch, (event.case_id for event in events))
    preload(session, TrackedInquiry, (getattr(event.data, "inquiry_id", None) for event in events))


def inquiry_facts(inquiry: TrackedInquiry) -> InquiryFacts | None:
    """The deadline rules' view of a tracked inquiry; None until its inquiry_sent is read."""
    if inquiry.sent_at is None:
        return None
    extension = None
    if inquiry.extension_due_at is not None and inquiry.extension_granted_on is not None:
        extension = Extension(inquiry.extension_due_at, inquiry.extension_granted_on)
    pauses = tuple(
        Pause(date.fromisoformat(p["start"]), date.fromisoformat(p["end"]) if p["end"] else None)
        for p in json.loads(inquiry.pauses)
    )
    return InquiryFacts(
        sent_at=inquiry.sent_at, recipient_kind=inquiry.recipient_kind or "other",
        recipient_country=inquiry.recipient_country or "", channel=inquiry.channel or "",
        explicit_due_at=inquiry.explicit_due_at, extension=extension, pauses=pauses,
    )


def _inquiry_sent(session: Session, event: InquirySent) -> str:
    data = event.data
    inquiry = find(session, TrackedInquiry, data.inquiry_id)
    if inquiry is None:
        inquiry = TrackedInquiry(inquiry_id=data.inquiry_id, case_id=event.case_id)
        remember(session, inquiry)
    inquiry.sent_at = data.sent_at
    inquiry.recipient_kind = data.recipient.kind.value
    inquiry.recipient_country = data.recipient.country
    inquiry.channel = data.channel.value
    inquiry.explicit_due_at = data.due_at
    inquiry.sent_event_id, inquiry.correlation_id = event.event_id, event.correlation_id
    session.add(inquiry)
    return "tracked"


def _inquiry_changed(session: Session, event: EventEnvelope) -> str:
    data = event.data
    inquiry = find(session, TrackedInquiry, data.inquiry_id)
    if inquiry is None:
        return f"{event.type}_of_unknown_inquiry"
    if isinstance(event, OfficialResponseReceived):
        if inquiry.status == rules.OPEN:
            inquiry.status = rules.ANSWERED
    elif isinstance(event, InquiryWithdrawn):
        inquiry.status = rules.WITHDRAWN
    else:
        pauses = json.loads(inquiry.pauses)
        if isinstance(event, InquiryPaused):
            pauses.append({"start": data.paused_on.isoformat(), "end": None})
            cause = RecalculationCause.PAUSED
        elif isinstance(event, InquiryResumed):
            for pause in pauses:
                if pause["end"] is None:
                    pause["end"] = data.resumed_on.isoformat()
            cause = RecalculationCause.RESUMED
        else:
            inquiry.extension_due_at = data.due_at
            inquiry.extension_granted_on = earliest_instant(event.occurred_at).date()
            cause = RecalculationCause.EXTENDED
        inquiry.pauses = json.dumps(pauses)
        inquiry.recalculation_cause = cause.value
    session.add(inquiry)
    return event.type


def _threat(session: Session, event: ThreatReported) -> str:
    """A reprisal is alerted at once: its timer is due the moment it was recorded."""
    timer = rules.reprisal_timer(event.case_id, event.event_id, event.recorded_at)
    if find(session, Alert, timer.alert_id) is None and find(session, Timer, timer.alert_id) is None:
        _add(session, Timer(alert_id=timer.alert_id, kind=timer.kind.value, case_id=timer.case_id,
                            fire_at=timer.fire_at))
    return "reprisal_reported"


def _case_changed(watch: CaseWatch, event: EventEnvelope) -> str:
    if isinstance(event, ReportReceived):
        watch.team = event.data.team  # only who may see its alerts: nothing to decide on
        return "case_opened"
    if isinstance(event, CaseAssigned):
        watch.assignee = event.data.assignee
    elif isinstance(event, CaseClosed):
        watch.closed = True
    elif isinstance(event, CaseReopened):
        watch.closed = False
    elif isinstance(event, ContactLost):
        # The family told the NGO then: silence is counted from that moment on.
        watch.contact_lost = True
        watch.last_heard_at = _latest(watch.last_heard_at, event.recorded_at)
    elif isinstance(event, ContactRestored):
        watch.contact_lost = False
    elif isinstance(event, FamilyCheckedIn):
        # A vague date ("2025") counts as no later than it was recorded, not the year's end.
        heard = min(latest_instant(event.data.checked_in_at), event.recorded_at)
        watch.last_heard_at = _latest(watch.last_heard_at, heard)
    else:
        return "ignored"
    return event.type


def _add(session: Session, row) -> None:
    session.add(row)
    remember(session, row)


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    candidate = candidate.astimezone(UTC)
    return candidate if current is None or candidate > current else current

"""Pure projections: an event and the current views become the new views. No I/O, no clock.

Case events (from intake) and alert events (from notify) travel on different topics, so the
order in which they interleave differs between the live consumer and a rebuild. Every rule
here is therefore order-independent across topics (placeholders, max/min, "answered wins"),
which is what makes a replay give exactly the live read model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

from contracts.events import (
    CaseClosed,
    CaseReopened,
    ContactLost,
    EventEnvelope,
    InquiryOverdue,
    InquirySent,
    InquiryWithdrawn,
    OfficialResponseReceived,
    ReportReceived,
    StatusChanged,
)
from contracts.partial_dates import sort_key

AWAITING, OVERDUE, ANSWERED, WITHDRAWN = "awaiting", "overdue", "answered", "withdrawn"
OPEN, CLOSED = "open", "closed"
AWAITING_REPORT = "awaiting_report"  # events arrived before the report that opens the case


def instant(moment: datetime) -> str:
    """A UTC timestamp as fixed-width text: sorts correctly and reads the same on every DB."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class CaseView:
    case_id: UUID
    # awaiting_report, open, the subject's latest status (detained, sentenced...) or closed
    status: str = AWAITING_REPORT
    subject_status: str | None = None  # as of the latest effective date, even while closed
    subject_status_key: str | None = None  # effective date's sort key, then sequence
    subject_name: str | None = None
    reporter_name: str | None = None
    reporter_relationship: str | None = None
    summary: str | None = None
    opened_at: str | None = None
    opened_sort: str | None = None
    last_sequence: int = 0
    inquiries_open: int = 0  # not yet answered, overdue or not
    inquiries_overdue: int = 0  # not yet answered and past their deadline
    inquiries_answered: int = 0
    last_contact_at: str | None = None


@dataclass(frozen=True)
class InquiryView:
    inquiry_id: UUID
    case_id: UUID
    state: str = AWAITING
    recipient_name: str | None = None  # None only while an alert has overtaken inquiry_sent
    recipient_kind: str | None = None
    recipient_country: str | None = None
    channel: str | None = None
    sent_at: str | None = None
    due_at: str | None = None
    answered_at: str | None = None


@dataclass(frozen=True)
class TimelineEntry:
    event_id: UUID
    case_id: UUID
    sequence: int
    type: str
    occurred_at: str
    occurred_sort: str
    recorded_at: str
    actor: str
    data: str  # canonical JSON of the event's data


@dataclass(frozen=True)
class Applied:
    case: CaseView
    inquiry: InquiryView | None
    entry: TimelineEntry


def inquiry_id_of(event: EventEnvelope) -> UUID | None:
    data = getattr(event, "data", None)
    return getattr(data, "inquiry_id", None)


def apply(case: CaseView | None, inquiry: InquiryView | None, event: EventEnvelope) -> Applied:
    """Everything one event changes: its case, its inquiry (if any) and its timeline entry."""
    after = project_inquiry(inquiry, event)
    return Applied(
        case=project_case(case, event, inquiry_before=inquiry, inquiry_after=after),
        inquiry=after,
        entry=timeline_entry(event),
    )


def project_inquiry(current: InquiryView | None, event: EventEnvelope) -> InquiryView | None:
    """The inquiry after the event, or None if the event does not concern an inquiry."""
    inquiry_id = inquiry_id_of(event)
    if inquiry_id is None:
        return None
    base = current or InquiryView(inquiry_id=inquiry_id, case_id=event.case_id)
    if isinstance(event, InquirySent):
        data = event.data
        explicit_due = instant(data.due_at) if data.due_at else None
        return replace(
            base,
            recipient_name=data.recipient.name,
            recipient_kind=data.recipient.kind.value,
            recipient_country=data.recipient.country,
            channel=data.channel.value,
            sent_at=data.sent_at,
            due_at=base.due_at or explicit_due,  # a deadline notify reported takes precedence
        )
    # Precedence withdrawn > answered > overdue > awaiting keeps the state independent of
    # where an overdue alert (another topic) lands among the case's own events.
    if isinstance(event, OfficialResponseReceived):
        received = event.data.received_at
        state = WITHDRAWN if base.state == WITHDRAWN else ANSWERED
        return replace(base, state=state, answered_at=_earliest(base.answered_at, received))
    if isinstance(event, InquiryWithdrawn):
        return replace(base, state=WITHDRAWN)
    if isinstance(event, InquiryOverdue):
        state = base.state if base.state in (ANSWERED, WITHDRAWN) else OVERDUE
        return replace(base, state=state, due_at=instant(event.data.due_at))
    return base


def project_case(
    current: CaseView | None,
    event: EventEnvelope,
    *,
    inquiry_before: InquiryView | None = None,
    inquiry_after: InquiryView | None = None,
) -> CaseView:
    """The case summary after the event; inquiry counts move with the inquiry's state change."""
    case = current or CaseView(case_id=event.case_id)
    if isinstance(event, ReportReceived):
        case = replace(
            case,
            status=OPEN,
            subject_name=event.data.subject.name,
            reporter_name=event.data.reporter.name,
            reporter_relationship=event.data.reporter.relationship,
            summary=event.data.summary,
            opened_at=event.occurred_at,
            opened_sort=sort_key(event.occurred_at),
        )
    elif isinstance(event, ContactLost):
        last_contact_at = _latest(case.last_contact_at, event.data.last_contact.at)
        case = replace(case, last_contact_at=last_contact_at)
    elif isinstance(event, StatusChanged):
        case = _subject_status(case, event)
    elif isinstance(event, CaseClosed):
        case = replace(case, status=CLOSED)
    elif isinstance(event, CaseReopened):
        case = replace(case, status=case.subject_status or OPEN)
    if not isinstance(event, InquiryOverdue):  # notify numbers its own stream; not the case's
        case = replace(case, last_sequence=max(case.last_sequence, event.sequence))
    return _recount(case, inquiry_before, inquiry_after)


def timeline_entry(event: EventEnvelope) -> TimelineEntry:
    data = event.model_dump(mode="json").get("data", {})
    return TimelineEntry(
        event_id=event.event_id,
        case_id=event.case_id,
        sequence=event.sequence,
        type=event.type,
        occurred_at=event.occurred_at,
        occurred_sort=sort_key(event.occurred_at),
        recorded_at=instant(event.recorded_at),
        actor=event.actor,
        data=json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    )


def _recount(case: CaseView, before: InquiryView | None, after: InquiryView | None) -> CaseView:
    counts = [case.inquiries_open, case.inquiries_overdue, case.inquiries_answered]
    for view, sign in ((before, -1), (after, +1)):
        if view is not None:
            counts = [c + sign * flag for c, flag in zip(counts, _flags(view.state), strict=True)]
    return replace(
        case, inquiries_open=counts[0], inquiries_overdue=counts[1], inquiries_answered=counts[2]
    )


def _flags(state: str) -> tuple[int, int, int]:
    """(open, overdue, answered) membership of one inquiry state; a withdrawn one is in none."""
    flags = {AWAITING: (1, 0, 0), OVERDUE: (1, 1, 0), ANSWERED: (0, 0, 1), WITHDRAWN: (0, 0, 0)}
    return flags[state]


def _subject_status(case: CaseView, event: StatusChanged) -> CaseView:
    """The status with the latest effective date wins (ties: the later event), so a status
    recorded late about the past does not overwrite what is known about the present."""
    key = f"{sort_key(event.data.effective_at)}#{event.sequence:012d}"
    if case.subject_status_key is not None and key <= case.subject_status_key:
        return case
    status = event.data.status.value
    return replace(
        case, subject_status=status, subject_status_key=key,
        status=case.status if case.status == CLOSED else status,
    )


def _latest(current: str | None, candidate: str) -> str:
    return candidate if current is None or sort_key(candidate) > sort_key(current) else current


def _earliest(current: str | None, candidate: str) -> str:
    return candidate if current is None or sort_key(candidate) < sort_key(current) else current

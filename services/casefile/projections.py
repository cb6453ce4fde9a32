"""Pure projections: an event and the current views become the new views. No I/O, no clock.

Case events (from intake) and alert events (from notify) travel on different topics, so the
order in which they interleave differs between the live consumer and a rebuild. Every rule
here is therefore order-independent across topics (placeholders, max/min, "answered wins"),
which is what makes a replay give exactly the live read model. Within one topic a case's
events arrive in sequence order.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseReopened,
    ContactLost,
    ContactRestored,
    EventEnvelope,
    ReportReceived,
    StatusChanged,
    SubjectErased,
    ThreatReported,
)
from contracts.partial_dates import latest_instant
from services.casefile.inquiry_projection import (  # noqa: F401 (part of this module's API)
    days_between,
    inquiry_id_of,
    project_inquiry,
    recipient_key,
)
from services.casefile.rows import (  # noqa: F401 (part of this module's API)
    ALERT_STREAM,
    ANSWERED,
    AWAITING,
    AWAITING_REPORT,
    CASE_STREAM,
    CLOSED,
    INQUIRY_STATES,
    LOST,
    OPEN,
    OVERDUE,
    PAUSED,
    RESTORED,
    WITHDRAWN,
    Applied,
    CaseView,
    EventRow,
    InquiryView,
    changed,
    instant,
    rules_by_class,
    sort_key,
)


def apply(
    case: CaseView | None,
    inquiry: InquiryView | None,
    event: EventEnvelope,
    *,
    stream: str,
    body: str,
    schema_version: int | None = None,
) -> Applied:
    """Everything one event changes: its case, its inquiry (if any) and its stored row.

    `schema_version` is the version the event was recorded in, when it was upcast since.
    """
    after = project_inquiry(inquiry, event)
    row = event_row(event, stream=stream, body=body, schema_version=schema_version)
    case_after = project_case(case, event, stream=stream, inquiry_before=inquiry,
                              inquiry_after=after, recorded_at=row.recorded_at)
    return Applied(case_after, after, row)


def project_case(
    current: CaseView | None,
    event: EventEnvelope,
    *,
    stream: str,
    inquiry_before: InquiryView | None = None,
    inquiry_after: InquiryView | None = None,
    recorded_at: str | None = None,
) -> CaseView:
    """The case row after the event; inquiry counts move with the inquiry's state change.

    `recorded_at` is `instant(event.recorded_at)`, when the caller has it already."""
    case = current or CaseView(event.case_id)
    rule = _case_rule(type(event))
    changes = {} if rule is None else rule(case, event)
    recorded = recorded_at or instant(event.recorded_at)
    if case.last_recorded_at is None or recorded > case.last_recorded_at:
        changes["last_recorded_at"] = recorded
    if stream == CASE_STREAM and event.sequence > case.last_sequence:
        changes["last_sequence"] = event.sequence  # notify numbers its own stream
    if inquiry_after is not None:
        changes.update(_recount(case, inquiry_before, inquiry_after))
    return changed(case, changes) if changes else case


def _opened(case: CaseView, event: ReportReceived) -> dict:
    return {
        "status": case.status if case.status == CLOSED else (case.subject_status or OPEN),
        "subject_name": event.data.subject.name,
        "opened_at": event.occurred_at,
        "opened_sort": sort_key(event.occurred_at),
        "team": event.data.team,
    }


def _contact_lost(case: CaseView, event: ContactLost) -> dict:
    return _contact(case, event.data.last_contact.at, LOST, event.sequence)


def _contact_restored(case: CaseView, event: ContactRestored) -> dict:
    return _contact(case, event.data.restored_at, RESTORED, event.sequence)


def _assigned(case: CaseView, event: CaseAssigned) -> dict:
    return {"assignee": event.data.assignee}  # a case's own events come in order


def _threatened(case: CaseView, event: ThreatReported) -> dict:
    return {"threats_reported": case.threats_reported + 1}


def _closed(case: CaseView, event: CaseClosed) -> dict:
    return {"status": CLOSED}


def _reopened(case: CaseView, event: CaseReopened) -> dict:
    return {"status": case.subject_status or OPEN}


def _erased(case: CaseView, event: SubjectErased) -> dict:
    return {"erased_at": instant(event.recorded_at)}


def flag_for_attention(case: CaseView | None, case_id: UUID) -> CaseView:
    """The case after one of its messages was dead-lettered: it needs a person to look."""
    case = case or CaseView(case_id=case_id)
    return case._replace(attention=case.attention + 1)


def event_row(
    event: EventEnvelope, *, stream: str, body: str, schema_version: int | None = None
) -> EventRow:
    # by position, in EventRow's order: a rebuild makes one per event, and keywords cost more
    return EventRow(
        event.event_id, event.case_id, stream, event.sequence, event.type,
        schema_version or event.schema_version, event.occurred_at, sort_key(event.occurred_at),
        instant(event.recorded_at), event.actor, body,
    )


def _recount(case: CaseView, before: InquiryView | None, after: InquiryView | None) -> dict:
    """The inquiry counts that change when one inquiry moves from one state to another."""
    if after is None or (before is not None and before.state == after.state):
        return {}
    old = _FLAGS[before.state] if before is not None else (0, 0, 0)
    new = _FLAGS[after.state]
    return {
        "inquiries_open": case.inquiries_open + new[0] - old[0],
        "inquiries_overdue": case.inquiries_overdue + new[1] - old[1],
        "inquiries_answered": case.inquiries_answered + new[2] - old[2],
    }


# (open, overdue, answered) membership of each inquiry state; a withdrawn one is in none.
_FLAGS = {AWAITING: (1, 0, 0), PAUSED: (1, 0, 0), OVERDUE: (1, 1, 0), ANSWERED: (0, 0, 1),
          WITHDRAWN: (0, 0, 0)}


def _subject_status(case: CaseView, event: StatusChanged) -> dict:
    """The status with the latest effective date wins (ties: the later event), so a status
    recorded late about the past does not overwrite what is known about the present."""
    key = f"{sort_key(event.data.effective_at)}#{event.sequence:012d}"
    if case.subject_status_key is not None and key <= case.subject_status_key:
        return {}
    status = event.data.status.value
    return {
        "subject_status": status, "subject_status_key": key,
        "status": case.status if case.status in (CLOSED, AWAITING_REPORT) else status,
    }


def _contact(case: CaseView, when: str, state: str, sequence: int) -> dict:
    """The latest dated contact event says whether the family is in touch (ties: later event)."""
    key = f"{sort_key(when)}#{sequence:012d}"
    if case.contact_key is not None and key <= case.contact_key:
        return {}
    return {
        "last_contact_at": when, "last_contact_sort": sort_key(when),
        "last_contact_until": _last_moment(when), "contact_state": state,
        "contact_key": key,
    }


@lru_cache(maxsize=65_536)
def _last_moment(when: str) -> str:
    """The last instant a (partial) date can mean, as text; a log's dates repeat."""
    return instant(latest_instant(when))


_case_rule = rules_by_class(
    (ReportReceived, _opened), (ContactLost, _contact_lost), (ContactRestored, _contact_restored),
    (StatusChanged, _subject_status), (CaseAssigned, _assigned), (ThreatReported, _threatened),
    (CaseClosed, _closed), (CaseReopened, _reopened), (SubjectErased, _erased),
)

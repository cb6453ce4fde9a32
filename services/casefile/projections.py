"""Pure projections: an event and the current views become the new views. No I/O, no clock.

Case events (from intake) and alert events (from notify) travel on different topics, so the
order in which they interleave differs between the live consumer and a rebuild. Every rule
here is therefore order-independent across topics (placeholders, max/min, "answered wins"),
which is what makes a replay give exactly the live read model. Within one topic a case's
events arrive in sequence order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from contracts.events import (
    AlertKind,
    AlertRaised,
    CaseAssigned,
    CaseClosed,
    CaseReopened,
    ContactLost,
    ContactRestored,
    DeadlineExtended,
    DeadlineRecalculated,
    DeadlineSet,
    EventEnvelope,
    FollowUpSent,
    InquiryOverdue,
    InquiryPaused,
    InquiryResumed,
    InquirySent,
    InquiryWithdrawn,
    OfficialResponseReceived,
    ReportReceived,
    StatusChanged,
    ThreatReported,
)
from contracts.partial_dates import DAY, INSTANT, earliest_instant, latest_instant, precision
from contracts.partial_dates import sort_key as _sort_key

AWAITING, OVERDUE, ANSWERED, WITHDRAWN = "awaiting", "overdue", "answered", "withdrawn"
PAUSED = "paused"  # its response clock is stopped
INQUIRY_STATES = (AWAITING, PAUSED, OVERDUE, ANSWERED, WITHDRAWN)
OPEN, CLOSED = "open", "closed"
AWAITING_REPORT = "awaiting_report"  # events arrived before the report that opens the case
LOST, RESTORED = "lost", "restored"
CASE_STREAM, ALERT_STREAM = "case", "alert"  # intake's stream of a case, and notify's


def instant(moment: datetime) -> str:
    """A UTC timestamp as fixed-width text: sorts correctly and reads the same on every DB."""
    # In UTC the text always ends in "+00:00": cutting it off costs less than searching for it.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


# Dates repeat across a log ("2017", the day inquiries went out), and a rebuild sorts each one.
sort_key = lru_cache(maxsize=65_536)(_sort_key)

# The views are named tuples: immutable like frozen dataclasses, and several times cheaper to
# copy with a few fields changed (see _changed), which a rebuild does for every event.


class CaseView(NamedTuple):
    """One row of the case list: what caseworkers filter and sort cases by."""

    case_id: UUID
    # awaiting_report, open, the subject's latest status (detained, sentenced...) or closed
    status: str = AWAITING_REPORT
    subject_status: str | None = None  # as of the latest effective date, even while closed
    subject_status_key: str | None = None  # effective date's sort key, then sequence
    subject_name: str | None = None
    opened_at: str | None = None
    opened_sort: str | None = None
    assignee: str | None = None
    last_contact_at: str | None = None  # latest date the family heard from the subject
    last_contact_sort: str | None = None
    last_contact_until: str | None = None  # last moment that (partial) date can mean
    contact_state: str | None = None  # lost or restored, by the latest dated contact event
    contact_key: str | None = None  # that event's date sort key, then sequence
    last_sequence: int = 0
    last_recorded_at: str | None = None  # when the system last learnt something of the case
    inquiries_open: int = 0  # not yet answered, overdue or not
    inquiries_overdue: int = 0  # not yet answered and past their deadline
    inquiries_answered: int = 0
    threats_reported: int = 0
    attention: int = 0  # messages of this case that could not be applied (see dead letters)


class InquiryView(NamedTuple):
    inquiry_id: UUID
    case_id: UUID
    state: str = AWAITING
    recipient_name: str | None = None  # None only while an alert has overtaken inquiry_sent
    recipient_kind: str | None = None
    recipient_country: str | None = None
    recipient_key: str | None = None  # the institution, however its name was capitalised
    channel: str | None = None
    sent_at: str | None = None
    sent_sort: str | None = None
    due_at: str | None = None
    due_explanation: str | None = None  # notify's sentence: which rule, policy and calendar
    deadline_revision: int = 0  # of notify's latest deadline_set / deadline_recalculated
    overdue_for: str | None = None  # the latest deadline notify found passed unanswered
    paused_since: str | None = None  # the day its clock stopped, while stopped
    answered_at: str | None = None
    classification: str | None = None
    days_to_answer: int | None = None  # only when both dates are known to the day
    follow_ups: int = 0
    last_follow_up_at: str | None = None
    withdrawn_at: str | None = None


class EventRow(NamedTuple):
    """An applied event as casefile keeps it: the bytes as recorded, and what orders them."""

    event_id: UUID
    case_id: UUID
    stream: str  # case (intake's) or alert (notify's): each has its own sequence and chain
    sequence: int
    type: str
    schema_version: int  # as recorded; views read it upcast to the current version
    occurred_at: str
    occurred_sort: str
    recorded_at: str
    actor: str
    body: str  # the event's JSON exactly as it was on the log


class Applied(NamedTuple):
    case: CaseView
    inquiry: InquiryView | None
    row: EventRow


_ABOUT_AN_INQUIRY = (
    InquirySent, FollowUpSent, OfficialResponseReceived, InquiryWithdrawn, InquiryPaused,
    InquiryResumed, DeadlineExtended, InquiryOverdue, DeadlineSet, DeadlineRecalculated,
    AlertRaised,  # only an alert of a reminder, overdue or escalation names an inquiry
)


@cache
def _is_about_an_inquiry(kind: type) -> bool:
    return issubclass(kind, _ABOUT_AN_INQUIRY)


def inquiry_id_of(event: EventEnvelope) -> UUID | None:
    """The inquiry an event is about, if any (asked of the type, once per type: an
    isinstance of a pydantic model runs Python code, and a rebuild asks for every event)."""
    return event.data.inquiry_id if _is_about_an_inquiry(type(event)) else None


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


def project_inquiry(current: InquiryView | None, event: EventEnvelope) -> InquiryView | None:
    """The inquiry after the event, or None if the event does not concern an inquiry.

    Each field changes by a rule that does not depend on where notify's events (another
    topic) land among the case's own, and the state is derived from the fields after.
    """
    inquiry_id = inquiry_id_of(event)
    if inquiry_id is None:
        return None
    base = current or InquiryView(inquiry_id, event.case_id)
    rule = _inquiry_rule(type(event))
    if rule is None:
        return base  # a deadline_extended: notify's deadline_recalculated carries the new date
    changed = rule(base, event.data)
    state = _state_of(changed)
    return changed if state == changed.state else _changed(changed, {"state": state})


def _state_of(inquiry: InquiryView) -> str:
    """withdrawn > answered > paused > overdue > awaiting; overdue while the deadline notify
    found passed is still the inquiry's deadline (an extension makes it awaiting again)."""
    if inquiry.withdrawn_at is not None:
        return WITHDRAWN
    if inquiry.answered_at is not None:
        return ANSWERED
    if inquiry.paused_since is not None:
        return PAUSED
    if inquiry.overdue_for is not None and (
            inquiry.due_at is None or inquiry.overdue_for >= inquiry.due_at):
        return OVERDUE
    return AWAITING


def _inquiry_sent(base: InquiryView, data: Any) -> InquiryView:
    recipient = data.recipient
    return _with_days_to_answer(_changed(base, {
        "recipient_name": recipient.name,
        "recipient_kind": recipient.kind.value,
        "recipient_country": recipient.country,
        "recipient_key": recipient_key(recipient.country, recipient.kind.value, recipient.name),
        "channel": data.channel.value,
        "sent_at": data.sent_at,
        "sent_sort": sort_key(data.sent_at),
        # a deadline notify reported takes precedence
        "due_at": base.due_at or (instant(data.due_at) if data.due_at else None),
    }))


def _answered(base: InquiryView, data: Any) -> InquiryView:
    answered_at = _earliest(base.answered_at, data.received_at)
    classification = base.classification
    if answered_at == data.received_at and data.classification is not None:
        classification = data.classification.value
    return _with_days_to_answer(_changed(base, {
        "answered_at": answered_at, "classification": classification,
    }))


def _withdrawn(base: InquiryView, data: Any) -> InquiryView:
    return _changed(base, {"withdrawn_at": data.withdrawn_at})


def _followed_up(base: InquiryView, data: Any) -> InquiryView:
    return _changed(base, {"follow_ups": base.follow_ups + 1,
                           "last_follow_up_at": _latest(base.last_follow_up_at, data.sent_at)})


def _paused(base: InquiryView, data: Any) -> InquiryView:  # the case's own events come in order
    return _changed(base, {"paused_since": base.paused_since or data.paused_on.isoformat()})


def _resumed(base: InquiryView, data: Any) -> InquiryView:
    return _changed(base, {"paused_since": None})


def _deadline(base: InquiryView, data: Any) -> InquiryView:
    """notify's deadline_set / deadline_recalculated: the latest revision wins."""
    if data.revision <= base.deadline_revision:
        return base
    due = data.deadline.due_at
    return _changed(base, {"due_at": instant(due) if due else None,
                           "due_explanation": data.explanation,
                           "deadline_revision": data.revision})


def _alert_raised(base: InquiryView, data: Any) -> InquiryView:
    if data.kind is not AlertKind.OVERDUE:
        return base
    passed = instant(data.deadline_due_at or data.due_at)
    return _changed(base, {"overdue_for": max(base.overdue_for or passed, passed)})


def _overdue(base: InquiryView, data: Any) -> InquiryView:
    """inquiry_overdue, written by notify before deadline_set existed."""
    passed = instant(data.due_at)
    return _changed(base, {"due_at": base.due_at if base.deadline_revision else passed,
                           "overdue_for": max(base.overdue_for or passed, passed)})


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
    return _changed(case, changes) if changes else case


def _opened(case: CaseView, event: ReportReceived) -> dict:
    return {
        "status": case.status if case.status == CLOSED else (case.subject_status or OPEN),
        "subject_name": event.data.subject.name,
        "opened_at": event.occurred_at,
        "opened_sort": sort_key(event.occurred_at),
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


def recipient_key(country: str, kind: str, name: str) -> str:
    """One institution, however its name was spaced or capitalised when an inquiry was logged."""
    return f"{country}|{kind}|{' '.join(name.split()).casefold()}"


def days_between(start: str, end: str) -> int | None:
    """Whole days from one date to another, if both are known at least to the day."""
    if precision(start) not in (DAY, INSTANT) or precision(end) not in (DAY, INSTANT):
        return None
    return (earliest_instant(end).date() - earliest_instant(start).date()).days


def _with_days_to_answer(inquiry: InquiryView) -> InquiryView:
    if inquiry.sent_at is None or inquiry.answered_at is None:
        return inquiry
    days = days_between(inquiry.sent_at, inquiry.answered_at)
    # An answer dated before its inquiry is a recording error, not an instant reply.
    return _changed(inquiry, {"days_to_answer": days if days is not None and days >= 0 else None})


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


def _latest(current: str | None, candidate: str) -> str:
    return candidate if current is None or sort_key(candidate) > sort_key(current) else current


def _earliest(current: str | None, candidate: str) -> str:
    return candidate if current is None or sort_key(candidate) < sort_key(current) else current


View = TypeVar("View", CaseView, InquiryView)
_FIELD_INDEX = {view: {name: i for i, name in enumerate(view._fields)}
                for view in (CaseView, InquiryView)}


def _changed(view: View, changes: dict) -> View:
    """`view._replace(**changes)`, without its generic pass over every field in Python."""
    values = list(view)
    index = _FIELD_INDEX[type(view)]
    for name, value in changes.items():
        values[index[name]] = value
    return tuple.__new__(type(view), values)  # as _make does, bar its length check: it holds


def _rules(*rules: tuple[type, Callable]) -> Callable[[type], Callable | None]:
    """The rule for an event's class, chosen as an isinstance chain would, once per class."""
    @cache
    def rule_for(kind: type) -> Callable | None:
        return next((rule for cls, rule in rules if issubclass(kind, cls)), None)
    return rule_for


_inquiry_rule = _rules(
    (InquirySent, _inquiry_sent), (OfficialResponseReceived, _answered),
    (InquiryWithdrawn, _withdrawn), (FollowUpSent, _followed_up), (InquiryPaused, _paused),
    (InquiryResumed, _resumed), (DeadlineSet, _deadline), (DeadlineRecalculated, _deadline),
    (AlertRaised, _alert_raised), (InquiryOverdue, _overdue),
)
_case_rule = _rules(
    (ReportReceived, _opened), (ContactLost, _contact_lost), (ContactRestored, _contact_restored),
    (StatusChanged, _subject_status), (CaseAssigned, _assigned), (ThreatReported, _threatened),
    (CaseClosed, _closed), (CaseReopened, _reopened),
)

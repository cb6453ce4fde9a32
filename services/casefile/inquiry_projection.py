"""Pure projection of an inquiry: what each event about it changes, and its state after.

Each field changes by a rule that does not depend on where notify's events (another topic)
land among the case's own; the state is derived from the fields after every event, so a
replay gives the live read model whatever the interleaving.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

from contracts.events import (
    AlertKind,
    AlertRaised,
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
)
from contracts.partial_dates import DAY, INSTANT, earliest_instant, precision
from services.casefile.rows import (
    ANSWERED,
    AWAITING,
    OVERDUE,
    PAUSED,
    WITHDRAWN,
    InquiryView,
    changed,
    earliest,
    instant,
    latest,
    rules_by_class,
    sort_key,
)

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
    after = rule(base, event.data)
    state = _state_of(after)
    return after if state == after.state else changed(after, {"state": state})


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
    return _with_days_to_answer(changed(base, {
        "recipient_name": recipient.name,
        "recipient_kind": recipient.kind.value,
        "recipient_country": recipient.country,
        "recipient_key": recipient_key(recipient.country, recipient.kind.value, recipient.name),
        "channel": data.channel.value,
        "sent_at": data.sent_at,
        "sent_sort": sort_key(data.sent_at),
        # a deadline notify reported takes precedence, even "none while paused"
        "due_at": base.due_at if base.deadline_revision or base.overdue_for else (
            instant(data.due_at) if data.due_at else None),
    }))


def _answered(base: InquiryView, data: Any) -> InquiryView:
    answered_at = earliest(base.answered_at, data.received_at)
    classification = base.classification
    if answered_at == data.received_at and data.classification is not None:
        classification = data.classification.value
    return _with_days_to_answer(changed(base, {
        "answered_at": answered_at, "classification": classification,
    }))


def _withdrawn(base: InquiryView, data: Any) -> InquiryView:
    return changed(base, {"withdrawn_at": data.withdrawn_at})


def _followed_up(base: InquiryView, data: Any) -> InquiryView:
    return changed(base, {"follow_ups": base.follow_ups + 1,
                           "last_follow_up_at": latest(base.last_follow_up_at, data.sent_at)})


def _paused(base: InquiryView, data: Any) -> InquiryView:  # the case's own events come in order
    return changed(base, {"paused_since": base.paused_since or data.paused_on.isoformat()})


def _resumed(base: InquiryView, data: Any) -> InquiryView:
    return changed(base, {"paused_since": None})


def _deadline(base: InquiryView, data: Any) -> InquiryView:
    """notify's deadline_set / deadline_recalculated: the latest revision wins."""
    if data.revision <= base.deadline_revision:
        return base
    due = data.deadline.due_at
    return changed(base, {"due_at": instant(due) if due else None,
                           "due_explanation": data.explanation,
                           "deadline_revision": data.revision})


def _alert_raised(base: InquiryView, data: Any) -> InquiryView:
    if data.kind is not AlertKind.OVERDUE:
        return base
    passed = instant(data.deadline_due_at or data.due_at)
    return changed(base, {"overdue_for": max(base.overdue_for or passed, passed)})


def _overdue(base: InquiryView, data: Any) -> InquiryView:
    """inquiry_overdue, written by notify before deadline_set existed."""
    passed = instant(data.due_at)
    return changed(base, {"due_at": base.due_at if base.deadline_revision else passed,
                           "overdue_for": max(base.overdue_for or passed, passed)})


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
    return changed(inquiry, {"days_to_answer": days if days is not None and days >= 0 else None})


_inquiry_rule = rules_by_class(
    (InquirySent, _inquiry_sent), (OfficialResponseReceived, _answered),
    (InquiryWithdrawn, _withdrawn), (FollowUpSent, _followed_up), (InquiryPaused, _paused),
    (InquiryResumed, _resumed), (DeadlineSet, _deadline), (DeadlineRecalculated, _deadline),
    (AlertRaised, _alert_raised), (InquiryOverdue, _overdue),
)

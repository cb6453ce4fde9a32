"""The rows casefile keeps, as immutable views, and the small tools every projection uses.

The views are named tuples: immutable like frozen dataclasses, and several times cheaper to
copy with a few fields changed (see `changed`), which a rebuild does for every event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import NamedTuple, TypeVar
from uuid import UUID

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
    team: str | None = None  # whose case it is (its report's), for the access rules
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
    erased_at: str | None = None  # when its subject was erased (its key destroyed)


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


def latest(current: str | None, candidate: str) -> str:
    return candidate if current is None or sort_key(candidate) > sort_key(current) else current


def earliest(current: str | None, candidate: str) -> str:
    return candidate if current is None or sort_key(candidate) < sort_key(current) else current


View = TypeVar("View", CaseView, InquiryView)


_FIELD_INDEX = {view: {name: i for i, name in enumerate(view._fields)}
                for view in (CaseView, InquiryView)}


def changed(view: View, changes: dict) -> View:
    """`view._replace(**changes)`, without its generic pass over every field in Python."""
    values = list(view)
    index = _FIELD_INDEX[type(view)]
    for name, value in changes.items():
        values[index[name]] = value
    return tuple.__new__(type(view), values)  # as _make does, bar its length check: it holds


def rules_by_class(*rules: tuple[type, Callable]) -> Callable[[type], Callable | None]:
    """The rule for an event's class, chosen as an isinstance chain would, once per class."""
    @cache
    def rule_for(kind: type) -> Callable | None:
        return next((rule for cls, rule in rules if issubclass(kind, cls)), None)
    return rule_for

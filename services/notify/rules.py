"""Pure alert rules: which alerts a case calls for, when, for whom, and when one is withdrawn.

An alert's id is derived from what it is about (its kind, its inquiry and the deadline it
warns of; the silence and when it began; the threat), so one deadline and kind can only ever
give one alert, whichever replica decides it and however often it is decided again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from contracts.alert_events import AlertKind, Deadline, WithdrawalReason

ALERT_NAMESPACE = UUID("0b6a8f0e-3f55-5c43-9d8e-6f1d2c7a9e10")
"""Fixed forever: changing it would give alerts already raised new ids, and raise them again."""

OPEN, ANSWERED, WITHDRAWN = "open", "answered", "withdrawn"  # an inquiry's status
INQUIRY_KINDS = (AlertKind.REMINDER, AlertKind.OVERDUE, AlertKind.ESCALATION)
TO_SUPERVISORS_TOO = (AlertKind.ESCALATION, AlertKind.REPRISAL_REPORTED)


def derived_id(*parts: object) -> UUID:
    return uuid5(ALERT_NAMESPACE, "/".join(str(part) for part in parts))


def inquiry_alert_id(kind: AlertKind, inquiry_id: UUID, due_at: datetime) -> UUID:
    return derived_id(kind.value, inquiry_id, due_at.isoformat())


@dataclass(frozen=True)
class Timer:
    """An alert that will be due at `fire_at` unless what it warns of is resolved first."""

    alert_id: UUID
    kind: AlertKind
    case_id: UUID
    fire_at: datetime
    inquiry_id: UUID | None = None
    deadline_due_at: datetime | None = None  # the deadline it warns of (inquiry kinds)
    deadline_revision: int | None = None


@dataclass(frozen=True)
class InquiryNow:
    """An inquiry as notify knows it when a timer fires."""

    status: str
    revision: int
    deadline: Deadline | None


@dataclass(frozen=True)
class CaseNow:
    closed: bool
    contact_lost: bool
    last_heard_at: datetime | None  # from the family, since contact was lost


def inquiry_timers(
    case_id: UUID, inquiry_id: UUID, revision: int, deadline: Deadline | None
) -> list[Timer]:
    """Reminder, overdue and escalation of an open inquiry's current deadline."""
    if deadline is None or deadline.paused or deadline.due_at is None:
        return []
    moments = {AlertKind.REMINDER: deadline.remind_at, AlertKind.OVERDUE: deadline.due_at,
               AlertKind.ESCALATION: deadline.escalate_at}
    return [
        Timer(inquiry_alert_id(kind, inquiry_id, deadline.due_at), kind, case_id, moment,
              inquiry_id, deadline.due_at, revision)
        for kind, moment in moments.items() if moment is not None
    ]


def family_silence_timer(case_id: UUID, case: CaseNow, silent_days: int) -> Timer | None:
    if case.closed or not case.contact_lost or case.last_heard_at is None:
        return None
    return Timer(derived_id(AlertKind.FAMILY_SILENT.value, case_id, case.last_heard_at.isoformat()),
                 AlertKind.FAMILY_SILENT, case_id, case.last_heard_at + timedelta(days=silent_days))


def reprisal_timer(case_id: UUID, threat_event_id: UUID, recorded_at: datetime) -> Timer:
    return Timer(derived_id(AlertKind.REPRISAL_REPORTED.value, threat_event_id),
                 AlertKind.REPRISAL_REPORTED, case_id, recorded_at)


def still_due(
    timer: Timer, now: datetime, *, inquiry: InquiryNow | None, case: CaseNow,
    silent_days: int, reprisal_window: timedelta,
) -> bool:
    """Whether the timer's alert must be raised now, judged on what is known at this moment."""
    if now < timer.fire_at:
        return False
    if timer.kind is AlertKind.REPRISAL_REPORTED:
        return now - timer.fire_at <= reprisal_window  # an old report on a new install is history
    if case.closed:
        return False
    if timer.kind is AlertKind.FAMILY_SILENT:
        current = family_silence_timer(timer.case_id, case, silent_days)
        return current is not None and current.alert_id == timer.alert_id
    current_deadline = inquiry.deadline if inquiry is not None else None
    if inquiry is None or inquiry.status != OPEN or current_deadline is None:
        return False
    if current_deadline.paused or current_deadline.due_at != timer.deadline_due_at:
        return False
    if timer.kind is AlertKind.REMINDER:
        return now < current_deadline.due_at  # once overdue, the overdue alert says it all
    return True


def recipients(kind: AlertKind, assignee: str | None, supervisors: Iterable[str]) -> list[str]:
    """The case's assignee; supervisors instead while nobody is assigned, and as well for
    escalations and reprisals."""
    supervisors = list(supervisors)
    chosen = [assignee] if assignee else supervisors
    if kind in TO_SUPERVISORS_TOO:
        chosen = chosen + supervisors
    return list(dict.fromkeys(chosen))


def reason(timer: Timer, now: datetime, silent_days: int) -> str:
    """Why the alert was raised, in words that carry no personal data."""
    due = (timer.deadline_due_at - timedelta(microseconds=1)).date() if timer.deadline_due_at else None
    if timer.kind is AlertKind.REMINDER:
        return f"the inquiry is due {due} and has no answer yet"
    if timer.kind is AlertKind.OVERDUE:
        return f"no answer to the inquiry due {due}"
    if timer.kind is AlertKind.ESCALATION:
        days = (now - timer.deadline_due_at).days if timer.deadline_due_at else 0
        return f"no answer to the inquiry due {due}: {days} days overdue"
    if timer.kind is AlertKind.FAMILY_SILENT:
        return f"no word from the family for {silent_days} days since contact was lost"
    return "a threat or reprisal was reported"


@dataclass(frozen=True)
class OpenAlert:
    alert_id: UUID
    kind: AlertKind
    case_id: UUID
    inquiry_id: UUID | None
    deadline_due_at: datetime | None


def withdrawal_reason(
    alert: OpenAlert, *, inquiry: InquiryNow | None, case: CaseNow, silent_days: int
) -> WithdrawalReason | None:
    """Why an open alert no longer needs anyone, or None if it still does."""
    if alert.kind is AlertKind.REPRISAL_REPORTED:
        return None  # a reprisal stays until a person has seen it
    if case.closed:
        return WithdrawalReason.CASE_CLOSED
    if alert.kind is AlertKind.FAMILY_SILENT:
        if not case.contact_lost:
            return WithdrawalReason.CONTACT_RESTORED
        current = family_silence_timer(alert.case_id, case, silent_days)
        return None if current and current.alert_id == alert.alert_id else (
            WithdrawalReason.FAMILY_CHECKED_IN)
    if inquiry is None:
        return None
    if inquiry.status == ANSWERED:
        return WithdrawalReason.ANSWERED
    if inquiry.status == WITHDRAWN:
        return WithdrawalReason.INQUIRY_WITHDRAWN
    deadline = inquiry.deadline
    if deadline is None or deadline.paused or deadline.due_at != alert.deadline_due_at:
        return WithdrawalReason.DEADLINE_MOVED
    return None

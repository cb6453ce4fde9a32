"""Pure deadline rules: when an inquiry is due, and the sentence that explains why. No clock.

A policy's window counts days from the day after the inquiry was sent (the last day a partial
sending date can mean, so "sent in 2025-02" never falls due before its time), business days
skipping the calendar country's weekends and holidays. Days while the inquiry's clock was
stopped do not count. A due date given with the inquiry wins over the policy, and an extension
wins over both. A deadline falls due when its last day has ended (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from contracts.alert_events import DayKind, Deadline, DeadlineRule
from contracts.partial_dates import latest_instant
from services.notify.calendars import Calendar, calendar_days, working_days_of
from services.notify.policies import Policy

_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Pause:
    start: date  # paused_on: the first day that does not count
    end: date | None = None  # resumed_on: the first day that counts again; None while paused

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Extension:
    due_at: datetime
    granted_on: date


@dataclass(frozen=True)
class InquiryFacts:
    """What the deadline rules need to know of one inquiry, as the case's events told it."""

    sent_at: str  # a partial date, as recorded
    recipient_kind: str
    recipient_country: str
    channel: str
    explicit_due_at: datetime | None = None
    extension: Extension | None = None
    pauses: tuple[Pause, ...] = ()

    @property
    def start_on(self) -> date:
        return latest_instant(self.sent_at).astimezone(UTC).date()


def compute_deadline(facts: InquiryFacts, policy: Policy) -> Deadline:
    calendar = _calendar(policy, facts)
    if facts.extension is not None:
        return _fixed(facts.extension.due_at, facts.extension.granted_on, DeadlineRule.EXTENDED,
                      _pauses_from(facts.pauses, facts.extension.granted_on), policy)
    if facts.explicit_due_at is not None:
        return _fixed(facts.explicit_due_at, facts.start_on, DeadlineRule.EXPLICIT, facts.pauses,
                      policy)
    due_on, paused_days, paused = _count(facts.start_on, policy.window, calendar, facts.pauses)
    return _with_alert_times(Deadline(
        rule=DeadlineRule.POLICY, due_at=None if paused else _end_of(due_on),
        due_on=None if paused else due_on, start_on=facts.start_on, days=policy.window,
        day_kind=policy.days, calendar=calendar.country, policy_id=policy.id,
        policy_version=policy.version, paused_days=paused_days, paused=paused,
    ), policy)


def explain(deadline: Deadline) -> str:
    """The deadline in one sentence a caseworker can check by hand."""
    policy = f"policy {deadline.policy_id}-v{deadline.policy_version}"
    if deadline.paused:
        return f"clock stopped: no deadline runs while the inquiry is paused ({policy})"
    if deadline.rule is DeadlineRule.POLICY:
        if deadline.day_kind is DayKind.BUSINESS:
            calendar = working_days_of(deadline.calendar).name if deadline.calendar else ""
            basis = f"{deadline.days} business days after {deadline.start_on}, {calendar}"
        else:
            basis = f"{deadline.days} calendar days after {deadline.start_on}"
        reason = f"{basis}, {policy}"
    elif deadline.rule is DeadlineRule.EXPLICIT:
        reason = "the date given with the inquiry"
    else:
        reason = f"extended on {deadline.start_on}"
    paused = f", plus {deadline.paused_days} paused" if deadline.paused_days else ""
    return f"due {deadline.due_on}: {reason}{paused}"


def _calendar(policy: Policy, facts: InquiryFacts) -> Calendar:
    if policy.days is DayKind.CALENDAR:
        return calendar_days()
    return working_days_of(policy.calendar or facts.recipient_country)


def _count(
    start_on: date, window: int, calendar: Calendar, pauses: tuple[Pause, ...]
) -> tuple[date, int, bool]:
    """The day the window's last counted day falls on, the counted days skipped for pauses,
    and whether the clock is stopped now (an open pause reached before the window ran out)."""
    day, counted, paused_days = start_on, 0, 0
    while counted < window:
        day += timedelta(days=1)
        pause = next((p for p in pauses if p.holds(day)), None)
        if pause is not None:
            if pause.end is None:
                return day, paused_days, True
            paused_days += calendar.is_counted(day)
            continue
        counted += calendar.is_counted(day)
    # A pause still open but begun after the window ran out also stops alerts.
    return day, paused_days, any(p.end is None for p in pauses)


def _fixed(
    due_at: datetime, start_on: date, rule: DeadlineRule, pauses: tuple[Pause, ...],
    policy: Policy,
) -> Deadline:
    """A given date, moved on by the calendar days its clock stood still before it."""
    due_on = (due_at - _TINY).astimezone(UTC).date()
    window = max((due_on - start_on).days, 0)
    moved_on, paused_days, paused = _count(start_on, window, calendar_days(), pauses)
    if window == 0:
        moved_on = due_on
    return _with_alert_times(Deadline(
        rule=rule, due_at=None if paused else due_at + timedelta(days=paused_days),
        due_on=None if paused else moved_on, start_on=start_on, policy_id=policy.id,
        policy_version=policy.version, paused_days=paused_days, paused=paused,
    ), policy)


def _pauses_from(pauses: tuple[Pause, ...], day: date) -> tuple[Pause, ...]:
    """An extension is granted knowing the pauses before it: only later ones move it."""
    return tuple(p for p in pauses if p.end is None or p.end > day)


def _with_alert_times(deadline: Deadline, policy: Policy) -> Deadline:
    if deadline.due_at is None:
        return deadline
    remind = policy.remind_before and deadline.due_at - timedelta(days=policy.remind_before)
    escalate = policy.escalate_after and deadline.due_at + timedelta(days=policy.escalate_after)
    return deadline.model_copy(update={"remind_at": remind or None,
                                       "escalate_at": escalate or None})


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)

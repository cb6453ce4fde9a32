"""Notify's own events, on the alert-events topic: deadlines it worked out and alerts it raised.

Each case has a notify stream beside intake's: its own `sequence` from 1 and its own hash
chain. A deadline is explained where it is recorded (which rule, policy and calendar gave it),
so the timeline can show why a date is what it is, and a moved date is always an event.
An alert lives as events too, from raised to delivered, acknowledged, snoozed or withdrawn.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.casework_events import AccountId
from contracts.envelope import EventEnvelope
from contracts.values import ShortText, Value, text

PolicyId = text(100, pattern=r"^[a-z0-9][a-z0-9._-]*$")
CalendarCode = text(6, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


class DayKind(StrEnum):
    BUSINESS = "business"  # working days of the calendar's country: no weekends or holidays
    CALENDAR = "calendar"


class DeadlineRule(StrEnum):
    POLICY = "policy"  # the NGO's response window for this kind of recipient
    EXPLICIT = "explicit"  # a due date given with the inquiry
    EXTENDED = "extended"  # a later date granted by deadline_extended


class Deadline(Value):
    """An inquiry's deadline and how it was worked out: enough to explain and to recompute it."""

    rule: DeadlineRule
    due_at: AwareDatetime | None = Field(
        description="When the inquiry counts as unanswered; null while its clock is stopped."
    )
    due_on: date | None = Field(description="The last day to answer (the deadline's end).")
    start_on: date | None = Field(
        default=None, description="The day the window counts from (the inquiry's sending)."
    )
    days: int | None = Field(default=None, ge=0, description="Length of the policy's window.")
    day_kind: DayKind | None = None
    calendar: CalendarCode | None = Field(
        default=None, description="Whose public holidays the business days skip: a country, "
                                  "or a country and subdivision.", examples=["CN", "CH-GE"],
    )
    policy_id: PolicyId | None = None
    policy_version: int | None = Field(default=None, ge=1)
    paused_days: int = Field(
        default=0, ge=0, description="Days the clock stood still, added to the window."
    )
    paused: bool = Field(default=False, description="The clock is stopped now.")
    remind_at: AwareDatetime | None = Field(
        default=None, description="When a reminder goes out, if the policy sends one."
    )
    escalate_at: AwareDatetime | None = Field(
        default=None, description="When an unanswered inquiry is escalated to supervisors."
    )


class DeadlineSetData(Value):
    inquiry_id: UUID
    revision: Literal[1] = 1
    deadline: Deadline
    explanation: ShortText = Field(
        description="The deadline as notify explained it at the time.",
        examples=["due 2025-03-14: 20 business days after 2025-02-13, China calendar, "
                  "policy embassy-v2"],
    )


class DeadlineSet(EventEnvelope):
    """Notify worked out when an inquiry is due, and why."""

    type: Literal["deadline_set"] = "deadline_set"
    schema_version: Literal[1] = 1
    data: DeadlineSetData


class RecalculationCause(StrEnum):
    POLICY_CHANGED = "policy_changed"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXTENDED = "extended"


class DeadlineRecalculatedData(Value):
    inquiry_id: UUID
    revision: int = Field(ge=2, description="1 is the deadline first set; each change adds one.")
    cause: RecalculationCause
    previous_due_at: AwareDatetime | None
    deadline: Deadline
    explanation: ShortText


class DeadlineRecalculated(EventEnvelope):
    """An open inquiry's deadline moved (a policy change, a pause, a resumption, an extension)."""

    type: Literal["deadline_recalculated"] = "deadline_recalculated"
    schema_version: Literal[1] = 1
    data: DeadlineRecalculatedData


class AlertKind(StrEnum):
    REMINDER = "reminder"  # an inquiry's deadline is near
    OVERDUE = "overdue"  # its deadline passed unanswered
    ESCALATION = "escalation"  # overdue for long: the supervisors are told as well
    FAMILY_SILENT = "family_silent"  # after contact was lost, no word from the family for long
    REPRISAL_REPORTED = "reprisal_reported"  # a threat was reported: at once


class AlertRaisedData(Value):
    alert_id: UUID = Field(description="Derived from what the alert is about: one per deadline "
                                        "and kind, whatever restarts or replicas do.")
    kind: AlertKind
    inquiry_id: UUID | None = None
    deadline_due_at: AwareDatetime | None = Field(
        default=None, description="The deadline a reminder, overdue or escalation warns of.")
    deadline_revision: int | None = Field(default=None, ge=1)
    due_at: AwareDatetime = Field(description="The moment the alert fell due.")
    recipients: list[AccountId] = Field(
        max_length=50, description="Accounts of the advocates it goes to (never addresses)."
    )
    reason: ShortText = Field(
        description="Why, in words that hold no personal data.",
        examples=["no answer to the inquiry due 2025-03-14"],
    )


class AlertRaised(EventEnvelope):
    """Notify raised an alert for advocates to act on."""

    type: Literal["alert_raised"] = "alert_raised"
    schema_version: Literal[1] = 1
    data: AlertRaisedData


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class AlertDeliveredData(Value):
    alert_id: UUID
    recipient: AccountId
    channel: DeliveryChannel
    attempts: int = Field(ge=1)


class AlertDelivered(EventEnvelope):
    """An alert reached an advocate through one channel."""

    type: Literal["alert_delivered"] = "alert_delivered"
    schema_version: Literal[1] = 1
    data: AlertDeliveredData


class AlertDeliveryFailedData(Value):
    alert_id: UUID
    recipient: AccountId
    channel: DeliveryChannel
    attempts: int = Field(ge=1)
    error: ShortText = Field(description="What went wrong, without the message's content.")


class AlertDeliveryFailed(EventEnvelope):
    """Notify gave up delivering an alert through one channel (the in-app inbox still shows it)."""

    type: Literal["alert_delivery_failed"] = "alert_delivery_failed"
    schema_version: Literal[1] = 1
    data: AlertDeliveryFailedData


class AlertAcknowledgedData(Value):
    alert_id: UUID
    by: AccountId


class AlertAcknowledged(EventEnvelope):
    """An advocate took charge of an alert."""

    type: Literal["alert_acknowledged"] = "alert_acknowledged"
    schema_version: Literal[1] = 1
    data: AlertAcknowledgedData


class AlertSnoozedData(Value):
    alert_id: UUID
    by: AccountId
    until: AwareDatetime = Field(description="The alert leaves the inbox until then.")


class AlertSnoozed(EventEnvelope):
    """An advocate put an alert aside until a later moment."""

    type: Literal["alert_snoozed"] = "alert_snoozed"
    schema_version: Literal[1] = 1
    data: AlertSnoozedData


class WithdrawalReason(StrEnum):
    ANSWERED = "answered"  # the response arrived
    INQUIRY_WITHDRAWN = "inquiry_withdrawn"
    DEADLINE_MOVED = "deadline_moved"  # paused, extended or recalculated past the alert
    CONTACT_RESTORED = "contact_restored"
    FAMILY_CHECKED_IN = "family_checked_in"
    CASE_CLOSED = "case_closed"


class AlertWithdrawnData(Value):
    alert_id: UUID
    reason: WithdrawalReason


class AlertWithdrawn(EventEnvelope):
    """An alert no longer needs anyone: what it warned of was resolved before it was handled."""

    type: Literal["alert_withdrawn"] = "alert_withdrawn"
    schema_version: Literal[1] = 1
    data: AlertWithdrawnData


ALERT_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    DeadlineSet,
    DeadlineRecalculated,
    AlertRaised,
    AlertDelivered,
    AlertDeliveryFailed,
    AlertAcknowledged,
    AlertSnoozed,
    AlertWithdrawn,
)
"""What notify writes to alert-events today."""

__all__ = [
    "ALERT_EVENT_TYPES", "AlertAcknowledged", "AlertAcknowledgedData", "AlertDelivered",
    "AlertDeliveredData", "AlertDeliveryFailed", "AlertDeliveryFailedData", "AlertKind",
    "AlertRaised", "AlertRaisedData", "AlertSnoozed", "AlertSnoozedData", "AlertWithdrawn",
    "AlertWithdrawnData", "DayKind", "Deadline", "DeadlineRecalculated",
    "DeadlineRecalculatedData", "DeadlineRule", "DeadlineSet", "DeadlineSetData",
    "DeliveryChannel", "PolicyId", "RecalculationCause", "WithdrawalReason",
]

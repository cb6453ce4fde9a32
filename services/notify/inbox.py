"""What advocates do with alerts in the app: acknowledge one, or snooze it until later.

Both are events in the case's notify stream, recorded under its lock like every decision.
Their ids are derived from the request, so a double-submitted form records one event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlmodel import Session

from contracts.alert_events import (
    AlertAcknowledged,
    AlertAcknowledgedData,
    AlertSnoozed,
    AlertSnoozedData,
)
from services.notify import rules
from services.notify.store import Alert
from services.notify.stream import ChannelsOf, Draft, append, lock_stream

MAX_SNOOZE = timedelta(days=90)


class AlertNotFound(LookupError):
    pass


class AlertRuleViolated(Exception):
    """The alert's state forbids the action (HTTP 409); names the rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


class InvalidSnooze(ValueError):
    """A snooze that names an impossible moment (HTTP 422 on `until`)."""


def acknowledge(
    session: Session, alert_id: UUID, by: str, *, now: datetime, channels_of: ChannelsOf
) -> Alert:
    alert = _locked(session, alert_id)
    _still_open(alert)
    if alert.state == "acknowledged":
        if alert.acknowledged_by == by:
            return alert  # the same click twice
        raise AlertRuleViolated("alert_already_acknowledged",
                                f"already acknowledged by {alert.acknowledged_by}")
    append(session, alert.case_id, [Draft(
        AlertAcknowledged, event_id=rules.derived_id("alert_acknowledged", alert_id),
        data=AlertAcknowledgedData(alert_id=alert_id, by=by), correlation_id=alert_id,
        causation_id=alert_id,
    )], now=now, channels_of=channels_of)
    return alert


def snooze(
    session: Session, alert_id: UUID, by: str, until: datetime, *, now: datetime,
    channels_of: ChannelsOf,
) -> Alert:
    if until <= now:
        raise InvalidSnooze("until must be in the future")
    if until - now > MAX_SNOOZE:
        raise InvalidSnooze(f"until must be within {MAX_SNOOZE.days} days")
    alert = _locked(session, alert_id)
    _still_open(alert)
    if alert.state == "acknowledged":
        raise AlertRuleViolated("alert_acknowledged", "an acknowledged alert is not snoozed")
    append(session, alert.case_id, [Draft(
        AlertSnoozed, event_id=rules.derived_id("alert_snoozed", alert_id, by, until.isoformat()),
        data=AlertSnoozedData(alert_id=alert_id, by=by, until=until), correlation_id=alert_id,
        causation_id=alert_id,
    )], now=now, channels_of=channels_of)
    return alert


def _locked(session: Session, alert_id: UUID) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    lock_stream(session, alert.case_id)
    session.refresh(alert)
    return alert


def _still_open(alert: Alert) -> None:
    if alert.state == "withdrawn":
        raise AlertRuleViolated("alert_withdrawn",
                                f"the alert was withdrawn ({alert.withdrawn_reason})")

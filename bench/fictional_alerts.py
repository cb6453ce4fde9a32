"""Notify's side of the fictional log: the events notify would write as a case unfolds.

Deadlines come from notify's own rules and bundled policies, alert ids from its own
derivation, so the replay benchmark folds the log the services would really have written:
a deadline_set for every inquiry, recalculations when a clock stops, restarts or is
extended, overdue alerts (answered, if ever, only after them) that are delivered,
acknowledged, snoozed or withdrawn, and reprisal alerts. Every text is fictional.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from uuid import UUID

from contracts.alert_events import (
    AlertAcknowledged,
    AlertAcknowledgedData,
    AlertDelivered,
    AlertDeliveredData,
    AlertDeliveryFailed,
    AlertDeliveryFailedData,
    AlertKind,
    AlertRaised,
    AlertRaisedData,
    AlertSnoozed,
    AlertSnoozedData,
    AlertWithdrawn,
    AlertWithdrawnData,
    Deadline,
    DeadlineRecalculated,
    DeadlineRecalculatedData,
    DeadlineSet,
    DeadlineSetData,
    RecalculationCause,
    WithdrawalReason,
)
from contracts.case_events import ThreatReported
from contracts.envelope import EventEnvelope
from contracts.inquiry_events import (
    DeadlineExtended,
    InquiryPaused,
    InquiryResumed,
    InquirySent,
    InquiryWithdrawn,
    OfficialResponseReceived,
)
from services.notify import rules
from services.notify.deadlines import Extension, InquiryFacts, Pause, compute_deadline, explain
from services.notify.policies import PolicyBook, load_policies

OVERDUE_SHARE = 0.25
Seal = Callable[..., EventEnvelope]


@cache
def _book() -> PolicyBook:
    return load_policies()


@dataclass
class NotifySide:
    """One case's notify stream; `clock` only grows, as notify records in the order it decides."""

    seal: Seal
    rng: random.Random
    clock: datetime
    facts: dict[UUID, InquiryFacts] = field(default_factory=dict)
    revisions: dict[UUID, int] = field(default_factory=dict)
    deadlines: dict[UUID, Deadline] = field(default_factory=dict)
    causes: dict[UUID, EventEnvelope] = field(default_factory=dict)
    # overdue alerts still open, by inquiry; the inquiry is answered only after `alerted_at`
    open_alerts: dict[UUID, UUID] = field(default_factory=dict)
    alerted_at: dict[UUID, datetime] = field(default_factory=dict)
    assignee: str = "caseworker-1"

    def after(self, event: EventEnvelope) -> list[EventEnvelope]:
        """What notify records once it has read the case event."""
        if isinstance(event, InquirySent):
            return self._sent(event)
        if isinstance(event, InquiryPaused | InquiryResumed | DeadlineExtended):
            return self._recalculated(event)
        if isinstance(event, OfficialResponseReceived | InquiryWithdrawn):
            alert_id = self.open_alerts.pop(event.data.inquiry_id, None)
            if alert_id is None:
                return []
            reason = (WithdrawalReason.ANSWERED if isinstance(event, OfficialResponseReceived)
                      else WithdrawalReason.INQUIRY_WITHDRAWN)
            return [self._record(AlertWithdrawn, event, 60, event_id=rules.derived_id(
                "alert_withdrawn", alert_id), data=AlertWithdrawnData(alert_id=alert_id,
                                                                      reason=reason))]
        if isinstance(event, ThreatReported):
            return self._reprisal(event)
        return []

    def may_pause(self, inquiry_id: UUID) -> bool:
        """Only an inquiry not headed for an overdue alert is paused or extended here, so every
        overdue alert stays the one its first deadline gives."""
        return inquiry_id in self.facts and inquiry_id not in self.alerted_at

    def _sent(self, sent: InquirySent) -> list[EventEnvelope]:
        data = sent.data
        inquiry_id = data.inquiry_id
        self.facts[inquiry_id] = InquiryFacts(
            sent_at=data.sent_at, recipient_kind=data.recipient.kind.value,
            recipient_country=data.recipient.country, channel=data.channel.value,
            explicit_due_at=data.due_at)
        self.causes[inquiry_id] = sent
        deadline = self._deadline(inquiry_id)
        self.revisions[inquiry_id], self.deadlines[inquiry_id] = 1, deadline
        recorded = [self._record(DeadlineSet, sent, 5, event_id=rules.derived_id(
            "deadline_set", inquiry_id), data=DeadlineSetData(
            inquiry_id=inquiry_id, deadline=deadline, explanation=explain(deadline)))]
        if self.rng.random() < OVERDUE_SHARE:
            recorded += self._overdue(sent, deadline)
        return recorded

    def _overdue(self, sent: InquirySent, deadline: Deadline) -> list[EventEnvelope]:
        inquiry_id = sent.data.inquiry_id
        alert_id = rules.inquiry_alert_id(AlertKind.OVERDUE, inquiry_id, deadline.due_at)
        self.clock = max(self.clock, deadline.due_at)
        raised = self._record(AlertRaised, sent, self.rng.randint(1, 30), event_id=alert_id,
                              occurred_at=_iso(deadline.due_at), data=AlertRaisedData(
            alert_id=alert_id, kind=AlertKind.OVERDUE, inquiry_id=inquiry_id,
            deadline_due_at=deadline.due_at, deadline_revision=1, due_at=deadline.due_at,
            recipients=[self.assignee],
            reason=f"no answer to the inquiry due {deadline.due_on}"))
        self.alerted_at[inquiry_id] = raised.recorded_at
        self.open_alerts[inquiry_id] = alert_id
        recorded = [raised, self._delivery(raised)]
        roll = self.rng.random()
        if roll < 0.4:
            self.open_alerts.pop(inquiry_id)
            recorded.append(self._record(AlertAcknowledged, raised, 3600, event_id=rules.derived_id(
                "alert_acknowledged", alert_id), data=AlertAcknowledgedData(
                alert_id=alert_id, by=self.assignee)))
        elif roll < 0.55:
            until = raised.recorded_at + timedelta(days=3)
            recorded.append(self._record(AlertSnoozed, raised, 1800, event_id=rules.derived_id(
                "alert_snoozed", alert_id, self.assignee, until.isoformat()), data=AlertSnoozedData(
                alert_id=alert_id, by=self.assignee, until=until)))
        self.alerted_at[inquiry_id] = recorded[-1].recorded_at
        return recorded

    def _recalculated(self, event: EventEnvelope) -> list[EventEnvelope]:
        inquiry_id = event.data.inquiry_id
        facts = self.facts[inquiry_id]
        if isinstance(event, InquiryPaused):
            pauses, cause = (*facts.pauses, Pause(event.data.paused_on)), RecalculationCause.PAUSED
            facts = InquiryFacts(**{**vars(facts), "pauses": pauses})
        elif isinstance(event, InquiryResumed):
            pauses = tuple(Pause(p.start, p.end or event.data.resumed_on) for p in facts.pauses)
            facts, cause = InquiryFacts(**{**vars(facts), "pauses": pauses}), RecalculationCause.RESUMED
        else:
            extension = Extension(event.data.due_at, date.fromisoformat(event.occurred_at[:10]))
            facts = InquiryFacts(**{**vars(facts), "extension": extension})
            cause = RecalculationCause.EXTENDED
        self.facts[inquiry_id] = facts
        previous, deadline = self.deadlines[inquiry_id], self._deadline(inquiry_id)
        if deadline == previous:
            return []
        revision = self.revisions[inquiry_id] + 1
        self.revisions[inquiry_id], self.deadlines[inquiry_id] = revision, deadline
        return [self._record(DeadlineRecalculated, event, 5, event_id=rules.derived_id(
            "deadline_recalculated", inquiry_id, revision), data=DeadlineRecalculatedData(
            inquiry_id=inquiry_id, revision=revision, cause=cause,
            previous_due_at=previous.due_at, deadline=deadline, explanation=explain(deadline)))]

    def _reprisal(self, threat: ThreatReported) -> list[EventEnvelope]:
        timer = rules.reprisal_timer(threat.case_id, threat.event_id, threat.recorded_at)
        raised = self._record(AlertRaised, threat, 2, event_id=timer.alert_id, data=AlertRaisedData(
            alert_id=timer.alert_id, kind=AlertKind.REPRISAL_REPORTED, due_at=threat.recorded_at,
            recipients=[self.assignee, "supervisor-1"],
            reason="a threat or reprisal was reported"))
        return [raised, self._delivery(raised)]

    def _delivery(self, raised: AlertRaised) -> EventEnvelope:
        data = raised.data
        if self.rng.random() < 0.1:
            return self._record(AlertDeliveryFailed, raised, 7200, event_id=rules.derived_id(
                "alert_delivery_failed", data.alert_id, data.recipients[0], "email"),
                data=AlertDeliveryFailedData(alert_id=data.alert_id, recipient=data.recipients[0],
                                             channel="email", attempts=10,
                                             error="smtp_connection"))
        return self._record(AlertDelivered, raised, 20, event_id=rules.derived_id(
            "alert_delivered", data.alert_id, data.recipients[0], "email"),
            data=AlertDeliveredData(alert_id=data.alert_id, recipient=data.recipients[0],
                                    channel="email", attempts=1))

    def _deadline(self, inquiry_id: UUID) -> Deadline:
        facts = self.facts[inquiry_id]
        return compute_deadline(facts, _book().select(
            facts.recipient_kind, facts.recipient_country, facts.channel))

    def _record(self, event_type, cause: EventEnvelope, seconds: int, *, event_id: UUID,
                data, occurred_at: str | None = None) -> EventEnvelope:
        self.clock = max(self.clock, cause.recorded_at) + timedelta(seconds=seconds)
        return self.seal(event_type, event_id=event_id, occurred_at=occurred_at or _iso(self.clock),
                         recorded_at=self.clock, actor="notify", correlation_id=cause.correlation_id,
                         causation_id=cause.event_id, data=data)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")

"""Notify's own stream of events per case: appended in one transaction with the change they
record, and applied to notify's tables by one function whether notify has just decided them
or reads them back from the log (a replay into an empty store)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import insert
from sqlmodel import Session, select

from contracts import encode_event
from contracts.alert_events import (
    AlertAcknowledged,
    AlertDelivered,
    AlertDeliveryFailed,
    AlertKind,
    AlertRaised,
    AlertSnoozed,
    AlertWithdrawn,
    DeadlineRecalculated,
    DeadlineSet,
    DeliveryChannel,
)
from contracts.chain import seal
from contracts.envelope import EventEnvelope
from contracts.inquiry_events import InquiryOverdue
from contracts.values import Value
from services.notify import rules
from services.notify.store import (
    Alert,
    AlertRecipient,
    AppliedEvent,
    Delivery,
    NotifyStream,
    OutboxEvent,
    Timer,
    TrackedInquiry,
)
from services.notify.working_set import find, forget, remember, working_set

ACTOR = "notify"

ChannelsOf = Callable[[str], list[DeliveryChannel]]
"""The delivery channels open to an advocate (beside the inbox, which every advocate has)."""


@dataclass(frozen=True)
class Draft:
    """An event notify has decided, before it has a place in the case's stream."""

    type: type[EventEnvelope]
    event_id: UUID
    data: Value
    correlation_id: UUID
    causation_id: UUID | None = None
    occurred_at: str | None = None  # when it happened in the world; the decision's moment if None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def lock_stream(session: Session, case_id: UUID) -> NotifyStream:
    """The case's stream head, locked (row lock on PostgreSQL, the write lock on SQLite) so
    decisions about one case, from any task or replica, happen one after the other."""
    locked = working_set(session).locked
    if case_id not in locked:
        lock_streams(session, [case_id])
    return locked[case_id]


def lock_streams(session: Session, case_ids: Iterable[UUID]) -> None:
    """Lock several cases' streams at once, in case order, as every replica does."""
    locked = working_set(session).locked
    wanted = sorted(set(case_ids) - locked.keys())
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start:start + 500]
        statement = (select(NotifyStream).where(NotifyStream.case_id.in_(chunk))
                     .order_by(NotifyStream.case_id).with_for_update())
        locked.update((head.case_id, head) for head in session.exec(statement))
    missing = [NotifyStream(case_id=case_id) for case_id in wanted if case_id not in locked]
    if missing:
        session.add_all(missing)
        session.flush()  # a concurrent first insert fails here, and the caller tries again
        locked.update((head.case_id, head) for head in missing)


def append(
    session: Session, case_id: UUID, drafts: Iterable[Draft], *, now: datetime,
    channels_of: ChannelsOf,
) -> list[EventEnvelope]:
    """Give each draft the next place in the case's stream, keep it in the outbox and apply it.
    A draft whose event was recorded before (same derived id) is skipped."""
    head = lock_stream(session, case_id)
    recorded = []
    for draft in drafts:
        if find(session, AppliedEvent, draft.event_id) is not None:
            continue
        event = seal(
            draft.type, event_id=draft.event_id, case_id=case_id,
            sequence=head.last_sequence + 1, occurred_at=draft.occurred_at or iso(now),
            recorded_at=now,
            actor=ACTOR, correlation_id=draft.correlation_id, causation_id=draft.causation_id,
            prev_hash=head.head_hash, data=draft.data,
        )
        _keep(session, head, event, published=False)
        apply_own(session, event, channels_of=channels_of)
        recorded.append(event)
    session.add(head)
    return recorded


def record_from_log(
    session: Session, event: EventEnvelope, *, channels_of: ChannelsOf
) -> bool:
    """An event of notify's stream read back from alert-events; False if already known.

    Only a store rebuilt from the log meets its own events anew: their effects are applied
    and the stream head moves on, so new decisions continue the chain where it stands."""
    if find(session, AppliedEvent, event.event_id) is not None:
        return False
    head = lock_stream(session, event.case_id)
    if event.sequence > head.last_sequence:
        _keep(session, head, event, published=True)
    else:  # not the head's successor, yet unknown: keep only that it was seen
        _add(session, AppliedEvent(event_id=event.event_id))
    apply_own(session, event, channels_of=channels_of)
    session.add(head)
    return True


def _add(session: Session, row) -> None:
    session.add(row)
    remember(session, row)


def _keep(session: Session, head: NotifyStream, event: EventEnvelope, *, published: bool) -> None:
    head.last_sequence, head.head_hash = event.sequence, event.hash
    _add(session, AppliedEvent(event_id=event.event_id))
    session.add(OutboxEvent(
        event_id=event.event_id, case_id=event.case_id, sequence=event.sequence,
        type=event.type, body=encode_event(event).decode(), published=published,
    ))


def apply_own(session: Session, event: EventEnvelope, *, channels_of: ChannelsOf) -> None:
    """What one of notify's events changes in its tables."""
    if isinstance(event, DeadlineSet | DeadlineRecalculated):
        inquiry = find(session, TrackedInquiry, event.data.inquiry_id)
        if inquiry is None:  # a replay may read notify's stream before the case's
            inquiry = TrackedInquiry(inquiry_id=event.data.inquiry_id, case_id=event.case_id)
            remember(session, inquiry)
        if event.data.revision > inquiry.revision:
            inquiry.revision = event.data.revision
            inquiry.deadline = event.data.deadline.model_dump_json()
            inquiry.recalculation_cause = None
        session.add(inquiry)
    elif isinstance(event, AlertRaised):
        _raise(session, event, channels_of)
    elif isinstance(event, InquiryOverdue):
        _legacy_overdue(session, event)
    elif isinstance(event, AlertDelivered | AlertDeliveryFailed):
        delivery = session.get(Delivery, (event.data.alert_id, event.data.recipient,
                                          event.data.channel.value))
        if delivery is not None:
            delivery.state = "delivered" if isinstance(event, AlertDelivered) else "failed"
            delivery.attempts = max(delivery.attempts, event.data.attempts)
            session.add(delivery)
    elif isinstance(event, AlertAcknowledged | AlertSnoozed | AlertWithdrawn):
        _change_alert(session, event)


def _raise(session: Session, event: AlertRaised, channels_of: ChannelsOf) -> None:
    data = event.data
    if find(session, Alert, data.alert_id) is not None:
        return
    _add(session, Alert(
        alert_id=data.alert_id, kind=data.kind.value, case_id=event.case_id,
        inquiry_id=data.inquiry_id, deadline_due_at=data.deadline_due_at,
        deadline_revision=data.deadline_revision, due_at=data.due_at,
        raised_at=event.recorded_at, reason=data.reason,
    ))
    if data.recipients:
        session.execute(insert(AlertRecipient.__table__), [
            {"alert_id": data.alert_id, "account": account} for account in data.recipients])
    deliveries = [
        {"alert_id": data.alert_id, "recipient": account, "channel": channel.value,
         "case_id": event.case_id, "state": "pending", "attempts": 0,
         "next_attempt_at": event.recorded_at}
        for account in data.recipients for channel in channels_of(account)
    ]
    if deliveries:
        session.execute(insert(Delivery.__table__), deliveries)
    drop_timer(session, data.alert_id)


def drop_timer(session: Session, alert_id: UUID) -> None:
    timer = find(session, Timer, alert_id)
    if timer is not None:
        session.delete(timer)
        forget(session, Timer, alert_id)


def _legacy_overdue(session: Session, event: InquiryOverdue) -> None:
    """An overdue notice of an older notify counts as the overdue alert of its deadline."""
    alert_id = rules.inquiry_alert_id(AlertKind.OVERDUE, event.data.inquiry_id, event.data.due_at)
    if find(session, Alert, alert_id) is None:
        _add(session, Alert(
            alert_id=alert_id, kind=AlertKind.OVERDUE.value, case_id=event.case_id,
            inquiry_id=event.data.inquiry_id, deadline_due_at=event.data.due_at,
            due_at=event.data.due_at, raised_at=event.data.detected_at,
            reason="no answer to the inquiry (recorded by an earlier notify)",
        ))
    drop_timer(session, alert_id)


def _change_alert(
    session: Session, event: AlertAcknowledged | AlertSnoozed | AlertWithdrawn
) -> None:
    alert = find(session, Alert, event.data.alert_id)
    if alert is None:
        return
    if isinstance(event, AlertAcknowledged):
        alert.state, alert.acknowledged_by = "acknowledged", event.data.by
        alert.acknowledged_at = event.recorded_at
    elif isinstance(event, AlertSnoozed):
        alert.snoozed_until = event.data.until
    else:
        alert.state, alert.withdrawn_reason = "withdrawn", event.data.reason.value
        for delivery in session.exec(select(Delivery).where(
                Delivery.alert_id == alert.alert_id, Delivery.state == "pending")):
            delivery.state = "cancelled"  # nobody needs to be told any more
            session.add(delivery)
    session.add(alert)

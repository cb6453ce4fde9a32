"""Deciding: a case's facts become notify's events (deadlines, alerts, withdrawals), once.

Each decision runs in one transaction holding the case's stream lock, re-reads what it decides
on, and records events with ids derived from what they are about: two replicas, a restart or
a retry deciding the same thing again find it recorded and add nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete
from sqlmodel import Session, select

from contracts.alert_events import (
    AlertKind,
    AlertRaised,
    AlertRaisedData,
    AlertWithdrawn,
    AlertWithdrawnData,
    Deadline,
    DeadlineRecalculated,
    DeadlineRecalculatedData,
    DeadlineSet,
    DeadlineSetData,
    RecalculationCause,
)
from contracts.envelope import EventEnvelope
from services.notify import rules
from services.notify.deadlines import compute_deadline, explain
from services.notify.directory import Directory
from services.notify.facts import inquiry_facts
from services.notify.policies import PolicyBook, PolicyFileError
from services.notify.store import (
    Alert,
    AppliedEvent,
    CaseWatch,
    PolicyRecord,
    Timer,
    TrackedInquiry,
)
from services.notify.stream import (
    ChannelsOf,
    Draft,
    append,
    drop_timer,
    iso,
    lock_stream,
    lock_streams,
)
from services.notify.working_set import find, preload, working_set


@dataclass(frozen=True)
class Context:
    """What notify decides with: its policies, its advocates, and its settings."""

    book: PolicyBook
    directory: Directory
    channels_of: ChannelsOf
    family_silent_days: int = 30
    reprisal_window: timedelta = timedelta(days=7)


def reconcile_case(
    session: Session, case_id: UUID, ctx: Context, now: datetime
) -> list[EventEnvelope]:
    """Bring a case marked dirty up to date: deadlines, timers, withdrawn alerts."""
    lock_stream(session, case_id)
    watch = find(session, CaseWatch, case_id) or CaseWatch(case_id=case_id)
    if not watch.dirty:
        return []  # another replica got here first
    inquiries = list(session.exec(select(TrackedInquiry).where(TrackedInquiry.case_id == case_id)))
    drafts = [d for inquiry in inquiries if (d := _deadline_draft(inquiry, watch, ctx))]
    recorded = append(session, case_id, drafts, now=now, channels_of=ctx.channels_of)
    case = _case_now(watch)
    withdrawals = [
        _withdrawal(alert, reason, watch)
        for alert in session.exec(select(Alert).where(Alert.case_id == case_id,
                                                      Alert.state == "open"))
        if (reason := rules.withdrawal_reason(
            _open(alert), inquiry=_inquiry_now(_find(inquiries, alert.inquiry_id)), case=case,
            silent_days=ctx.family_silent_days))
    ]
    recorded += append(session, case_id, withdrawals, now=now, channels_of=ctx.channels_of)
    _replace_timers(session, case_id, _timers(inquiries, watch, case, ctx))
    watch.dirty = False
    session.add(watch)
    return recorded


def fire_timer(
    session: Session, alert_id: UUID, ctx: Context, now: datetime
) -> list[EventEnvelope]:
    """Raise the timer's alert if it is still called for; drop the timer either way."""
    preloaded = alert_id in working_set(session).rows.get(Timer, {})
    timer = find(session, Timer, alert_id)
    if timer is None:
        return []
    lock_stream(session, timer.case_id)
    if not preloaded:  # read again under the lock: another replica may have fired it meanwhile
        timer = session.get(Timer, alert_id, populate_existing=True)
        if timer is None:
            return []
    watch = find(session, CaseWatch, timer.case_id) or CaseWatch(case_id=timer.case_id)
    inquiry = find(session, TrackedInquiry, timer.inquiry_id) if timer.inquiry_id else None
    due = rules.Timer(timer.alert_id, rules.AlertKind(timer.kind), timer.case_id, timer.fire_at,
                      timer.inquiry_id, timer.deadline_due_at, timer.deadline_revision)
    if find(session, Alert, alert_id) is not None or not rules.still_due(
        due, now, inquiry=_inquiry_now(inquiry), case=_case_now(watch),
        silent_days=ctx.family_silent_days, reprisal_window=ctx.reprisal_window,
    ):
        drop_timer(session, alert_id)
        return []
    draft = Draft(
        AlertRaised, event_id=alert_id, occurred_at=iso(due.fire_at),
        data=AlertRaisedData(
            alert_id=alert_id, kind=due.kind, inquiry_id=due.inquiry_id,
            deadline_due_at=due.deadline_due_at, deadline_revision=due.deadline_revision,
            due_at=due.fire_at,
            recipients=rules.recipients(due.kind, watch.assignee, ctx.directory.supervisors()),
            reason=rules.reason(due, now, ctx.family_silent_days),
        ),
        correlation_id=(inquiry.correlation_id if inquiry else None) or watch.correlation_id
        or alert_id,
        causation_id=inquiry.sent_event_id if inquiry else watch.cause_event_id,
    )
    return append(session, timer.case_id, [draft], now=now, channels_of=ctx.channels_of)


def prepare_fire(session: Session, due: list[tuple[UUID, UUID]]) -> None:
    """Lock the cases of a batch of due timers and read what firing them needs, at once."""
    lock_streams(session, (case_id for _, case_id in due))
    alert_ids = [alert_id for alert_id, _ in due]
    preload(session, Timer, alert_ids)
    timers = [find(session, Timer, alert_id) for alert_id in alert_ids]
    preload(session, CaseWatch, (case_id for _, case_id in due))
    preload(session, TrackedInquiry, (t.inquiry_id for t in timers if t is not None))
    preload(session, Alert, alert_ids)
    preload(session, AppliedEvent, alert_ids)  # an alert_raised's event id is its alert id


def prepare_reconcile(session: Session, dirty: list[tuple[UUID, UUID]]) -> None:
    """Lock a batch of dirty cases and read their inquiries and what was recorded of them."""
    case_ids = [case_id for case_id, _ in dirty]
    lock_streams(session, case_ids)
    preload(session, CaseWatch, case_ids)
    inquiries = [i for start in range(0, len(case_ids), 500) for i in session.exec(
        select(TrackedInquiry).where(TrackedInquiry.case_id.in_(case_ids[start:start + 500])))]
    preload(session, TrackedInquiry, (i.inquiry_id for i in inquiries))  # from the session now
    preload(session, AppliedEvent, (
        event_id for i in inquiries
        for event_id in (rules.derived_id("deadline_set", i.inquiry_id),
                         rules.derived_id("deadline_recalculated", i.inquiry_id, i.revision + 1))))


def _deadline_draft(inquiry: TrackedInquiry, watch: CaseWatch, ctx: Context) -> Draft | None:
    facts = inquiry_facts(inquiry)
    if facts is None or inquiry.status != rules.OPEN:
        return None
    policy = ctx.book.select(facts.recipient_kind, facts.recipient_country, facts.channel)
    deadline = compute_deadline(facts, policy)
    previous = Deadline.model_validate_json(inquiry.deadline) if inquiry.deadline else None
    if deadline == previous:
        return None
    common = {"correlation_id": inquiry.correlation_id or watch.correlation_id or inquiry.inquiry_id,
              "causation_id": watch.cause_event_id}
    if previous is None:
        return Draft(DeadlineSet, event_id=rules.derived_id("deadline_set", inquiry.inquiry_id),
                     data=DeadlineSetData(inquiry_id=inquiry.inquiry_id, deadline=deadline,
                                          explanation=explain(deadline)), **common)
    revision = inquiry.revision + 1
    cause = RecalculationCause(inquiry.recalculation_cause or RecalculationCause.POLICY_CHANGED)
    return Draft(
        DeadlineRecalculated,
        event_id=rules.derived_id("deadline_recalculated", inquiry.inquiry_id, revision),
        data=DeadlineRecalculatedData(
            inquiry_id=inquiry.inquiry_id, revision=revision, cause=cause,
            previous_due_at=previous.due_at, deadline=deadline, explanation=explain(deadline),
        ), **common,
    )


def _timers(
    inquiries: list[TrackedInquiry], watch: CaseWatch, case: rules.CaseNow, ctx: Context
) -> list[rules.Timer]:
    if watch.closed:
        return []
    timers = [
        timer for inquiry in inquiries if inquiry.status == rules.OPEN
        for timer in rules.inquiry_timers(watch.case_id, inquiry.inquiry_id, inquiry.revision,
                                          _deadline(inquiry))
    ]
    family = rules.family_silence_timer(watch.case_id, case, ctx.family_silent_days)
    return timers + ([family] if family else [])


def _replace_timers(session: Session, case_id: UUID, timers: list[rules.Timer]) -> None:
    """The case's timers become exactly these (reprisals aside), minus alerts already raised."""
    session.execute(delete(Timer).where(Timer.case_id == case_id,
                                        Timer.kind != AlertKind.REPRISAL_REPORTED.value))
    raised = set(session.exec(select(Alert.alert_id).where(Alert.case_id == case_id)))
    for timer in timers:
        if timer.alert_id not in raised:
            session.add(Timer(
                alert_id=timer.alert_id, kind=timer.kind.value, case_id=case_id,
                fire_at=timer.fire_at, inquiry_id=timer.inquiry_id,
                deadline_due_at=timer.deadline_due_at, deadline_revision=timer.deadline_revision,
            ))


def _withdrawal(alert: Alert, reason, watch: CaseWatch) -> Draft:
    return Draft(
        AlertWithdrawn, event_id=rules.derived_id("alert_withdrawn", alert.alert_id),
        data=AlertWithdrawnData(alert_id=alert.alert_id, reason=reason),
        correlation_id=watch.correlation_id or alert.alert_id, causation_id=watch.cause_event_id,
    )


def _deadline(inquiry: TrackedInquiry | None) -> Deadline | None:
    if inquiry is None or inquiry.deadline is None:
        return None
    return Deadline.model_validate_json(inquiry.deadline)


def _inquiry_now(inquiry: TrackedInquiry | None) -> rules.InquiryNow | None:
    if inquiry is None:
        return None
    return rules.InquiryNow(inquiry.status, inquiry.revision, _deadline(inquiry))


def _case_now(watch: CaseWatch) -> rules.CaseNow:
    return rules.CaseNow(watch.closed, watch.contact_lost, watch.last_heard_at)


def _open(alert: Alert) -> rules.OpenAlert:
    return rules.OpenAlert(alert.alert_id, AlertKind(alert.kind), alert.case_id, alert.inquiry_id,
                           alert.deadline_due_at)


def _find(inquiries: list[TrackedInquiry], inquiry_id: UUID | None) -> TrackedInquiry | None:
    return next((i for i in inquiries if i.inquiry_id == inquiry_id), None)


def adopt_policies(session: Session, book: PolicyBook) -> int:
    """Record the policy versions in use; a new one marks every open inquiry's case for
    recalculation. Returns how many new versions there were.

    A policy whose content changed but kept its version is refused: its deadlines would move
    with nothing on the log to say why.
    """
    recorded = {r.label: r.digest for r in session.exec(select(PolicyRecord))}
    new = {}
    for label, digest in book.digests().items():
        if label not in recorded:
            new[label] = digest
        elif recorded[label] != digest:
            raise PolicyFileError(
                f"policy {label} differs from the {label} applied before; "
                "a changed policy needs a new version")
    if not new:
        return 0
    for label, digest in new.items():
        session.add(PolicyRecord(label=label, digest=digest))
    open_inquiries = session.exec(select(TrackedInquiry).where(TrackedInquiry.status == rules.OPEN))
    for inquiry in open_inquiries:
        watch = session.get(CaseWatch, inquiry.case_id) or CaseWatch(case_id=inquiry.case_id)
        watch.dirty = True
        session.add(watch)
    return len(new)

"""Casefile shows notify's deadlines and overdue alerts on the inquiry, whatever order the two
topics are folded in, and an extended or paused inquiry is no longer shown overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from contracts.alert_events import (
    AlertKind,
    AlertRaised,
    AlertRaisedData,
    Deadline,
    DeadlineRecalculated,
    DeadlineRecalculatedData,
    DeadlineRule,
    DeadlineSet,
    DeadlineSetData,
    RecalculationCause,
)
from contracts.chain import seal
from contracts.inquiry_events import (
    InquiryPaused,
    InquiryPausedData,
    InquiryResumed,
    InquiryResumedData,
)
from services.casefile.projections import AWAITING, OVERDUE, PAUSED
from tests.unit.test_casefile_projections import (
    CASE,
    INQUIRY,
    envelope,
    fold,
    inquiry_sent,
    interleave,
    report,
)

DUE = datetime(2025, 3, 14, tzinfo=UTC)
EXTENDED = DUE + timedelta(days=30)
EXPLANATION = "due 2025-03-13: 20 business days after 2025-02-13, China calendar, policy embassy-v1"


def notify_event(model, seq: int, data):
    return seal(model, **{**envelope(seq, "2025-03-01", minutes=30 + seq), "actor": "notify"},
                data=data)


def deadline_set(due=DUE):
    deadline = Deadline(rule=DeadlineRule.POLICY, due_at=due, due_on=(due - timedelta(1)).date())
    return notify_event(DeadlineSet, 1, DeadlineSetData(
        inquiry_id=INQUIRY, deadline=deadline, explanation=EXPLANATION))


def overdue_alert(seq: int = 2, due=DUE):
    return notify_event(AlertRaised, seq, AlertRaisedData(
        alert_id=uuid4(), kind=AlertKind.OVERDUE, inquiry_id=INQUIRY, deadline_due_at=due,
        due_at=due, recipients=["caseworker-7"], reason="no answer to the inquiry due 2025-03-13"))


def extended(seq: int = 3):
    deadline = Deadline(rule=DeadlineRule.EXTENDED, due_at=EXTENDED, due_on=EXTENDED.date())
    return notify_event(DeadlineRecalculated, seq, DeadlineRecalculatedData(
        inquiry_id=INQUIRY, revision=2, cause=RecalculationCause.EXTENDED, previous_due_at=DUE,
        deadline=deadline, explanation="due 2025-04-13: extended on 2025-03-20"))


NOTIFY = [deadline_set(), overdue_alert()]
CASE_EVENTS = [report(1), inquiry_sent(2, sent_at="2025-02-13")]


def test_the_inquiry_shows_notifys_deadline_and_how_it_was_worked_out():
    cases, inquiries, _ = fold(CASE_EVENTS + [deadline_set()])
    inquiry = inquiries[INQUIRY]
    assert (inquiry.state, inquiry.due_at, inquiry.due_explanation) == (
        AWAITING, "2025-03-14T00:00:00.000000Z", EXPLANATION)


def test_an_overdue_alert_marks_the_inquiry_and_the_case_overdue():
    cases, inquiries, _ = fold(CASE_EVENTS + NOTIFY)
    assert inquiries[INQUIRY].state == OVERDUE
    assert (cases[CASE].inquiries_open, cases[CASE].inquiries_overdue) == (1, 1)


def test_an_extension_past_the_passed_deadline_makes_the_inquiry_awaiting_again():
    cases, inquiries, _ = fold(CASE_EVENTS + NOTIFY + [extended()])
    assert inquiries[INQUIRY].state == AWAITING
    assert inquiries[INQUIRY].due_explanation == "due 2025-04-13: extended on 2025-03-20"
    assert cases[CASE].inquiries_overdue == 0


def test_a_paused_inquiry_shows_since_when_and_counts_as_open_not_overdue():
    paused = seal(InquiryPaused, **envelope(3, "2025-03-15", minutes=3),
                  data=InquiryPausedData(inquiry_id=INQUIRY, paused_on=date(2025, 3, 15)))
    cases, inquiries, _ = fold(CASE_EVENTS + NOTIFY + [paused])
    assert (inquiries[INQUIRY].state, inquiries[INQUIRY].paused_since) == (PAUSED, "2025-03-15")
    assert (cases[CASE].inquiries_open, cases[CASE].inquiries_overdue) == (1, 0)
    resumed = seal(InquiryResumed, **envelope(4, "2025-03-20", minutes=4),
                   data=InquiryResumedData(inquiry_id=INQUIRY, resumed_on=date(2025, 3, 20)))
    _, inquiries, _ = fold(CASE_EVENTS + NOTIFY + [paused, resumed])
    assert (inquiries[INQUIRY].state, inquiries[INQUIRY].paused_since) == (OVERDUE, None)


def paused_deadline(seq: int = 3):
    deadline = Deadline(rule=DeadlineRule.POLICY, due_at=None, due_on=None, paused=True)
    return notify_event(DeadlineRecalculated, seq, DeadlineRecalculatedData(
        inquiry_id=INQUIRY, revision=2, cause=RecalculationCause.PAUSED, previous_due_at=DUE,
        deadline=deadline, explanation="clock stopped: no deadline runs while the inquiry is "
                                       "paused (policy embassy-v1)"))


EXPLICIT = [report(1), inquiry_sent(2, sent_at="2025-02-13", due_at=DUE)]


@given(st.lists(st.booleans(), max_size=8))
def test_deadlines_and_alerts_fold_the_same_whichever_topic_comes_first(choices):
    notify = NOTIFY + [extended()]
    assert fold(interleave(CASE_EVENTS, notify, choices)) == fold(CASE_EVENTS + notify)


@given(st.lists(st.booleans(), max_size=8))
def test_a_stopped_clock_overrides_an_explicit_due_date_whichever_topic_comes_first(choices):
    notify = [deadline_set(), paused_deadline()]
    folded = fold(interleave(EXPLICIT, notify, choices))
    assert folded == fold(EXPLICIT + notify)
    assert folded[1][INQUIRY].due_at is None

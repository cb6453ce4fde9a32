"""Casefile with the full catalogue: the subject's status, closing, and withdrawn inquiries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contracts.chain import seal
from contracts.events import (
    CaseClosed,
    CaseClosedData,
    CaseReopened,
    CaseReopenedData,
    FollowUpSent,
    FollowUpSentData,
    InquiryWithdrawn,
    InquiryWithdrawnData,
    NoteAdded,
    NoteAddedData,
    StatusChanged,
    StatusChangedData,
)
from services.casefile.projections import ANSWERED, CLOSED, OPEN, WITHDRAWN
from tests.unit.test_casefile_projections import (
    ALERTS,
    CASE,
    INQUIRY,
    envelope,
    fold,
    inquiry_sent,
    interleave,
    overdue,
    report,
    response,
)


def status(seq: int, value: str, effective_at: str) -> StatusChanged:
    return seal(
        StatusChanged,
        **envelope(seq, effective_at, minutes=seq),
        data=StatusChangedData(status=value, effective_at=effective_at, source="Fictional source."),
    )


def closed(seq: int) -> CaseClosed:
    return seal(
        CaseClosed,
        **envelope(seq, "2025-03-01", minutes=seq),
        data=CaseClosedData(outcome="released"),
    )


def reopened(seq: int) -> CaseReopened:
    return seal(
        CaseReopened,
        **envelope(seq, "2025-03-02", minutes=seq),
        data=CaseReopenedData(reason="Fictional: detained again."),
    )


def withdrawn(seq: int) -> InquiryWithdrawn:
    return seal(
        InquiryWithdrawn,
        **envelope(seq, "2025-02-25", minutes=seq),
        data=InquiryWithdrawnData(inquiry_id=INQUIRY, withdrawn_at="2025-02-25"),
    )


def test_the_status_with_the_latest_effective_date_wins_whatever_order_it_was_recorded_in():
    cases, _, _ = fold(
        [report(1), status(2, "detained", "2018"), status(3, "sentenced", "2019-11")]
    )
    assert cases[CASE].status == "sentenced"
    # learnt late about the past: recorded last, but effective earlier than what is known
    cases, _, _ = fold(
        [report(1), status(2, "sentenced", "2019-11"), status(3, "detained", "2018")]
    )
    assert cases[CASE].status == "sentenced"


def test_on_the_same_effective_date_the_later_event_wins():
    cases, _, _ = fold([report(1), status(2, "unknown", "2019"), status(3, "detained", "2019")])
    assert cases[CASE].status == "detained"


def test_a_closed_case_shows_closed_and_its_status_returns_when_reopened():
    events = [report(1), status(2, "released", "2025-02"), closed(3)]
    cases, _, _ = fold(events)
    assert (cases[CASE].status, cases[CASE].subject_status) == (CLOSED, "released")
    cases, _, _ = fold([*events, reopened(4)])
    assert cases[CASE].status == "released"
    cases, _, _ = fold([report(1), closed(2), reopened(3)])
    assert cases[CASE].status == OPEN


def test_a_withdrawn_inquiry_is_neither_open_nor_answered():
    cases, inquiries, _ = fold([report(1), inquiry_sent(2), withdrawn(3)])
    assert inquiries[INQUIRY].state == WITHDRAWN
    case = cases[CASE]
    assert (case.inquiries_open, case.inquiries_overdue, case.inquiries_answered) == (0, 0, 0)


def test_withdrawing_an_answered_inquiry_takes_it_out_of_the_answered_count():
    cases, inquiries, _ = fold([report(1), inquiry_sent(2), response(3), withdrawn(4)])
    assert inquiries[INQUIRY].state == WITHDRAWN and cases[CASE].inquiries_answered == 0
    assert inquiries[INQUIRY].answered_at == "2025-02-20"


@given(st.lists(st.booleans(), max_size=6))
def test_an_overdue_alert_never_revives_a_withdrawn_inquiry_whenever_it_arrives(choices):
    intake = [report(1), inquiry_sent(2), withdrawn(3)]
    cases, inquiries, _ = fold(interleave(intake, ALERTS, choices))
    assert fold(interleave(intake, ALERTS, choices)) == fold(intake + ALERTS)
    assert inquiries[INQUIRY].state == WITHDRAWN and cases[CASE].inquiries_overdue == 0


def test_other_new_events_land_on_the_timeline_and_leave_the_counts_alone():
    follow_up = seal(
        FollowUpSent,
        **envelope(3, "2025-02-15", minutes=3),
        data=FollowUpSentData(inquiry_id=INQUIRY, channel="email", sent_at="2025-02-15"),
    )
    note = seal(
        NoteAdded, **envelope(4, "2025-03-01", minutes=4), data=NoteAddedData(text="Fictional.")
    )
    cases, inquiries, timeline = fold([report(1), inquiry_sent(2), follow_up, note, overdue()])
    assert cases[CASE].inquiries_open == 1 and cases[CASE].last_sequence == 4
    assert inquiries[INQUIRY].state != ANSWERED
    assert {e.type for e in timeline.values()} >= {"follow_up_sent", "note_added"}

"""Casefile projections, pure: events folded into case, inquiry and timeline views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from contracts import encode_event
from contracts.chain import seal
from contracts.events import (
    RECORDED_EVENT_TYPES,
    ContactLost,
    ContactLostData,
    InquiryOverdue,
    InquiryOverdueData,
    InquirySent,
    InquirySentData,
    LastContact,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
    ReportReceived,
    ReportReceivedData,
)
from contracts.values import Channel, Recipient, RecipientKind, Reporter, Subject
from services.casefile.inquiry_projection import _ABOUT_AN_INQUIRY
from services.casefile.projections import (
    ALERT_STREAM,
    ANSWERED,
    AWAITING,
    AWAITING_REPORT,
    CASE_STREAM,
    OPEN,
    OVERDUE,
    apply,
    event_row,
    inquiry_id_of,
)

CASE = UUID("11111111-1111-4111-8111-111111111111")
INQUIRY = UUID("22222222-2222-4222-8222-222222222222")
RECORDED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def envelope(sequence: int, occurred_at: str, *, minutes: int = 0) -> dict:
    return dict(
        event_id=uuid4(), case_id=CASE, sequence=sequence, occurred_at=occurred_at,
        recorded_at=RECORDED + timedelta(minutes=minutes), actor="caseworker-1",
        correlation_id=uuid4(), prev_hash=None,
    )


def report(seq: int = 1, occurred_at: str = "2020-03-01") -> ReportReceived:
    return seal(ReportReceived, **envelope(seq, occurred_at, minutes=seq), data=ReportReceivedData(
        subject=Subject(name="Fictional Person"),
        reporter=Reporter(name="Fictional Sister", relationship="sister"),
        summary="Fictional demo: did not come home.",
    ))


def contact_lost(seq: int, last_contact_at: str) -> ContactLost:
    return seal(ContactLost, **envelope(seq, last_contact_at, minutes=seq), data=ContactLostData(
        last_contact=LastContact(at=last_contact_at),
        circumstances="Fictional: phone switched off."))


def inquiry_sent(seq: int, sent_at: str = "2025-02-10", due_at: datetime | None = None):
    return seal(InquirySent, **envelope(seq, sent_at, minutes=seq), data=InquirySentData(
        inquiry_id=INQUIRY,
        recipient=Recipient(name="Fictional Embassy", kind=RecipientKind.EMBASSY, country="CN"),
        channel=Channel.LETTER, sent_at=sent_at, due_at=due_at,
    ))


def response(seq: int, received_at: str = "2025-02-20") -> OfficialResponseReceived:
    return seal(
        OfficialResponseReceived,
        **envelope(seq, received_at, minutes=seq),
        data=OfficialResponseReceivedData(inquiry_id=INQUIRY, received_at=received_at,
                                          summary="Fictional: no record."),
    )


def overdue(seq: int = 1) -> InquiryOverdue:
    due = datetime(2025, 3, 12, tzinfo=UTC)
    return seal(
        InquiryOverdue,
        **{**envelope(seq, "2025-03-12T00:00:00Z", minutes=20), "actor": "notify"},
        data=InquiryOverdueData(
            inquiry_id=INQUIRY, due_at=due, detected_at=due + timedelta(minutes=1)
        ),
    )


def stream_of(event) -> str:
    return ALERT_STREAM if event.actor == "notify" else CASE_STREAM


def fold(events):
    """What the store does, minus the database: dedupe by event_id, then apply."""
    cases, inquiries, timeline = {}, {}, {}
    for event in events:
        if event.event_id in timeline:
            continue
        inquiry_id = inquiry_id_of(event)
        applied = apply(cases.get(event.case_id), inquiries.get(inquiry_id), event,
                        stream=stream_of(event), body=encode_event(event).decode())
        cases[event.case_id] = applied.case
        if applied.inquiry is not None:
            inquiries[inquiry_id] = applied.inquiry
        timeline[event.event_id] = applied.row
    return cases, inquiries, timeline


def ordered_timeline(timeline) -> list[str]:
    entries = sorted(timeline.values(), key=lambda e: (e.occurred_sort, e.recorded_at, e.sequence))
    return [e.type for e in entries]


def test_a_case_from_report_to_answered_inquiry():
    events = [report(1), contact_lost(2, "2017-05"), inquiry_sent(3), response(4)]
    cases, inquiries, timeline = fold(events)

    case = cases[CASE]
    assert (case.status, case.subject_name) == (OPEN, "Fictional Person")
    assert (case.opened_at, case.last_contact_at, case.last_sequence) == (
        "2020-03-01", "2017-05", 4)
    assert (case.inquiries_open, case.inquiries_overdue, case.inquiries_answered) == (0, 0, 1)
    inquiry = inquiries[INQUIRY]
    assert (inquiry.state, inquiry.answered_at, inquiry.recipient_country) == (
        ANSWERED, "2025-02-20", "CN")
    # The contact loss of 2017 was learnt after the 2020 report but comes first in the timeline.
    assert ordered_timeline(timeline) == [
        "contact_lost", "report_received", "inquiry_sent", "official_response_received",
    ]


def test_overdue_then_answered_counts_once_as_answered():
    cases, inquiries, _ = fold([report(1), inquiry_sent(2)])
    assert (cases[CASE].inquiries_open, inquiries[INQUIRY].state) == (1, AWAITING)

    cases, inquiries, _ = fold([report(1), inquiry_sent(2), overdue()])
    case = cases[CASE]
    assert (case.inquiries_open, case.inquiries_overdue, case.inquiries_answered) == (1, 1, 0)
    assert inquiries[INQUIRY].state == OVERDUE
    assert inquiries[INQUIRY].due_at == "2025-03-12T00:00:00.000000Z"

    cases, inquiries, _ = fold([report(1), inquiry_sent(2), overdue(), response(3)])
    case = cases[CASE]
    assert (case.inquiries_open, case.inquiries_overdue, case.inquiries_answered) == (0, 0, 1)
    assert inquiries[INQUIRY].state == ANSWERED


def test_a_late_overdue_alert_does_not_reopen_an_answered_inquiry():
    cases, inquiries, timeline = fold([report(1), inquiry_sent(2), response(3), overdue()])
    assert inquiries[INQUIRY].state == ANSWERED
    assert (cases[CASE].inquiries_open, cases[CASE].inquiries_answered) == (0, 1)
    assert "inquiry_overdue" in ordered_timeline(timeline)  # recorded, not lost


def test_an_alert_that_overtakes_the_report_is_kept_and_the_case_completes_later():
    cases, inquiries, timeline = fold([overdue()])
    assert cases[CASE].status == AWAITING_REPORT and cases[CASE].subject_name is None
    assert inquiries[INQUIRY].state == OVERDUE and inquiries[INQUIRY].recipient_name is None
    assert len(timeline) == 1

    cases, inquiries, _ = fold([overdue(), report(1), inquiry_sent(2)])
    assert cases[CASE].status == OPEN and cases[CASE].inquiries_overdue == 1
    assert inquiries[INQUIRY].recipient_name == "Fictional Embassy"
    assert cases[CASE].last_sequence == 2  # notify's own sequence numbers are not the case's


INTAKE = [
    report(1), contact_lost(2, "2019"), inquiry_sent(3), contact_lost(4, "2018-07-01"), response(5),
]
ALERTS = [overdue()]


def interleave(left, right, choices):
    left, right, out = list(left), list(right), []
    for take_left in choices:
        if left and (take_left or not right):
            out.append(left.pop(0))
        elif right:
            out.append(right.pop(0))
    return out + left + right


@given(st.lists(st.booleans(), max_size=8))
def test_the_read_model_does_not_depend_on_how_the_two_topics_interleave(choices):
    assert fold(interleave(INTAKE, ALERTS, choices)) == fold(INTAKE + ALERTS)


@given(st.lists(st.booleans(), max_size=8))
def test_an_explicit_deadline_and_an_alert_agree_whichever_comes_first(choices):
    due = datetime(2025, 3, 1, tzinfo=UTC)
    intake = [report(1), inquiry_sent(2, due_at=due)]
    assert fold(interleave(intake, ALERTS, choices)) == fold(intake + ALERTS)


def test_redelivered_events_change_nothing():
    events = [report(1), inquiry_sent(2), overdue(), response(3)]
    assert fold(events + events + events[:2]) == fold(events)


def test_last_contact_is_the_latest_date_whatever_order_it_was_reported_in():
    cases, _, _ = fold([report(1), contact_lost(2, "2019"), contact_lost(3, "2018-07-01")])
    assert cases[CASE].last_contact_at == "2019"
    cases, _, _ = fold([report(1), contact_lost(2, "2018-07-01"), contact_lost(3, "2019-01-01")])
    assert cases[CASE].last_contact_at == "2019-01-01"


def test_timeline_orders_partial_dates_vaguest_first_on_a_tie():
    dates = [
        "2017-05-14T09:30:00Z", "2017-05", "2017",
        "2016-12-31T23:00:00-02:00", "2017-05-14", "2016",
    ]
    entries = [event_row(contact_lost(i + 2, d), stream=CASE_STREAM, body="{}")
               for i, d in enumerate(dates)]
    ordered = [e.occurred_at for e in sorted(entries, key=lambda e: e.occurred_sort)]
    assert ordered == [
        "2016", "2017", "2017-01-01T01:00:00Z", "2017-05", "2017-05-14", "2017-05-14T09:30:00Z",
    ]


def test_a_stored_event_keeps_its_bytes_as_recorded_and_fixed_width_instants():
    event = inquiry_sent(3, due_at=datetime(2025, 3, 1, 6, 0, tzinfo=UTC))
    body = encode_event(event).decode()
    row = event_row(event, stream=CASE_STREAM, body=body)
    assert row == event_row(event, stream=CASE_STREAM, body=body)
    assert row.body == body
    assert (row.recorded_at, row.occurred_sort) == (
        "2025-03-01T09:03:00.000000Z", "2025-02-10T00:00:00.000000|2")
    assert (row.type, row.schema_version, row.stream) == ("inquiry_sent", 1, CASE_STREAM)


def test_every_event_type_about_an_inquiry_is_projected_onto_it():
    about_an_inquiry = {
        model for model in RECORDED_EVENT_TYPES
        if "inquiry_id" in model.model_fields["data"].annotation.model_fields
    }
    assert about_an_inquiry == set(_ABOUT_AN_INQUIRY)

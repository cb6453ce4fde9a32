"""A case's whole file folded from its events, and the list columns caseworkers filter by."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from contracts.chain import seal
from contracts.events import (
    CaseAssigned,
    CaseAssignedData,
    ContactRestored,
    ContactRestoredData,
    FollowUpSent,
    FollowUpSentData,
    InformationReceived,
    InformationReceivedData,
    InquirySent,
    InquirySentData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
    ReportReceived,
    ReportReceivedData,
    ThreatReported,
    ThreatReportedData,
)
from contracts.values import Channel, Consent, Recipient, RecipientKind, Reporter, Subject
from services.casefile.case_file import fold_case
from services.casefile.projections import ANSWERED, LOST, OVERDUE, RESTORED, days_between
from tests.unit.test_casefile_catalogue import closed, reopened, status, withdrawn
from tests.unit.test_casefile_projections import (
    ALERTS,
    CASE,
    INQUIRY,
    contact_lost,
    envelope,
    fold,
    inquiry_sent,
    interleave,
    overdue,
    report,
    response,
    stream_of,
)

SECOND_INQUIRY = UUID("33333333-3333-4333-8333-333333333333")


def full_report(seq: int = 1) -> ReportReceived:
    return seal(ReportReceived, **envelope(seq, "2020-03-01", minutes=seq), data=ReportReceivedData(
        subject=Subject(name="Fictional Person", date_of_birth="1984-03",
                        other_names=[{"value": "Фиктивный Человек", "kind": "russian_cyrillic"}]),
        reporter=Reporter(name="Fictional Sister", relationship="sister",
                          contact={"phone": "+7 700 000 0000"}),
        summary="Fictional demo: did not come home.",
        consent=Consent(share_with_un_bodies=True),
    ))


def information(seq: int, received_at: str, reliability: str) -> InformationReceived:
    return seal(InformationReceived, **envelope(seq, received_at, minutes=seq),
                data=InformationReceivedData(
                    received_at=received_at, source="a fictional neighbour",
                    reliability=reliability, content=f"Fictional: {reliability} news."))


def threat(seq: int, happened_at: str) -> ThreatReported:
    return seal(ThreatReported, **envelope(seq, happened_at, minutes=seq), data=ThreatReportedData(
        target="family", kind="questioning", happened_at=happened_at,
        description="Fictional: relatives questioned about the NGO."))


def assigned(seq: int, assignee: str) -> CaseAssigned:
    return seal(CaseAssigned, **envelope(seq, "2025-03-01", minutes=seq),
                data=CaseAssignedData(assignee=assignee))


def restored(seq: int, restored_at: str) -> ContactRestored:
    return seal(ContactRestored, **envelope(seq, restored_at, minutes=seq),
                data=ContactRestoredData(restored_at=restored_at, circumstances="Fictional call."))


def second_inquiry(seq: int, sent_at: str, name: str = "FICTIONAL  embassy") -> InquirySent:
    return seal(InquirySent, **envelope(seq, sent_at, minutes=seq), data=InquirySentData(
        inquiry_id=SECOND_INQUIRY,
        recipient=Recipient(name=name, kind=RecipientKind.EMBASSY, country="CN"),
        channel=Channel.EMAIL, sent_at=sent_at))


def classified_response(seq: int, received_at: str) -> OfficialResponseReceived:
    return seal(OfficialResponseReceived, **envelope(seq, received_at, minutes=seq),
                data=OfficialResponseReceivedData(
                    inquiry_id=INQUIRY, received_at=received_at, summary="Fictional: sentenced.",
                    classification="sentence_disclosed"))


def follow_up(seq: int, sent_at: str) -> FollowUpSent:
    return seal(FollowUpSent, **envelope(seq, sent_at, minutes=seq),
                data=FollowUpSentData(inquiry_id=INQUIRY, channel="email", sent_at=sent_at))


def file_of(events):
    return fold_case((stream_of(e), e) for e in events)


def test_the_case_file_shows_people_consent_information_and_threats():
    events = [
        full_report(1), information(2, "2024-05", "rumour"), threat(3, "2024-06-02"),
        information(4, "2024-11-20", "confirmed"), information(5, "2024-07", "unverified"),
        threat(6, "2023"), assigned(7, "caseworker-3"),
    ]
    folded = file_of(events)

    assert folded.subject["other_names"][0] == {"value": "Фиктивный Человек",
                                                "kind": "russian_cyrillic"}
    assert folded.subject["date_of_birth"] == "1984-03"
    # fields the report left at their default are there all the same: one shape for the view
    assert (folded.subject["identity_documents"], folded.subject["last_known_place"]) == ([], None)
    assert folded.reporter["contact"] == {"phone": "+7 700 000 0000", "email": None,
                                          "messenger": None, "address": None}
    assert folded.consent == {"share_with_un_bodies": True, "share_with_media": False,
                              "share_with_partner_ngos": False}
    # the latest by the date it arrived, not the last recorded
    latest = folded.latest_information
    assert (latest.received_at, latest.reliability) == ("2024-11-20", "confirmed")
    assert folded.information_received == 3
    assert [t.happened_at for t in folded.threats] == ["2023", "2024-06-02"]
    assert folded.case.threats_reported == 2
    assert folded.case.assignee == "caseworker-3"
    assert folded.events == len(events)


def test_folding_a_case_gives_the_same_case_and_inquiries_as_the_incremental_list_views():
    events = [full_report(1), contact_lost(2, "2017-05"), inquiry_sent(3), follow_up(4, "2025-03"),
              classified_response(5, "2025-03-20"), second_inquiry(6, "2025-04-01"), overdue()]
    cases, inquiries, _ = fold(events)
    folded = file_of(events)
    assert folded.case == cases[CASE]
    assert {i.inquiry_id: i for i in folded.inquiries} == inquiries


def test_no_events_is_no_case():
    assert fold_case([]) is None


def test_a_closed_case_remembers_its_outcome_until_it_is_reopened():
    assert file_of([report(1), closed(2)]).closed_outcome == "released"
    assert file_of([report(1), closed(2), reopened(3)]).closed_outcome is None


def test_contact_state_follows_the_latest_dated_contact_whatever_order_it_was_recorded_in():
    cases, _, _ = fold([report(1), contact_lost(2, "2017-05"), restored(3, "2024-11-02")])
    case = cases[CASE]
    assert (case.last_contact_at, case.contact_state) == ("2024-11-02", RESTORED)
    assert case.last_contact_until == "2024-11-02T23:59:59.999999Z"
    # the family reports in 2025 a loss of contact dated before the restored call: still in touch
    cases, _, _ = fold([report(1), restored(2, "2024-11-02"), contact_lost(3, "2018")])
    assert (cases[CASE].last_contact_at, cases[CASE].contact_state) == ("2024-11-02", RESTORED)
    cases, _, _ = fold([report(1), restored(2, "2019"), contact_lost(3, "2024-12")])
    assert (cases[CASE].contact_state, cases[CASE].last_contact_until) == (
        LOST, "2024-12-31T23:59:59.999999Z")


def test_an_answer_records_how_many_days_it_took_and_how_it_was_classified():
    _, inquiries, _ = fold([report(1), inquiry_sent(2, "2025-02-10"),
                            classified_response(3, "2025-03-20")])
    inquiry = inquiries[INQUIRY]
    assert (inquiry.state, inquiry.days_to_answer, inquiry.classification) == (
        ANSWERED, 38, "sentence_disclosed")


def test_days_to_answer_is_left_unknown_rather_than_guessed_from_vague_or_impossible_dates():
    _, inquiries, _ = fold([report(1), inquiry_sent(2, "2025-02"), response(3, "2025-03-20")])
    assert inquiries[INQUIRY].days_to_answer is None
    _, inquiries, _ = fold([report(1), inquiry_sent(2, "2025-02-10"), response(3, "2025-01-20")])
    assert inquiries[INQUIRY].days_to_answer is None
    assert days_between("2025-02-10", "2025-02-10T23:00:00Z") == 0


def test_follow_ups_are_counted_with_the_latest_date():
    _, inquiries, _ = fold([report(1), inquiry_sent(2), follow_up(3, "2025-04-01"),
                            follow_up(4, "2025-03")])
    assert (inquiries[INQUIRY].follow_ups, inquiries[INQUIRY].last_follow_up_at) == (
        2, "2025-04-01")


def test_one_institution_however_its_name_was_typed():
    _, inquiries, _ = fold([report(1), inquiry_sent(2),
                            second_inquiry(3, "2025-02-11", name="fictional   Embassy")])
    assert inquiries[INQUIRY].recipient_key == inquiries[SECOND_INQUIRY].recipient_key
    assert inquiries[INQUIRY].recipient_key == "CN|embassy|fictional embassy"


def test_status_changes_and_the_last_activity_are_tracked():
    cases, _, _ = fold([report(1), status(2, "detained", "2018"), overdue()])
    assert cases[CASE].status == "detained"
    assert cases[CASE].last_recorded_at == "2025-03-01T09:20:00.000000Z"  # the alert's
    assert cases[CASE].last_sequence == 2


@given(st.lists(st.booleans(), max_size=10))
def test_the_case_file_does_not_depend_on_how_the_two_streams_interleave(choices):
    intake = [full_report(1), inquiry_sent(2), threat(3, "2024"), withdrawn(4),
              information(5, "2025-01", "rumour")]
    assert file_of(interleave(intake, ALERTS, choices)) == file_of(intake + ALERTS)


def test_an_overdue_inquiry_shows_its_deadline_in_the_file():
    due = datetime(2025, 3, 12, tzinfo=UTC)
    folded = file_of([report(1), inquiry_sent(2), overdue()])
    (inquiry,) = folded.inquiries
    assert (inquiry.state, inquiry.due_at) == (OVERDUE, f"{due:%Y-%m-%dT%H:%M:%S}.000000Z")

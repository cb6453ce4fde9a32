"""Intake's rules, pure: every event of the catalogue on one chain, and no date in the future.

A fixed clock and counted ids stand in for the world; no database, no broker. Data is fictional.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts import decode_event, encode_event
from contracts.chain import verify_chain
from contracts.events import CASE_TOPIC_EVENT_TYPES
from services.intake import (
    case_decisions,
    casework_decisions,
    inquiry_clock_decisions,
    inquiry_decisions,
)
from services.intake import commands as c
from services.intake.decisions import InvalidCommand, RuleViolated
from tests.unit.intake_desk import INQUIRY, NOW, REPORT, Desk


@pytest.fixture
def desk() -> Desk:
    return Desk()


# --- every event of the catalogue, in one case ------------------------------------------------


def record_everything(desk: Desk) -> None:
    inquiry = desk.inquiry()
    other = desk.inquiry()
    desk.do(
        case_decisions.record_contact_lost,
        c.RecordContactLost(
            last_contact_at="2017-05", circumstances="Fictional.", channel="messenger"
        ),
    )
    desk.do(
        case_decisions.record_contact_restored,
        c.RecordContactRestored(
            restored_at="2024-11-02", circumstances="Fictional video call.", channel="video_call"
        ),
    )
    desk.do(
        case_decisions.record_information,
        c.RecordInformation(
            received_at="2021-06",
            source="a fictional neighbour",
            reliability="rumour",
            content="Fictional: said to be held in a camp.",
        ),
    )
    desk.do(
        case_decisions.record_status_change,
        c.RecordStatusChange(status="in_camp", effective_at="2018", source="fictional rumour"),
    )
    desk.do(
        case_decisions.report_threat,
        c.ReportThreat(
            target="family", kind="questioning", happened_at="2025-01", description="Fictional."
        ),
    )
    desk.do(case_decisions.change_consent,
            c.ChangeConsent(consent={"share_with_un_bodies": True}))
    desk.do(
        case_decisions.record_public_action,
        c.RecordPublicAction(
            kind="un_submission", taken_at="2025-02-01", description="Fictional submission."
        ),
    )
    desk.do(casework_decisions.add_note, c.AddNote(text="Fictional note."))
    desk.do(
        casework_decisions.attach_evidence,
        c.AttachEvidence(
            file_name="scan.pdf", media_type="application/pdf", size_bytes=10, sha256="a" * 64
        ),
    )
    desk.do(casework_decisions.assign_case, c.AssignCase(assignee="caseworker-7"))
    desk.do(
        inquiry_decisions.send_follow_up,
        inquiry,
        c.SendFollowUp(channel="email", sent_at="2025-02-15"),
    )
    desk.do(
        inquiry_decisions.record_response,
        inquiry,
        c.RecordResponse(
            received_at="2025-02-20",
            summary="Fictional: sentenced.",
            classification="sentence_disclosed",
        ),
    )
    desk.do(
        case_decisions.record_family_check_in,
        c.RecordFamilyCheckIn(checked_in_at="2025-02-28", channel="phone"),
    )
    desk.do(
        inquiry_clock_decisions.pause_inquiry,
        other,
        c.PauseInquiry(paused_on=date(2025, 2, 3), reason="Fictional: documents requested."),
    )
    desk.do(
        inquiry_clock_decisions.resume_inquiry, other, c.ResumeInquiry(resumed_on=date(2025, 2, 17))
    )
    desk.do(
        inquiry_clock_decisions.extend_deadline,
        other,
        c.ExtendDeadline(due_at=datetime(2025, 4, 1, tzinfo=UTC), reason="Fictional."),
    )
    desk.do(inquiry_decisions.withdraw_inquiry, other, c.WithdrawInquiry(reason="Fictional."))
    desk.close()
    desk.do(casework_decisions.reopen_case, c.ReopenCase(reason="Fictional: new information."))
    desk.do(case_decisions.change_consent, c.ChangeConsent(consent={"share_with_media": True}))
    desk.do(case_decisions.restrict_export, c.RestrictExport(never_export=["reporter"]))
    desk.close()
    desk.do(casework_decisions.erase_subject, c.EraseSubject(reason="family_request"))


def test_every_event_type_is_recorded_in_sequence_on_one_hash_chain(desk):
    record_everything(desk)
    assert [e.sequence for e in desk.events] == list(range(1, len(desk.events) + 1))
    assert verify_chain(desk.events) == desk.state.head_hash
    assert desk.state.version == len(desk.events)
    # Every type intake writes, as the contracts list them: a new one cannot be forgotten here.
    assert {e.type for e in desk.events} == {
        model.model_fields["type"].default for model in CASE_TOPIC_EVENT_TYPES
    }


def test_every_event_survives_its_bytes_unchanged(desk):
    record_everything(desk)
    for event in desk.events:
        assert decode_event(encode_event(event)) == event


def test_a_report_opens_a_case_sharing_nothing_unless_the_family_agreed(desk):
    [report] = desk.events
    assert (report.sequence, report.prev_hash) == (1, None)
    assert report.occurred_at == "2025-03-01T09:00:00Z"  # reported_at defaults to now
    assert not any(report.data.consent.model_dump().values())


def test_contact_lost_is_recorded_in_its_current_version_with_where_and_how(desk):
    lost = desk.do(case_decisions.record_contact_lost, c.RecordContactLost(
        last_contact_at="2017-05", circumstances="Fictional.", channel="messenger",
        last_contact_place="Fictional border post",
    ))
    assert (lost.type, lost.schema_version, lost.occurred_at) == ("contact_lost", 2, "2017-05")
    assert lost.data.last_contact.model_dump() == {
        "at": "2017-05", "channel": "messenger", "place": "Fictional border post"}


def test_casework_events_happen_when_they_are_recorded(desk):
    note = desk.do(casework_decisions.add_note, c.AddNote(text="Fictional note."))
    assert note.occurred_at == "2025-03-01T09:00:00Z" and note.recorded_at == NOW


# --- dates are not in the future --------------------------------------------------------------


def test_a_report_dated_in_the_future_names_the_field():
    with pytest.raises(InvalidCommand) as refused:
        case_decisions.open_case(
            REPORT.model_copy(update={"reported_at": "2025-03-02"}), Desk().ctx
        )
    assert refused.value.field_path == ("body", "reported_at")


def test_a_birth_date_in_the_future_names_the_nested_field():
    future_birth = REPORT.model_copy(
        update={"subject": REPORT.subject.model_copy(update={"date_of_birth": "2026"})}
    )
    with pytest.raises(InvalidCommand) as refused:
        case_decisions.open_case(future_birth, Desk().ctx)
    assert refused.value.field_path == ("body", "subject", "date_of_birth")
    assert "2026" not in refused.value.message  # a birth date is personal: named, not echoed


# (decision, command, its other fields, the dated field)
DATED = [
    (
        case_decisions.record_contact_lost,
        c.RecordContactLost,
        {"circumstances": "x"},
        "last_contact_at",
    ),
    (
        case_decisions.record_contact_restored,
        c.RecordContactRestored,
        {"circumstances": "x"},
        "restored_at",
    ),
    (
        case_decisions.record_information,
        c.RecordInformation,
        {"source": "x", "reliability": "unverified", "content": "x"},
        "received_at",
    ),
    (
        case_decisions.record_status_change,
        c.RecordStatusChange,
        {"status": "detained", "source": "x"},
        "effective_at",
    ),
    (
        case_decisions.report_threat,
        c.ReportThreat,
        {"target": "advocate", "kind": "hacking", "description": "x"},
        "happened_at",
    ),
    (
        case_decisions.record_public_action,
        c.RecordPublicAction,
        {"kind": "other", "description": "x"},
        "taken_at",
    ),
    (
        inquiry_decisions.send_inquiry,
        c.SendInquiry,
        INQUIRY.model_dump(exclude={"sent_at"}),
        "sent_at",
    ),
]
DATED_ON_INQUIRY = [
    (inquiry_decisions.send_follow_up, c.SendFollowUp, {"channel": "fax"}, "sent_at"),
    (inquiry_decisions.record_response, c.RecordResponse, {"summary": "x"}, "received_at"),
    (inquiry_decisions.withdraw_inquiry, c.WithdrawInquiry, {}, "withdrawn_at"),
]


@pytest.mark.parametrize(
    ("decide", "command", "fields", "dated"), DATED, ids=[d for *_, d in DATED]
)
def test_a_date_in_the_future_is_refused_naming_the_field(desk, decide, command, fields, dated):
    with pytest.raises(InvalidCommand) as refused:
        desk.do(decide, command(**fields, **{dated: "2025-03-02"}))
    assert refused.value.field_path == ("body", dated)
    this_year = desk.do(decide, command(**fields, **{dated: "2025"}))  # may be in the past
    assert this_year.occurred_at == "2025"


@pytest.mark.parametrize(
    ("decide", "command", "fields", "dated"),
    DATED_ON_INQUIRY,
    ids=[d.__name__ for d, *_ in DATED_ON_INQUIRY],
)
def test_a_future_date_on_an_inquiry_is_refused_naming_the_field(
    desk, decide, command, fields, dated
):
    inquiry = desk.inquiry()
    with pytest.raises(InvalidCommand) as refused:
        desk.do(decide, inquiry, command(**fields, **{dated: "2025-04"}))
    assert refused.value.field_path == ("body", dated)
    this_month = desk.do(decide, inquiry, command(**fields, **{dated: "2025-03"}))
    assert this_month.occurred_at == "2025-03"


def test_an_inquiry_due_before_it_was_sent_is_refused(desk):
    with pytest.raises(InvalidCommand) as refused:
        desk.do(
            inquiry_decisions.send_inquiry,
            INQUIRY.model_copy(update={"due_at": datetime(2025, 1, 1, tzinfo=UTC)}),
        )
    assert refused.value.field_path == ("body", "due_at")


# --- the family checks in ---------------------------------------------------------------------


def test_a_check_in_is_dated_by_the_day_or_moment_the_family_was_heard_from(desk):
    on_a_day = desk.do(case_decisions.record_family_check_in,
                       c.RecordFamilyCheckIn(checked_in_at="2025-02-28"))
    assert (on_a_day.type, on_a_day.occurred_at, on_a_day.data.channel) == (
        "family_checked_in", "2025-02-28", None)
    call = desk.do(case_decisions.record_family_check_in, c.RecordFamilyCheckIn(
        checked_in_at="2025-02-28T10:30:00+06:00", channel="phone", note="Fictional: safe."))
    assert call.occurred_at == call.data.checked_in_at == "2025-02-28T04:30:00Z"
    assert (call.data.channel, call.data.note) == ("phone", "Fictional: safe.")


@pytest.mark.parametrize("vague", ["2025", "2025-02"])
def test_a_check_in_vaguer_than_a_day_is_refused_naming_the_field(desk, vague):
    with pytest.raises(InvalidCommand) as refused:
        desk.do(case_decisions.record_family_check_in, c.RecordFamilyCheckIn(checked_in_at=vague))
    assert refused.value.field_path == ("body", "checked_in_at")
    assert vague not in refused.value.message


def test_a_check_in_in_the_future_is_refused_naming_the_field(desk):
    with pytest.raises(InvalidCommand) as refused:
        desk.do(case_decisions.record_family_check_in,
                c.RecordFamilyCheckIn(checked_in_at="2025-03-01T09:01:00Z"))
    assert refused.value.field_path == ("body", "checked_in_at")


# --- consent gates what goes public -------------------------------------------------------------


@pytest.mark.parametrize("kind, consent", [
    ("un_submission", "share_with_un_bodies"), ("media", "share_with_media"),
    ("social_media", "share_with_media"), ("protest", "share_with_media"),
])
def test_a_public_action_needs_the_familys_consent_to_that_audience(desk, kind, consent):
    action = c.RecordPublicAction(kind=kind, taken_at="2025-02-01", description="Fictional.")
    with pytest.raises(RuleViolated) as refused:
        desk.do(case_decisions.record_public_action, action)
    assert refused.value.rule == "consent_missing" and consent in refused.value.message
    desk.do(case_decisions.change_consent, c.ChangeConsent(consent={consent: True}))
    assert desk.do(case_decisions.record_public_action, action).data.kind.value == kind
    desk.do(case_decisions.change_consent, c.ChangeConsent(consent={}))  # withdrawn again
    with pytest.raises(RuleViolated):
        desk.do(case_decisions.record_public_action, action)


def test_a_public_action_before_no_particular_audience_needs_no_consent(desk):
    action = c.RecordPublicAction(kind="other", taken_at="2025-02-01", description="Fictional.")
    assert desk.do(case_decisions.record_public_action, action).type == "public_action_taken"


def test_a_part_of_the_case_listed_twice_for_never_export_is_refused():
    with pytest.raises(ValueError, match="listed twice"):
        c.RestrictExport(never_export=["reporter", "reporter"])

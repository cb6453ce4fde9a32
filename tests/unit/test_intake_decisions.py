"""Intake's rules, pure: a command and the case state become one event or a named refusal.

A fixed clock and counted ids stand in for the world; no database, no broker. Data is fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from uuid import UUID

import pytest

from contracts import decode_event, encode_event
from contracts.chain import verify_chain
from services.intake import case_decisions, casework_decisions, inquiry_decisions
from services.intake import commands as c
from services.intake.decisions import (
    INQUIRY_ANSWERED,
    INQUIRY_OPEN,
    INQUIRY_WITHDRAWN,
    CaseState,
    Context,
    InquiryNotFound,
    InvalidCommand,
    RuleViolated,
    evolve,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
UNKNOWN = UUID("00000000-0000-4000-8000-00000000dead")

REPORT = c.ReportCase(
    subject={"name": "Айгүл Сапарқызы (fictional)", "date_of_birth": "1984-03"},
    reporter={"name": "Fictional Brother", "relationship": "brother"},
    summary="Fictional: did not return from a visit to relatives in 2017.",
)
INQUIRY = c.SendInquiry(
    recipient={"name": "Fictional Consulate", "kind": "consulate", "country": "CN"},
    channel="letter",
    sent_at="2025-01-15",
)


class Desk:
    """One case being worked on: decides commands with a fixed clock and folds the events."""

    def __init__(self) -> None:
        ids = count(1)
        self.ctx = Context(
            now=NOW,
            actor="caseworker-test",
            correlation_id=UUID(int=999),
            new_id=lambda: UUID(int=next(ids)),
        )
        self.events = [case_decisions.open_case(REPORT, self.ctx)]
        self.state = evolve(None, self.events[0])

    def do(self, decide, *args):
        event = decide(self.state, *args, self.ctx)
        self.state = evolve(self.state, event)
        self.events.append(event)
        return event

    def inquiry(self) -> UUID:
        return self.do(inquiry_decisions.send_inquiry, INQUIRY).data.inquiry_id

    def close(self):
        return self.do(casework_decisions.close_case, c.CloseCase(outcome="released"))


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
    desk.do(inquiry_decisions.withdraw_inquiry, other, c.WithdrawInquiry(reason="Fictional."))
    desk.close()
    desk.do(casework_decisions.reopen_case, c.ReopenCase(reason="Fictional: new information."))


def test_every_event_type_is_recorded_in_sequence_on_one_hash_chain(desk):
    record_everything(desk)
    assert [e.sequence for e in desk.events] == list(range(1, len(desk.events) + 1))
    assert verify_chain(desk.events) == desk.state.head_hash
    assert desk.state.version == len(desk.events)
    assert {e.type for e in desk.events} == {
        "report_received",
        "inquiry_sent",
        "contact_lost",
        "contact_restored",
        "information_received",
        "status_changed",
        "threat_reported",
        "public_action_taken",
        "note_added",
        "evidence_attached",
        "case_assigned",
        "follow_up_sent",
        "official_response_received",
        "inquiry_withdrawn",
        "case_closed",
        "case_reopened",
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
        {"kind": "protest", "description": "x"},
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


# --- inquiries --------------------------------------------------------------------------------

ON_INQUIRY = [
    (inquiry_decisions.send_follow_up, c.SendFollowUp(channel="email", sent_at="2025-02-01")),
    (inquiry_decisions.record_response, c.RecordResponse(received_at="2025-02-01", summary="x")),
    (inquiry_decisions.withdraw_inquiry, c.WithdrawInquiry()),
]
ON_INQUIRY_IDS = ["follow_up", "response", "withdrawal"]


@pytest.mark.parametrize(("decide", "command"), ON_INQUIRY, ids=ON_INQUIRY_IDS)
def test_only_an_inquiry_of_this_case_can_be_followed_up_answered_or_withdrawn(
    desk, decide, command
):
    elsewhere = Desk()
    inquiry_of_another_case = elsewhere.inquiry()
    for inquiry_id in (UNKNOWN, inquiry_of_another_case):
        with pytest.raises(InquiryNotFound):
            desk.do(decide, inquiry_id, command)
    assert len(desk.events) == 1


@pytest.mark.parametrize(("decide", "command"), ON_INQUIRY[:2], ids=ON_INQUIRY_IDS[:2])
def test_a_withdrawn_inquiry_takes_no_follow_up_or_response(desk, decide, command):
    inquiry = desk.inquiry()
    desk.do(inquiry_decisions.withdraw_inquiry, inquiry, c.WithdrawInquiry())
    with pytest.raises(RuleViolated) as refused:
        desk.do(decide, inquiry, command)
    assert refused.value.rule == "inquiry_withdrawn"


def test_an_inquiry_is_withdrawn_once(desk):
    inquiry = desk.inquiry()
    desk.do(inquiry_decisions.withdraw_inquiry, inquiry, c.WithdrawInquiry())
    with pytest.raises(RuleViolated) as refused:
        desk.do(inquiry_decisions.withdraw_inquiry, inquiry, c.WithdrawInquiry())
    assert refused.value.rule == "inquiry_already_withdrawn"


def test_an_answered_inquiry_can_be_followed_up_and_answered_again(desk):
    inquiry = desk.inquiry()
    acknowledged = c.RecordResponse(
        received_at="2025-01-20", summary="x", classification="acknowledgement"
    )
    desk.do(inquiry_decisions.record_response, inquiry, acknowledged)
    desk.do(
        inquiry_decisions.send_follow_up,
        inquiry,
        c.SendFollowUp(channel="phone", sent_at="2025-02-01"),
    )
    answer = desk.do(
        inquiry_decisions.record_response,
        inquiry,
        c.RecordResponse(received_at="2025-02-20", summary="x", classification="substantive"),
    )
    assert answer.data.classification == "substantive"


def test_evolve_tracks_each_inquiry_state(desk):
    answered, withdrawn, waiting = desk.inquiry(), desk.inquiry(), desk.inquiry()
    desk.do(
        inquiry_decisions.record_response,
        answered,
        c.RecordResponse(received_at="2025-02", summary="x"),
    )
    desk.do(inquiry_decisions.withdraw_inquiry, withdrawn, c.WithdrawInquiry())
    desk.do(
        inquiry_decisions.send_follow_up,
        waiting,
        c.SendFollowUp(channel="letter", sent_at="2025-02"),
    )
    assert dict(desk.state.inquiries) == {
        answered: INQUIRY_ANSWERED,
        withdrawn: INQUIRY_WITHDRAWN,
        waiting: INQUIRY_OPEN,
    }


def test_an_unclassified_response_stays_unclassified(desk):
    inquiry = desk.inquiry()
    answer = desk.do(
        inquiry_decisions.record_response,
        inquiry,
        c.RecordResponse(received_at="2025-02", summary="x"),
    )
    assert answer.data.classification is None


# --- closing and reopening --------------------------------------------------------------------

EVERY_COMMAND_ON_A_CASE = [
    (
        case_decisions.record_contact_lost,
        c.RecordContactLost(last_contact_at="2017", circumstances="x"),
    ),
    (
        case_decisions.record_contact_restored,
        c.RecordContactRestored(restored_at="2024", circumstances="x"),
    ),
    (
        case_decisions.record_information,
        c.RecordInformation(received_at="2024", source="x", reliability="confirmed", content="x"),
    ),
    (
        case_decisions.record_status_change,
        c.RecordStatusChange(status="released", effective_at="2024", source="x"),
    ),
    (
        case_decisions.report_threat,
        c.ReportThreat(target="reporter", kind="threat", happened_at="2024", description="x"),
    ),
    (
        case_decisions.record_public_action,
        c.RecordPublicAction(kind="media", taken_at="2024", description="x"),
    ),
    (casework_decisions.add_note, c.AddNote(text="x")),
    (
        casework_decisions.attach_evidence,
        c.AttachEvidence(file_name="a.jpg", media_type="image/jpeg", size_bytes=1, sha256="0" * 64),
    ),
    (casework_decisions.assign_case, c.AssignCase(assignee="caseworker-2")),
    (casework_decisions.close_case, c.CloseCase(outcome="other")),
    (inquiry_decisions.send_inquiry, INQUIRY),
]


@pytest.mark.parametrize(
    ("decide", "command"),
    EVERY_COMMAND_ON_A_CASE,
    ids=[d.__name__ for d, _ in EVERY_COMMAND_ON_A_CASE],
)
def test_a_closed_case_refuses_every_event_but_reopening(desk, decide, command):
    desk.close()
    with pytest.raises(RuleViolated) as refused:
        desk.do(decide, command)
    assert refused.value.rule == "case_closed"


@pytest.mark.parametrize(("decide", "command"), ON_INQUIRY, ids=ON_INQUIRY_IDS)
def test_a_closed_case_refuses_events_on_its_inquiries(desk, decide, command):
    inquiry = desk.inquiry()
    desk.close()
    with pytest.raises(RuleViolated) as refused:
        desk.do(decide, inquiry, command)
    assert refused.value.rule == "case_closed"


def test_a_reopened_case_takes_events_again(desk):
    desk.close()
    reopened = desk.do(casework_decisions.reopen_case, c.ReopenCase(reason="Fictional: news."))
    assert reopened.type == "case_reopened" and not desk.state.closed
    assert desk.do(casework_decisions.add_note, c.AddNote(text="x")).type == "note_added"


def test_only_a_closed_case_can_be_reopened(desk):
    with pytest.raises(RuleViolated) as refused:
        desk.do(casework_decisions.reopen_case, c.ReopenCase(reason="x"))
    assert refused.value.rule == "case_not_closed"


def test_the_case_state_survives_its_stored_form(desk):
    inquiry = desk.inquiry()
    desk.do(inquiry_decisions.withdraw_inquiry, inquiry, c.WithdrawInquiry())
    desk.close()
    s = desk.state
    assert CaseState.from_json(s.case_id, s.version, s.head_hash, s.to_json()) == s
    assert s.closed

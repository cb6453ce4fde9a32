"""Intake's rules on closing and reopening a case, pure."""

from __future__ import annotations

import pytest

from services.intake import case_decisions, casework_decisions, inquiry_decisions
from services.intake import commands as c
from services.intake.decisions import (
    CaseState,
    RuleViolated,
)
from tests.unit.intake_desk import INQUIRY, ON_INQUIRY, ON_INQUIRY_IDS, Desk


@pytest.fixture
def desk() -> Desk:
    return Desk()


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

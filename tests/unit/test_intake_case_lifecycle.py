"""Intake's rules on closing and reopening a case, and the case state as stored, pure."""

from __future__ import annotations

import json

import pytest

from services.intake import case_decisions, casework_decisions, inquiry_decisions
from services.intake import commands as c
from services.intake.decisions import (
    INQUIRY_ANSWERED,
    INQUIRY_OPEN,
    INQUIRY_WITHDRAWN,
    CaseState,
    RuleViolated,
    fold,
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
        c.RecordPublicAction(kind="other", taken_at="2024", description="x"),
    ),
    (
        case_decisions.record_family_check_in,
        c.RecordFamilyCheckIn(checked_in_at="2025-02-28"),
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


def test_the_stored_inquiry_states_keep_the_shape_an_earlier_intake_reads(desk):
    waiting, withdrawn = desk.inquiry(), desk.inquiry()
    desk.do(inquiry_decisions.withdraw_inquiry, withdrawn, c.WithdrawInquiry())
    # An earlier intake, still running beside this one during an upgrade, reads only these.
    assert desk.state.to_json()["inquiries"] == {
        str(waiting): INQUIRY_OPEN, str(withdrawn): INQUIRY_WITHDRAWN}


def test_a_case_stored_by_an_earlier_intake_loads_and_is_folded_again_from_its_events(desk):
    answered, withdrawn = desk.inquiry(), desk.inquiry()
    desk.do(inquiry_decisions.record_response, answered,
            c.RecordResponse(received_at="2025-02-25", summary="Fictional: no record."))
    desk.do(inquiry_decisions.withdraw_inquiry, withdrawn, c.WithdrawInquiry())
    # Exactly what the version before pauses wrote: states only, no send dates.
    earlier = json.loads(
        f'{{"closed": false, "inquiries": '
        f'{{"{answered}": "answered", "{withdrawn}": "withdrawn"}}}}'
    )
    s = desk.state
    loaded = CaseState.from_json(s.case_id, s.version, s.head_hash, earlier)

    assert loaded.inquiry_state(answered) == INQUIRY_ANSWERED
    assert loaded.inquiry_state(withdrawn) == INQUIRY_WITHDRAWN
    with pytest.raises(RuleViolated) as refused:  # its rules hold as soon as it loads
        inquiry_decisions.send_follow_up(
            loaded, withdrawn, c.SendFollowUp(channel="fax", sent_at="2025-02-27"), desk.ctx)
    assert refused.value.rule == "inquiry_withdrawn"
    assert loaded.missing_facts and not s.missing_facts  # so the store folds it again...
    assert fold(desk.events) == s  # ...into what this version would have stored


def test_a_case_stored_before_intake_kept_its_team_is_folded_again_to_learn_it(desk):
    s = desk.state
    loaded = CaseState.from_json(s.case_id, s.version, s.head_hash, {"closed": True})
    assert loaded.closed and loaded.missing_facts  # team and assignee are unknown
    stored = CaseState.from_json(s.case_id, s.version, s.head_hash, s.to_json())
    assert not stored.missing_facts and stored.scope.team == "almaty"

"""Intake's rules on inquiries, pure: only a live inquiry of this case moves on."""

from __future__ import annotations

import pytest

from services.intake import commands as c
from services.intake import inquiry_decisions
from services.intake.decisions import (
    INQUIRY_ANSWERED,
    INQUIRY_OPEN,
    INQUIRY_WITHDRAWN,
    InquiryNotFound,
    RuleViolated,
)
from tests.unit.intake_desk import INQUIRY, ON_INQUIRY, ON_INQUIRY_IDS, UNKNOWN, Desk


@pytest.fixture
def desk() -> Desk:
    return Desk()


# --- inquiries --------------------------------------------------------------------------------

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
    assert {k: v.state for k, v in desk.state.inquiries.items()} == {
        answered: INQUIRY_ANSWERED,
        withdrawn: INQUIRY_WITHDRAWN,
        waiting: INQUIRY_OPEN,
    }
    assert {v.sent_at for v in desk.state.inquiries.values()} == {INQUIRY.sent_at}


def test_an_unclassified_response_stays_unclassified(desk):
    inquiry = desk.inquiry()
    answer = desk.do(
        inquiry_decisions.record_response,
        inquiry,
        c.RecordResponse(received_at="2025-02", summary="x"),
    )
    assert answer.data.classification is None

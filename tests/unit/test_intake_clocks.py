"""Intake's rules on an inquiry's response clock, pure: paused, resumed, given more time.

Only an inquiry still awaiting its answer has a clock. Data is fictional."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from services.intake import commands as c
from services.intake import inquiry_clock_decisions, inquiry_decisions
from services.intake.decisions import CaseState, InquiryNotFound, InvalidCommand, RuleViolated
from tests.unit.intake_desk import INQUIRY, UNKNOWN, Desk

pause = inquiry_clock_decisions.pause_inquiry
resume = inquiry_clock_decisions.resume_inquiry
extend = inquiry_clock_decisions.extend_deadline

LATER = datetime(2025, 4, 15, tzinfo=UTC)
TODAY = date(2025, 3, 1)  # the desk's clock: 2025-03-01 09:00 UTC


@pytest.fixture
def desk() -> Desk:
    return Desk()


def paused(desk: Desk, on: date = date(2025, 2, 20)):
    inquiry = desk.inquiry()
    desk.do(pause, inquiry, c.PauseInquiry(paused_on=on))
    return inquiry


def answered(desk: Desk, inquiry):
    desk.do(inquiry_decisions.record_response, inquiry,
            c.RecordResponse(received_at="2025-02-25", summary="Fictional: no record."))


# Each clock command, and how to bring an inquiry to where it would otherwise be accepted.
CLOCK = [
    (pause, c.PauseInquiry(), Desk.inquiry),
    (resume, c.ResumeInquiry(), paused),
    (extend, c.ExtendDeadline(due_at=LATER), Desk.inquiry),
]
CLOCK_IDS = ["pause", "resumption", "extension"]


# --- pausing and resuming ---------------------------------------------------------------------

def test_a_pause_starts_today_unless_a_day_is_given_and_intake_remembers_since_when(desk):
    inquiry = desk.inquiry()
    today = desk.do(pause, inquiry, c.PauseInquiry(reason="Fictional: documents requested."))
    assert (today.type, today.data.paused_on, today.occurred_at) == (
        "inquiry_paused", TODAY, "2025-03-01")
    assert today.data.reason == "Fictional: documents requested."
    assert desk.state.inquiry(inquiry).paused_on == TODAY

    earlier = desk.inquiry()
    on_a_day = desk.do(pause, earlier, c.PauseInquiry(paused_on=date(2025, 2, 3)))
    assert (on_a_day.data.paused_on, on_a_day.occurred_at) == (date(2025, 2, 3), "2025-02-03")


def test_a_paused_inquiry_cannot_be_paused_again_until_it_is_resumed(desk):
    inquiry = paused(desk)
    with pytest.raises(RuleViolated) as refused:
        desk.do(pause, inquiry, c.PauseInquiry())
    assert refused.value.rule == "inquiry_already_paused"
    desk.do(resume, inquiry, c.ResumeInquiry(resumed_on=date(2025, 2, 24)))
    again = desk.do(pause, inquiry, c.PauseInquiry(paused_on=date(2025, 2, 26)))
    assert desk.state.inquiry(inquiry).paused_on == again.data.paused_on == date(2025, 2, 26)


def test_a_resumption_ends_the_pause_today_unless_a_day_is_given(desk):
    inquiry = paused(desk)
    resumed = desk.do(resume, inquiry, c.ResumeInquiry())
    assert (resumed.type, resumed.data.resumed_on, resumed.occurred_at) == (
        "inquiry_resumed", TODAY, "2025-03-01")
    assert not desk.state.inquiry(inquiry).paused

    other = paused(desk)
    on_a_day = desk.do(resume, other, c.ResumeInquiry(resumed_on=date(2025, 2, 27)))
    assert (on_a_day.data.resumed_on, on_a_day.occurred_at) == (date(2025, 2, 27), "2025-02-27")


def test_only_a_paused_inquiry_can_be_resumed(desk):
    inquiry = desk.inquiry()
    with pytest.raises(RuleViolated) as refused:
        desk.do(resume, inquiry, c.ResumeInquiry())
    assert refused.value.rule == "inquiry_not_paused"
    desk.do(pause, inquiry, c.PauseInquiry(paused_on=date(2025, 2, 20)))
    desk.do(resume, inquiry, c.ResumeInquiry(resumed_on=date(2025, 2, 21)))
    with pytest.raises(RuleViolated) as twice:
        desk.do(resume, inquiry, c.ResumeInquiry())
    assert twice.value.rule == "inquiry_not_paused"


def test_a_resumption_before_the_pause_is_refused_naming_resumed_on(desk):
    inquiry = paused(desk, on=date(2025, 2, 20))
    with pytest.raises(InvalidCommand) as refused:
        desk.do(resume, inquiry, c.ResumeInquiry(resumed_on=date(2025, 2, 19)))
    assert refused.value.field_path == ("body", "resumed_on")
    assert "2025" not in refused.value.message  # named, not echoed
    same_day = desk.do(resume, inquiry, c.ResumeInquiry(resumed_on=date(2025, 2, 20)))
    assert same_day.data.resumed_on == date(2025, 2, 20)  # a pause of no days


def test_a_pause_before_the_inquiry_was_sent_is_refused_naming_paused_on(desk):
    inquiry = desk.inquiry()  # sent 2025-01-15
    with pytest.raises(InvalidCommand) as refused:
        desk.do(pause, inquiry, c.PauseInquiry(paused_on=date(2025, 1, 14)))
    assert refused.value.field_path == ("body", "paused_on")
    on_the_day = desk.do(pause, inquiry, c.PauseInquiry(paused_on=date(2025, 1, 15)))
    assert on_the_day.type == "inquiry_paused"


def test_a_pause_is_refused_only_when_surely_before_a_vaguely_dated_inquiry(desk):
    january = desk.do(
        inquiry_decisions.send_inquiry, INQUIRY.model_copy(update={"sent_at": "2025-01"})
    ).data.inquiry_id
    with pytest.raises(InvalidCommand):
        desk.do(pause, january, c.PauseInquiry(paused_on=date(2024, 12, 31)))
    maybe_after = desk.do(pause, january, c.PauseInquiry(paused_on=date(2025, 1, 2)))
    assert maybe_after.type == "inquiry_paused"


@pytest.mark.parametrize(("decide", "command", "dated"), [
    (pause, c.PauseInquiry, "paused_on"), (resume, c.ResumeInquiry, "resumed_on"),
], ids=["paused_on", "resumed_on"])
def test_a_pause_or_resumption_in_the_future_is_refused_naming_the_field(
    desk, decide, command, dated
):
    inquiry = paused(desk) if decide is resume else desk.inquiry()
    with pytest.raises(InvalidCommand) as refused:
        desk.do(decide, inquiry, command(**{dated: date(2025, 3, 2)}))
    assert refused.value.field_path == ("body", dated)
    assert desk.do(decide, inquiry, command(**{dated: TODAY})).occurred_at == "2025-03-01"


# --- more time --------------------------------------------------------------------------------

def test_an_extension_gives_the_new_deadline_granted_today(desk):
    inquiry = desk.inquiry()
    extended = desk.do(extend, inquiry, c.ExtendDeadline(due_at=LATER, reason="Fictional."))
    assert (extended.type, extended.data.due_at, extended.occurred_at) == (
        "deadline_extended", LATER, "2025-03-01")
    assert extended.data.inquiry_id == inquiry and extended.data.reason == "Fictional."


def test_an_extension_before_the_inquiry_was_sent_is_refused_naming_due_at(desk):
    inquiry = desk.inquiry()  # sent 2025-01-15, so due at the end of that day at the earliest
    with pytest.raises(InvalidCommand) as refused:
        desk.do(extend, inquiry, c.ExtendDeadline(due_at=datetime(2025, 1, 15, 12, tzinfo=UTC)))
    assert refused.value.field_path == ("body", "due_at")
    next_day = c.ExtendDeadline(due_at=datetime(2025, 1, 16, tzinfo=UTC))
    assert desk.do(extend, inquiry, next_day).type == "deadline_extended"


def test_a_paused_inquiry_can_be_given_more_time_and_extended_again(desk):
    inquiry = paused(desk)
    desk.do(extend, inquiry, c.ExtendDeadline(due_at=LATER))
    again = desk.do(extend, inquiry, c.ExtendDeadline(due_at=datetime(2025, 5, 1, tzinfo=UTC)))
    assert again.data.due_at == datetime(2025, 5, 1, tzinfo=UTC)
    assert desk.state.inquiry(inquiry).paused  # more time does not start the clock


# --- which inquiries have a clock -------------------------------------------------------------

@pytest.mark.parametrize(("decide", "command", "prepare"), CLOCK, ids=CLOCK_IDS)
def test_only_an_inquiry_of_this_case_has_a_clock(desk, decide, command, prepare):
    of_another_case = Desk().inquiry()
    for inquiry in (UNKNOWN, of_another_case):
        with pytest.raises(InquiryNotFound):
            desk.do(decide, inquiry, command)


@pytest.mark.parametrize(("decide", "command", "prepare"), CLOCK, ids=CLOCK_IDS)
def test_a_withdrawn_inquiry_is_not_paused_resumed_or_extended(desk, decide, command, prepare):
    inquiry = prepare(desk)
    desk.do(inquiry_decisions.withdraw_inquiry, inquiry, c.WithdrawInquiry())
    with pytest.raises(RuleViolated) as refused:
        desk.do(decide, inquiry, command)
    assert refused.value.rule == "inquiry_withdrawn"


@pytest.mark.parametrize(("decide", "command", "prepare"), CLOCK, ids=CLOCK_IDS)
def test_an_answered_inquiry_is_not_paused_resumed_or_extended(desk, decide, command, prepare):
    inquiry = prepare(desk)  # for a resumption: paused first, then answered
    answered(desk, inquiry)
    with pytest.raises(RuleViolated) as refused:
        desk.do(decide, inquiry, command)
    assert refused.value.rule == "inquiry_answered"


def test_an_answered_inquiry_that_was_never_paused_says_answered_not_not_paused(desk):
    inquiry = desk.inquiry()
    answered(desk, inquiry)
    with pytest.raises(RuleViolated) as refused:
        desk.do(resume, inquiry, c.ResumeInquiry())
    assert refused.value.rule == "inquiry_answered"


def test_a_paused_inquiry_can_still_be_followed_up_answered_or_withdrawn(desk):
    recorded = [
        desk.do(act, paused(desk), command).type for act, command in [
            (inquiry_decisions.send_follow_up, c.SendFollowUp(channel="fax", sent_at="2025-02-22")),
            (inquiry_decisions.record_response, c.RecordResponse(received_at="2025-02",
                                                                 summary="x")),
            (inquiry_decisions.withdraw_inquiry, c.WithdrawInquiry()),
        ]
    ]
    assert recorded == ["follow_up_sent", "official_response_received", "inquiry_withdrawn"]


@pytest.mark.parametrize(("decide", "command", "prepare"), CLOCK, ids=CLOCK_IDS)
def test_a_closed_case_refuses_its_inquiries_clock_events(desk, decide, command, prepare):
    inquiry = prepare(desk)
    desk.close()
    with pytest.raises(RuleViolated) as refused:
        desk.do(decide, inquiry, command)
    assert refused.value.rule == "case_closed"


# --- what intake remembers, as stored ---------------------------------------------------------

def test_pauses_and_send_dates_survive_the_stored_form(desk):
    still_paused, resumed = paused(desk), paused(desk, on=date(2025, 2, 1))
    desk.do(resume, resumed, c.ResumeInquiry(resumed_on=date(2025, 2, 10)))
    s = desk.state
    stored = json.loads(json.dumps(s.to_json()))
    assert CaseState.from_json(s.case_id, s.version, s.head_hash, stored) == s
    assert s.inquiry(still_paused).paused_on == date(2025, 2, 20)
    assert not s.inquiry(resumed).paused

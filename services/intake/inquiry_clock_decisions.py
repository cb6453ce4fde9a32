"""Decisions on an inquiry's response clock: stopping it, starting it again, giving more time.

Only an inquiry still awaiting its answer has a clock: a withdrawn one awaits nothing, and an
answered one's deadline no longer runs, so neither is paused, resumed or extended. Notify
reads these events to move the deadline; intake only keeps them consistent with each other.
"""

from __future__ import annotations

from uuid import UUID

from contracts.inquiry_events import (
    DeadlineExtended,
    DeadlineExtendedData,
    InquiryPaused,
    InquiryPausedData,
    InquiryResumed,
    InquiryResumedData,
)
from contracts.partial_dates import earliest_instant, latest_instant
from services.intake.commands import ExtendDeadline, PauseInquiry, ResumeInquiry
from services.intake.decisions import (
    INQUIRY_ANSWERED,
    CaseState,
    Context,
    Inquiry,
    InvalidCommand,
    RuleViolated,
    live_inquiry,
    not_in_future,
)


def pause_inquiry(
    case: CaseState, inquiry_id: UUID, command: PauseInquiry, ctx: Context
) -> InquiryPaused:
    inquiry = awaiting_answer(case, inquiry_id, "pause")
    if inquiry.paused:
        raise RuleViolated(
            "inquiry_already_paused",
            "the inquiry is already paused; resume it before pausing it again",
        )
    paused_on = command.paused_on or ctx.day()
    not_in_future(paused_on.isoformat(), "paused_on", ctx.now)
    # Refused only when surely before: an inquiry sent "2025-01" may have gone on the 2nd.
    if paused_on < earliest_instant(sent_at(inquiry)).date():
        raise InvalidCommand(
            ("body", "paused_on"), "paused_on must not be before the inquiry was sent"
        )
    return ctx.event(
        InquiryPaused,
        case,
        paused_on.isoformat(),
        InquiryPausedData(inquiry_id=inquiry_id, paused_on=paused_on, reason=command.reason),
    )


def resume_inquiry(
    case: CaseState, inquiry_id: UUID, command: ResumeInquiry, ctx: Context
) -> InquiryResumed:
    # An answered inquiry is refused even while paused: its clock will never run again, so a
    # resumption would tell notify something false. Its pause simply stays the last word.
    inquiry = awaiting_answer(case, inquiry_id, "resumption")
    if inquiry.paused_on is None:
        raise RuleViolated("inquiry_not_paused", "the inquiry is not paused; its clock is running")
    resumed_on = command.resumed_on or ctx.day()
    not_in_future(resumed_on.isoformat(), "resumed_on", ctx.now)
    if resumed_on < inquiry.paused_on:  # the same day is a pause of no days, which is harmless
        raise InvalidCommand(
            ("body", "resumed_on"), "resumed_on must not be before the day the inquiry was paused"
        )
    return ctx.event(
        InquiryResumed,
        case,
        resumed_on.isoformat(),
        InquiryResumedData(inquiry_id=inquiry_id, resumed_on=resumed_on),
    )


def extend_deadline(
    case: CaseState, inquiry_id: UUID, command: ExtendDeadline, ctx: Context
) -> DeadlineExtended:
    inquiry = awaiting_answer(case, inquiry_id, "extension")
    # As strict as the deadline given when the inquiry was sent (inquiry_decisions.send_inquiry).
    if command.due_at < latest_instant(sent_at(inquiry)):
        raise InvalidCommand(("body", "due_at"), "due_at must not be before the inquiry was sent")
    return ctx.event(
        DeadlineExtended,
        case,
        ctx.day().isoformat(),  # granted today; the day is what is known of when it was granted
        DeadlineExtendedData(inquiry_id=inquiry_id, due_at=command.due_at, reason=command.reason),
    )


def awaiting_answer(case: CaseState, inquiry_id: UUID, what: str) -> Inquiry:
    """The inquiry, if it is on this case (404), not withdrawn and not answered (409)."""
    inquiry = live_inquiry(case, inquiry_id, what)
    if inquiry.state == INQUIRY_ANSWERED:
        raise RuleViolated(
            "inquiry_answered",
            f"the inquiry was answered; its deadline no longer runs, so no {what} can be recorded",
        )
    return inquiry


def sent_at(inquiry: Inquiry) -> str:
    if inquiry.sent_at is None:
        # The store folds a state stored without it again before deciding (store.Batch), so
        # this is a bug; deciding without the date would let a wrong deadline through.
        raise RuntimeError("an inquiry's sent_at is unknown; its case was not folded again")
    return inquiry.sent_at

"""Decisions on inquiries: only an existing, not withdrawn inquiry of the case can move on."""

from __future__ import annotations

from uuid import UUID

from contracts.inquiry_events import (
    FollowUpSent,
    FollowUpSentData,
    InquirySent,
    InquirySentData,
    InquiryWithdrawn,
    InquiryWithdrawnData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
)
from contracts.partial_dates import latest_instant
from services.intake.commands import RecordResponse, SendFollowUp, SendInquiry, WithdrawInquiry
from services.intake.decisions import (
    INQUIRY_WITHDRAWN,
    CaseState,
    Context,
    InvalidCommand,
    RuleViolated,
    live_inquiry,
    not_in_future,
)


def send_inquiry(case: CaseState, command: SendInquiry, ctx: Context) -> InquirySent:
    not_in_future(command.sent_at, "sent_at", ctx.now)
    if command.due_at is not None and command.due_at < latest_instant(command.sent_at):
        raise InvalidCommand(("body", "due_at"), "due_at must not be before sent_at")
    return ctx.event(
        InquirySent,
        case,
        command.sent_at,
        InquirySentData(
            inquiry_id=ctx.new_id(),
            recipient=command.recipient,
            channel=command.channel,
            sent_at=command.sent_at,
            due_at=command.due_at,
            reference=command.reference,
        ),
    )


def send_follow_up(
    case: CaseState, inquiry_id: UUID, command: SendFollowUp, ctx: Context
) -> FollowUpSent:
    live_inquiry(case, inquiry_id, "follow-up")
    not_in_future(command.sent_at, "sent_at", ctx.now)
    return ctx.event(
        FollowUpSent,
        case,
        command.sent_at,
        FollowUpSentData(
            inquiry_id=inquiry_id,
            channel=command.channel,
            sent_at=command.sent_at,
            reference=command.reference,
        ),
    )


def record_response(
    case: CaseState, inquiry_id: UUID, command: RecordResponse, ctx: Context
) -> OfficialResponseReceived:
    live_inquiry(case, inquiry_id, "response")
    not_in_future(command.received_at, "received_at", ctx.now)
    return ctx.event(
        OfficialResponseReceived,
        case,
        command.received_at,
        OfficialResponseReceivedData(
            inquiry_id=inquiry_id,
            received_at=command.received_at,
            summary=command.summary,
            classification=command.classification,
        ),
    )


def withdraw_inquiry(
    case: CaseState, inquiry_id: UUID, command: WithdrawInquiry, ctx: Context
) -> InquiryWithdrawn:
    if case.inquiry_state(inquiry_id) == INQUIRY_WITHDRAWN:
        raise RuleViolated("inquiry_already_withdrawn", "the inquiry was already withdrawn")
    withdrawn_at = not_in_future(command.withdrawn_at or ctx.today(), "withdrawn_at", ctx.now)
    return ctx.event(
        InquiryWithdrawn,
        case,
        withdrawn_at,
        InquiryWithdrawnData(
            inquiry_id=inquiry_id, withdrawn_at=withdrawn_at, reason=command.reason
        ),
    )

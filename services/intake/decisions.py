"""Pure decisions: a command and the case as intake knows it become one event, or an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from contracts.events import (
    ContactLost,
    ContactLostData,
    EventEnvelope,
    InquirySent,
    InquirySentData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
    ReportReceived,
    ReportReceivedData,
)
from contracts.partial_dates import earliest_instant, latest_instant
from services.intake.commands import RecordContactLost, RecordResponse, ReportCase, SendInquiry


class CaseNotFound(LookupError):
    pass


class InquiryNotFound(LookupError):
    pass


class InvalidCommand(ValueError):
    """A command that is well-formed but not acceptable; names the offending field."""

    def __init__(self, field_path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field_path = field_path
        self.message = message


@dataclass(frozen=True)
class CaseState:
    """What intake needs to know about a case to accept a command on it."""

    case_id: UUID
    version: int
    inquiry_ids: frozenset[UUID] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Context:
    """Who is recording, when, and where new ids come from (injected so tests control them)."""

    now: datetime
    actor: str
    correlation_id: UUID
    new_id: Callable[[], UUID]

    def envelope(self, case_id: UUID, sequence: int, occurred_at: str) -> dict:
        return {
            "event_id": self.new_id(),
            "case_id": case_id,
            "sequence": sequence,
            "occurred_at": occurred_at,
            "recorded_at": self.now,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
        }


def _not_in_future(value: str, field_name: str, now: datetime) -> str:
    if earliest_instant(value) > now:
        raise InvalidCommand(("body", field_name), f"{field_name} {value!r} is in the future")
    return value


def open_case(command: ReportCase, ctx: Context) -> ReportReceived:
    reported_at = command.reported_at or ctx.now.isoformat().replace("+00:00", "Z")
    _not_in_future(reported_at, "reported_at", ctx.now)
    return ReportReceived(
        **ctx.envelope(ctx.new_id(), 1, reported_at),
        data=ReportReceivedData(
            subject=command.subject, reporter=command.reporter, summary=command.summary
        ),
    )


def record_contact_lost(case: CaseState, command: RecordContactLost, ctx: Context) -> ContactLost:
    _not_in_future(command.last_contact_at, "last_contact_at", ctx.now)
    return ContactLost(
        **ctx.envelope(case.case_id, case.version + 1, command.last_contact_at),
        data=ContactLostData(
            last_contact_at=command.last_contact_at, circumstances=command.circumstances
        ),
    )


def send_inquiry(case: CaseState, command: SendInquiry, ctx: Context) -> InquirySent:
    _not_in_future(command.sent_at, "sent_at", ctx.now)
    if command.due_at is not None and command.due_at < latest_instant(command.sent_at):
        raise InvalidCommand(("body", "due_at"), "due_at must not be before sent_at")
    return InquirySent(
        **ctx.envelope(case.case_id, case.version + 1, command.sent_at),
        data=InquirySentData(
            inquiry_id=ctx.new_id(),
            recipient=command.recipient,
            channel=command.channel,
            sent_at=command.sent_at,
            due_at=command.due_at,
        ),
    )


def record_response(
    case: CaseState, inquiry_id: UUID, command: RecordResponse, ctx: Context
) -> OfficialResponseReceived:
    if inquiry_id not in case.inquiry_ids:
        raise InquiryNotFound(inquiry_id)
    _not_in_future(command.received_at, "received_at", ctx.now)
    return OfficialResponseReceived(
        **ctx.envelope(case.case_id, case.version + 1, command.received_at),
        data=OfficialResponseReceivedData(
            inquiry_id=inquiry_id, received_at=command.received_at, summary=command.summary
        ),
    )


def new_inquiry_id(event: EventEnvelope) -> UUID | None:
    """The inquiry an event opens, if it opens one."""
    return event.data.inquiry_id if isinstance(event, InquirySent) else None

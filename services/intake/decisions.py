"""Pure decisions: a command and the case as intake knows it become one event, or an error.

`evolve` folds an event into the case state; every rule that can refuse a command lives here,
so it is tested without a database, a broker or a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

from contracts.chain import seal
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

E = TypeVar("E", bound=EventEnvelope)

INQUIRY_OPEN, INQUIRY_ANSWERED, INQUIRY_WITHDRAWN = "open", "answered", "withdrawn"


class CaseNotFound(LookupError):
    pass


class InquiryNotFound(LookupError):
    pass


class RuleViolated(Exception):
    """The command conflicts with the case's current state (HTTP 409); names the rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


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
    version: int = 0
    head_hash: str | None = None
    closed: bool = False
    inquiries: Mapping[UUID, str] = field(default_factory=lambda: MappingProxyType({}))

    def inquiry_state(self, inquiry_id: UUID) -> str:
        if inquiry_id not in self.inquiries:
            raise InquiryNotFound(inquiry_id)
        return self.inquiries[inquiry_id]

    def to_json(self) -> dict[str, Any]:
        return {"closed": self.closed, "inquiries": {str(k): v for k, v in self.inquiries.items()}}

    @classmethod
    def from_json(cls, case_id: UUID, version: int, head_hash: str | None, doc: dict) -> CaseState:
        inquiries = MappingProxyType({UUID(k): v for k, v in doc.get("inquiries", {}).items()})
        return cls(case_id, version, head_hash, bool(doc.get("closed")), inquiries)


def evolve(state: CaseState | None, event: EventEnvelope) -> CaseState:
    """The case state after one of its events."""
    state = state or CaseState(case_id=event.case_id)
    inquiries = dict(state.inquiries)
    closed = state.closed
    match event:
        case InquirySent():
            inquiries[event.data.inquiry_id] = INQUIRY_OPEN
        case OfficialResponseReceived():
            inquiries[event.data.inquiry_id] = INQUIRY_ANSWERED
    return replace(
        state, version=event.sequence, head_hash=event.hash, closed=closed,
        inquiries=MappingProxyType(inquiries),
    )


@dataclass(frozen=True)
class Context:
    """Who is recording, when, and where new ids come from (injected so tests control them)."""

    now: datetime
    actor: str
    correlation_id: UUID
    new_id: Callable[[], UUID]

    def event(
        self, event_type: type[E], case: CaseState | None, occurred_at: str, data: Any,
        *, reopens: bool = False,
    ) -> E:
        """The next event of the case, sealed into its hash chain.

        Every event is built here, so the closed-case rule cannot be forgotten by a command.
        """
        if case is not None and case.closed and not reopens:
            raise RuleViolated("case_closed", "the case is closed; reopen it before recording more")
        return seal(
            event_type,
            event_id=self.new_id(),
            case_id=case.case_id if case else self.new_id(),
            sequence=case.version + 1 if case else 1,
            prev_hash=case.head_hash if case else None,
            occurred_at=occurred_at,
            recorded_at=self.now,
            actor=self.actor,
            correlation_id=self.correlation_id,
            data=data,
        )

    def today(self) -> str:
        return self.now.isoformat().replace("+00:00", "Z")


def not_in_future(value: str, field_name: str, now: datetime) -> str:
    if earliest_instant(value) > now:
        raise InvalidCommand(("body", field_name), f"{field_name} {value!r} is in the future")
    return value


def open_case(command: ReportCase, ctx: Context) -> ReportReceived:
    reported_at = not_in_future(command.reported_at or ctx.today(), "reported_at", ctx.now)
    return ctx.event(
        ReportReceived, None, reported_at,
        ReportReceivedData(subject=command.subject, reporter=command.reporter, summary=command.summary),
    )


def record_contact_lost(case: CaseState, command: RecordContactLost, ctx: Context) -> ContactLost:
    not_in_future(command.last_contact_at, "last_contact_at", ctx.now)
    return ctx.event(
        ContactLost, case, command.last_contact_at,
        ContactLostData(last_contact_at=command.last_contact_at, circumstances=command.circumstances),
    )


def send_inquiry(case: CaseState, command: SendInquiry, ctx: Context) -> InquirySent:
    not_in_future(command.sent_at, "sent_at", ctx.now)
    if command.due_at is not None and command.due_at < latest_instant(command.sent_at):
        raise InvalidCommand(("body", "due_at"), "due_at must not be before sent_at")
    return ctx.event(
        InquirySent, case, command.sent_at,
        InquirySentData(
            inquiry_id=ctx.new_id(), recipient=command.recipient, channel=command.channel,
            sent_at=command.sent_at, due_at=command.due_at,
        ),
    )


def record_response(
    case: CaseState, inquiry_id: UUID, command: RecordResponse, ctx: Context
) -> OfficialResponseReceived:
    if case.inquiry_state(inquiry_id) == INQUIRY_WITHDRAWN:
        raise RuleViolated("inquiry_withdrawn", "the inquiry was withdrawn")
    not_in_future(command.received_at, "received_at", ctx.now)
    return ctx.event(
        OfficialResponseReceived, case, command.received_at,
        OfficialResponseReceivedData(
            inquiry_id=inquiry_id, received_at=command.received_at, summary=command.summary
        ),
    )

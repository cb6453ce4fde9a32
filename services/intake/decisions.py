"""Pure decisions: a command and the case as intake knows it become one event, or an error.

This module holds what every decision shares: the case state, `evolve` (folds an event into
it), the `Context` every event is built through, and the errors. The decisions themselves
live beside it, one module per event family (case_decisions, inquiry_decisions,
casework_decisions); nothing here or there touches a database, a broker or a clock.
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
    CaseClosed,
    CaseReopened,
    EventEnvelope,
    InquirySent,
    InquiryWithdrawn,
    OfficialResponseReceived,
)
from contracts.partial_dates import earliest_instant

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
        case InquiryWithdrawn():
            inquiries[event.data.inquiry_id] = INQUIRY_WITHDRAWN
        case CaseClosed():
            closed = True
        case CaseReopened():
            closed = False
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
    """The (partial) date, unless even its earliest moment is after `now`.

    `field_name` may be dotted ("subject.date_of_birth"); the error names the whole path but
    not the value, which may be personal (a birth date) and would end up in proxy logs.
    """
    if earliest_instant(value) > now:
        path = ("body", *field_name.split("."))
        raise InvalidCommand(path, f"{field_name} is in the future")
    return value


def live_inquiry(case: CaseState, inquiry_id: UUID, what: str) -> str:
    """The inquiry's state, if it exists on this case (else 404) and is not withdrawn (else 409)."""
    state = case.inquiry_state(inquiry_id)
    if state == INQUIRY_WITHDRAWN:
        raise RuleViolated(
            "inquiry_withdrawn", f"the inquiry was withdrawn; no {what} can be recorded on it"
        )
    return state

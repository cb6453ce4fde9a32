"""Pure decisions: a command and the case as intake knows it become one event, or an error.

This module holds what every decision shares: the case state, `evolve` (folds an event into
it), the `Context` every event is built through, and the errors. The decisions themselves
live beside it, one module per event family (case_decisions, inquiry_decisions,
casework_decisions); nothing here or there touches a database, a broker or a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

from contracts.access import CaseScope
from contracts.chain import seal
from contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseReopened,
    ConsentChanged,
    EventEnvelope,
    InquiryPaused,
    InquiryResumed,
    InquirySent,
    InquiryWithdrawn,
    OfficialResponseReceived,
    ReportReceived,
    SubjectErased,
)
from contracts.partial_dates import earliest_instant
from contracts.personal_data import encrypt_personal_data
from contracts.values import Consent

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
class Inquiry:
    """What intake knows of one inquiry of the case, from the events it recorded on it."""

    state: str = INQUIRY_OPEN
    # None only in a state stored by an intake that did not keep it (see CaseState.from_json).
    sent_at: str | None = None
    paused_on: date | None = None  # set while the response clock is stopped

    @property
    def paused(self) -> bool:
        return self.paused_on is not None


@dataclass(frozen=True)
class CaseState:
    """What intake needs to know about a case to accept a command on it."""

    case_id: UUID
    version: int = 0
    head_hash: str | None = None
    closed: bool = False
    inquiries: Mapping[UUID, Inquiry] = field(default_factory=lambda: MappingProxyType({}))
    team: str | None = None  # whose case it is (report_received), for the access rules
    assignee: str | None = None  # who it is assigned to (case_assigned)
    scope_recorded: bool = True  # False in a state stored before intake kept team and assignee
    erased: bool = False  # subject_erased: its key is destroyed, nothing more is recorded
    consent: Consent | None = None  # what the family agreed to share (None: stored without it)

    @property
    def scope(self) -> CaseScope:
        return CaseScope(team=self.team, assignee=self.assignee)

    def inquiry(self, inquiry_id: UUID) -> Inquiry:
        if inquiry_id not in self.inquiries:
            raise InquiryNotFound(inquiry_id)
        return self.inquiries[inquiry_id]

    def inquiry_state(self, inquiry_id: UUID) -> str:
        return self.inquiry(inquiry_id).state

    @property
    def missing_facts(self) -> bool:
        """Stored without facts this version keeps: fold it again from the case's events."""
        return not self.scope_recorded or self.consent is None or any(
            inquiry.sent_at is None for inquiry in self.inquiries.values())

    def to_json(self) -> dict[str, Any]:
        # "inquiries" keeps the shape of earlier versions ({id: state}), so a replica still
        # running one during an upgrade reads the states right; the newer facts sit beside it.
        # Such a replica drops them when it writes the case, which `missing_facts` then shows.
        inquiries = {str(k): v for k, v in self.inquiries.items()}
        return {
            "closed": self.closed,
            "inquiries": {k: v.state for k, v in inquiries.items()},
            "sent_at": {k: v.sent_at for k, v in inquiries.items() if v.sent_at is not None},
            "paused_on": {k: v.paused_on.isoformat() for k, v in inquiries.items() if v.paused},
            "scope": {"team": self.team, "assignee": self.assignee},
            **({"erased": True} if self.erased else {}),
            **({"consent": self.consent.model_dump()} if self.consent is not None else {}),
        }

    @classmethod
    def from_json(cls, case_id: UUID, version: int, head_hash: str | None, doc: dict) -> CaseState:
        """The state as stored; one stored before pauses existed loads with sent_at unknown."""
        sent_at, paused_on = doc.get("sent_at", {}), doc.get("paused_on", {})
        inquiries = MappingProxyType({
            UUID(k): Inquiry(
                state=state, sent_at=sent_at.get(k),
                paused_on=date.fromisoformat(paused_on[k]) if k in paused_on else None,
            )
            for k, state in doc.get("inquiries", {}).items()
        })
        scope = doc.get("scope")
        return cls(case_id, version, head_hash, bool(doc.get("closed")), inquiries,
                   team=(scope or {}).get("team"), assignee=(scope or {}).get("assignee"),
                   scope_recorded=scope is not None, erased=bool(doc.get("erased")),
                   consent=Consent(**doc["consent"]) if "consent" in doc else None)


def evolve(state: CaseState | None, event: EventEnvelope) -> CaseState:
    """The case state after one of its events."""
    state = state or CaseState(case_id=event.case_id)
    inquiries = dict(state.inquiries)
    closed, team, assignee, erased = state.closed, state.team, state.assignee, state.erased
    consent = state.consent or Consent()

    def change(inquiry_id: UUID, **facts: Any) -> None:
        inquiries[inquiry_id] = replace(inquiries.get(inquiry_id, Inquiry()), **facts)

    match event:
        case InquirySent():
            inquiries[event.data.inquiry_id] = Inquiry(sent_at=event.data.sent_at)
        case OfficialResponseReceived():
            change(event.data.inquiry_id, state=INQUIRY_ANSWERED)
        case InquiryWithdrawn():
            change(event.data.inquiry_id, state=INQUIRY_WITHDRAWN)
        case InquiryPaused():
            change(event.data.inquiry_id, paused_on=event.data.paused_on)
        case InquiryResumed():
            change(event.data.inquiry_id, paused_on=None)
        case CaseClosed():
            closed = True
        case CaseReopened():
            closed = False
        case ReportReceived():
            team, consent = event.data.team, event.data.consent
        case ConsentChanged():
            consent = event.data.consent
        case CaseAssigned():
            assignee = event.data.assignee
        case SubjectErased():
            erased = True
    return replace(
        state, version=event.sequence, head_hash=event.hash, closed=closed,
        inquiries=MappingProxyType(inquiries), team=team, assignee=assignee, scope_recorded=True,
        erased=erased, consent=consent,
    )


def fold(events: Iterable[EventEnvelope]) -> CaseState | None:
    """The state of a case from its events, in sequence order; None if there are none."""
    state = None
    for event in events:
        state = evolve(state, event)
    return state


Encryption = Callable[[UUID], Callable[[str], str]]
"""Given a case id, what encrypts one personal field with that case's key."""


@dataclass(frozen=True)
class Context:
    """Who is recording, when, where new ids come from, and how personal data is encrypted
    (injected, so tests control them and the decisions stay pure)."""

    now: datetime
    actor: str
    correlation_id: UUID
    new_id: Callable[[], UUID]
    team: str | None = None  # of the person recording: a case they open is their team's
    encryption: Encryption | None = None  # None only in tests of the decisions themselves

    def event(
        self, event_type: type[E], case: CaseState | None, occurred_at: str, data: Any,
        *, on_closed_case: bool = False,
    ) -> E:
        """The next event of the case, its personal data encrypted, sealed into its hash chain.

        Every event is built here, so neither the closed-case rule nor the erased-subject rule
        nor encryption can be forgotten by a command.
        """
        if case is not None and case.erased:
            raise RuleViolated("subject_erased",
                               "the subject was erased; nothing more is recorded on this case")
        if case is not None and case.closed and not on_closed_case:
            raise RuleViolated("case_closed", "the case is closed; reopen it before recording more")
        event_id = self.new_id()
        case_id = case.case_id if case else self.new_id()
        if self.encryption is not None:
            data = encrypt_personal_data(data, self.encryption(case_id))
        return seal(
            event_type,
            event_id=event_id,
            case_id=case_id,
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

    def day(self) -> date:
        """Today's date (UTC), for facts the world dates by the day, such as a clock stop."""
        return self.now.astimezone(UTC).date()


def not_in_future(value: str, field_name: str, now: datetime) -> str:
    """The (partial) date, unless even its earliest moment is after `now`.

    `field_name` may be dotted ("subject.date_of_birth"); the error names the whole path but
    not the value, which may be personal (a birth date) and would end up in proxy logs.
    """
    if earliest_instant(value) > now:
        path = ("body", *field_name.split("."))
        raise InvalidCommand(path, f"{field_name} is in the future")
    return value


def live_inquiry(case: CaseState, inquiry_id: UUID, what: str) -> Inquiry:
    """The inquiry, if it exists on this case (else 404) and is not withdrawn (else 409)."""
    inquiry = case.inquiry(inquiry_id)
    if inquiry.state == INQUIRY_WITHDRAWN:
        raise RuleViolated(
            "inquiry_withdrawn", f"the inquiry was withdrawn; no {what} can be recorded on it"
        )
    return inquiry

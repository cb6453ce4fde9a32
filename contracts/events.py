"""The event envelope and the first events of a case.

Events are facts in the past tense. Each has a stable `type` string and an integer
`schema_version`; old versions are never rewritten, only upcast when read.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from contracts.partial_dates import PartialDate

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
from contracts.values import Channel, LongText, Recipient, Reporter, ShortText, Subject


class EventEnvelope(BaseModel):
    """Fields every event carries, whatever its type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(description="Unique id; consumers deduplicate on it.")
    type: str = Field(description="Stable name of the event type.")
    schema_version: int = Field(ge=1, description="Version of this type's schema.")
    case_id: UUID = Field(description="The case this event belongs to; the Kafka message key.")
    sequence: int = Field(
        ge=1, description="Position of the event in its producer's stream for this case, from 1."
    )
    occurred_at: PartialDate = Field(description="When it happened in the world (may be partial).")
    recorded_at: AwareDatetime = Field(description="When the system learnt of it (UTC).")
    actor: ShortText = Field(description="Account or service that recorded the event.")
    correlation_id: UUID = Field(description="Ties together everything caused by one request.")
    causation_id: UUID | None = Field(
        default=None, description="The event that caused this one, if any."
    )
    prev_hash: Sha256 | None = Field(
        description="`hash` of the previous event in this stream of the case; null for the first."
    )
    hash: Sha256 = Field(
        description="SHA-256 (hex) of this event's canonical bytes; see contracts.chain."
    )


class ReportReceivedData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Subject
    reporter: Reporter
    summary: LongText = Field(description="What the reporter told the caseworker.")


class ReportReceived(EventEnvelope):
    """A relative or witness reported the subject missing or detained; this opens the case."""

    type: Literal["report_received"] = "report_received"
    schema_version: Literal[1] = 1
    data: ReportReceivedData


class ContactLostData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    last_contact_at: PartialDate = Field(description="Last time the family heard from the subject.")
    circumstances: LongText = Field(description="How and where contact was lost.")


class ContactLost(EventEnvelope):
    """The family lost contact with the subject."""

    type: Literal["contact_lost"] = "contact_lost"
    schema_version: Literal[1] = 1
    data: ContactLostData


class InquirySentData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    inquiry_id: UUID
    recipient: Recipient
    channel: Channel
    sent_at: PartialDate
    due_at: AwareDatetime | None = Field(
        default=None, description="Explicit response deadline; otherwise the NGO's policy applies."
    )


class InquirySent(EventEnvelope):
    """An inquiry about the subject was sent to an institution."""

    type: Literal["inquiry_sent"] = "inquiry_sent"
    schema_version: Literal[1] = 1
    data: InquirySentData


class OfficialResponseReceivedData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    inquiry_id: UUID = Field(description="The inquiry being answered.")
    received_at: PartialDate
    summary: LongText


class OfficialResponseReceived(EventEnvelope):
    """An institution answered an inquiry."""

    type: Literal["official_response_received"] = "official_response_received"
    schema_version: Literal[1] = 1
    data: OfficialResponseReceivedData


class InquiryOverdueData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    inquiry_id: UUID
    due_at: AwareDatetime = Field(description="The deadline that passed without a response.")
    detected_at: AwareDatetime = Field(description="When notify noticed the deadline had passed.")


class InquiryOverdue(EventEnvelope):
    """An inquiry went unanswered past its due date (raised by notify, once per inquiry)."""

    type: Literal["inquiry_overdue"] = "inquiry_overdue"
    schema_version: Literal[1] = 1
    data: InquiryOverdueData


AnyEvent = Annotated[
    ReportReceived | ContactLost | InquirySent | OfficialResponseReceived | InquiryOverdue,
    Field(discriminator="type"),
]
EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    ReportReceived,
    ContactLost,
    InquirySent,
    OfficialResponseReceived,
    InquiryOverdue,
)



@cache
def _any_event() -> TypeAdapter[AnyEvent]:
    """Built on first use, not at import: compiling the validator is real work."""
    return TypeAdapter(AnyEvent)


def decode_event(raw: bytes | str) -> AnyEvent:
    """Parse one event from its JSON bytes; raises pydantic.ValidationError if invalid."""
    return _any_event().validate_json(raw)


def encode_event(event: EventEnvelope) -> bytes:
    """The JSON bytes of an event as it is written to the log."""
    return event.model_dump_json().encode()


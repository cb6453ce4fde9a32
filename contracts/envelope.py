"""The envelope: the fields every event carries, whatever its type."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.partial_dates import PartialDate
from contracts.values import Sha256, ShortText


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

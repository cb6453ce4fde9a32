"""What a caseworker asks intake to record: HTTP request bodies, in the imperative."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.partial_dates import PartialDate
from contracts.values import Channel, LongText, Recipient, Reporter, Subject


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expected_version: int | None = Field(
        default=None, ge=0,
        description="The case version this command is based on (same as If-Match); "
        "a stale one is refused with 409 and the current version.",
    )


class ReportCase(Command):
    subject: Subject
    reporter: Reporter
    summary: LongText
    reported_at: PartialDate | None = Field(
        default=None, description="When the report was made; defaults to now."
    )


class RecordContactLost(Command):
    last_contact_at: PartialDate
    circumstances: LongText


class SendInquiry(Command):
    recipient: Recipient
    channel: Channel
    sent_at: PartialDate
    due_at: AwareDatetime | None = None


class RecordResponse(Command):
    received_at: PartialDate
    summary: LongText

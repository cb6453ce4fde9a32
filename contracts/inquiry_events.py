"""Events about inquiries to institutions: sent, followed up, answered, withdrawn, paused and
resumed, given more time; and the overdue notice notify wrote before alerts had a lifecycle."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.envelope import EventEnvelope
from contracts.partial_dates import PartialDate
from contracts.values import Channel, PersonalLongText, Recipient, ShortText, Value

Reference = ShortText


class InquirySentData(Value):
    omitted_at_default = frozenset({"reference"})

    inquiry_id: UUID
    recipient: Recipient
    channel: Channel
    sent_at: PartialDate
    due_at: AwareDatetime | None = Field(
        default=None, description="Explicit response deadline; otherwise the NGO's policy applies."
    )
    reference: Reference | None = Field(
        default=None,
        description="Reference number of the letter, case or portal ticket.",
        examples=["KZ-DEMO-2025/014"],
    )


class InquirySent(EventEnvelope):
    """An inquiry about the subject was sent to an institution."""

    type: Literal["inquiry_sent"] = "inquiry_sent"
    schema_version: Literal[1] = 1
    data: InquirySentData


class FollowUpSentData(Value):
    inquiry_id: UUID = Field(description="The inquiry being followed up.")
    channel: Channel
    sent_at: PartialDate
    reference: Reference | None = None


class FollowUpSent(EventEnvelope):
    """A reminder or follow-up on an earlier inquiry was sent."""

    type: Literal["follow_up_sent"] = "follow_up_sent"
    schema_version: Literal[1] = 1
    data: FollowUpSentData


class ResponseClassification(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    SUBSTANTIVE = "substantive"
    REFUSAL = "refusal"
    DENIAL = "denial"
    NO_RECORD = "no_record"
    DETENTION_CONFIRMED = "detention_confirmed"
    SENTENCE_DISCLOSED = "sentence_disclosed"
    OTHER = "other"


class OfficialResponseReceivedData(Value):
    omitted_at_default = frozenset({"classification"})

    inquiry_id: UUID = Field(description="The inquiry being answered.")
    received_at: PartialDate
    summary: PersonalLongText
    classification: ResponseClassification | None = Field(
        default=None,
        description="What kind of answer it is. Null means not classified (yet): responses "
        "recorded before classification existed, or a caseworker who has not judged it. "
        "It is not defaulted to 'other', which would claim a judgement nobody made.",
    )


class OfficialResponseReceived(EventEnvelope):
    """An institution answered an inquiry."""

    type: Literal["official_response_received"] = "official_response_received"
    schema_version: Literal[1] = 1
    data: OfficialResponseReceivedData


class InquiryWithdrawnData(Value):
    inquiry_id: UUID = Field(description="The inquiry withdrawn; its deadline no longer runs.")
    withdrawn_at: PartialDate
    reason: PersonalLongText | None = Field(
        default=None, examples=["Sent to the wrong consulate; a new inquiry replaces it."]
    )


class InquiryWithdrawn(EventEnvelope):
    """The NGO withdrew an inquiry; no answer is awaited any more."""

    type: Literal["inquiry_withdrawn"] = "inquiry_withdrawn"
    schema_version: Literal[1] = 1
    data: InquiryWithdrawnData


class InquiryPausedData(Value):
    inquiry_id: UUID = Field(description="The inquiry whose response clock stops.")
    paused_on: date = Field(
        description="First day that does not count towards the deadline.", examples=["2025-03-03"]
    )
    reason: PersonalLongText | None = Field(
        default=None, examples=["The embassy asked for the birth certificate; waiting for it."]
    )


class InquiryPaused(EventEnvelope):
    """The response clock of an inquiry stopped: no deadline runs and no alert is raised."""

    type: Literal["inquiry_paused"] = "inquiry_paused"
    schema_version: Literal[1] = 1
    data: InquiryPausedData


class InquiryResumedData(Value):
    inquiry_id: UUID = Field(description="The paused inquiry whose clock runs again.")
    resumed_on: date = Field(
        description="First day that counts towards the deadline again.", examples=["2025-03-17"]
    )


class InquiryResumed(EventEnvelope):
    """The response clock of a paused inquiry runs again; the paused days do not count."""

    type: Literal["inquiry_resumed"] = "inquiry_resumed"
    schema_version: Literal[1] = 1
    data: InquiryResumedData


class DeadlineExtendedData(Value):
    inquiry_id: UUID = Field(description="The inquiry given more time.")
    due_at: AwareDatetime = Field(
        description="The new response deadline; it replaces the policy's and any earlier one."
    )
    reason: PersonalLongText | None = Field(
        default=None, examples=["The ministry promised an answer after the holidays."]
    )


class DeadlineExtended(EventEnvelope):
    """The NGO gave an institution until a later date to answer an inquiry."""

    type: Literal["deadline_extended"] = "deadline_extended"
    schema_version: Literal[1] = 1
    data: DeadlineExtendedData


class InquiryOverdueData(Value):
    inquiry_id: UUID
    due_at: AwareDatetime = Field(description="The deadline that passed without a response.")
    detected_at: AwareDatetime = Field(description="When notify noticed the deadline had passed.")


class InquiryOverdue(EventEnvelope):
    """An inquiry went unanswered past its due date (notify's notice before alert_raised existed)."""

    type: Literal["inquiry_overdue"] = "inquiry_overdue"
    schema_version: Literal[1] = 1
    data: InquiryOverdueData


INQUIRY_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    InquirySent,
    FollowUpSent,
    OfficialResponseReceived,
    InquiryWithdrawn,
    InquiryPaused,
    InquiryResumed,
    DeadlineExtended,
)
"""What intake records about inquiries today."""

RETIRED_INQUIRY_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (InquiryOverdue,)
"""No longer written (notify raises alert_raised of kind overdue instead); still on old logs."""

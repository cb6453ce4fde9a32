"""What casefile's API answers with: the public shapes of its views."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class _FromRows(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CaseListItem(_FromRows):
    case_id: UUID
    status: str = Field(description="awaiting_report, open, the subject's status, or closed.")
    subject_status: str | None
    subject_name: str | None
    assignee: str | None
    opened_at: str | None = Field(description="When the report was made (may be partial).")
    last_contact_at: str | None = Field(
        description="The latest date the family heard from the subject (may be partial)."
    )
    contact_state: str | None = Field(description="lost or restored, by the latest contact.")
    days_since_last_contact: int | None = Field(
        description="Whole days since the last contact, counted from the last day a partial "
        "date can mean (\"2017\" counts from 31 December 2017)."
    )
    last_recorded_at: str | None = Field(description="When the system last learnt of the case.")
    last_sequence: int
    inquiries_open: int
    inquiries_overdue: int
    inquiries_answered: int
    threats_reported: int
    needs_attention: bool = Field(
        description="A message about this case could not be applied; see its attention list."
    )
    erased_at: str | None = Field(
        default=None, description="When the subject was erased: personal fields read \"[erased]\".")


class InquiryPublic(_FromRows):
    inquiry_id: UUID
    state: str = Field(description="awaiting, paused (its clock stopped), overdue, answered or "
                                   "withdrawn.")
    recipient_name: str | None
    recipient_kind: str | None
    recipient_country: str | None
    channel: str | None
    sent_at: str | None
    due_at: str | None
    due_explanation: str | None = Field(description="How notify worked the deadline out.", examples=[
        "due 2025-03-13: 20 business days after 2025-02-13, China calendar, policy embassy-v1"])
    paused_since: str | None = Field(description="The day its clock stopped, while stopped.")
    answered_at: str | None
    classification: str | None
    days_to_answer: int | None
    follow_ups: int
    last_follow_up_at: str | None
    withdrawn_at: str | None


class InformationPublic(_FromRows):
    event_id: UUID
    received_at: str
    reliability: str = Field(description="rumour, unverified or confirmed.")
    source: str
    content: str


class ThreatPublic(_FromRows):
    event_id: UUID
    happened_at: str
    target: str
    kind: str
    description: str
    recorded_at: str


class AttentionPublic(_FromRows):
    topic: str
    partition: int
    offset: int
    case_id: UUID | None
    event_id: UUID | None
    stage: str = Field(description="decode (not a valid event) or apply (could not be applied).")
    reason: str


class ErasurePublic(_FromRows):
    erased_at: str
    reason: str
    by: str = Field(description="The admin who erased the subject.")


class CaseDetail(BaseModel):
    case_id: UUID
    as_of: str | None = Field(
        description="Set on an audit replay: the case as known when this moment ended (UTC)."
    )
    status: str
    subject_status: str | None
    subject: dict[str, Any] | None = Field(description="Names in every script, birth date...")
    reporter: dict[str, Any] | None
    summary: str | None
    consent: dict[str, bool]
    assignee: str | None
    opened_at: str | None
    last_contact_at: str | None
    contact_state: str | None
    closed_outcome: str | None
    never_export: list[str] = Field(
        default=[], description="Parts of the case never exported, whatever the consent.")
    erasure: ErasurePublic | None = Field(
        default=None, description="Set once the subject was erased: every personal field of the "
        "case reads \"[erased]\", in every view, as of any date.")
    last_sequence: int
    last_recorded_at: str | None
    events: int = Field(description="How many events the view was folded from.")
    inquiries_open: int
    inquiries_overdue: int
    inquiries_answered: int
    inquiries: list[InquiryPublic]
    latest_information: InformationPublic | None
    information_received: int
    threats: list[ThreatPublic]
    attention: list[AttentionPublic] = Field(
        description="Messages about the case that could not be applied (live view only)."
    )


class TimelineEntryPublic(BaseModel):
    event_id: UUID
    type: str
    stream: str = Field(description="case (recorded through intake) or alert (raised by notify).")
    sequence: int
    schema_version: int = Field(description="The version the event was recorded in.")
    occurred_at: str = Field(description="When it happened, as precisely as known.")
    occurred_precision: str = Field(description="year, month, day or instant.")
    recorded_at: str
    actor: str
    data: dict[str, Any] = Field(description="The event's data, in its type's current version.")


class RecipientPublic(_FromRows):
    name: str
    kind: str
    country: str
    sent: int
    answered: int
    awaiting: int
    overdue: int
    withdrawn: int
    median_days_to_answer: float | None = Field(
        description="Over answered inquiries whose dates are known to the day."
    )
    never_answered_share: float | None = Field(
        description="Of the inquiries whose window has closed (answered or overdue), the share "
        "with no answer."
    )


class ChainBreakPublic(_FromRows):
    case_id: UUID
    stream: str
    sequence: int
    event_id: UUID | None
    kind: str = Field(description="gap, fork, bytes, link or differing_copies.")
    reason: str


class StreamAuditPublic(_FromRows):
    stream: str
    events: int
    head_hash: str | None
    intact: bool
    broken: ChainBreakPublic | None


class CaseVerification(BaseModel):
    case_id: UUID
    intact: bool
    streams: list[StreamAuditPublic]


class StoreVerification(BaseModel):
    intact: bool
    cases: int
    events: int
    broken: list[ChainBreakPublic]


class CaseExport(BaseModel):
    """A case as it may leave the NGO: for one audience the family agreed to, without the parts
    marked never to be exported, and never the reporter's contact details."""

    case_id: UUID
    destination: str
    exported_at: str
    subject: dict[str, Any] = Field(description="Names in every script, birth date, documents, "
                                                "last known place; less what is withheld.")
    status: str
    subject_status: str | None
    reporter: dict[str, Any] | None = Field(description="Name and relationship only.")
    summary: str | None
    last_contact_at: str | None
    contact_state: str | None
    inquiries: list[dict[str, Any]] = Field(
        description="To which institutions, when, and what came of them.")
    latest_information: dict[str, Any] | None
    threats: list[dict[str, Any]] | None
    withheld: list[str] = Field(description="Parts of the case left out: marked never to be "
                                            "exported.")

"""The event catalogue: the envelope, every event type, and their bytes on the log.

Events are facts in the past tense. Each has a stable `type` string and an integer
`schema_version`; old versions are never rewritten, only upcast when read. The types live in
one module per family (case_events, casework_events, inquiry_events); this module gathers
them, so `from contracts.events import X` works for every one of them.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from pydantic import Field, TypeAdapter

from contracts.case_events import (
    CASE_EVENT_TYPES,
    ContactLost,
    ContactLostData,
    ContactRestored,
    ContactRestoredData,
    InformationReceived,
    InformationReceivedData,
    PublicActionKind,
    PublicActionTaken,
    PublicActionTakenData,
    Reliability,
    ReportReceived,
    ReportReceivedData,
    StatusChanged,
    StatusChangedData,
    SubjectStatus,
    ThreatKind,
    ThreatReported,
    ThreatReportedData,
    ThreatTarget,
)
from contracts.casework_events import (
    CASEWORK_EVENT_TYPES,
    CaseAssigned,
    CaseAssignedData,
    CaseClosed,
    CaseClosedData,
    CaseOutcome,
    CaseReopened,
    CaseReopenedData,
    EvidenceAttached,
    EvidenceAttachedData,
    NoteAdded,
    NoteAddedData,
)
from contracts.envelope import EventEnvelope
from contracts.inquiry_events import (
    INQUIRY_EVENT_TYPES,
    FollowUpSent,
    FollowUpSentData,
    InquiryOverdue,
    InquiryOverdueData,
    InquirySent,
    InquirySentData,
    InquiryWithdrawn,
    InquiryWithdrawnData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
    ResponseClassification,
)
from contracts.values import AS_RECORDED, Sha256

AnyEvent = Annotated[
    ReportReceived
    | ContactLost
    | ContactRestored
    | InformationReceived
    | StatusChanged
    | ThreatReported
    | PublicActionTaken
    | NoteAdded
    | EvidenceAttached
    | CaseAssigned
    | CaseClosed
    | CaseReopened
    | InquirySent
    | FollowUpSent
    | OfficialResponseReceived
    | InquiryWithdrawn
    | InquiryOverdue,
    Field(discriminator="type"),
]
EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    *CASE_EVENT_TYPES, *CASEWORK_EVENT_TYPES, *INQUIRY_EVENT_TYPES, InquiryOverdue,
)


@cache
def _any_event() -> TypeAdapter[AnyEvent]:
    """Built on first use, not at import: compiling the validator is real work."""
    return TypeAdapter(AnyEvent)


def decode_event(raw: bytes | str) -> AnyEvent:
    """Parse one event from its JSON bytes; raises pydantic.ValidationError if invalid.

    Text is taken as recorded (not re-normalised), so the event keeps the bytes it was hashed over.
    """
    return _any_event().validate_json(raw, context=AS_RECORDED)


def encode_event(event: EventEnvelope) -> bytes:
    """The JSON bytes of an event as it is written to the log."""
    return event.model_dump_json().encode()


__all__ = [
    "AnyEvent", "EVENT_TYPES", "EventEnvelope", "Sha256", "decode_event", "encode_event",
    # case_events
    "ContactLost", "ContactLostData", "ContactRestored", "ContactRestoredData",
    "InformationReceived", "InformationReceivedData", "PublicActionKind", "PublicActionTaken",
    "PublicActionTakenData", "Reliability", "ReportReceived", "ReportReceivedData",
    "StatusChanged", "StatusChangedData", "SubjectStatus", "ThreatKind", "ThreatReported",
    "ThreatReportedData", "ThreatTarget",
    # casework_events
    "CaseAssigned", "CaseAssignedData", "CaseClosed", "CaseClosedData", "CaseOutcome",
    "CaseReopened", "CaseReopenedData", "EvidenceAttached", "EvidenceAttachedData", "NoteAdded",
    "NoteAddedData",
    # inquiry_events
    "FollowUpSent", "FollowUpSentData", "InquiryOverdue", "InquiryOverdueData", "InquirySent",
    "InquirySentData", "InquiryWithdrawn", "InquiryWithdrawnData", "OfficialResponseReceived",
    "OfficialResponseReceivedData", "ResponseClassification",
]

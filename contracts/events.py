"""The event catalogue: the envelope, every event type, and their bytes on the log.

Events are facts in the past tense. Each has a stable `type` string and an integer
`schema_version`; old versions are never rewritten, only upcast when read. The types live in
one module per family (case_events, casework_events, inquiry_events, and notify's
alert_events); this module gathers them, so `from contracts.events import X` works for every one of them.

`decode_event` gives an event as it was recorded, in its own version (what hashes are
verified on and what is re-published byte for byte); `read_event` gives it in the current
version of its type (what projections fold).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from contracts.alert_events import (
    ALERT_EVENT_TYPES,
    AlertAcknowledged,
    AlertAcknowledgedData,
    AlertDelivered,
    AlertDeliveredData,
    AlertDeliveryFailed,
    AlertDeliveryFailedData,
    AlertKind,
    AlertRaised,
    AlertRaisedData,
    AlertSnoozed,
    AlertSnoozedData,
    AlertWithdrawn,
    AlertWithdrawnData,
    Deadline,
    DeadlineRecalculated,
    DeadlineRecalculatedData,
    DeadlineSet,
    DeadlineSetData,
    DeliveryChannel,
    RecalculationCause,
    WithdrawalReason,
)
from contracts.case_events import (
    CASE_EVENT_TYPES,
    SUPERSEDED_CASE_EVENT_TYPES,
    ContactLost,
    ContactLostData,
    ContactLostDataV1,
    ContactLostV1,
    ContactRestored,
    ContactRestoredData,
    FamilyCheckedIn,
    FamilyCheckedInData,
    InformationReceived,
    InformationReceivedData,
    LastContact,
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
    ErasureReason,
    EvidenceAttached,
    EvidenceAttachedData,
    NoteAdded,
    NoteAddedData,
    SubjectErased,
    SubjectErasedData,
)
from contracts.envelope import EventEnvelope
from contracts.inquiry_events import (
    INQUIRY_EVENT_TYPES,
    RETIRED_INQUIRY_EVENT_TYPES,
    DeadlineExtended,
    DeadlineExtendedData,
    FollowUpSent,
    FollowUpSentData,
    InquiryOverdue,
    InquiryOverdueData,
    InquiryPaused,
    InquiryPausedData,
    InquiryResumed,
    InquiryResumedData,
    InquirySent,
    InquirySentData,
    InquiryWithdrawn,
    InquiryWithdrawnData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
    ResponseClassification,
)
from contracts.sharing_events import (
    SHARING_EVENT_TYPES,
    ConsentChanged,
    ConsentChangedData,
    ExportField,
    ExportRestrictionsSet,
    ExportRestrictionsSetData,
    ShareDestination,
)
from contracts.values import AS_RECORDED, Sha256

CASE_TOPIC_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    *CASE_EVENT_TYPES, *CASEWORK_EVENT_TYPES, *INQUIRY_EVENT_TYPES, *SHARING_EVENT_TYPES,
)
"""What intake writes to case-events."""

EVENT_TYPES: tuple[type[EventEnvelope], ...] = (*CASE_TOPIC_EVENT_TYPES, *ALERT_EVENT_TYPES)
"""Every event type in its current version: what producers write today."""

RECORDED_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    *EVENT_TYPES, *SUPERSEDED_CASE_EVENT_TYPES, *RETIRED_INQUIRY_EVENT_TYPES,
)
"""Every version of every type that may be on a log, written today or before."""


def _by_type(models: tuple[type[EventEnvelope], ...]) -> Any:
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


AnyEvent = _by_type(EVENT_TYPES)
AnyCaseEvent = _by_type(CASE_TOPIC_EVENT_TYPES)
"""An event intake writes to case-events today."""
AnyAlertEvent = _by_type(ALERT_EVENT_TYPES)
"""An event notify writes to alert-events today."""


def _type_name(model: type[EventEnvelope]) -> str:
    return model.model_fields["type"].default


def _every_version_of(name: str) -> Any:
    """The one model of a type, or, if older versions are on the log, a choice of them all
    by schema_version (validated in Rust like the choice by type, rather than in Python)."""
    versions = [m for m in RECORDED_EVENT_TYPES if _type_name(m) == name]
    if len(versions) == 1:
        return versions[0]
    return Annotated[Union[tuple(versions)], Field(discriminator="schema_version")]  # noqa: UP007


_TYPE_NAMES = tuple(dict.fromkeys(map(_type_name, RECORDED_EVENT_TYPES)))

AnyRecordedEvent = Annotated[
    Union[tuple(_every_version_of(name) for name in _TYPE_NAMES)],  # noqa: UP007
    Field(discriminator="type"),
]
"""Every version of every type that may be on the log: by type, then by schema_version."""


@cache
def _any_recorded_event() -> TypeAdapter[AnyRecordedEvent]:
    """Built on first use, not at import: compiling the validator is real work."""
    return TypeAdapter(AnyRecordedEvent)


def decode_event(raw: bytes | str) -> AnyRecordedEvent:
    """Parse one event from its JSON bytes, in the version it was recorded in; raises
    pydantic.ValidationError if invalid, or of a type or version this code does not know.

    Text is taken as recorded (not re-normalised), so the event keeps the bytes it was hashed over.
    """
    return _any_recorded_event().validate_json(raw, context=AS_RECORDED)


def read_event(raw: bytes | str) -> AnyEvent:
    """Parse one event and upcast it to the current version of its type, to fold it."""
    from contracts.upcasting import upcast  # upcasters build on the models defined here

    return upcast(decode_event(raw))


def encode_event(event: EventEnvelope) -> bytes:
    """The JSON bytes of an event as it is written to the log."""
    return event.model_dump_json().encode()


__all__ = [
    "AnyAlertEvent", "AnyCaseEvent", "AnyEvent", "AnyRecordedEvent", "CASE_TOPIC_EVENT_TYPES",
    "EVENT_TYPES", "RECORDED_EVENT_TYPES", "EventEnvelope",
    "Sha256", "decode_event", "encode_event", "read_event",
    # case_events
    "ContactLost", "ContactLostData", "ContactLostDataV1", "ContactLostV1", "ContactRestored",
    "ContactRestoredData", "FamilyCheckedIn", "FamilyCheckedInData", "LastContact",
    "InformationReceived", "InformationReceivedData", "PublicActionKind", "PublicActionTaken",
    "PublicActionTakenData", "Reliability", "ReportReceived", "ReportReceivedData",
    "StatusChanged", "StatusChangedData", "SubjectStatus", "ThreatKind", "ThreatReported",
    "ThreatReportedData", "ThreatTarget",
    # casework_events
    "CaseAssigned", "CaseAssignedData", "CaseClosed", "CaseClosedData", "CaseOutcome",
    "CaseReopened", "CaseReopenedData", "ErasureReason", "EvidenceAttached",
    "EvidenceAttachedData", "NoteAdded", "NoteAddedData", "SubjectErased", "SubjectErasedData",
    # sharing_events
    "ConsentChanged", "ConsentChangedData", "ExportField", "ExportRestrictionsSet",
    "ExportRestrictionsSetData", "ShareDestination",
    # inquiry_events
    "DeadlineExtended", "DeadlineExtendedData", "InquiryPaused", "InquiryPausedData",
    "InquiryResumed", "InquiryResumedData", "FollowUpSent", "FollowUpSentData", "InquiryOverdue",
    "InquiryOverdueData", "InquirySent", "InquirySentData", "InquiryWithdrawn", "InquiryWithdrawnData", "OfficialResponseReceived",
    "OfficialResponseReceivedData", "ResponseClassification",
    # alert_events
    "AlertAcknowledged", "AlertAcknowledgedData", "AlertDelivered", "AlertDeliveredData",
    "AlertDeliveryFailed", "AlertDeliveryFailedData", "AlertKind", "AlertRaised",
    "AlertRaisedData", "AlertSnoozed", "AlertSnoozedData", "AlertWithdrawn", "AlertWithdrawnData",
    "Deadline", "DeadlineRecalculated", "DeadlineRecalculatedData", "DeadlineSet",
    "DeadlineSetData", "DeliveryChannel", "RecalculationCause", "WithdrawalReason",
]

"""Event schemas shared by every service: the only code the services have in common."""

from contracts.events import (
    AnyEvent,
    ContactLost,
    EventEnvelope,
    InquiryOverdue,
    InquirySent,
    OfficialResponseReceived,
    ReportReceived,
    decode_event,
    encode_event,
)

__all__ = [
    "AnyEvent",
    "ContactLost",
    "EventEnvelope",
    "InquiryOverdue",
    "InquirySent",
    "OfficialResponseReceived",
    "ReportReceived",
    "decode_event",
    "encode_event",
]

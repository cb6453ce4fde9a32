"""Upcasters: an event recorded in an older version of its type, read as the current one.

The log is never rewritten. An event keeps the version and bytes it was recorded with; a
consumer that folds events reads it through `upcast` (or `contracts.events.read_event`) and
sees only current versions. The upcast event keeps the whole envelope, including `hash` and
`prev_hash`: those commit to the bytes as recorded, so hash chains are always verified on
events as decoded by `decode_event`, never on upcast ones.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.case_events import (
    ContactLost,
    ContactLostData,
    ContactLostV1,
    LastContact,
)
from contracts.envelope import EventEnvelope


def upcast_contact_lost_v1_v2(event: ContactLostV1) -> ContactLost:
    """Version 2 gathers when and how the subject was last heard from into `last_contact`,
    beside where; a version 1 event never said where, so the place is unknown (None)."""
    data = event.data
    envelope = event.model_dump(exclude={"type", "schema_version", "data"})
    # Built from fields already validated when the event was decoded; validating them again
    # would re-clean text that must stay as recorded.
    return ContactLost.model_construct(
        **envelope,
        type="contact_lost",
        schema_version=2,
        data=ContactLostData.model_construct(
            last_contact=LastContact.model_construct(
                at=data.last_contact_at, channel=data.channel, place=None
            ),
            circumstances=data.circumstances,
        ),
    )


UPCASTERS: dict[tuple[str, int], Callable[[EventEnvelope], EventEnvelope]] = {
    ("contact_lost", 1): upcast_contact_lost_v1_v2,
}
"""(type, recorded version) -> the step to the next version; steps chain to the current one."""


def upcast(event: EventEnvelope) -> EventEnvelope:
    """The event in the current version of its type (itself if it is current already)."""
    while (step := UPCASTERS.get((event.type, event.schema_version))) is not None:
        event = step(event)
    return event

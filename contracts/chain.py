"""The per-case hash chain: every event commits to its own bytes and to the event before it.

An event's `hash` is the SHA-256 of its canonical bytes: the JSON of every envelope and data
field except `hash` itself, keys sorted, no insignificant whitespace, UTF-8. Because
`prev_hash` is among those fields, altering, dropping or reordering any earlier event of the
case breaks every later link, which an auditor can check with nothing but the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, TypeVar

from contracts.events import EventEnvelope

E = TypeVar("E", bound=EventEnvelope)

_UNSEALED = "0" * 64


def canonical_bytes(event: EventEnvelope) -> bytes:
    fields = event.model_dump(mode="json", exclude={"hash"})
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: EventEnvelope) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def seal(event_type: type[E], **fields: Any) -> E:
    """Build an event and set its `hash` from its canonical bytes."""
    unsealed = event_type(**fields, hash=_UNSEALED)
    return unsealed.model_copy(update={"hash": event_hash(unsealed)})


class BrokenChain(ValueError):
    """The events of a case do not form an unbroken hash chain."""

    def __init__(self, sequence: int, reason: str) -> None:
        super().__init__(f"hash chain broken at sequence {sequence}: {reason}")
        self.sequence = sequence
        self.reason = reason


def verify_chain(events: Iterable[EventEnvelope]) -> str | None:
    """Check one producer's events of one case, in sequence order; returns the head hash.

    Raises BrokenChain naming the first event whose hash, link or sequence is wrong.
    """
    previous: str | None = None
    expected_sequence = 1
    for event in events:
        if event.sequence != expected_sequence:
            raise BrokenChain(event.sequence, f"expected sequence {expected_sequence}")
        if event.hash != event_hash(event):
            raise BrokenChain(event.sequence, "the event's bytes do not match its hash")
        if event.prev_hash != previous:
            raise BrokenChain(event.sequence, "prev_hash does not match the previous event")
        previous = event.hash
        expected_sequence += 1
    return previous

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
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

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

    GAP, FORK, BYTES, LINK = "gap", "fork", "bytes", "link"

    def __init__(
        self, sequence: int, reason: str, *, kind: str = "", event_id: UUID | None = None
    ) -> None:
        super().__init__(f"hash chain broken at sequence {sequence}: {reason}")
        self.sequence = sequence
        self.reason = reason
        self.kind = kind
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class Link:
    """What the chain rule needs of one event: enough to audit a log without keeping it."""

    event_id: UUID
    sequence: int
    prev_hash: str | None
    hash: str  # as the event claims
    computed_hash: str  # of its canonical bytes as recorded

    @classmethod
    def of(cls, event: EventEnvelope) -> Link:
        return cls(event.event_id, event.sequence, event.prev_hash, event.hash, event_hash(event))


def verify_chain(events: Iterable[EventEnvelope]) -> str | None:
    """Check one producer's events of one case, in sequence order; returns the head hash.

    Raises BrokenChain naming the first event whose sequence (a gap, or two events claiming
    one number), hash or link is wrong. Give it the events as recorded, never upcast ones.
    """
    return verify_links(Link.of(event) for event in events)


def verify_links(links: Iterable[Link]) -> str | None:
    """verify_chain over links, in sequence order."""
    previous: str | None = None
    expected_sequence = 1
    for link in links:
        if link.sequence != expected_sequence:
            if link.sequence < expected_sequence:
                kind, reason = BrokenChain.FORK, f"a second event claims sequence {link.sequence}"
            elif link.sequence == expected_sequence + 1:
                kind, reason = BrokenChain.GAP, f"sequence {expected_sequence} is missing"
            else:
                kind = BrokenChain.GAP
                reason = f"sequences {expected_sequence} to {link.sequence - 1} are missing"
            raise BrokenChain(link.sequence, reason, kind=kind, event_id=link.event_id)
        if link.hash != link.computed_hash:
            raise BrokenChain(link.sequence, "the event's bytes do not match its hash",
                              kind=BrokenChain.BYTES, event_id=link.event_id)
        if link.prev_hash != previous:
            raise BrokenChain(link.sequence, "prev_hash does not match the previous event",
                              kind=BrokenChain.LINK, event_id=link.event_id)
        previous = link.hash
        expected_sequence += 1
    return previous

"""Hash-chain audit of a case's streams, as an auditor would run it. Pure.

Each case has one stream per producer (intake's case events, notify's alerts), each numbered
from 1 and chained by prev_hash. The log may carry an event twice (at-least-once); that is
not a break, unless the two copies differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from contracts.chain import BrokenChain, Link, verify_links
from contracts.events import EventEnvelope

DIFFERING_COPIES = "differing_copies"


@dataclass(frozen=True)
class ChainBreak:
    """The first event of a stream whose sequence, bytes or link is wrong."""

    case_id: UUID
    stream: str
    sequence: int
    event_id: UUID | None
    kind: str  # gap, fork, bytes, link or differing_copies
    reason: str


@dataclass(frozen=True)
class StreamAudit:
    case_id: UUID
    stream: str
    events: int
    head_hash: str | None  # the hash of the last event, if the whole stream verified
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def audit_stream(case_id: UUID, stream: str, events: Iterable[EventEnvelope]) -> StreamAudit:
    """Verify one stream of one case from its events as recorded (never upcast), any order."""
    return audit_links(case_id, stream, (Link.of(event) for event in events))


def audit_links(case_id: UUID, stream: str, links: Iterable[Link]) -> StreamAudit:
    """audit_stream over links, which is all a whole-log audit needs to keep in memory."""
    unique: dict[UUID, Link] = {}
    for link in links:
        seen = unique.setdefault(link.event_id, link)
        if seen != link:
            reason = f"event {link.event_id} is on the log twice with different contents"
            return StreamAudit(case_id, stream, len(unique), None, ChainBreak(
                case_id, stream, link.sequence, link.event_id, DIFFERING_COPIES, reason))
    ordered = sorted(unique.values(), key=lambda link: (link.sequence, str(link.event_id)))
    try:
        head = verify_links(ordered)
    except BrokenChain as broken:
        return StreamAudit(case_id, stream, len(ordered), None, ChainBreak(
            case_id, stream, broken.sequence, broken.event_id, broken.kind, broken.reason))
    return StreamAudit(case_id, stream, len(ordered), head)

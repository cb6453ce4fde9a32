"""A fictional case as the benchmark's log works on it: its two streams (intake's, with its
personal data encrypted as intake encrypts it, and notify's), its clock, and what it needs to
remember to go on plausibly (open inquiries, contact, consent, closed or not)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from bench.fictional_alerts import NotifySide
from contracts.chain import seal
from contracts.envelope import EventEnvelope
from contracts.personal_data import FieldCipher, encrypt_personal_data
from contracts.values import Consent

CASE, ALERT = "case", "alert"

CASEWORKERS = [f"caseworker-{n}" for n in range(1, 13)]
PLACES = ["Fictional border post", "Fictional town", "Fictional airport", "Fictional market"]
START = datetime(2018, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class Stream:
    """One producer's chain of one case: sequences and prev_hash as the services keep them."""

    case_id: UUID
    name: str
    cipher: FieldCipher | None = None  # intake's stream: its personal data is encrypted
    events: int = 0
    head: str | None = None

    def seal(self, event_type: type[EventEnvelope], **fields) -> EventEnvelope:
        self.events += 1
        if self.cipher is not None:
            fields["data"] = encrypt_personal_data(fields["data"], self.cipher.encrypt)
        event = seal(event_type, case_id=self.case_id, sequence=self.events, prev_hash=self.head,
                     **fields)
        self.head = event.hash
        return event


@dataclass
class Case:
    """One fictional case being worked on, and what its next events depend on."""

    number: int
    rng: random.Random
    case: Stream
    clock: datetime
    legacy: bool  # recorded before contact_lost had its version 2
    notify: NotifySide
    open_inquiries: list[UUID] = field(default_factory=list)
    paused: set[UUID] = field(default_factory=set)
    in_contact: bool = True
    closed: bool = False
    consent: Consent = field(default_factory=Consent)


def new_uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def envelope(case: Case, occurred_at: str, actor: str | None = None) -> dict:
    case.clock += timedelta(minutes=case.rng.randint(5, 60 * 24 * 10))
    return dict(event_id=new_uuid(case.rng), occurred_at=occurred_at, recorded_at=case.clock,
                actor=actor or case.rng.choice(CASEWORKERS), correlation_id=new_uuid(case.rng))


def past(case: Case) -> str:
    """A date before now, as precisely as families tend to remember: a year, a month or a day."""
    moment = case.clock - timedelta(days=case.rng.randint(1, 2500))
    return case.rng.choice([f"{moment:%Y}", f"{moment:%Y-%m}", f"{moment:%Y-%m-%d}",
                            f"{moment:%Y-%m-%d}", moment.strftime("%Y-%m-%dT%H:%M:%SZ")])


def today(case: Case) -> str:
    return f"{case.clock:%Y-%m-%d}"

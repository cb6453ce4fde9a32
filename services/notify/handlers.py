"""Notify's consumer: case events become facts, its own events read back become its state.

Each message is applied in one transaction with the record that it was applied (a redelivery
changes nothing); the offset is committed only after that. A message that cannot be read, or
keeps failing for a reason other than the database being unreachable, goes to notify's
dead-letter topic with the reason and where it came from, and the consumer carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy.exc
import structlog
from aiokafka import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from contracts.events import decode_event
from contracts.upcasting import upcast
from services.notify import facts
from services.notify.facts import apply_case_event
from services.notify.stream import ChannelsOf, record_from_log

log = structlog.get_logger()

TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
             sqlalchemy.exc.TimeoutError, ConnectionError, TimeoutError)
"""Failures of the database, not of the message: retried until they pass, never dead-lettered."""


class EventNotApplied(RuntimeError):
    """Raised so the consumer seeks back and retries; carries no content from the message."""


@dataclass(frozen=True)
class Rejected:
    """A message notify could not use; the reason names types and fields, never content."""

    record: ConsumerRecord
    stage: str  # decode or apply
    reason: str

    def headers(self, consumer_group: str) -> dict[str, str]:
        return {
            "dead-letter-stage": self.stage, "dead-letter-reason": self.reason,
            "dead-letter-consumer-group": consumer_group,
            "original-topic": self.record.topic,
            "original-partition": str(self.record.partition),
            "original-offset": str(self.record.offset),
        }


@dataclass
class Consumer:
    engine: Engine
    case_events_topic: str
    channels_of: ChannelsOf
    dead_letter: Callable[[Rejected], Awaitable[None]]
    on_applied: Callable[[], None] = lambda: None  # wakes the scheduler
    attempts: int = 3
    backoff: float = 1.0

    async def handle_batch(self, records: tuple[ConsumerRecord, ...]) -> None:
        """A poll's worth of messages in one transaction (one commit, one fsync); if any of
        them fails to apply, the batch is rolled back and applied one message at a time."""
        readable = []
        for record in records:
            event = await self._decode(record)
            if event is not None:
                readable.append((record, event))
        if not readable:
            return
        try:
            outcomes = await asyncio.to_thread(self._commit_all, readable)
        except TRANSIENT as exc:
            log.warning("events_not_applied_store_unavailable", error=type(exc).__name__,
                        events=len(readable))
            await asyncio.sleep(self.backoff)
            raise EventNotApplied(f"batch not applied ({type(exc).__name__})") from None
        except Exception as exc:
            log.warning("batch_applied_one_by_one", error=type(exc).__name__, events=len(readable))
            for record, event in readable:
                with self._bound(event):
                    await self._apply(record, event)
            return
        for (_, event), outcome in zip(readable, outcomes, strict=True):
            with self._bound(event):
                log.info("event_applied", type=event.type, outcome=outcome)
        self.on_applied()

    async def handle(self, record: ConsumerRecord) -> None:
        event = await self._decode(record)
        if event is not None:
            with self._bound(event):
                await self._apply(record, event)

    async def _decode(self, record: ConsumerRecord):
        """The event as recorded, or None once an unreadable message has been dead-lettered."""
        try:
            return decode_event(record.value or b"")
        except ValidationError as exc:
            fields = "; ".join(f"{e['type']} at {'.'.join(map(str, e['loc'])) or 'message'}"
                               for e in exc.errors(include_input=False, include_url=False)[:5])
            log.error("event_undecodable", topic=record.topic, offset=record.offset)
            await self.dead_letter(Rejected(record, "decode", f"undecodable: {fields}"))
            return None

    @staticmethod
    def _bound(event):
        return structlog.contextvars.bound_contextvars(
            case_id=str(event.case_id), event_id=str(event.event_id),
            correlation_id=str(event.correlation_id))

    async def _apply(self, record: ConsumerRecord, event) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                outcome = await asyncio.to_thread(self._commit, record.topic, event)
            except TRANSIENT as exc:
                log.warning("event_not_applied_store_unavailable", error=type(exc).__name__)
                await asyncio.sleep(self.backoff)
                raise EventNotApplied(f"{event.type} not applied ({type(exc).__name__})") from None
            except Exception as exc:
                log.error("event_not_applied", type=event.type, error=type(exc).__name__,
                          attempt=attempt)
                if attempt == self.attempts:
                    await self.dead_letter(
                        Rejected(record, "apply", f"not applied: {type(exc).__name__}"))
                    return
                await asyncio.sleep(self.backoff * attempt)
            else:
                log.info("event_applied", type=event.type, outcome=outcome)
                self.on_applied()
                return

    def _commit(self, topic: str, event) -> str:
        with Session(self.engine) as session:
            outcome = self._applied(session, topic, event)
            session.commit()
        return outcome

    def _commit_all(self, readable: list) -> list[str]:
        with Session(self.engine) as session:
            facts.prepare(session, [event for _, event in readable])
            outcomes = [self._applied(session, record.topic, event) for record, event in readable]
            session.commit()
        return outcomes

    def _applied(self, session: Session, topic: str, event) -> str:
        if topic == self.case_events_topic:
            return apply_case_event(session, upcast(event))
        # notify's own stream, read back as recorded
        known = not record_from_log(session, event, channels_of=self.channels_of)
        return "own_event_known" if known else "own_event_restored"

"""The live consumer: each message is applied, or dead-lettered, in one transaction with its
position, so a redelivery changes nothing and a poison message never stops the partition."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy.exc
import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import Engine
from sqlmodel import Session

from services.casefile import projections, store
from services.casefile.dead_letters import APPLY, DECODE, DeadLetter
from services.casefile.decoding import Decoded, Undecodable, decode
from services.casefile.metrics import CasefileMetrics

log = structlog.get_logger()

TRANSIENT = (
    sqlalchemy.exc.OperationalError,  # includes SQLite's "database is locked"
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)
"""Failures of the database rather than of the message: retried until they pass, never
dead-lettered, since the same message will apply once the database is back."""


class EventNotApplied(RuntimeError):
    """Raised so the consumer seeks back and retries; carries no content from the message."""


@dataclass(frozen=True)
class Where:
    topic: str
    partition: int
    offset: int


def apply_event(session: Session, decoded: Decoded, stream: str) -> bool:
    """Stage one event's changes; False if it was applied before (a redelivery changes nothing)."""
    event = decoded.event
    # Lock the case first so concurrent replicas serialise per case, then check for duplicates.
    case = store.get_case_for_update(session, event.case_id)
    if store.already_applied(session, event.event_id):
        return False
    inquiry_id = projections.inquiry_id_of(event)
    inquiry = store.get_inquiry_for_update(session, inquiry_id) if inquiry_id else None
    applied = projections.apply(
        case, inquiry, event, stream=stream, body=decoded.body,
        schema_version=decoded.recorded_version,
    )
    store.save(session, applied.case, applied.inquiry, applied.row)
    return True


def commit_event(engine: Engine, decoded: Decoded, stream: str, where: Where) -> bool:
    with Session(engine) as session:
        applied = apply_event(session, decoded, stream)
        store.advance_position(session, where.topic, where.partition, where.offset + 1)
        session.commit()
    return applied


def commit_attention(engine: Engine, letter: DeadLetter) -> bool:
    """Record the unusable message and flag its case; False if it was flagged before."""
    with Session(engine) as session:
        flagged = store.record_attention(session, store.CaseAttention(
            topic=letter.topic, partition=letter.partition, offset=letter.offset,
            case_id=letter.case_id, event_id=letter.event_id, stage=letter.stage,
            reason=letter.reason,
        ))
        if flagged and letter.case_id is not None:
            case = store.get_case_for_update(session, letter.case_id)
            store.save(session, projections.flag_for_attention(case, letter.case_id), None, None)
        store.advance_position(session, letter.topic, letter.partition, letter.offset + 1)
        session.commit()
    return flagged


PublishDeadLetter = Callable[[DeadLetter], Awaitable[None]]


@dataclass(kw_only=True)
class RetryingProjection:
    """What casefile's folds of the log share: a message is committed with its position,
    retried while the store is away, and dead-lettered once it failed `attempts` times."""

    engine: Engine
    publish_dead_letter: PublishDeadLetter
    metrics: CasefileMetrics
    consumer_group: str
    attempts: int = 3
    backoff: float = 1.0

    async def handle(self, record: ConsumerRecord) -> None:
        """Apply one message off the log, or dead-letter it."""
        raise NotImplementedError

    async def _commit(
        self, record: ConsumerRecord, commit: Callable[[], bool], *, event_type: str,
        case_id: UUID | None, event_id: UUID | None,
    ) -> bool | None:
        """Run `commit` off the event loop: whether it applied the message (False: applied
        before), or None once it was dead-lettered. An unreachable store raises
        EventNotApplied, so the message comes again."""
        where = Where(record.topic, record.partition, record.offset)
        for attempt in range(1, self.attempts + 1):
            try:
                return await asyncio.to_thread(commit)
            except TRANSIENT as exc:
                log.warning("event_not_applied_store_unavailable", type=event_type,
                            error=type(exc).__name__, **vars(where))
                await asyncio.sleep(self.backoff)
                raise EventNotApplied(f"{event_type} not applied ({type(exc).__name__})") from None
            except Exception as exc:
                log.error("event_not_applied", type=event_type, error=type(exc).__name__,
                          attempt=attempt, **vars(where))
                if attempt == self.attempts:
                    reason = f"not applied: {type(exc).__name__}"
                    await self._dead_letter(record, APPLY, reason, case_id, event_id)
                    return None
                await asyncio.sleep(self.backoff * attempt)
        return None

    async def _dead_letter(
        self, record: ConsumerRecord, stage: str, reason: str,
        case_id: UUID | None, event_id: UUID | None,
    ) -> None:
        letter = DeadLetter(
            topic=record.topic, partition=record.partition, offset=record.offset,
            key=record.key, value=record.value, stage=stage, reason=reason, case_id=case_id,
            event_id=event_id, consumer_group=self.consumer_group,
        )
        try:
            await self.publish_dead_letter(letter)  # first, so nothing is flagged but not kept
            flagged = await asyncio.to_thread(commit_attention, self.engine, letter)
        except Exception as exc:
            log.error("dead_letter_failed", error=type(exc).__name__, topic=record.topic,
                      partition=record.partition, offset=record.offset)
            await asyncio.sleep(self.backoff)
            raise EventNotApplied(f"could not dead-letter ({type(exc).__name__})") from None
        if flagged:
            self.metrics.dead_lettered(stage)
        log.warning("message_dead_lettered", stage=stage, reason=reason, topic=record.topic,
                    partition=record.partition, offset=record.offset,
                    case_id=str(case_id) if case_id else None)


@dataclass(kw_only=True)
class LiveProjection(RetryingProjection):
    """The fold of the case and alert topics into the case read models."""

    streams: dict[str, str]  # topic -> stream

    async def handle(self, record: ConsumerRecord) -> None:
        where = Where(record.topic, record.partition, record.offset)
        decoded = decode(record.value, record.key)
        if isinstance(decoded, Undecodable):
            log.error("event_undecodable", reason=decoded.reason, **vars(where))
            await self._dead_letter(record, DECODE, decoded.reason, decoded.case_id, None)
            return
        event = decoded.event
        with structlog.contextvars.bound_contextvars(
            case_id=str(event.case_id), event_id=str(event.event_id),
            correlation_id=str(event.correlation_id),
        ):
            await self._apply(record, decoded, where)

    async def _apply(self, record: ConsumerRecord, decoded: Decoded, where: Where) -> None:
        event = decoded.event
        stream = self.streams[record.topic]
        applied = await self._commit(
            record, lambda: commit_event(self.engine, decoded, stream, where),
            event_type=event.type, case_id=event.case_id, event_id=event.event_id)
        if applied is not None:
            self.metrics.applied(event.type, applied)
            log.info("event_applied" if applied else "event_already_applied",
                     type=event.type, sequence=event.sequence)

"""The live fold of access-events: each message is applied, or dead-lettered, in one transaction
with its position, so a redelivery changes nothing and a bad message never stops the audit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import Engine
from sqlmodel import Session

from services.casefile import store
from services.casefile.access_audit import fold
from services.casefile.access_audit.tables import AccessCase, AccessRecord
from services.casefile.dead_letters import APPLY, DECODE, DeadLetter
from services.casefile.handlers import TRANSIENT, EventNotApplied, PublishDeadLetter

log = structlog.get_logger()


def apply_access(session: Session, folded: fold.Folded) -> bool:
    """Stage an access's rows; False if it was applied before."""
    if session.get(AccessRecord, folded.record.event_id) is not None:
        return False
    session.add(AccessRecord(**folded.record._asdict()))
    session.add_all(AccessCase(**row._asdict()) for row in folded.cases)
    return True


def commit_access(engine: Engine, folded: fold.Folded, record: ConsumerRecord) -> bool:
    with Session(engine) as session:
        applied = apply_access(session, folded)
        store.advance_position(session, record.topic, record.partition, record.offset + 1)
        session.commit()
    return applied


def commit_unusable(engine: Engine, letter: DeadLetter) -> None:
    """Record the unusable message for /attention; it flags no case (it holds no case data)."""
    with Session(engine) as session:
        store.record_attention(session, store.CaseAttention(
            topic=letter.topic, partition=letter.partition, offset=letter.offset,
            case_id=None, event_id=None, stage=letter.stage, reason=letter.reason))
        store.advance_position(session, letter.topic, letter.partition, letter.offset + 1)
        session.commit()


@dataclass
class AccessProjection:
    engine: Engine
    publish_dead_letter: PublishDeadLetter
    consumer_group: str
    attempts: int = 3
    backoff: float = 1.0

    async def handle(self, record: ConsumerRecord) -> None:
        event = fold.decode(record.value)
        if isinstance(event, fold.Unreadable):
            log.error("access_event_undecodable", reason=event.reason, topic=record.topic,
                      partition=record.partition, offset=record.offset)
            await self._dead_letter(record, DECODE, event.reason)
            return
        folded = fold.fold(event)
        for attempt in range(1, self.attempts + 1):
            try:
                applied = await asyncio.to_thread(commit_access, self.engine, folded, record)
            except TRANSIENT as exc:
                log.warning("access_not_applied_store_unavailable", error=type(exc).__name__)
                await asyncio.sleep(self.backoff)
                raise EventNotApplied(f"access not applied ({type(exc).__name__})") from None
            except Exception as exc:  # e.g. a replica applied the same event meanwhile
                log.error("access_not_applied", error=type(exc).__name__, attempt=attempt)
                if attempt == self.attempts:
                    await self._dead_letter(record, APPLY, f"not applied: {type(exc).__name__}")
                    return
                await asyncio.sleep(self.backoff * attempt)
            else:
                log.info("access_applied" if applied else "access_already_applied",
                         event_id=str(event.event_id), type=event.type,
                         case_id=str(event.case_id) if event.type == "case_accessed" else None)
                return

    async def _dead_letter(self, record: ConsumerRecord, stage: str, reason: str) -> None:
        letter = DeadLetter(
            topic=record.topic, partition=record.partition, offset=record.offset,
            key=record.key, value=record.value, stage=stage, reason=reason, case_id=None,
            event_id=None, consumer_group=self.consumer_group)
        try:
            await self.publish_dead_letter(letter)  # first, so nothing is flagged but not kept
            await asyncio.to_thread(commit_unusable, self.engine, letter)
        except Exception as exc:
            log.error("dead_letter_failed", error=type(exc).__name__, topic=record.topic,
                      partition=record.partition, offset=record.offset)
            await asyncio.sleep(self.backoff)
            raise EventNotApplied(f"could not dead-letter ({type(exc).__name__})") from None
        log.warning("message_dead_lettered", stage=stage, reason=reason, topic=record.topic,
                    partition=record.partition, offset=record.offset)

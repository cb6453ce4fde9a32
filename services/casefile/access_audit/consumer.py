"""The live fold of access-events: each message is applied, or dead-lettered, in one transaction
with its position, so a redelivery changes nothing and a bad message never stops the audit."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import Engine
from sqlmodel import Session

from services.casefile import store
from services.casefile.access_audit import fold
from services.casefile.access_audit.tables import AccessCase, AccessRecord
from services.casefile.dead_letters import DECODE
from services.casefile.handlers import RetryingProjection

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


@dataclass(kw_only=True)
class AccessProjection(RetryingProjection):
    """The fold of access-events into the audit's tables. A message it cannot use flags no
    case: it holds no case data."""

    async def handle(self, record: ConsumerRecord) -> None:
        event = fold.decode(record.value)
        if isinstance(event, fold.Unreadable):
            log.error("access_event_undecodable", reason=event.reason, topic=record.topic,
                      partition=record.partition, offset=record.offset)
            await self._dead_letter(record, DECODE, event.reason, None, None)
            return
        folded = fold.fold(event)
        applied = await self._commit(
            record, lambda: commit_access(self.engine, folded, record), event_type=event.type,
            case_id=None, event_id=None)
        if applied is not None:
            log.info("access_applied" if applied else "access_already_applied",
                     event_id=str(event.event_id), type=event.type,
                     case_id=str(event.case_id) if event.type == "case_accessed" else None)

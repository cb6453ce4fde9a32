"""Notify's outbox to the log: every recorded event is published, each case's in order.

At least once: an event published but not yet marked (a crash in between) is published again,
with the same bytes and event_id, and consumers deduplicate it by event_id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from services.notify.store import OutboxEvent

log = structlog.get_logger()

Publish = Callable[[OutboxEvent], Awaitable[None]]


@dataclass
class Relay:
    engine: Engine
    publish: Publish
    batch_size: int = 500

    async def publish_pending(self) -> bool:
        """Publish what is waiting; False if the log could not be reached (tried next time)."""
        while True:
            pending = await asyncio.to_thread(self._pending)
            if not pending:
                return True
            published = []
            try:
                for event in pending:
                    await self.publish(event)
                    published.append(event.event_id)
            except Exception as exc:
                # Stop at the first failure: a case's later events must not overtake it.
                log.warning("notify_event_publish_failed", error=type(exc).__name__,
                            case_id=str(pending[len(published)].case_id))
                return False
            finally:
                if published:
                    await asyncio.to_thread(self._mark_published, published)
            if len(pending) < self.batch_size:
                return True

    def _pending(self) -> list[OutboxEvent]:
        with Session(self.engine) as session:
            statement = (select(OutboxEvent).where(OutboxEvent.published == False)  # noqa: E712
                         .order_by(OutboxEvent.case_id, OutboxEvent.sequence)
                         .limit(self.batch_size))
            return list(session.exec(statement))

    def _mark_published(self, event_ids: list) -> None:
        with Session(self.engine) as session:
            session.execute(update(OutboxEvent).where(OutboxEvent.event_id.in_(event_ids))
                            .values(published=True))
            session.commit()

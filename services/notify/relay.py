"""Notify's outbox to the log: every recorded event is published, each case's in order.

Cases are published side by side; one case's events strictly one after another, the next only
once the log has acknowledged the one before (acks=all). A failed publish leaves that case's
remaining events for the next round. At least once: an event published but not yet marked (a
crash in between) is published again, with the same bytes and event_id, and consumers
deduplicate it by event_id.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

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
    batch_size: int = 2000
    publish_timeout_seconds: float = 15.0

    async def publish_pending(self) -> bool:
        """Publish what is waiting; False if part of it could not be (tried next time)."""
        while True:
            pending = await asyncio.to_thread(self._pending)
            if not pending:
                return True
            by_case: dict[UUID, list[OutboxEvent]] = defaultdict(list)
            for event in pending:
                by_case[event.case_id].append(event)
            published: list[UUID] = []
            await asyncio.gather(*(self._publish_case(events, published)
                                   for events in by_case.values()))
            if published:
                await asyncio.to_thread(self._mark_published, published)
            if len(published) < len(pending):
                return False
            if len(pending) < self.batch_size:
                return True

    async def _publish_case(self, events: list[OutboxEvent], published: list[UUID]) -> None:
        for event in events:
            try:
                async with asyncio.timeout(self.publish_timeout_seconds):
                    await self.publish(event)
            except Exception as exc:
                # The case's later events must not overtake this one: they wait with it.
                log.warning("notify_event_publish_failed", error=type(exc).__name__,
                            case_id=str(event.case_id), event_id=str(event.event_id))
                return
            published.append(event.event_id)

    def _pending(self) -> list[OutboxEvent]:
        with Session(self.engine) as session:
            statement = (select(OutboxEvent).where(OutboxEvent.published == False)  # noqa: E712
                         .order_by(OutboxEvent.case_id, OutboxEvent.sequence)
                         .limit(self.batch_size))
            return list(session.exec(statement))

    def _mark_published(self, event_ids: list[UUID]) -> None:
        with Session(self.engine) as session:
            for start in range(0, len(event_ids), 500):  # bounded IN lists
                session.execute(update(OutboxEvent).where(
                    OutboxEvent.event_id.in_(event_ids[start:start + 500])).values(published=True))
            session.commit()

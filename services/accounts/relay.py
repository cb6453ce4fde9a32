"""Account events to the log, in the order they were committed; at least once (readers
deduplicate by event_id, and applying a revocation twice changes nothing)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from services.accounts.store import AccountOutbox

log = structlog.get_logger()


class AccountEventRelay:
    def __init__(self, engine: Engine, producer: AIOKafkaProducer, topic: str) -> None:
        self._engine, self._producer, self._topic = engine, producer, topic
        self.wake = asyncio.Event()

    async def run(self, *, idle_seconds: float = 1.0) -> None:
        while True:
            try:
                await self.publish_pending()
            except Exception as exc:  # the log is away: the events wait in the outbox
                log.warning("account_events_not_published", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle_seconds)
            self.wake.clear()

    async def publish_pending(self) -> int:
        pending = await asyncio.to_thread(self._pending)
        for entry in pending:
            await self._producer.send_and_wait(self._topic, entry.body.encode(),
                                               key=entry.account.encode())
            await asyncio.to_thread(self._forget, entry.position)
        return len(pending)

    def _pending(self) -> list[AccountOutbox]:
        with Session(self._engine) as session:
            return list(session.exec(select(AccountOutbox).order_by(AccountOutbox.position)
                                     .limit(500)))

    def _forget(self, position: int | None) -> None:
        with Session(self._engine) as session:
            session.execute(delete(AccountOutbox).where(AccountOutbox.position == position))
            session.commit()

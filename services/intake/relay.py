"""The outbox relay: puts committed events on the log, in per-case order, at least once.

Events of different cases are published concurrently; the events of one case strictly one
after another, the next only once the log has acknowledged the previous (acks=all). A failed
publish leaves that case's remaining events in the outbox, so a case's events reach the log in
sequence order however often the broker goes away. An event may reach the log twice (acked,
then intake died before removing it from the outbox); consumers deduplicate by event_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict

import structlog
from faststream.kafka import KafkaBroker
from sqlalchemy import Engine

from contracts.asyncapi import declare_case_events
from services.intake import store

log = structlog.get_logger()


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: Engine,
        broker: KafkaBroker,
        topic: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 2.0,
        publish_timeout_seconds: float = 15.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._publisher = declare_case_events(broker, topic)
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._max_backoff = max_backoff_seconds
        self._work = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def wake(self) -> None:
        """Called after each commit so new events go out without waiting for the next poll."""
        self._work.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, *, drain_seconds: float = 5.0) -> None:
        """Give the outbox a moment to empty (a graceful shutdown leaves nothing behind), then stop.

        Whatever is still in the outbox afterwards (the log is away) goes out on the next start.
        """
        deadline = time.monotonic() + drain_seconds
        while time.monotonic() < deadline:  # also while still connecting: it may be seconds away
            with contextlib.suppress(Exception):
                if await asyncio.to_thread(store.outbox_size, self._engine) == 0:
                    break
            self.wake()
            await asyncio.sleep(0.05)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._broker.stop()

    async def _run(self) -> None:
        await self._connect()
        backoff = 0.1
        while True:
            try:
                done = await self._relay_once()
            except Exception as exc:  # the store is unreachable: nothing is lost, try again
                log.error("outbox_unavailable", error=type(exc).__name__, retry_in_seconds=backoff)
                done = False
            if done:
                backoff = 0.1
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _relay_once(self) -> bool:
        """Publish one batch from the outbox; False if some of it must be retried."""
        self._work.clear()  # before reading: a commit from now on is seen by this read or wakes the next
        pending = await asyncio.to_thread(store.pending, self._engine, limit=self._batch_size)
        if not pending:
            await self._idle()
            return True
        published = await self._publish_in_case_order(pending)
        await asyncio.to_thread(store.mark_published, self._engine, published)
        if len(published) < len(pending):
            log.warning("outbox_publish_incomplete", published=len(published), pending=len(pending))
            return False
        return True

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work.wait(), self._idle_poll)

    async def _connect(self) -> None:
        """Keep trying: commands are accepted into the outbox while the log is away."""
        delay = 0.2
        while True:
            try:
                await self._broker.start()
                self.connected = True
                log.info("relay_connected")
                return
            except Exception as exc:  # aiokafka raises several connection error types
                with contextlib.suppress(Exception):
                    await self._broker.stop()  # drop a half-started producer before retrying
                log.info("waiting_for_broker", error=type(exc).__name__, retry_in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)

    async def _publish_in_case_order(self, pending: list[store.Pending]) -> list[int]:
        by_case: dict = defaultdict(list)
        for entry in pending:
            by_case[entry.case_id].append(entry)
        published: list[int] = []
        await asyncio.gather(*(self._publish_case(entries, published) for entries in by_case.values()))
        return published

    async def _publish_case(self, entries: list[store.Pending], published: list[int]) -> None:
        for entry in entries:
            try:
                async with asyncio.timeout(self._publish_timeout):  # no task per event, unlike wait_for
                    await self._publish(entry)
            except Exception as exc:
                log.warning("publish_failed", case_id=str(entry.case_id),
                            event_id=str(entry.event_id), error=type(exc).__name__)
                return  # later events of this case wait for this one
            published.append(entry.position)

    async def _publish(self, entry: store.Pending) -> None:
        await self._publisher.publish(
            entry.body,
            key=str(entry.case_id).encode(),
            headers={"event-type": entry.type},
        )

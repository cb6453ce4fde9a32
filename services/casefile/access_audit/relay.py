"""The access relay: puts the reads kept in the outbox on the access-events topic, at least once.

Access events are independent facts (the audit sorts them by when they happened), so a batch
is published side by side, each acknowledged by the log (acks=all) before it leaves the
outbox. An entry whose publication failed stays for the next round; one published twice
(acknowledged, then casefile died before forgetting it) is deduplicated by event_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from sqlalchemy import Engine

from services.casefile.access_audit import outbox

log = structlog.get_logger()


class AccessRelay:
    def __init__(
        self, *, engine: Engine, publisher: Any, batch_size: int = 500,
        idle_poll_seconds: float = 1.0, publish_timeout_seconds: float = 15.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._publish_timeout = publish_timeout_seconds
        self._max_backoff = max_backoff_seconds
        self._work = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.published: dict[tuple[str, int], int] = {}  # (topic, partition) -> next offset

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="access-relay")

    def wake(self) -> None:
        """After a read was recorded (from a route's worker thread, too)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._work.set)

    async def stop(self, *, drain_seconds: float) -> bool:
        """Give the outbox up to `drain_seconds` to empty, then stop; True if it did."""
        deadline = time.monotonic() + drain_seconds
        drained = False
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if await asyncio.to_thread(outbox.size, self._engine) == 0:
                    drained = True
                    break
            self._work.set()
            await asyncio.sleep(0.05)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return drained

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                done = await self._relay_once()
            except Exception as exc:  # the outbox is unreachable: nothing is lost, try again
                log.error("access_outbox_unavailable", error=type(exc).__name__)
                done = False
            if done:
                backoff = 0.1
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _relay_once(self) -> bool:
        """Publish one batch; False if some of it must be tried again."""
        self._work.clear()  # before reading: a later commit is seen now or wakes the next round
        pending = await asyncio.to_thread(outbox.pending, self._engine, limit=self._batch_size)
        if not pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._work.wait(), self._idle_poll)
            return True
        outcomes = await asyncio.gather(*(self._publish(entry) for entry in pending),
                                        return_exceptions=True)
        acked = [entry.position for entry, outcome in zip(pending, outcomes, strict=True)
                 if not isinstance(outcome, BaseException)]
        await asyncio.to_thread(outbox.forget, self._engine, acked)
        if len(acked) < len(pending):
            failed = next(o for o in outcomes if isinstance(o, BaseException))
            log.warning("access_publish_incomplete", published=len(acked), pending=len(pending),
                        error=type(failed).__name__)
            return False
        return True

    async def _publish(self, entry: outbox.Pending) -> None:
        async with asyncio.timeout(self._publish_timeout):
            sent = await self._publisher.publish(entry.body, key=entry.key)
        where = (sent.topic, sent.partition)
        self.published[where] = max(self.published.get(where, 0), sent.offset + 1)

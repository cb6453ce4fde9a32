"""The deadline clock: decide overdue alerts, then publish them, at least once, same event_id."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from contracts import InquiryOverdue
from services.notify import alerts, store

log = structlog.get_logger()

Publish = Callable[[InquiryOverdue], Awaitable[None]]
Probe = Callable[[], Awaitable[bool]]


class OverdueScheduler:
    """Every tick: re-publish alerts decided but not yet on the log, then raise new ones.

    Deciding (alert row + inquiry marked, one transaction) comes before publishing, and the
    event is rebuilt from the row, so a crash in between re-publishes an identical event.
    """

    def __init__(
        self, *, engine: Engine, publish: Publish, clock: Callable[[], datetime],
        interval: float, caught_up: Probe, catch_up_timeout: float, batch_size: int = 500,
    ) -> None:
        self._engine = engine
        self._publish_event = publish
        self._clock = clock
        self._interval = interval
        self._caught_up = caught_up
        self._catch_up_timeout = catch_up_timeout
        self._batch_size = batch_size
        self._judging = False
        self._started_at: float | None = None

    async def run(self) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again."""
        while True:
            try:
                await self.tick()
            except Exception as exc:
                log.error("scheduler_tick_failed", error=type(exc).__name__)
            await asyncio.sleep(self._interval)

    async def tick(self) -> None:
        if await self.publish_pending() and await self._may_judge():
            await self.raise_due(self._clock())

    async def publish_pending(self) -> bool:
        """Publish decided-but-unpublished alerts in order; False if the log is unreachable."""
        with Session(self._engine) as session:
            pending = store.unpublished_alerts(session)
        for alert in pending:
            if not await self._publish(alert):
                return False
        return True

    async def raise_due(self, now: datetime) -> None:
        # The query already selects by the overdue rule (on the due_at index); decide_overdue
        # applies the rule itself again under a row lock, which is the check that counts.
        with Session(self._engine) as session:
            due = store.due_deadlines(session, now, limit=self._batch_size)
        for deadline in due:
            alert = self._decide(deadline.inquiry_id, now)
            # Stop at the first failure: later alerts of the same case must not overtake it.
            if alert is not None and not await self._publish(alert):
                return

    def _decide(self, inquiry_id: UUID, now: datetime) -> store.Alert | None:
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                alert = alerts.decide_overdue(session, inquiry_id, now)
                session.commit()
        except IntegrityError:
            # Another replica decided this alert (or the case's next sequence) first.
            log.info("alert_decided_elsewhere", inquiry_id=str(inquiry_id))
            return None
        if alert is not None:
            log.info("inquiry_overdue_decided", case_id=str(alert.case_id),
                     event_id=str(alert.event_id), inquiry_id=str(inquiry_id))
        return alert

    async def _publish(self, alert: store.Alert) -> bool:
        with structlog.contextvars.bound_contextvars(
            case_id=str(alert.case_id), event_id=str(alert.event_id),
            correlation_id=str(alert.correlation_id),
        ):
            try:
                await self._publish_event(alerts.overdue_event(alert))
            except Exception as exc:
                log.warning("alert_publish_failed", error=type(exc).__name__)
                return False
            with Session(self._engine) as session:
                store.mark_published(session, alert.event_id)
                session.commit()
            log.info("alert_published", inquiry_id=str(alert.inquiry_id), sequence=alert.sequence)
        return True

    async def _may_judge(self) -> bool:
        """Judge deadlines only once the consumer has caught up with the log after start-up,
        so an answer recorded while notify was down is applied before its deadline is judged."""
        if self._judging:
            return True
        loop_time = asyncio.get_running_loop().time()
        if self._started_at is None:
            self._started_at = loop_time
        if await self._caught_up():
            log.info("consumer_caught_up")
            self._judging = True
        elif loop_time - self._started_at > self._catch_up_timeout:
            log.warning("judging_deadlines_before_catch_up", waited_seconds=self._catch_up_timeout)
            self._judging = True
        return self._judging

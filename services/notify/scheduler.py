"""The clock of notify: bring dirty cases up to date, raise alerts whose time has come, publish.

Driven by the timer index (alert_timer.fire_at): each tick reads only what is due, never every
open inquiry. Nothing is decided until the consumers have caught up with the log after a
start, so an answer recorded while notify was down is applied before its deadline is judged,
and a store rebuilt from the log has read back every decision notify made before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from services.notify.metrics import NotifyMetrics
from services.notify.reconcile import (
    Context,
    fire_timer,
    prepare_fire,
    prepare_reconcile,
    reconcile_case,
)
from services.notify.relay import Relay
from services.notify.store import CaseWatch, Timer

log = structlog.get_logger()

Probe = Callable[[], Awaitable[bool]]


@dataclass
class TickReport:
    reconciled: int = 0
    raised: int = 0
    seconds: float = 0.0


@dataclass
class Scheduler:
    engine: Engine
    ctx: Context
    relay: Relay
    clock: Callable[[], datetime]
    caught_up: Probe
    interval: float = 1.0
    catch_up_timeout: float = 60.0
    batch_size: int = 2000
    decisions_per_commit: int = 200
    on_raised: Callable[[], None] = lambda: None  # wakes the deliverer
    metrics: NotifyMetrics | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    judging: bool = False
    last_tick: TickReport = field(default_factory=TickReport)
    _started_at: float | None = None

    async def run(self) -> None:
        """Tick until cancelled; a failing tick is logged and the next one tries again."""
        while True:
            try:
                await self.tick()
            except Exception as exc:
                log.error("scheduler_tick_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval)
            self.wake.clear()

    async def tick(self) -> TickReport:
        started = time.perf_counter()
        report = TickReport()
        if await self.may_judge():
            now = self.clock()
            report.reconciled = await asyncio.to_thread(self._reconcile_dirty, now)
            report.raised = await asyncio.to_thread(self._fire_due, now)
            if report.raised:
                self.on_raised()
        await self.relay.publish_pending()
        report.seconds = time.perf_counter() - started
        self.last_tick = report
        if self.metrics is not None:
            self.metrics.tick_seconds.observe(report.seconds)
        return report

    def _reconcile_dirty(self, now: datetime) -> int:
        query = select(CaseWatch.case_id, CaseWatch.case_id).where(
            CaseWatch.dirty == True)  # noqa: E712
        return self._drain(query, reconcile_case, now, prepare_reconcile)

    def _fire_due(self, now: datetime) -> int:
        query = (select(Timer.alert_id, Timer.case_id).where(Timer.fire_at <= now)
                 .order_by(Timer.fire_at))
        return self._drain(query, fire_timer, now, prepare_fire)

    def _drain(self, query, decision, now: datetime, prepare) -> int:
        """Decide on every (key, case) the query finds, batch after batch, until none is left
        or a batch holds only keys tried already this tick (a decision that keeps failing).
        Returns how many events were recorded."""
        tried: set[UUID] = set()
        recorded = 0
        while True:
            with Session(self.engine) as session:
                rows = list(session.exec(query.limit(self.batch_size)))
            fresh = sorted((row for row in rows if row[0] not in tried), key=lambda r: r[1])
            step = self.decisions_per_commit
            for start in range(0, len(fresh), step):
                recorded += self._decide_together(decision, prepare, fresh[start:start + step],
                                                  now)
            tried.update(row[0] for row in fresh)
            if len(rows) < self.batch_size or not fresh:
                return recorded

    def _decide_together(self, decision, prepare, rows: list, now: datetime) -> int:
        """Several decisions in one transaction (one commit, one fsync), taking the cases'
        locks in case order as every replica does; on a conflict, one by one instead."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                prepare(session, rows)
                recorded = [event for key, _ in rows
                            for event in decision(session, key, self.ctx, now)]
                session.commit()
        except (IntegrityError, OperationalError) as exc:
            log.info("decisions_retried_one_by_one", decisions=len(rows), error=type(exc).__name__)
            return sum(self._decide(decision, key, now) for key, _ in rows)
        self._log(recorded)
        return len(recorded)

    def _decide(self, decision, key: UUID, now: datetime) -> int:
        """One decision in its own transaction; returns how many events it recorded."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                recorded = decision(session, key, self.ctx, now)
                session.commit()
        except IntegrityError:
            log.info("decided_elsewhere", key=str(key))  # another replica was first
            return 0
        except OperationalError as exc:
            log.warning("decision_postponed", key=str(key), error=type(exc).__name__)
            return 0
        self._log(recorded)
        return len(recorded)

    def _log(self, recorded) -> None:
        for event in recorded:
            if self.metrics is not None:
                self.metrics.recorded.labels(event.type).inc()
            log.info("notify_event_recorded", type=event.type, case_id=str(event.case_id),
                     event_id=str(event.event_id), sequence=event.sequence)

    async def may_judge(self) -> bool:
        if self.judging:
            return True
        now = asyncio.get_running_loop().time()
        if self._started_at is None:
            self._started_at = now
        if await self.caught_up():
            log.info("consumers_caught_up")
            self.judging = True
        elif now - self._started_at > self.catch_up_timeout:
            log.warning("judging_before_catch_up", waited_seconds=self.catch_up_timeout)
            self.judging = True
        return self.judging

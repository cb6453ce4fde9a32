"""The audit of access as casefile runs it: the outbox and its relay, the fold of access-events,
and a clean stop that leaves the audit caught up with what this replica recorded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine

from contracts.asyncapi import declare_access_events
from services.casefile import dead_letters, store
from services.casefile.access_audit import outbox
from services.casefile.access_audit.consumer import AccessProjection
from services.casefile.access_audit.recorder import AccessRecorder
from services.casefile.access_audit.relay import AccessRelay
from services.casefile.config import Settings
from services.casefile.handlers import PublishDeadLetter
from services.casefile.metrics import CasefileMetrics, progress

log = structlog.get_logger()

TOPIC_PARTITIONS = 3  # as deploy provisions the case topics


@dataclass
class AccessAudit:
    settings: Settings
    engine: Engine  # the read models'
    outbox_engine: Engine
    relay: AccessRelay
    projection: AccessProjection
    recorder: AccessRecorder
    subscriber: Any = None  # set once subscribed; its consumer exists once it has started
    _following: asyncio.Task | None = None

    @property
    def topic(self) -> str:
        return self.settings.access_events_topic

    def status(self) -> dict:
        """For /readyz: what waits in the outbox, and how far the fold of the topic has got."""
        partitions = progress(self.engine, getattr(self.subscriber, "consumer", None),
                              topics=(self.topic,))
        return {"outbox_backlog": outbox.size(self.outbox_engine),
                "lag": sum(p.lag or 0 for p in partitions),
                "partitions": [vars(p) for p in partitions]}

    def follow(self, subscribe: Callable[[], Any]) -> None:
        """Start folding access-events in the background, so that joining its consumer group
        does not hold up the start: reads are recorded in the outbox meanwhile."""
        self._following = asyncio.create_task(self._follow(subscribe), name="access-fold")

    async def _follow(self, subscribe: Callable[[], Any]) -> None:
        self.subscriber = subscribe()
        while True:
            try:
                await self.subscriber.start()
                return
            except Exception as exc:  # the broker went away meanwhile: try again
                log.error("access_fold_not_started", error=type(exc).__name__)
                with contextlib.suppress(Exception):
                    await self.subscriber.stop()
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        """Publish what is in the outbox, then wait for the fold to have applied it (each
        bounded by ACCESS_DRAIN_SECONDS): stopped cleanly, the audit's read model holds every
        read this replica recorded."""
        deadline = time.monotonic() + self.settings.access_drain_seconds
        drained = await self.relay.stop(drain_seconds=self.settings.access_drain_seconds)
        folded = await _until(lambda: self._folded(), deadline)
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._following
        if not (drained and folded):
            log.warning("access_audit_not_drained", published=drained, folded=folded)

    def _folded(self) -> bool:
        positions = store.positions(self.engine)
        return all(positions.get(where, 0) >= end for where, end in self.relay.published.items())


def build(
    settings: Settings, broker: Any, engine: Engine, clock: Callable[[], datetime],
    publish_dead_letter: PublishDeadLetter, metrics: CasefileMetrics,
) -> AccessAudit:
    """Everything but the subscriber (services.casefile.app subscribes with the projection)."""
    outbox_engine = outbox.make_engine(settings.database_url)
    outbox.prepare(outbox_engine)
    relay = AccessRelay(engine=outbox_engine,
                        publisher=declare_access_events(broker, settings.access_events_topic),
                        batch_size=settings.access_relay_batch_size)
    projection = AccessProjection(
        engine=engine, publish_dead_letter=publish_dead_letter, metrics=metrics,
        consumer_group=access_consumer_group(settings),
        attempts=settings.dead_letter_after_attempts, backoff=settings.retry_backoff_seconds)
    recorder = AccessRecorder(engine=outbox_engine, clock=clock,
                              trusted_proxies=tuple(settings.trusted_proxies), wake=relay.wake)
    metrics.registry.register(_OutboxBacklog(outbox_engine))
    return AccessAudit(settings, engine, outbox_engine, relay, projection, recorder)


def access_consumer_group(settings: Settings) -> str:
    """A group of its own: the audit's fold and the cases' never wait for each other."""
    return f"{settings.consumer_group}.accesses"


async def ensure_topic(settings: Settings, *, attempts: int = 60, **client_options) -> None:
    """Create access-events if it is missing (deploy provisions it; a bare cluster may not
    have it); the broker may still be starting. `client_options`: TLS, SASL."""
    for attempt in range(1, attempts + 1):
        try:
            await dead_letters.ensure_topic(
                settings.kafka_bootstrap_servers, settings.access_events_topic,
                request_timeout_ms=settings.kafka_request_timeout_ms,
                partitions=TOPIC_PARTITIONS, **client_options)
            return
        except Exception as exc:  # aiokafka raises several connection error types
            if attempt == attempts:
                raise
            log.info("waiting_for_broker", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)


async def _until(condition: Callable[[], bool], deadline: float) -> bool:
    while True:
        with contextlib.suppress(Exception):
            if await asyncio.to_thread(condition):
                return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)


class _OutboxBacklog:
    """Reads recorded but not yet on the log: a backlog that grows means the log is away."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def describe(self) -> list:
        return []  # collected on scrape only: it reads the store

    def collect(self):
        gauge = GaugeMetricFamily("casefile_access_outbox_backlog",
                                  "Access events recorded but not yet acknowledged by the log.")
        with contextlib.suppress(Exception):
            gauge.add_metric([], outbox.size(self._engine))
        yield gauge

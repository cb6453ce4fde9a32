"""The audit of access as casefile runs it: the outbox and its relay, and a clean stop that
publishes what this replica recorded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine

from contracts.asyncapi import declare_access_events
from services.casefile import dead_letters
from services.casefile.access_audit import outbox
from services.casefile.access_audit.recorder import AccessRecorder
from services.casefile.access_audit.relay import AccessRelay
from services.casefile.config import Settings
from services.casefile.metrics import CasefileMetrics

log = structlog.get_logger()

TOPIC_PARTITIONS = 3  # as deploy provisions the case topics


@dataclass
class AccessAudit:
    settings: Settings
    outbox_engine: Engine
    relay: AccessRelay
    recorder: AccessRecorder

    def status(self) -> dict:
        """For /readyz: what waits in the outbox."""
        return {"outbox_backlog": outbox.size(self.outbox_engine)}

    async def stop(self) -> None:
        """Publish what is in the outbox, for up to ACCESS_DRAIN_SECONDS."""
        if not await self.relay.stop(drain_seconds=self.settings.access_drain_seconds):
            log.warning("access_audit_not_drained")


def build(
    settings: Settings, broker: Any, clock: Callable[[], datetime], metrics: CasefileMetrics,
) -> AccessAudit:
    outbox_engine = outbox.make_engine(settings.database_url)
    outbox.prepare(outbox_engine)
    relay = AccessRelay(engine=outbox_engine,
                        publisher=declare_access_events(broker, settings.access_events_topic),
                        batch_size=settings.access_relay_batch_size)
    recorder = AccessRecorder(engine=outbox_engine, clock=clock,
                              trusted_proxies=tuple(settings.trusted_proxies), wake=relay.wake)
    metrics.registry.register(_OutboxBacklog(outbox_engine))
    return AccessAudit(settings, outbox_engine, relay, recorder)


async def ensure_topic(settings: Settings, *, attempts: int = 60) -> None:
    """Create access-events if it is missing (deploy provisions it; a bare cluster may not
    have it); the broker may still be starting."""
    for attempt in range(1, attempts + 1):
        try:
            await dead_letters.ensure_topic(
                settings.kafka_bootstrap_servers, settings.access_events_topic,
                request_timeout_ms=settings.kafka_request_timeout_ms,
                partitions=TOPIC_PARTITIONS)
            return
        except Exception as exc:  # aiokafka raises several connection error types
            if attempt == attempts:
                raise
            log.info("waiting_for_broker", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)


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

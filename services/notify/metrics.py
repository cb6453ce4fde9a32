"""Notify's Prometheus metrics: what its ticks cost, what it recorded and delivered, and what
waits (timers due, events not yet on the log). One registry per app, so several apps in one
process never share counters."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from services.notify.store import CaseWatch, OutboxEvent, Timer

TICK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class NotifyMetrics:
    def __init__(self, engine: Engine, clock) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.tick_seconds = Histogram(
            "notify_scheduler_tick_seconds", "Time one scheduler tick took (deciding and "
            "publishing).", buckets=TICK_BUCKETS, registry=self.registry)
        self.recorded = Counter(
            "notify_events_recorded", "Events notify recorded in its stream, by type.", ["type"],
            registry=self.registry)
        self.deliveries = Counter(
            "notify_delivery_attempts", "Delivery attempts by channel and outcome.",
            ["channel", "outcome"], registry=self.registry)
        self.lag = Gauge(
            "notify_consumer_lag", "Messages this replica has yet to read on its partitions "
            "(from the high watermarks of fetch responses).", registry=self.registry)
        self.registry.register(_Backlog(engine, clock))

    async def measure_lag(self, consumer) -> None:
        """Before a scrape: how far this replica's consumer is behind the log."""
        if consumer is None or not consumer.assignment():
            self.lag.set(float("nan"))
            return
        lag = 0
        for partition in consumer.assignment():
            highwater = consumer.highwater(partition)
            if highwater is None:
                self.lag.set(float("nan"))
                return
            lag += max(0, highwater - await consumer.position(partition))
        self.lag.set(lag)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Backlog:
    """What waits, read from the store when scraped (shared by every replica)."""

    def __init__(self, engine: Engine, clock) -> None:
        self._engine, self._clock = engine, clock

    def describe(self):
        return []

    def collect(self):
        now: datetime = self._clock()
        with Session(self._engine) as session:
            timers = session.exec(select(func.count()).select_from(Timer)).one()
            due = session.exec(select(func.count()).select_from(Timer).where(
                Timer.fire_at <= now)).one()
            dirty = session.exec(select(func.count()).select_from(CaseWatch).where(
                CaseWatch.dirty == True)).one()  # noqa: E712
            unpublished = session.exec(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.published == False)).one()  # noqa: E712
        for name, value, text in (
            ("notify_timers", timers, "Alerts that will fall due unless resolved first."),
            ("notify_timers_due", due, "Timers due now and not yet decided."),
            ("notify_cases_to_reconcile", dirty, "Cases whose new facts are not yet decided on."),
            ("notify_events_unpublished", unpublished, "Recorded events not yet on the log."),
        ):
            yield GaugeMetricFamily(name, text, value=value)

"""Casefile's Prometheus metrics: what it applied, what it dead-lettered, and how far behind
the log it is. One registry per app, so several apps in one process never share counters."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine

from services.casefile import store


@dataclass(frozen=True)
class PartitionProgress:
    topic: str
    partition: int
    last_applied_offset: int | None  # None until something of it was applied
    lag: int | None  # None unless this replica reads the partition and has fetched from it


def progress(
    engine: Engine, consumer: AIOKafkaConsumer | None, topics: Collection[str] | None = None
) -> list[PartitionProgress]:
    """Per partition (of `topics`, or of every topic): the last offset applied (from the store,
    shared by every replica) and, for the partitions this replica reads, how many messages it
    is behind the high watermark.

    The high watermark comes from fetch responses: Tansu's ListOffsets is wrong on S3 storage.
    """
    applied = store.positions(engine)
    if topics is not None:
        applied = {key: offset for key, offset in applied.items() if key[0] in topics}
    assigned = set(consumer.assignment()) if consumer is not None else set()
    keys = set(applied) | {(tp.topic, tp.partition) for tp in assigned}
    by_key = {(tp.topic, tp.partition): tp for tp in assigned}
    out = []
    for topic, partition in sorted(keys):
        next_offset = applied.get((topic, partition))
        lag = None
        tp = by_key.get((topic, partition))
        if tp is not None and consumer is not None:
            highwater = consumer.highwater(tp)
            if highwater is not None:
                lag = max(0, highwater - (next_offset or 0))
        last = next_offset - 1 if next_offset else None
        out.append(PartitionProgress(topic, partition, last, lag))
    return out


class CasefileMetrics:
    def __init__(self, engine: Engine, consumer: Callable[[], AIOKafkaConsumer | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._applied = Counter(
            "casefile_events_applied", "Events applied to the read models.", ["type"],
            registry=self.registry,
        )
        self._duplicates = Counter(
            "casefile_events_duplicate", "Redelivered events that changed nothing.",
            registry=self.registry,
        )
        self._dead_lettered = Counter(
            "casefile_messages_dead_lettered",
            "Messages sent to the dead-letter topic, by the stage that failed.", ["stage"],
            registry=self.registry,
        )
        self.registry.register(_ProgressCollector(engine, consumer))

    def applied(self, event_type: str, new: bool) -> None:
        if new:
            self._applied.labels(event_type).inc()
        else:
            self._duplicates.inc()

    def dead_lettered(self, stage: str) -> None:
        self._dead_lettered.labels(stage).inc()

    def render(self) -> bytes:
        """The text exposition; reads the store, so call it off the event loop."""
        return generate_latest(self.registry)


class _ProgressCollector:
    def __init__(self, engine: Engine, consumer: Callable[[], AIOKafkaConsumer | None]) -> None:
        self._engine = engine
        self._consumer = consumer

    def describe(self) -> list:
        return []  # collected on scrape only: it reads the store and the consumer

    def collect(self):
        last = GaugeMetricFamily(
            "casefile_last_applied_offset", "Offset of the last message applied, per partition.",
            labels=["topic", "partition"],
        )
        lag = GaugeMetricFamily(
            "casefile_consumer_lag",
            "Messages on the log not yet applied, per partition this replica reads.",
            labels=["topic", "partition"],
        )
        for p in progress(self._engine, self._consumer()):
            labels = [p.topic, str(p.partition)]
            if p.last_applied_offset is not None:
                last.add_metric(labels, p.last_applied_offset)
            if p.lag is not None:
                lag.add_metric(labels, p.lag)
        yield last
        yield lag

"""Read topics from offset 0 to their current end, outside any consumer group."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


@dataclass
class LogPosition:
    """How far a read has got: messages read so far, and the total known from fetches."""

    read: int = 0
    total: int | None = None  # sum of high watermarks, once every partition has answered
    ends: dict[TopicPartition, int] | None = None  # the position reached on each partition
    offsets: dict[TopicPartition, int] = field(default_factory=dict)  # next to read, so far
    highwaters: dict[TopicPartition, int] = field(default_factory=dict)


Choose = Callable[[dict[str, int]], Iterable[tuple[str, int]]]
"""Given each topic's number of partitions, the (topic, partition) pairs to read."""


async def read_log(
    bootstrap_servers: str, topics: list[str], *, request_timeout_ms: int = 10_000,
    batch_size: int = 5000, position: LogPosition | None = None, choose: Choose | None = None,
    fetch_max_wait_ms: int = 500, **client_options,
) -> AsyncIterator[list[ConsumerRecord]]:
    """Batches of records, each partition in offset order, until every partition is read to
    the high watermark of its last fetch. Never joins a group: it moves no live offsets.
    Every partition of the topics, or those `choose` picks; `client_options` (TLS, SASL) go
    to the consumer.

    Not end_offsets(): Tansu on S3 storage answers ListOffsets (latest) wrongly.
    """
    position = position if position is not None else LogPosition()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=request_timeout_ms,
        enable_auto_commit=False, max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024, fetch_max_wait_ms=fetch_max_wait_ms,
        **client_options,
    )
    await consumer.start()
    try:
        partitions = await _all_partitions(consumer, topics)
        if choose is not None:
            counts = {topic: sum(tp.topic == topic for tp in partitions) for topic in topics}
            chosen = set(choose(counts))
            partitions = [tp for tp in partitions if (tp.topic, tp.partition) in chosen]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            batch = await consumer.getmany(timeout_ms=fetch_max_wait_ms, max_records=batch_size)
            records = []
            for tp in partitions:
                if part := batch.get(tp):
                    records += part
                    position.offsets[tp] = part[-1].offset + 1
                if (highwater := consumer.highwater(tp)) is not None:
                    position.highwaters[tp] = highwater
            position.read += len(records)
            if len(position.highwaters) == len(partitions):
                position.total = sum(position.highwaters.values())
            if records:
                yield records
            if await at_end(consumer, partitions):
                position.ends = {tp: await consumer.position(tp) for tp in partitions}
                return
    finally:
        await consumer.stop()


async def _all_partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    await consumer.topics()  # loads metadata for every topic
    partitions = []
    for topic in topics:
        numbers = consumer.partitions_for_topic(topic)
        if not numbers:
            raise RuntimeError(f"topic {topic!r} does not exist on the broker")
        partitions += [TopicPartition(topic, p) for p in sorted(numbers)]
    return partitions


async def at_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    """Every partition read up to the high watermark its last fetch reported."""
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True

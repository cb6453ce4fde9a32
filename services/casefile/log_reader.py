"""Read topics from offset 0 to their current end, outside any consumer group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


@dataclass
class LogPosition:
    """How far a read has got: messages read so far, and the total known from fetches."""

    read: int = 0
    total: int | None = None  # sum of high watermarks, once every partition has answered
    ends: dict[TopicPartition, int] | None = None  # the position reached on each partition


async def read_log(
    bootstrap_servers: str, topics: list[str], *, request_timeout_ms: int = 10_000,
    batch_size: int = 5000, position: LogPosition | None = None,
    only: list[tuple[str, int]] | None = None,
) -> AsyncIterator[list[ConsumerRecord]]:
    """Batches of records, each partition in offset order, until every partition is read to
    the high watermark of its last fetch. Never joins a group: it moves no live offsets.

    Not end_offsets(): Tansu on S3 storage answers ListOffsets (latest) wrongly.
    """
    position = position if position is not None else LogPosition()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=request_timeout_ms,
        enable_auto_commit=False, max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = await _all_partitions(consumer, topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=batch_size)
            records = [record for tp in partitions for record in batch.get(tp, ())]
            position.read += len(records)
            highwaters = [consumer.highwater(tp) for tp in partitions]
            if None not in highwaters:
                position.total = sum(highwaters)
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

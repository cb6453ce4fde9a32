"""Drop the read models and replay both topics from offset 0: `python -m services.casefile.rebuild`.

Stop the live casefile service on that database first; the rebuilt state is what the live
service would have built, so its checksum must equal a live instance's after the same log.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import read_event
from services.casefile import handlers, store
from services.casefile.checksum import read_model_checksum
from services.casefile.config import Settings


@dataclass(frozen=True)
class RebuildResult:
    messages_read: int
    events_applied: int  # fewer than messages read when the log holds redeliveries
    checksum: str
    seconds: float


async def rebuild(settings: Settings, *, batch_size: int = 500) -> RebuildResult:
    started = time.monotonic()
    engine = store.make_engine(settings.database_url)
    try:
        store.drop_read_models(engine)
        store.create_read_models(engine)
        read, applied = await _replay(settings, engine, batch_size)
        checksum = read_model_checksum(engine)
    finally:
        engine.dispose()
    return RebuildResult(read, applied, checksum, round(time.monotonic() - started, 3))


async def _replay(settings: Settings, engine, batch_size: int) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        enable_auto_commit=False,  # no group: a rebuild reads, it never moves the live offsets
    )
    await consumer.start()
    try:
        partitions = await _all_partitions(
            consumer, [settings.case_events_topic, settings.alert_events_topic]
        )
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        read = applied = 0
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=batch_size)
            events = [_decode(record) for records in batch.values() for record in records]
            if events:
                read += len(events)
                applied += handlers.apply_in_transaction(engine, events)
            if await _at_end(consumer, partitions):
                return read, applied
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


def _decode(record):
    try:
        return read_event(record.value)
    except Exception as exc:  # the message's content stays out of the error: it may name people
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        raise RuntimeError(f"undecodable message at {where} ({type(exc).__name__})") from None


async def _at_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    """True once every partition is read up to the high watermark of its last fetch.

    Not end_offsets(): Tansu on S3 storage answers ListOffsets (latest) wrongly.
    """
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="read-model database (default: DATABASE_URL)")
    parser.add_argument(
        "--checksum-only", action="store_true",
        help="print the checksum of the read models as they are, without rebuilding",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    if args.checksum_only:
        engine = store.make_engine(settings.database_url)
        try:
            print(f"checksum:        {read_model_checksum(engine)}")
        finally:
            engine.dispose()
        return 0
    result = asyncio.run(rebuild(settings))
    print(f"messages read:   {result.messages_read}")
    print(f"events applied:  {result.events_applied}")
    print(f"checksum:        {result.checksum}")
    print(f"took:            {result.seconds}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

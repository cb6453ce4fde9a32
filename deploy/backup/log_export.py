"""Export the log: every message of every topic, as it is, into an encrypted archive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from deploy.backup.archive import ArchiveKind, ArchiveWriter, BackupError, BackupKey
from deploy.backup.log_items import LogMessage, LogSummary, end_item, header_item, message_item
from services.casefile.log_reader import LogPosition, read_log


async def export_log(
    bootstrap_servers: str, out: Path, key: BackupKey, *, topics: list[str] | None = None,
    request_timeout_ms: int = 10_000, on_progress: Callable[[LogPosition], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC), **client_options,
) -> LogSummary:
    """Every topic of the cluster (but Kafka's own, `__...`), or those named, each partition
    from offset 0 to its end as the export reaches it: a topic still written to meanwhile is
    saved up to some moment during the export, each partition whole up to there."""
    counts = await partition_counts(bootstrap_servers, topics,
                                    request_timeout_ms=request_timeout_ms, **client_options)
    summary = LogSummary(topics=counts, created_at=now().isoformat())
    position = LogPosition()
    with ArchiveWriter(out, key, ArchiveKind.LOG) as archive:
        archive.write(header_item(counts, summary.created_at))
        if counts:
            async for records in read_log(bootstrap_servers, sorted(counts),
                                          request_timeout_ms=request_timeout_ms,
                                          position=position, **client_options):
                for record in records:
                    message = LogMessage(
                        topic=record.topic, partition=record.partition, offset=record.offset,
                        timestamp_ms=record.timestamp, key=record.key, value=record.value,
                        headers=tuple(record.headers))
                    archive.write(message_item(message))
                    summary.count(message)
                if on_progress is not None:
                    on_progress(position)
        archive.write(end_item(summary))
    return summary


async def partition_counts(
    bootstrap_servers: str, topics: list[str] | None, *, request_timeout_ms: int = 10_000,
    **client_options,
) -> dict[str, int]:
    """Each topic's number of partitions; BackupError names a topic the cluster lacks."""
    present = await present_partitions(bootstrap_servers, request_timeout_ms=request_timeout_ms,
                                       **client_options)
    if topics is None:
        topics = sorted(t for t in present if not t.startswith("__"))
    missing = [t for t in topics if t not in present]
    if missing:
        raise BackupError(f"no topic {', '.join(map(repr, missing))} on {bootstrap_servers}")
    return {t: present[t] for t in topics}


async def present_partitions(bootstrap_servers: str, *, request_timeout_ms: int = 10_000,
                             **client_options) -> dict[str, int]:
    """Every topic the cluster has, with its number of partitions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers,
                                request_timeout_ms=request_timeout_ms, **client_options)
    try:
        await consumer.start()
        return {t: len(consumer.partitions_for_topic(t) or ()) for t in await consumer.topics()}
    finally:
        await consumer.stop()

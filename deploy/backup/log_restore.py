"""Restore a log backup into a cluster: checked whole first, then written back as it was.

Nothing is written until the whole archive has been read and authenticated. Each message
goes back to its topic and partition with its key, value, headers and timestamp, in its
partition's order; into empty topics it lands at the offset it had. The archive is read
twice rather than held in memory: a file changed between the two readings still fails to
authenticate, but then with part of it written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer

from deploy.backup.archive import ArchiveKind, BackupError, BackupKey, read_archive
from deploy.backup.log_export import present_partitions
from deploy.backup.log_items import LogSummary, check_log, messages_of
from deploy.topics import ensure_topics, log_is_empty

_IN_FLIGHT = 5000  # messages sent before waiting for their acknowledgements


@dataclass(frozen=True)
class RestoreResult:
    summary: LogSummary
    written: int
    offsets_kept: bool  # every message is at the offset it had (false when appended)


def check_log_archive(path: Path, key: BackupKey) -> LogSummary:
    """Read the whole archive and check it; ArchiveDamaged or WrongBackupKey otherwise."""
    return check_log(read_archive(path, key, ArchiveKind.LOG))


async def restore_log(
    bootstrap_servers: str, path: Path, key: BackupKey, *, append: bool = False,
    request_timeout_ms: int = 10_000, on_progress: Callable[[int, int], None] | None = None,
    **client_options,
) -> RestoreResult:
    """Refuses a topic that already holds messages unless `append`, and a topic whose number
    of partitions differs from the archive's (its cases' new events would land elsewhere)."""
    summary = await asyncio.to_thread(check_log_archive, path, key)
    await _prepare_topics(bootstrap_servers, summary, append=append,
                          request_timeout_ms=request_timeout_ms, **client_options)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5,
                                max_batch_size=512 * 1024,
                                request_timeout_ms=request_timeout_ms, **client_options)
    await producer.start()
    written, kept = 0, True
    try:
        pending: list[tuple[int, asyncio.Future]] = []
        for message in messages_of(read_archive(path, key, ArchiveKind.LOG)):
            sent = await producer.send(
                message.topic, message.value, key=message.key, partition=message.partition,
                timestamp_ms=message.timestamp_ms, headers=list(message.headers))
            pending.append((message.offset, sent))
            if len(pending) >= _IN_FLIGHT:
                kept &= await _acknowledged(pending)
                written += len(pending)
                pending = []
                if on_progress is not None:
                    on_progress(written, summary.messages)
        kept &= await _acknowledged(pending)
        written += len(pending)
        if on_progress is not None:
            on_progress(written, summary.messages)
    finally:
        await producer.stop()
    return RestoreResult(summary=summary, written=written, offsets_kept=kept)


async def _acknowledged(pending: list[tuple[int, asyncio.Future]]) -> bool:
    """Wait for the log to acknowledge them all; True if each landed at its old offset."""
    landed = await asyncio.gather(*(future for _, future in pending))
    return all(meta.offset == offset for (offset, _), meta in zip(pending, landed, strict=True))


async def _prepare_topics(
    bootstrap_servers: str, summary: LogSummary, *, append: bool, request_timeout_ms: int,
    **client_options,
) -> None:
    present = await present_partitions(bootstrap_servers, request_timeout_ms=request_timeout_ms,
                                       **client_options)
    existing = {t: n for t, n in present.items() if t in summary.topics}
    for topic, partitions in sorted(existing.items()):
        if partitions != summary.topics[topic]:
            raise BackupError(f"topic {topic!r} has {partitions} partitions on "
                              f"{bootstrap_servers}, the backup {summary.topics[topic]}")
    if not append:
        holding = [t for t in sorted(existing)
                   if not await log_is_empty(bootstrap_servers, t, **client_options)]
        if holding:
            raise BackupError(
                f"topic {', '.join(map(repr, holding))} on {bootstrap_servers} already holds "
                "messages: restore into an empty cluster, or pass --append to add the backup's "
                "messages after them (at other offsets; consumers skip what they applied)")
    by_count: dict[int, list[str]] = {}
    for topic, partitions in summary.topics.items():
        if topic not in existing:
            by_count.setdefault(partitions, []).append(topic)
    for partitions, topics in sorted(by_count.items()):
        await ensure_topics(bootstrap_servers, topics, partitions=partitions, **client_options)

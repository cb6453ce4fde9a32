"""Fold a whole log into empty read models in memory, as a rebuild does.

The same decoding and the same pure projections as the live consumer, and the same rules for
what is a duplicate and what needs attention, so the rows come out identical. What differs is
only the I/O: the rebuild owns its database, so it keeps every case and inquiry in memory and
writes the events in large batches instead of one transaction per message.

A rebuild may fold in several processes (shards). Each reads the whole log and folds the
messages whose key hashes to it: every message is keyed by its case, so each case is folded
whole by exactly one shard, and shards share nothing but the database they write to.
"""

from __future__ import annotations

import asyncio
import gc
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from uuid import UUID

from aiokafka import ConsumerRecord
from sqlalchemy import Engine

from services.casefile import projections, store
from services.casefile.config import Settings
from services.casefile.dead_letters import APPLY, DECODE
from services.casefile.decoding import Undecodable, decode
from services.casefile.log_reader import LogPosition, read_log
from services.casefile.projections import ALERT_STREAM, CASE_STREAM, CaseView, InquiryView


def shard_of(key: bytes | None, shards: int) -> int:
    return zlib.crc32(key or b"") % shards


@dataclass
class Replay:
    engine: Engine
    streams: dict[str, str]  # topic -> stream
    shard: int = 0
    shards: int = 1
    flush_every: int = 20_000
    cases: dict[UUID, CaseView] = field(default_factory=dict)
    inquiries: dict[UUID, InquiryView] = field(default_factory=dict)
    applied: set[UUID] = field(default_factory=set)
    attention: list[store.CaseAttention] = field(default_factory=list)
    read: int = 0
    _rows: list[projections.EventRow] = field(default_factory=list)
    _writer: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="replay-writer"))
    _writing: Future | None = None

    def feed(self, records: list[ConsumerRecord]) -> None:
        for record in records:
            if self.shards > 1 and shard_of(record.key, self.shards) != self.shard:
                continue
            self.read += 1
            self._fold(record)
        if len(self._rows) >= self.flush_every:
            self.flush()

    def _fold(self, record: ConsumerRecord) -> None:
        decoded = decode(record.value, record.key)
        if isinstance(decoded, Undecodable):
            self._flag(record, DECODE, decoded.reason, decoded.case_id, None)
            return
        event = decoded.event
        if event.event_id in self.applied:
            return
        inquiry_id = projections.inquiry_id_of(event)
        try:
            applied = projections.apply(
                self.cases.get(event.case_id),
                self.inquiries.get(inquiry_id) if inquiry_id else None,
                event, stream=self.streams[record.topic], body=decoded.body,
                schema_version=decoded.recorded_version,
            )
        except Exception as exc:  # the live consumer dead-letters these with the same reason
            self._flag(record, APPLY, f"not applied: {type(exc).__name__}", event.case_id,
                       event.event_id)
            return
        self.applied.add(event.event_id)
        self.cases[event.case_id] = applied.case
        if applied.inquiry is not None:
            self.inquiries[applied.inquiry.inquiry_id] = applied.inquiry
        self._rows.append(applied.row)

    def _flag(
        self, record: ConsumerRecord, stage: str, reason: str, case_id: UUID | None,
        event_id: UUID | None,
    ) -> None:
        self.attention.append(store.CaseAttention(
            topic=record.topic, partition=record.partition, offset=record.offset,
            case_id=case_id, event_id=event_id, stage=stage, reason=reason,
        ))
        if case_id is not None:
            self.cases[case_id] = projections.flag_for_attention(self.cases.get(case_id), case_id)

    def flush(self) -> None:
        """Hand the events folded so far to the writer; the next batch folds meanwhile."""
        rows, self._rows = self._rows, []
        self._wait_for_writer()
        # sqlite3 and psycopg release the GIL while the database works, so folding and
        # writing overlap; one writer at a time keeps the batches in order.
        self._writing = self._writer.submit(store.insert_rows, self.engine, store.CaseEvent, rows)

    def _wait_for_writer(self) -> None:
        if self._writing is not None:
            self._writing.result()  # re-raises a failed write here
            self._writing = None

    def close(self) -> None:
        self._writer.shutdown(wait=True, cancel_futures=True)

    def finish(self, ends: dict[tuple[str, int], int]) -> None:
        """Write what is held in memory, and where the log was read to, so a live casefile
        on this database carries on from there."""
        self.flush()
        self._wait_for_writer()
        store.insert_rows(self.engine, store.CaseSummary, self.cases.values())
        store.insert_rows(self.engine, store.Inquiry, self.inquiries.values())
        store.insert_rows(self.engine, store.CaseAttention, self.attention)
        store.insert_rows(self.engine, store.ConsumerPosition, [
            store.ConsumerPosition(topic=topic, partition=partition, next_offset=offset)
            for (topic, partition), offset in ends.items()
        ])


@dataclass(frozen=True)
class ShardResult:
    messages_read: int
    events_applied: int
    dead_lettered: int
    cases: int


async def replay_shard(
    settings: Settings, shard: int = 0, shards: int = 1,
    on_progress: Callable[[LogPosition], None] | None = None,
) -> ShardResult:
    """Read the log from offset 0 and write what this shard folds (the tables exist)."""
    engine = store.make_engine(settings.database_url, bulk_load=True, prepare_store=False)
    replay = Replay(engine, streams={settings.case_events_topic: CASE_STREAM,
                                     settings.alert_events_topic: ALERT_STREAM},
                    shard=shard, shards=shards)
    position = LogPosition()
    try:
        with _no_cycle_collection():
            async for records in read_log(
                settings.kafka_bootstrap_servers,
                [settings.case_events_topic, settings.alert_events_topic],
                request_timeout_ms=settings.kafka_request_timeout_ms, position=position,
            ):
                replay.feed(records)
                if on_progress is not None:
                    on_progress(position)
            replay.finish({(tp.topic, tp.partition): end
                           for tp, end in (position.ends or {}).items()} if shard == 0 else {})
    finally:
        replay.close()
        engine.dispose()
    return ShardResult(replay.read, len(replay.applied), len(replay.attention), len(replay.cases))


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A replay builds millions of short-lived, acyclic objects beside a large, growing heap;
    the cycle collector would rescan that heap over and over for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def shard_process(settings_json: str, shard: int, shards: int, read, total, results) -> None:
    """Entry point of a shard's own process: progress in two shared counters, the result or
    what went wrong on a queue. Only casefile's own errors travel with their message: a
    database error's text can quote the row, and so a person's name."""
    settings = Settings.model_validate_json(settings_json)

    def report(position: LogPosition) -> None:
        read.value = position.read
        total.value = position.total or 0

    try:
        result = asyncio.run(replay_shard(settings, shard, shards, report))
        results.put(("ok", asdict(result)))
    except RuntimeError as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    except Exception as exc:
        results.put(("error", type(exc).__name__))

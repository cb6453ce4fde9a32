"""Fold a whole log into empty read models in memory, as a rebuild does.

The same decoding and the same pure projections as the live consumer, and the same rules for
what is a duplicate and what needs attention, so the rows come out identical. What differs is
only the I/O: the rebuild owns its database, so it keeps every case and inquiry in memory and
writes the events in large batches instead of one transaction per message.

A rebuild may fold in several processes (shards). Each reads its share of the partitions
(services.casefile.shards) and folds whole cases, and shards share nothing but the database
they write to.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from aiokafka import ConsumerRecord
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from contracts.kafka_security import kafka_security
from services.casefile import projections, shards, store
from services.casefile.config import Settings
from services.casefile.dead_letters import APPLY, DECODE
from services.casefile.decoding import Undecodable, decode
from services.casefile.log_reader import LogPosition, read_log
from services.casefile.projections import ALERT_STREAM, CASE_STREAM, CaseView, InquiryView


@dataclass
class Replay:
    engine: Engine
    streams: dict[str, str]  # topic -> stream
    shard: int = 0
    shards: int = 1
    flush_every: int = 20_000
    plan: shards.ShardPlan | None = None  # once the partitions are known
    turn: Any = None  # a lock the shards writing one SQLite file take turns with, if any
    # Keyed by each UUID's integer: hashing and comparing a UUID runs Python code, an int's
    # does not, and a rebuild looks up a case, an inquiry and an event id for every event.
    cases: dict[int, CaseView] = field(default_factory=dict)
    inquiries: dict[int, InquiryView] = field(default_factory=dict)
    applied: set[int] = field(default_factory=set)
    attention: list[store.CaseAttention] = field(default_factory=list)
    read: int = 0
    _rows: list[projections.EventRow] = field(default_factory=list)

    def choose(self, partitions: dict[str, int]) -> tuple[shards.Partition, ...]:
        """The partitions this shard reads, given each topic's partition count."""
        self.plan = shards.plan(partitions, self.shard, self.shards)
        return self.plan.reads

    def feed(self, records: list[ConsumerRecord]) -> None:
        takes = self.plan.takes if self.plan is not None and self.plan.shared else None
        for record in records:
            if takes is not None and not takes(record.topic, record.partition, record.key):
                continue
            self.read += 1
            self._fold(record)
        if len(self._rows) >= self.flush_every and self._my_turn():
            try:
                self.flush()
            finally:
                self._end_turn()

    def _my_turn(self) -> bool:
        """Whether to write now: while another shard holds SQLite's one write lock, this one
        folds on and tries again after the next batch, rather than sleep in SQLite's busy
        handler (which sleeps on for up to 100 ms after the lock is free)."""
        return self.turn is None or self.turn.acquire(False)  # without waiting

    def _end_turn(self) -> None:
        if self.turn is not None:
            self.turn.release()

    def _fold(self, record: ConsumerRecord) -> None:
        decoded = decode(record.value, record.key)
        if isinstance(decoded, Undecodable):
            self._flag(record, DECODE, decoded.reason, decoded.case_id, None)
            return
        event = decoded.event
        event_id, case_id = event.event_id.int, event.case_id.int
        if event_id in self.applied:
            return
        inquiry_id = projections.inquiry_id_of(event)
        try:
            applied = projections.apply(
                self.cases.get(case_id),
                self.inquiries.get(inquiry_id.int) if inquiry_id else None,
                event, stream=self.streams[record.topic], body=decoded.body,
                schema_version=decoded.recorded_version,
            )
        except Exception as exc:  # the live consumer dead-letters these with the same reason
            self._flag(record, APPLY, f"not applied: {type(exc).__name__}", event.case_id,
                       event.event_id)
            return
        self.applied.add(event_id)
        self.cases[case_id] = applied.case
        if applied.inquiry is not None:
            self.inquiries[applied.inquiry.inquiry_id.int] = applied.inquiry
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
            self.cases[case_id.int] = projections.flag_for_attention(
                self.cases.get(case_id.int), case_id)

    def flush(self) -> None:
        """Write the events folded so far, in this thread: sqlite3 takes the interpreter lock
        back for every row it binds, so a writer thread beside the fold mostly waited for it
        (replay with one was 3-20% slower, in one process and in two)."""
        rows, self._rows = self._rows, []
        store.insert_rows(self.engine, store.CaseEvent, rows)

    def finish(self) -> None:
        """Write what is held in memory."""
        if self.turn is not None:
            self.turn.acquire()
        try:
            self.flush()
            store.insert_rows(self.engine, store.CaseSummary, self.cases.values())
            store.insert_rows(self.engine, store.Inquiry, self.inquiries.values())
            store.insert_rows(self.engine, store.CaseAttention, self.attention)
        finally:
            self._end_turn()


@dataclass(frozen=True)
class ShardResult:
    messages_read: int  # the messages this shard folded (or flagged)
    events_applied: int
    dead_lettered: int
    cases: int
    partitions: dict[str, int]  # each topic's partition count, as this shard shared them out
    ends: list[tuple[str, int, int]]  # (topic, partition, next offset) of what it read


class ShardsOverlap(RuntimeError):
    """A shard's rows collided with another's: the log's partitions did not keep each case
    whole, so folding it in several processes cannot give the right read models."""


async def replay_shard(
    settings: Settings, shard: int = 0, shards: int = 1,
    on_progress: Callable[[LogPosition], None] | None = None, turn: Any = None,
    **client_options,
) -> ShardResult:
    """Read this shard's partitions from offset 0 and write what it folds (the tables exist);
    `client_options` (TLS, SASL) go to the consumer."""
    engine = store.make_engine(settings.database_url, bulk_load=True, prepare_store=False)
    replay = Replay(engine, streams={settings.case_events_topic: CASE_STREAM,
                                     settings.alert_events_topic: ALERT_STREAM},
                    shard=shard, shards=shards, turn=turn)
    position = LogPosition()
    try:
        with _no_cycle_collection():
            async for records in read_log(
                settings.kafka_bootstrap_servers,
                [settings.case_events_topic, settings.alert_events_topic],
                request_timeout_ms=settings.kafka_request_timeout_ms, position=position,
                choose=replay.choose, **client_options,
            ):
                replay.feed(records)
                if on_progress is not None:
                    on_progress(_share_of(position, replay.plan))
            replay.finish()
    except IntegrityError:
        if shards == 1:
            raise
        # Every row a shard writes is new to it: the same key came from another shard.
        raise ShardsOverlap("a case was folded by two shards") from None
    finally:
        engine.dispose()
    return ShardResult(
        replay.read, len(replay.applied), len(replay.attention), len(replay.cases),
        partitions=dict(replay.plan.partitions) if replay.plan else {},
        ends=[(tp.topic, tp.partition, end) for tp, end in (position.ends or {}).items()],
    )


def _share_of(position: LogPosition, plan: shards.ShardPlan | None) -> LogPosition:
    """Progress through this shard's share of the log: partitions every shard reads count for
    their share only, so the shards' progress adds up to the log's."""
    if plan is None or not plan.shared:
        return position

    def share(counts: dict) -> int:
        return round(sum(n * shards.progress_weight(plan, (tp.topic, tp.partition))
                         for tp, n in counts.items()))

    total = share(position.highwaters) if position.total is not None else None
    return LogPosition(read=share(position.offsets), total=total)


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


def shard_process(
    settings_fields: dict, shard: int, shards: int, read, total, results, turn=None
) -> None:
    """Entry point of a shard's own process: progress in two shared counters, the result or
    what went wrong on a queue. Only casefile's own errors travel with their message: a
    database error's text can quote the row, and so a person's name."""
    settings = Settings.model_validate(settings_fields)  # secrets as they are, not masked

    def report(position: LogPosition) -> None:
        read.value = position.read
        total.value = position.total or 0

    try:
        kafka = kafka_security(settings, settings.kafka_bootstrap_servers)  # once per process
        result = asyncio.run(replay_shard(settings, shard, shards, report, turn,
                                          **kafka.client_options()))
        results.put(("ok", asdict(result)))
    except ShardsOverlap as exc:
        results.put(("overlap", str(exc)))
    except RuntimeError as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    except Exception as exc:
        results.put(("error", type(exc).__name__))

"""Fold the whole access-events topic into empty audit tables, as a rebuild does.

The same decoding, folding and deduplication as the live consumer, written in batches. It
reads the topic only: the outbox (what has not reached the log) is none of a rebuild's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import ConsumerRecord
from sqlalchemy import Engine

from services.casefile import store
from services.casefile.access_audit import fold
from services.casefile.access_audit.tables import AccessCase, AccessRecord
from services.casefile.dead_letters import DECODE
from services.casefile.log_reader import LogPosition, read_log


@dataclass(frozen=True)
class AccessReplayResult:
    messages_read: int
    accesses: int  # distinct access events applied
    dead_lettered: int
    ends: list[tuple[str, int, int]]  # (topic, partition, next offset) of what it read


@dataclass
class AccessReplay:
    engine: Engine
    flush_every: int = 20_000
    seen: set[int] = field(default_factory=set)
    attention: list[store.CaseAttention] = field(default_factory=list)
    read: int = 0
    _records: list[fold.RecordRow] = field(default_factory=list)
    _cases: list[fold.CaseRow] = field(default_factory=list)

    def feed(self, records: list[ConsumerRecord]) -> None:
        for record in records:
            self.read += 1
            event = fold.decode(record.value)
            if isinstance(event, fold.Unreadable):
                self.attention.append(store.CaseAttention(
                    topic=record.topic, partition=record.partition, offset=record.offset,
                    case_id=None, event_id=None, stage=DECODE, reason=event.reason))
                continue
            if event.event_id.int in self.seen:
                continue
            self.seen.add(event.event_id.int)
            folded = fold.fold(event)
            self._records.append(folded.record)
            self._cases += folded.cases
        if len(self._records) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        records, self._records = self._records, []
        cases, self._cases = self._cases, []
        store.insert_rows(self.engine, AccessRecord, records)
        store.insert_rows(self.engine, AccessCase, cases)

    def finish(self) -> None:
        self.flush()
        store.insert_rows(self.engine, store.CaseAttention, self.attention)


async def replay_accesses(
    engine: Engine, bootstrap_servers: str, topic: str, *, request_timeout_ms: int = 10_000,
    **client_options,
) -> AccessReplayResult:
    """Read the access topic from offset 0 into the (empty) audit tables; `client_options`
    (TLS, SASL) go to the consumer."""
    replay = AccessReplay(engine)
    position = LogPosition()
    async for records in read_log(bootstrap_servers, [topic], position=position,
                                  request_timeout_ms=request_timeout_ms, fetch_max_wait_ms=50,
                                  **client_options):
        replay.feed(records)
    replay.finish()
    ends = [(tp.topic, tp.partition, end) for tp, end in (position.ends or {}).items()]
    return AccessReplayResult(replay.read, len(replay.seen), len(replay.attention), ends)

"""How a rebuild shares the log out between processes: each case folded whole by one of them,
each reading as little of the log as it can, taking turns at writing, and the position a live
consumer resumes from."""

from __future__ import annotations

import threading

from aiokafka import ConsumerRecord, TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from contracts import encode_event
from services.casefile import replay as replay_module
from services.casefile.log_reader import LogPosition
from services.casefile.rebuild import _positions
from services.casefile.replay import Replay, ShardResult, _share_of
from services.casefile.shards import plan
from tests.unit.test_casefile_projections import CASE, report

CASES, ALERTS = "case-events", "alert-events"


def test_with_as_many_partitions_on_both_topics_a_shard_reads_its_numbers_and_the_leftovers():
    first, second = (plan({CASES: 3, ALERTS: 3}, shard, 2) for shard in (0, 1))
    assert first.reads == ((CASES, 0), (CASES, 2), (ALERTS, 0), (ALERTS, 2))
    assert second.reads == ((CASES, 1), (CASES, 2), (ALERTS, 1), (ALERTS, 2))
    assert first.shared == second.shared == {(CASES, 2), (ALERTS, 2)}


def test_partitions_that_divide_evenly_are_never_read_twice():
    plans = [plan({CASES: 6, ALERTS: 6}, shard, 3) for shard in range(3)]
    assert sorted(p for each in plans for p in each.reads) == sorted(
        (topic, n) for topic in (CASES, ALERTS) for n in range(6))
    assert not any(each.shared for each in plans)


def test_topics_with_different_partition_counts_are_read_whole_by_every_shard():
    for shard in (0, 1):
        each = plan({CASES: 3, ALERTS: 2}, shard, 2)
        assert set(each.reads) == each.shared == {
            (CASES, 0), (CASES, 1), (CASES, 2), (ALERTS, 0), (ALERTS, 1)}


def test_a_single_shard_reads_everything_and_takes_every_message():
    alone = plan({CASES: 3, ALERTS: 1}, 0, 1)
    assert len(alone.reads) == 4 and not alone.shared
    assert alone.takes(ALERTS, 0, None)


@given(
    counts=st.tuples(st.integers(1, 7), st.integers(1, 7)), shards=st.integers(1, 4),
    keys=st.lists(st.uuids().map(lambda u: str(u).encode()), min_size=1, max_size=20),
)
def test_every_message_is_folded_by_exactly_one_shard_and_a_case_by_one_shard(
    counts, shards, keys
):
    partitions = {CASES: counts[0], ALERTS: counts[1]}
    plans = [plan(partitions, shard, shards) for shard in range(shards)]
    for key in keys:
        takers = {}
        for topic, count in partitions.items():
            for number in range(count):
                taken_by = [p.shard for p in plans
                            if (topic, number) in p.reads and p.takes(topic, number, key)]
                assert len(taken_by) == 1
                takers[topic, number] = taken_by[0]
        if counts[0] == counts[1]:  # the default partitioner puts a case at one number
            assert all(takers[CASES, n] == takers[ALERTS, n] for n in range(counts[0]))
        else:
            assert len(set(takers.values())) == 1


def _result(*ends: tuple[str, int, int]) -> ShardResult:
    return ShardResult(1, 1, 0, 1, partitions={CASES: 3}, ends=list(ends))


def test_a_live_consumer_resumes_each_partition_where_the_shard_least_far_along_stopped():
    positions = _positions([
        _result((CASES, 0, 40), (CASES, 2, 31)),
        _result((CASES, 1, 25), (CASES, 2, 30)),  # the log grew while the first read on
    ])
    assert [(p.topic, p.partition, p.next_offset) for p in positions] == [
        (CASES, 0, 40), (CASES, 1, 25), (CASES, 2, 30)]


def test_the_shards_progress_adds_up_to_the_log():
    partitions = [TopicPartition(CASES, n) for n in range(3)]
    reports = []
    for shard in (0, 1):
        each = plan({CASES: 3}, shard, 2)
        mine = [tp for tp in partitions if (tp.topic, tp.partition) in each.reads]
        position = LogPosition(read=0, total=sum(100 for _ in mine),
                               offsets={tp: 50 for tp in mine}, highwaters={tp: 100 for tp in mine})
        reports.append(_share_of(position, each))
    assert sum(r.read for r in reports) == 150 and sum(r.total for r in reports) == 300


def test_a_shard_that_finds_the_write_turn_taken_folds_on_and_writes_after_the_next_batch(
    monkeypatch,
):
    written: list[int] = []
    monkeypatch.setattr(replay_module.store, "insert_rows",
                        lambda engine, model, rows: written.append(len(list(rows))))
    turn = threading.Lock()
    shard = Replay(None, streams={CASES: "case"}, flush_every=1, turn=turn)
    events = [encode_event(report()), encode_event(report(seq=2))]
    with turn:  # another shard is writing
        shard.feed([_record(0, events[0])])
    assert written == []
    shard.feed([_record(1, events[1])])
    assert written == [2] and not turn.locked()


def _record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(CASES, 0, offset, 0, 0, str(CASE).encode(), value, None, 36,
                          len(value), ())

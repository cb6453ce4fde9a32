"""How a rebuild shares the log out between processes (shards) so that each reads only its share.

Every message is keyed by its case, and intake and notify both leave the partition to the
default partitioner, so when both topics have the same number of partitions a case's events
and its alerts lie in partitions of the same number. A shard then reads only the partitions
whose numbers are its own. Partitions left over when their number does not divide by the
shards are read by every shard, each folding the messages whose key hashes to it; when the
topics' partition counts differ, every partition is read that way (each shard reads the
whole log, as before partitions were taken into account).

Nothing here is taken on trust: a case that still turned up in two shards (a producer that
chose partitions itself, a message keyed by another case) gives both shards a row for it, the
second write collides with the first on the primary key, and the rebuild starts again in one
process (services.casefile.rebuild). Pure functions only.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

Partition = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class ShardPlan:
    shard: int
    shards: int
    partitions: tuple[tuple[str, int], ...]  # (topic, partition count) it was planned from
    reads: tuple[Partition, ...]  # what this shard reads
    shared: frozenset[Partition]  # of those, the ones every shard reads, each taking its keys

    def takes(self, topic: str, partition: int, key: bytes | None) -> bool:
        """Whether this shard folds a message it read."""
        return (topic, partition) not in self.shared or shard_of(key, self.shards) == self.shard


def plan(partitions: dict[str, int], shard: int, shards: int) -> ShardPlan:
    """The partitions shard `shard` of `shards` reads, given each topic's partition count."""
    aligned = shards == 1 or len(set(partitions.values())) == 1
    reads: list[Partition] = []
    shared: set[Partition] = set()
    for topic, count in partitions.items():
        apart = count - count % shards if aligned else 0  # partitions that go to one shard each
        for number in range(count):
            if number >= apart:
                shared.add((topic, number))
            if number >= apart or number % shards == shard:
                reads.append((topic, number))
    return ShardPlan(shard, shards, tuple(partitions.items()), tuple(reads), frozenset(shared))


def shard_of(key: bytes | None, shards: int) -> int:
    return zlib.crc32(key or b"") % shards


def progress_weight(plan: ShardPlan, partition: Partition) -> float:
    """How much of a partition's progress this shard reports: a shared one is read by every
    shard, so each reports its share and the shards' reports add up to the log."""
    return 1 / plan.shards if partition in plan.shared else 1.0

"""Drop the read models and replay the topics from offset 0: `python -m services.casefile.rebuild`.

Stop the live casefile service on that database first (or pass --database-url to rebuild into
another one while it runs). The rebuilt state is what the live service would have built, so
its checksum must equal a live instance's after the same log. Case and alert events are folded
first (in several processes if asked), then the audit of access from access-events; reads
still in the access outbox are left there for the service to publish.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from contracts.kafka_security import kafka_security
from services.casefile import store
from services.casefile.access_audit.replay import AccessReplayResult, replay_accesses
from services.casefile.checksum import read_model_checksum
from services.casefile.config import Settings
from services.casefile.log_reader import LogPosition
from services.casefile.replay import ShardResult, ShardsOverlap, replay_shard, shard_process

OnProgress = Callable[[LogPosition], None]


@dataclass(frozen=True)
class RebuildResult:
    messages_read: int
    events_applied: int  # fewer than messages read when the log holds redeliveries
    dead_lettered: int  # messages that could not be decoded or applied; their cases are flagged
    cases: int
    checksum: str
    workers: int  # processes that folded the log (one, if the cases did not keep to partitions)
    replay_seconds: float  # reading the log and writing the read models
    checksum_seconds: float
    seconds: float
    accesses: int = 0  # reads of case data on access-events (its messages are not counted above)


async def rebuild(
    settings: Settings, *, workers: int = 1, on_progress: OnProgress | None = None
) -> RebuildResult:
    """Drop the read models and fold the whole log into them again.

    With several `workers` the cases are shared out between that many processes (see
    services.casefile.shards); the read models come out the same either way.
    """
    started = time.monotonic()
    # Refuse a broken Kafka security setting before the read models are dropped, not after.
    kafka_options = kafka_security(settings, settings.kafka_bootstrap_servers).client_options()
    engine = store.make_engine(settings.database_url, bulk_load=True)
    try:
        store.reset(engine, defer_indexes=True)
        results = await _replay(settings, engine, workers, on_progress, kafka_options)
        accesses = await replay_accesses(
            engine, settings.kafka_bootstrap_servers, settings.access_events_topic,
            request_timeout_ms=settings.kafka_request_timeout_ms, **kafka_options)
        store.insert_rows(engine, store.ConsumerPosition, _positions([*results, accesses]))
        store.create_deferred_indexes(engine)
        store.end_bulk_load(engine)
        replayed = time.monotonic()
        checksum = read_model_checksum(engine)
    finally:
        engine.dispose()
    done = time.monotonic()
    return RebuildResult(
        messages_read=sum(r.messages_read for r in results),
        events_applied=sum(r.events_applied for r in results),
        dead_lettered=sum(r.dead_lettered for r in results) + accesses.dead_lettered,
        cases=sum(r.cases for r in results), checksum=checksum, workers=len(results),
        replay_seconds=round(replayed - started, 3), checksum_seconds=round(done - replayed, 3),
        seconds=round(done - started, 3), accesses=accesses.accesses,
    )


async def _replay(
    settings: Settings, engine: Engine, workers: int, on_progress: OnProgress | None,
    kafka_options: dict,
) -> list[ShardResult]:
    """`kafka_options` serve this process; a worker process makes its own (TLS, SASL)."""
    if workers > 1:
        engine.dispose()  # the workers may be forked: leave them no connection of ours
        try:
            results = await _in_processes(settings, workers, on_progress)
            if len({tuple(sorted(r.partitions.items())) for r in results}) == 1:
                return results
            # the topics were repartitioned while the shards started: they may have missed some
        except ShardsOverlap:
            pass  # a case in two shards: only one process can fold this log right
        store.reset(engine, defer_indexes=True)
    return [await replay_shard(settings, on_progress=on_progress, **kafka_options)]


def _positions(
    results: Iterable[ShardResult | AccessReplayResult],
) -> list[store.ConsumerPosition]:
    """Where a live casefile on this database carries on: on a partition several shards read,
    the least far any of them got, so none of the events it did not fold is skipped (those
    another shard folded meanwhile come again, and change nothing the second time)."""
    ends: dict[tuple[str, int], int] = {}
    for result in results:
        for topic, partition, offset in result.ends:
            ends[topic, partition] = min(offset, ends.get((topic, partition), offset))
    return [store.ConsumerPosition(topic=topic, partition=partition, next_offset=offset)
            for (topic, partition), offset in sorted(ends.items())]


def _start_method() -> str:
    """Fork while this process runs nothing else: a worker then starts in milliseconds with
    everything imported, where a fresh interpreter spends 0.5-0.7 s importing it all again.
    The worker runs its own event loop (asyncio ignores a loop inherited across fork). With
    other threads about, a forked worker could inherit a lock one of them holds: spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


async def _in_processes(
    settings: Settings, shards: int, on_progress: OnProgress | None
) -> list[ShardResult]:
    context = multiprocessing.get_context(_start_method())
    results = context.Queue()
    counters = [(context.Value("q", 0), context.Value("q", 0)) for _ in range(shards)]
    # SQLite has one writer at a time; PostgreSQL takes the shards' inserts side by side.
    turn = context.Lock() if settings.database_url.startswith("sqlite") else None
    processes = [
        context.Process(
            target=shard_process, name=f"replay-shard-{shard}", daemon=True,
            args=(settings.model_dump(), shard, shards, read, total, results, turn))
        for shard, (read, total) in enumerate(counters)
    ]
    for process in processes:
        process.start()
    outcomes: list[tuple[str, object]] = []
    try:
        while len(outcomes) < len(processes):
            while not results.empty():
                outcomes.append(results.get())
            if any(status != "ok" for status, _ in outcomes):
                break  # the others' work is lost either way
            if on_progress is not None:  # each shard reports its share of the log
                totals = [total.value for _, total in counters]
                on_progress(LogPosition(read=sum(read.value for read, _ in counters),
                                        total=sum(totals) if all(totals) else None))
            # Each worker puts its one outcome before it exits: one gone without it (killed,
            # say) would leave the others waiting, perhaps for a write turn it held.
            if sum(not p.is_alive() for p in processes) > len(outcomes):
                while not results.empty():
                    outcomes.append(results.get())
                if sum(not p.is_alive() for p in processes) > len(outcomes):
                    raise RuntimeError("a replay worker stopped without a result")
            await asyncio.sleep(0.05)
    finally:
        done = len(outcomes) == len(processes)
        for process in processes:
            process.join(timeout=5 if done else 0)
            if process.is_alive():
                process.kill()
    errors = [detail for status, detail in outcomes if status == "error"]
    if errors:
        raise RuntimeError(f"replay worker failed: {errors[0]}")
    if any(status == "overlap" for status, _ in outcomes):
        raise ShardsOverlap("a case was folded by two shards")
    return [ShardResult(**detail) for _, detail in outcomes]


async def _rebuild_with_progress_bar(
    settings: Settings, console: Console, *, workers: int
) -> RebuildResult:
    columns = (
        TextColumn("replaying the log"), BarColumn(), MofNCompleteColumn(),
        TextColumn("messages"), TimeElapsedColumn(),
    )
    # Refreshed as progress comes in rather than by rich's own thread: a process with no
    # other thread can fork its workers (see _start_method).
    with Progress(*columns, console=console, transient=False, auto_refresh=False) as bar:
        task = bar.add_task("replay", total=None)

        def show(position: LogPosition) -> None:
            bar.update(task, completed=position.read, total=position.total, refresh=True)

        result = await rebuild(settings, workers=workers, on_progress=show)
        bar.update(task, completed=result.messages_read, total=result.messages_read)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="read-model database (default: DATABASE_URL)")
    parser.add_argument(
        "--checksum-only", action="store_true",
        help="print the checksum of the read models as they are, without rebuilding",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1),
        help="processes folding the log side by side (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    console = Console(stderr=True)
    if args.checksum_only:
        engine = store.make_engine(settings.database_url)
        try:
            print(f"checksum:        {read_model_checksum(engine)}")
        finally:
            engine.dispose()
        return 0
    try:
        if args.json:
            result = asyncio.run(rebuild(settings, workers=args.workers))
        else:
            result = asyncio.run(
                _rebuild_with_progress_bar(settings, console, workers=args.workers))
    except RuntimeError as exc:  # e.g. a topic that does not exist: say so, without a trace
        console.print(f"[red]rebuild failed:[/red] {exc}")
        return 2
    if args.json:
        print(json.dumps(asdict(result)))
        return 0
    print(f"messages read:   {result.messages_read}")
    print(f"events applied:  {result.events_applied}")
    print(f"dead-lettered:   {result.dead_lettered}")
    print(f"cases:           {result.cases}")
    print(f"accesses:        {result.accesses}")
    print(f"checksum:        {result.checksum}")
    print(f"took:            {result.seconds}s (replay {result.replay_seconds}s, "
          f"checksum {result.checksum_seconds}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

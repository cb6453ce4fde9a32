"""Drop the read models and replay both topics from offset 0: `python -m services.casefile.rebuild`.

Stop the live casefile service on that database first (or pass --database-url to rebuild into
another one while it runs). The rebuilt state is what the live service would have built, so
its checksum must equal a live instance's after the same log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.casefile import store
from services.casefile.checksum import read_model_checksum
from services.casefile.config import Settings
from services.casefile.log_reader import LogPosition
from services.casefile.replay import ShardResult, replay_shard, shard_process

OnProgress = Callable[[LogPosition], None]


@dataclass(frozen=True)
class RebuildResult:
    messages_read: int
    events_applied: int  # fewer than messages read when the log holds redeliveries
    dead_lettered: int  # messages that could not be decoded or applied; their cases are flagged
    cases: int
    checksum: str
    replay_seconds: float  # reading the log and writing the read models
    checksum_seconds: float
    seconds: float


async def rebuild(
    settings: Settings, *, workers: int = 1, on_progress: OnProgress | None = None
) -> RebuildResult:
    """Drop the read models and fold the whole log into them again.

    With several `workers` the cases are shared out between that many processes (see
    services.casefile.replay); the read models come out the same either way.
    """
    started = time.monotonic()
    engine = store.make_engine(settings.database_url, bulk_load=True)
    try:
        store.reset(engine, defer_indexes=True)
        if workers <= 1:
            results = [await replay_shard(settings, on_progress=on_progress)]
        else:
            results = await _in_processes(settings, workers, on_progress)
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
        dead_lettered=sum(r.dead_lettered for r in results),
        cases=sum(r.cases for r in results), checksum=checksum,
        replay_seconds=round(replayed - started, 3), checksum_seconds=round(done - replayed, 3),
        seconds=round(done - started, 3),
    )


async def _in_processes(
    settings: Settings, shards: int, on_progress: OnProgress | None
) -> list[ShardResult]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited loop
    results = context.Queue()
    counters = [(context.Value("q", 0), context.Value("q", 0)) for _ in range(shards)]
    processes = [
        context.Process(target=shard_process, name=f"replay-shard-{shard}", daemon=True,
                        args=(settings.model_dump_json(), shard, shards, read, total, results))
        for shard, (read, total) in enumerate(counters)
    ]
    for process in processes:
        process.start()
    outcomes: list[tuple[str, object]] = []
    try:
        while len(outcomes) < len(processes):
            while not results.empty():
                outcomes.append(results.get())
            if on_progress is not None:  # every shard scans the whole log: show the slowest
                totals = [total.value for _, total in counters]
                on_progress(LogPosition(read=min(read.value for read, _ in counters),
                                        total=max(totals) if all(totals) else None))
            if len(outcomes) < len(processes) and not any(p.is_alive() for p in processes):
                while not results.empty():
                    outcomes.append(results.get())
                if len(outcomes) < len(processes):
                    raise RuntimeError("a replay worker stopped without a result")
            await asyncio.sleep(0.1)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    errors = [detail for status, detail in outcomes if status == "error"]
    if errors:
        raise RuntimeError(f"replay worker failed: {errors[0]}")
    return [ShardResult(**detail) for _, detail in outcomes]


async def _rebuild_with_progress_bar(
    settings: Settings, console: Console, *, workers: int
) -> RebuildResult:
    columns = (
        TextColumn("replaying the log"), BarColumn(), MofNCompleteColumn(),
        TextColumn("messages"), TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("replay", total=None)

        def show(position: LogPosition) -> None:
            bar.update(task, completed=position.read, total=position.total)

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
    print(f"checksum:        {result.checksum}")
    print(f"took:            {result.seconds}s (replay {result.replay_seconds}s, "
          f"checksum {result.checksum_seconds}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

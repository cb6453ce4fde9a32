"""`make bench` (replay): casefile's full rebuild of a large log, beside a bare consumer.

Starts an in-memory broker, writes a fictional log (bench.fictional_log: by default 200,000
case events over 10,000 cases, plus notify's alerts), reads it three times with a bare aiokafka
consumer that does nothing with the messages, then runs `python -m services.casefile.rebuild`
into a fresh SQLite file, in one process and in two. Prints events/s of each rebuild (reading
the log and writing the read models; the checksum is timed apart), the ratio to the best bare
read, peak memory and CPU. Exits non-zero only if a rebuild got the log wrong (events or cases
missing, or the one- and two-process rebuilds disagreeing): speed is printed, never asserted.

    python -m bench.replay --events 200000 --cases 10000   (or BENCH_REPLAY_EVENTS=..., etc.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.fictional_log import ALERT, generate
from deploy import processes
from deploy.embedded import EmbeddedBroker
from deploy.topics import ensure_topics
from services.casefile.log_reader import at_end

TARGET_PER_SECOND = 20_000
TARGET_RATIO = 0.5


@dataclass
class Log:
    case_topic: str
    alert_topic: str
    messages: int
    distinct_events: int  # every message is a new event today; a rebuild must apply each once
    alerts: int
    contact_lost_versions: Counter
    generate_seconds: float
    produce_seconds: float


@dataclass
class Rebuild:
    workers: int
    result: dict
    peak_rss_mb: float
    cpu_seconds: float
    wall_seconds: float


def main() -> None:
    options = _parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        broker = EmbeddedBroker(kafka_port=processes.free_port(), durable=False,
                                data_dir=Path(tmp) / "broker")
        with broker:
            log = asyncio.run(write_log(broker.bootstrap_servers, options))
            raw = [asyncio.run(bare_read(broker.bootstrap_servers, log)) for _ in range(3)]
            rebuilds = [run_rebuild(broker.bootstrap_servers, log, Path(tmp), workers)
                        for workers in options.workers]
    problems = check(log, options, rebuilds)
    print_results(options, (load_before, os.getloadavg()), log, raw, rebuilds, problems)
    if problems:
        sys.exit(1)


async def write_log(bootstrap_servers: str, options: argparse.Namespace) -> Log:
    suffix = uuid.uuid4().hex[:8]
    log = Log(f"bench-case-events-{suffix}", f"bench-alert-events-{suffix}", 0, 0, 0, Counter(),
              0.0, 0.0)
    await ensure_topics(bootstrap_servers, [log.case_topic, log.alert_topic, _access_topic(log)])
    started = time.monotonic()
    messages = list(generate(options.cases, options.events, seed=options.seed))
    log.generate_seconds = time.monotonic() - started
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5,
                                max_batch_size=512 * 1024)
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for message in messages:
            topic = log.alert_topic if message.stream == ALERT else log.case_topic
            pending.append(await producer.send(topic, message.value, key=message.key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    log.produce_seconds = time.monotonic() - started
    log.messages = len(messages)
    log.distinct_events = len({m.event_id for m in messages})
    log.alerts = sum(1 for m in messages if m.stream == ALERT)
    log.contact_lost_versions = Counter(
        json.loads(m.value)["schema_version"] for m in messages if m.type == "contact_lost")
    return log


async def bare_read(bootstrap_servers: str, log: Log) -> float:
    """Messages/s of a consumer that reads both topics to their end and does nothing else."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for topic in (log.case_topic, log.alert_topic)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started, read = time.monotonic(), 0
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            read += sum(len(records) for records in batch.values())
            if await at_end(consumer, partitions):
                return read / (time.monotonic() - started)
    finally:
        await consumer.stop()


def run_rebuild(bootstrap_servers: str, log: Log, workdir: Path, workers: int) -> Rebuild:
    """The operator's command, in its own process, so its memory and CPU are its own."""
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
               CASE_EVENTS_TOPIC=log.case_topic, ALERT_EVENTS_TOPIC=log.alert_topic,
               ACCESS_EVENTS_TOPIC=_access_topic(log))
    database = f"sqlite:///{workdir / f'casefile-{workers}.db'}"
    output, errors = workdir / f"rebuild-{workers}.out", workdir / f"rebuild-{workers}.err"
    started = time.monotonic()
    with output.open("w") as stdout, errors.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "services.casefile.rebuild", "--json", "--workers",
             str(workers), "--database-url", database],
            env=env, stdout=stdout, stderr=stderr,
        )
        # wait4 rather than wait: it also gives the child's (and its workers') peak memory
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"the rebuild failed:\n{errors.read_text()}")
    return Rebuild(workers, json.loads(output.read_text()), usage.ru_maxrss / 1024,
                   usage.ru_utime + usage.ru_stime, time.monotonic() - started)


def _access_topic(log: Log) -> str:
    """The rebuild folds access-events too; the benchmark's is empty (reads are not its subject)."""
    return log.case_topic.replace("case-events", "access-events")


def check(log: Log, options: argparse.Namespace, rebuilds: list[Rebuild]) -> list[str]:
    problems = []
    for run in rebuilds:
        r = run.result
        if r["messages_read"] != log.messages or r["events_applied"] != log.distinct_events:
            problems.append(f"{run.workers} worker(s): applied {r['events_applied']:,} of "
                            f"{log.distinct_events:,} events ({r['messages_read']:,} of "
                            f"{log.messages:,} messages read)")
        cases, dead_lettered = r.get("cases", options.cases), r.get("dead_lettered", 0)
        if cases != options.cases or dead_lettered:
            problems.append(f"{run.workers} worker(s): {cases:,} of {options.cases:,} cases, "
                            f"{dead_lettered} dead-lettered")
    if len({run.result["checksum"] for run in rebuilds}) > 1:
        problems.append("the rebuilds' checksums differ")
    return problems


def print_results(
    options: argparse.Namespace, load: tuple[tuple[float, ...], tuple[float, ...]], log: Log,
    raw: list[float], rebuilds: list[Rebuild], problems: list[str],
) -> None:
    (load_before, load_after), best_raw = load, max(raw)
    versions = ", ".join(f"v{v}: {n:,}" for v, n in sorted(log.contact_lost_versions.items()))
    print(
        f"\nReplay benchmark: {log.messages:,} events over {options.cases:,} fictional cases "
        f"({log.messages - log.alerts:,} case events, {log.alerts:,} alerts; contact_lost "
        f"{versions}); {os.cpu_count()} cores, load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after\n"
        f"log written in {log.generate_seconds:.1f} s (building events) + "
        f"{log.produce_seconds:.1f} s (producing, acks=all)\n"
    )
    print(f"bare aiokafka consumer, reading both topics and doing nothing: "
          f"{best_raw:,.0f} events/s (best of {len(raw)}: "
          + ", ".join(f"{r:,.0f}" for r in raw) + ")\n")
    header = (f"{'rebuild into SQLite':26}{'events/s':>10}{'vs bare':>9}{'replay s':>10}"
              f"{'checksum s':>12}{'total s':>9}{'peak RSS MB':>13}{'CPU cores':>11}")
    print(header)
    print("-" * len(header))
    for run in rebuilds:
        r = run.result
        rate = r["messages_read"] / r["replay_seconds"]
        cores = run.cpu_seconds / run.wall_seconds
        label = f"{run.workers} process" + ("es" if run.workers > 1 else "")
        print(f"{label:26}{rate:>10,.0f}{rate / best_raw:>9.2f}{r['replay_seconds']:>10.1f}"
              f"{r['checksum_seconds']:>12.1f}{r['seconds']:>9.1f}{run.peak_rss_mb:>13.0f}"
              f"{cores:>11.2f}")
    best = max(rebuilds, key=lambda run: run.result["messages_read"] / run.result["replay_seconds"])
    rate = best.result["messages_read"] / best.result["replay_seconds"]
    print(f"\nbest: {best.workers} process(es), {rate:,.0f} events/s")
    print(f"  target >= {TARGET_PER_SECOND:,} events/s: "
          f"{'met' if rate >= TARGET_PER_SECOND else 'MISSED'}")
    print(f"  target >= {TARGET_RATIO:g} x the bare consumer: "
          f"{'met' if rate / best_raw >= TARGET_RATIO else 'MISSED'} ({rate / best_raw:.2f})")
    checksums = {run.result["checksum"] for run in rebuilds}
    print(f"  read models: {best.result['cases']:,} cases, {best.result['events_applied']:,} "
          f"events applied; checksum {next(iter(checksums))[:16]}... "
          + ("(the same from every rebuild)" if len(checksums) == 1 else "(DIFFERENT)"))
    for problem in problems:
        print(f"  MISMATCH: {problem}")


def _parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=int(env("BENCH_REPLAY_EVENTS", "200000")),
                        help="case events on the log; alerts come on top (BENCH_REPLAY_EVENTS)")
    parser.add_argument("--cases", type=int, default=int(env("BENCH_REPLAY_CASES", "10000")),
                        help="fictional cases (BENCH_REPLAY_CASES)")
    parser.add_argument("--seed", type=int, default=int(env("BENCH_REPLAY_SEED", "7")))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="rebuild with each of these numbers of processes")
    return parser.parse_args()


if __name__ == "__main__":
    main()

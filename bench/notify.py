"""`make bench` (notify): 100,000 open inquiries, their due moments spread over a period.

Starts an in-memory broker, writes 100,000 fictional inquiries over 10,000 cases (each with an
explicit due moment, spread evenly over `--period` seconds), and starts notify in its own
process (bench.notify_clock) with its clock standing still. Once notify has read and decided
on every inquiry (a deadline and a timer each) the clock starts advancing in real time. Prints
how long loading took, each alert's latency after its due moment (p50, p99, max, from notify's
own alert_raised events), notify's peak memory, the cost of a scheduler tick while nothing is
due and while alerts fall due, and the alerts raised beside the alerts expected: it exits
non-zero only if those two differ, never because of a time.

    python -m bench.notify --inquiries 100000 --cases 10000 --period 180
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from bench.trust import credentials
from contracts import encode_event
from contracts.chain import seal
from contracts.events import InquirySent, InquirySentData
from contracts.values import Recipient
from deploy import processes
from deploy.embedded import EmbeddedBroker
from deploy.topics import ensure_topics
from services.casefile.log_reader import at_end

CLOCK_START = datetime(2025, 3, 1, tzinfo=UTC)
LEAD_SECONDS = 5.0  # from the clock's start to the first due moment
POLICY = '[[policy]]\nid = "bench"\nversion = 1\nwindow = 30\n'  # no reminder, no escalation
EMBASSY = Recipient(name="Fictional Embassy (benchmark)", kind="embassy", country="CN")


@dataclass
class Scrape:
    ticks: float
    tick_seconds: float
    values: dict[str, float]


def main() -> None:
    options = _parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        workdir = Path(tmp)
        broker = EmbeddedBroker(kafka_port=processes.free_port(), durable=False,
                                data_dir=workdir / "broker")
        with broker:
            results = asyncio.run(run(broker.bootstrap_servers, workdir, options))
    report(options, results)
    if results["raised"] != results["expected"]:
        sys.exit(1)


async def run(kafka: str, workdir: Path, options: argparse.Namespace) -> dict:
    suffix = uuid.uuid4().hex[:8]
    case_topic, alert_topic = f"bench-case-events-{suffix}", f"bench-alert-events-{suffix}"
    await ensure_topics(kafka, [case_topic, alert_topic])
    produce_started = time.monotonic()
    await produce(kafka, case_topic, options)
    produced = time.monotonic() - produce_started
    (workdir / "policies.toml").write_text(POLICY)
    port = processes.free_port()
    trusted = await credentials(workdir, kafka)
    child = processes.spawn(
        [sys.executable, "-m", "bench.notify_clock"], log_path=workdir / "notify.log",
        env=os.environ | trusted.env | {
            "BENCH_CLOCK_START": CLOCK_START.isoformat(), "HTTP_PORT": str(port),
            "KAFKA_BOOTSTRAP_SERVERS": kafka, "CASE_EVENTS_TOPIC": case_topic,
            "ALERT_EVENTS_TOPIC": alert_topic, "CONSUMER_GROUP": f"bench-notify-{suffix}",
            "DEAD_LETTER_TOPIC": f"bench-notify-dead-letters-{suffix}",
            "DATABASE_URL": f"sqlite:///{workdir / 'notify.db'}", "LOG_FORMAT": "json",
            "DEADLINE_POLICIES_FILE": str(workdir / "policies.toml"),
        })
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            load_started = time.monotonic()
            await until(client, lambda s: s.values.get("notify_timers") == options.inquiries
                        and s.values.get("notify_cases_to_reconcile") == 0
                        and s.values.get("notify_events_unpublished") == 0
                        and s.values.get("notify_consumer_lag") == 0, timeout=1800)
            loaded = time.monotonic() - load_started
            before_idle = await scrape(client)
            await asyncio.sleep(10)  # nothing due yet: what a tick costs on the index alone
            idle = await scrape(client)
            child.send_signal(signal.SIGUSR1)  # the clock starts
            await until(client, lambda s: s.values.get("raised", 0) >= options.inquiries
                        and s.values.get("notify_events_unpublished") == 0,
                        timeout=options.period + 1800)
            busy = await scrape(client)
            memory = _memory(child.pid)
    finally:
        processes.stop(child)
    latencies = await alert_latencies(kafka, alert_topic)
    return {"produced_seconds": produced, "loaded_seconds": loaded, "latencies": latencies,
            "expected": options.inquiries, "raised": len(latencies), "memory": memory,
            "idle_tick": _mean_tick(before_idle, idle), "busy_tick": _mean_tick(idle, busy),
            "busy_ticks": busy.ticks - idle.ticks}


async def produce(kafka: str, topic: str, options: argparse.Namespace) -> None:
    """The inquiries, each case's in sequence; due moments evenly over the period."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5,
                                max_batch_size=512 * 1024)
    await producer.start()
    try:
        pending = []
        first_due = CLOCK_START + timedelta(seconds=LEAD_SECONDS)
        step = options.period / options.inquiries
        for number in range(options.inquiries):
            case_id = uuid.UUID(int=number % options.cases + 1, version=4)
            due = first_due + timedelta(seconds=number * step)
            event = seal(
                InquirySent, event_id=uuid.uuid4(), case_id=case_id,
                sequence=number // options.cases + 2, occurred_at="2025-02-01",
                recorded_at=datetime(2025, 2, 1, tzinfo=UTC), actor="bench-loader",
                correlation_id=uuid.uuid4(), prev_hash=None,
                data=InquirySentData(inquiry_id=uuid.uuid4(), recipient=EMBASSY, channel="letter",
                                     sent_at="2025-02-01", due_at=due))
            pending.append(await producer.send(topic, encode_event(event),
                                               key=str(case_id).encode()))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def scrape(client: httpx.AsyncClient) -> Scrape:
    text = (await client.get("/metrics")).text
    values: dict[str, float] = {}
    ticks = tick_seconds = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "notify_scheduler_tick_seconds_count":
                ticks = sample.value
            elif sample.name == "notify_scheduler_tick_seconds_sum":
                tick_seconds = sample.value
            elif sample.name == "notify_events_recorded_total" and sample.labels.get(
                    "type") == "alert_raised":
                values["raised"] = sample.value
            elif not sample.labels:
                values[sample.name] = sample.value
    return Scrape(ticks, tick_seconds, values)


async def until(client: httpx.AsyncClient, done, *, timeout: float) -> Scrape:
    deadline = time.monotonic() + timeout
    while True:
        try:
            current = await scrape(client)
            if done(current):
                return current
        except httpx.HTTPError:
            pass  # notify still starting
        if time.monotonic() > deadline:
            raise TimeoutError("notify did not get there in time; see its log")
        await asyncio.sleep(0.5)


async def alert_latencies(kafka: str, topic: str) -> list[float]:
    """Seconds from each alert's due moment to notify's decision, on notify's own clock."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    latencies: dict[str, float] = {}
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while not await at_end(consumer, partitions):
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for record in records:
                    event = json.loads(record.value)
                    if event["type"] == "alert_raised":
                        latencies[event["event_id"]] = (
                            _moment(event["recorded_at"]) - _moment(event["data"]["due_at"])
                        ).total_seconds()
    finally:
        await consumer.stop()
    return list(latencies.values())


def report(options: argparse.Namespace, results: dict) -> None:
    latencies = sorted(results["latencies"])
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    memory = results["memory"]
    print(
        f"\nNotify benchmark: {options.inquiries:,} open inquiries over {options.cases:,} "
        f"fictional cases, due moments spread over {options.period:g} s; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}\n"
        f"  log written in {results['produced_seconds']:.1f} s; notify read it and decided every "
        f"deadline in {results['loaded_seconds']:.1f} s "
        f"({options.inquiries / results['loaded_seconds']:,.0f} inquiries/s)\n"
        f"  alert latency after its due moment: p50 {quantiles[49]:.2f} s, p99 "
        f"{quantiles[98]:.2f} s, max {latencies[-1]:.2f} s (clock advancing in real time)\n"
        f"  scheduler tick: {results['idle_tick'] * 1000:.2f} ms with nothing due, "
        f"{results['busy_tick'] * 1000:.1f} ms on average while alerts fell due "
        f"({results['busy_ticks']:.0f} ticks)\n"
        f"  notify's memory: peak {memory['VmHWM']:.0f} MB, at the end {memory['VmRSS']:.0f} MB\n"
        f"  alerts raised {results['raised']:,}, expected {results['expected']:,}: "
        + ("equal" if results["raised"] == results["expected"] else "MISMATCH")
    )


def _mean_tick(before: Scrape, after: Scrape) -> float:
    ticks = after.ticks - before.ticks
    return (after.tick_seconds - before.tick_seconds) / ticks if ticks else float("nan")


def _memory(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    found = {}
    for line in status:
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0]) / 1024
    return found


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inquiries", type=int,
                        default=int(env("BENCH_NOTIFY_INQUIRIES", "100000")))
    parser.add_argument("--cases", type=int, default=int(env("BENCH_NOTIFY_CASES", "10000")))
    parser.add_argument("--period", type=float, default=float(env("BENCH_NOTIFY_PERIOD", "180")),
                        help="seconds over which the due moments are spread")
    return parser.parse_args()


if __name__ == "__main__":
    main()

"""`make bench`: intake's throughput and latency for durably accepted commands, beside a baseline.

Starts an in-memory broker, a do-nothing FastAPI app and intake as separate processes on free
loopback ports, drives each with the same load generator (bench.load, its own process) at the
same fixed concurrency, and prints commands/s, p50 and p99, the intake/baseline ratio, how long
the relay took to empty the outbox after the last 201, and whether every acknowledged event is
on the log. Intake runs as in production: it checks an access token on every command (one
signed here for a fictional caseworker) and encrypts personal data with case keys of its own
key store. Exits non-zero only if an acknowledged event is missing from the log: the figures
themselves depend on the machine and are printed, never asserted.

    python -m bench.intake --duration 10 --concurrency 32   (or BENCH_DURATION=..., etc.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.load import Plan
from bench.trust import Credentials, credentials
from deploy import processes
from deploy.embedded import EmbeddedBroker
from deploy.topics import ensure_topics

TARGET_PER_SECOND = 1000
TARGET_P99_MS = 50.0


@dataclass
class LogCheck:
    acknowledged: int
    on_log: int
    missing: int  # acknowledged event ids not found on the log
    duplicates: int

    @property
    def ok(self) -> bool:
        return self.on_log == self.acknowledged and self.missing == 0


@dataclass
class IntakeRun:
    log_level: str
    report: dict
    log_check: LogCheck


def main() -> None:
    options = _parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        workdir = Path(tmp)
        broker = EmbeddedBroker(kafka_port=processes.free_port(), durable=False, data_dir=workdir / "broker")
        with broker:
            trusted = asyncio.run(credentials(workdir, broker.bootstrap_servers))
            baseline = measure_baseline(options, workdir, trusted)
            runs = [measure_intake(options, workdir, broker, trusted, log_level="warning")]
            if options.info_logging:
                runs.append(measure_intake(options, workdir, broker, trusted, log_level="info"))
    print_results(options, load_before, baseline, runs)
    if not all(run.log_check.ok for run in runs):
        sys.exit(1)


def measure_baseline(options: argparse.Namespace, workdir: Path, trusted: Credentials) -> dict:
    port = processes.free_port()
    server = processes.spawn(
        [sys.executable, "-m", "bench.baseline"], log_path=workdir / "logs" / "baseline.log",
        env=dict(os.environ, HTTP_PORT=str(port)),
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", server, what="baseline")
        return run_load(_plan(options, port, "baseline", {"server": server.pid}, trusted))
    finally:
        processes.stop(server)


def measure_intake(
    options: argparse.Namespace, workdir: Path, broker: EmbeddedBroker, trusted: Credentials, *,
    log_level: str,
) -> IntakeRun:
    topic = f"bench-case-events-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(broker.bootstrap_servers, [topic]))
    port = processes.free_port()
    intake = processes.spawn(
        [sys.executable, "-m", "services.intake"],
        log_path=workdir / "logs" / f"intake-{log_level}.log",
        env=dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers, CASE_EVENTS_TOPIC=topic,
            DATABASE_URL=f"sqlite:///{workdir / f'intake-{log_level}.db'}",
            HTTP_PORT=str(port), LOG_LEVEL=log_level, LOG_FORMAT="json", **trusted.env,
        ),
    )
    try:
        # Ready and with the relay connected, so the relay lag is not start-up time.
        _wait_ready(f"http://127.0.0.1:{port}/readyz", intake, what="intake",
                    until=lambda body: body["checks"]["broker"] is True)
        watched = {"intake": intake.pid, "broker": broker.pids[0]}
        report = run_load(_plan(options, port, "intake", watched, trusted))
    finally:
        processes.stop(intake)
    on_log = asyncio.run(event_ids_on_log(broker.bootstrap_servers, topic))
    acknowledged = report.pop("event_ids")
    check = LogCheck(
        acknowledged=len(acknowledged), on_log=len(on_log),
        missing=len(set(acknowledged) - set(on_log)), duplicates=len(on_log) - len(set(on_log)),
    )
    return IntakeRun(log_level, report, check)


def _plan(options: argparse.Namespace, port: int, target: str, watched: dict[str, int],
          trusted: Credentials) -> Plan:
    return Plan(
        port=port, target=target, concurrency=options.concurrency, seed_cases=options.seed_cases,
        warmup_seconds=options.warmup, duration_seconds=options.duration, watch_pids=watched,
        token=trusted.token,
    )


def run_load(plan: Plan) -> dict:
    """Run the load generator in its own process and return its report."""
    finished = subprocess.run(
        [sys.executable, "-m", "bench.load", json.dumps(asdict(plan))],
        capture_output=True, text=True, timeout=plan.warmup_seconds + plan.duration_seconds + 300,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{finished.stderr}")
    return json.loads(finished.stdout)


def _wait_ready(url: str, process: subprocess.Popen, *, what: str, until=lambda body: True) -> None:
    def ready() -> bool:
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and until(response.json())

    processes.wait_until(ready, timeout=60, what=what, process=process)


async def event_ids_on_log(bootstrap_servers: str, topic: str, *, timeout: float = 120.0) -> list[str]:
    """The event_id of every message on the topic, read from offset 0 to the high watermark."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        event_ids: list[str] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300, max_records=10_000)
            event_ids.extend(json.loads(r.value)["event_id"] for records in batch.values() for r in records)
            # The high watermark comes from fetch responses (right on every Tansu storage engine).
            highwater = [consumer.highwater(tp) for tp in partitions]
            positions = [await consumer.position(tp) for tp in partitions]
            if all(hw is not None and pos >= hw for hw, pos in zip(highwater, positions, strict=True)):
                return event_ids
        raise TimeoutError(f"could not read {topic} to its end within {timeout:.0f}s")
    finally:
        await consumer.stop()


def print_results(
    options: argparse.Namespace, load_before: tuple[float, float, float],
    baseline: dict, runs: list[IntakeRun],
) -> None:
    print(
        f"\nIntake benchmark: {options.concurrency} requests in flight, {options.warmup:g} s warm-up, "
        f"{options.duration:g} s measured; {os.cpu_count()} cores, load average before "
        f"{load_before[0]:.2f}\nMix: 10% new cases, 45% contact lost, 45% inquiries on open cases; "
        "a fresh Idempotency-Key on every command. Figures are for 201s (durably accepted).\n"
    )
    header = f"{'':28}{'commands/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}   CPU (cores)"
    print(header)
    print("-" * (len(header) + 40))
    rows = [("baseline (FastAPI, no work)", baseline)]
    rows += [(f"intake (LOG_LEVEL={run.log_level})", run.report) for run in runs]
    for label, report in rows:
        errors = sum(report["errors"].values())
        print(f"{label:28}{report['per_second']:>11,.0f}{report['p50_ms']:>9.1f}{report['p99_ms']:>9.1f}"
              f"{report['max_ms']:>9.1f}{errors:>8}   {_cpu_summary(report['cpu'])}")
    print()
    for run in runs:
        report, check = run.report, run.log_check
        ratio = report["per_second"] / baseline["per_second"]
        meets_rate = report["per_second"] >= TARGET_PER_SECOND
        meets_p99 = report["p99_ms"] < TARGET_P99_MS
        print(f"intake (LOG_LEVEL={run.log_level}):")
        print(f"  throughput intake/baseline: {ratio:.3f}")
        print(f"  target >= {TARGET_PER_SECOND:,} commands/s: {'met' if meets_rate else 'MISSED'}; "
              f"target p99 < {TARGET_P99_MS:g} ms: {'met' if meets_p99 else 'MISSED'}")
        if report["errors"] or report["warmup_errors"]:
            print(f"  errors: measured {report['errors']}, warm-up {report['warmup_errors']}")
        print(f"  relay lag, last 201 to empty outbox: {report['relay_lag_seconds'] * 1e3:.0f} ms "
              f"(outbox held {report['outbox_at_end']} events when the load stopped)")
        verdict = "OK" if check.ok else "MISMATCH: an acknowledged event is not on the log"
        print(f"  events on the log: {check.on_log:,}; 201s: {check.acknowledged:,}; "
              f"missing: {check.missing}; duplicates: {check.duplicates}; {verdict}")
    generator = [report["cpu"]["cores"]["load generator"] for _, report in rows]
    per_core = baseline["per_second"] / generator[0] if generator[0] else float("inf")
    verdict = "not the limit." if max(generator) < 0.85 else "near a full core: it may have been the limit."
    print(f"\nload generator: {generator[0]:.2f} cores driving the baseline (about {per_core:,.0f} "
          f"requests/s per core), {max(generator[1:]):.2f} driving intake; {verdict}")


def _cpu_summary(cpu: dict) -> str:
    """Each watched process's cores, then whatever else kept the machine busy meanwhile."""
    cores = cpu["cores"]
    other = max(0.0, cpu["machine_busy_cores"] - sum(cores.values()))
    return ", ".join(f"{name} {used:.2f}" for name, used in cores.items()) + f", everything else {other:.2f}"


def _parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=float(env("BENCH_DURATION", "10")),
                        help="measured seconds per target (BENCH_DURATION)")
    parser.add_argument("--warmup", type=float, default=float(env("BENCH_WARMUP", "3")),
                        help="unmeasured seconds before (BENCH_WARMUP)")
    parser.add_argument("--concurrency", type=int, default=int(env("BENCH_CONCURRENCY", "32")),
                        help="requests in flight (BENCH_CONCURRENCY)")
    parser.add_argument("--seed-cases", type=int, default=int(env("BENCH_SEED_CASES", "200")),
                        help="cases opened before the warm-up (BENCH_SEED_CASES)")
    parser.add_argument("--info-logging", action=argparse.BooleanOptionalAction,
                        default=env("BENCH_INFO_LOGGING", "1") == "1",
                        help="also measure intake with LOG_LEVEL=info (BENCH_INFO_LOGGING=0 skips)")
    return parser.parse_args()


if __name__ == "__main__":
    main()

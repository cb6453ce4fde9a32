"""The load generator: a fixed number of keep-alive connections, one request in flight on each.

`python -m bench.load '<plan as JSON>'` prints a JSON report. It runs in its own process so it
shares no GIL with the server it measures, and reports its own CPU use so a reader can see
whether it, rather than the server, was the limit.

Against intake it sends a caseworker-like mix (see `Mix`) with a fresh Idempotency-Key on
every command, as a retrying client would; against the baseline it sends the same bodies to
the baseline's single route. Latencies are those of 201s, the durably accepted commands.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.http11 import Connection, ProtocolError

# Fictional people and institutions: benchmark data never describes a real person.
SUBJECTS = ("Әлия Жақсыбекова", "Nurbol Tursynov", "Гүлнар Есенова", "Erlan Sadyk", "Mädina Ospan")
REPORTERS = (("Dana Tursynova", "sister"), ("Асқар Есенов", "son"), ("Saule Ospan", "daughter"))
RECIPIENTS = (
    ("Embassy of the People's Republic of China in Astana", "embassy", "KZ"),
    ("Consulate General in Almaty", "consulate", "KZ"),
    ("County Public Security Bureau (fictional)", "police", "CN"),
    ("UN Working Group on Enforced or Involuntary Disappearances", "un_body", "CH"),
)


def _json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _bodies() -> dict[str, list[bytes]]:
    return {
        "report": [_json({
            "subject": {"name": subject},
            "reporter": {"name": reporter, "relationship": relationship},
            "summary": "Fictional benchmark case: did not return from a visit to relatives in 2017.",
        }) for subject in SUBJECTS for reporter, relationship in REPORTERS],
        "contact-lost": [_json({
            "last_contact_at": when,
            "circumstances": "Fictional: the phone was switched off after a call from the border.",
        }) for when in ("2017-05", "2017-06-14", "2018")],
        "inquiry": [_json({
            "recipient": {"name": name, "kind": kind, "country": country},
            "channel": channel, "sent_at": "2025-02-10",
        }) for name, kind, country in RECIPIENTS for channel in ("letter", "email")],
    }


class Mix:
    """10% new cases; the rest contact-lost and inquiries, half each, on cases already opened."""

    def __init__(self, cases: list[str], rng: random.Random) -> None:
        self.cases = cases
        self._rng = rng
        self._bodies = _bodies()

    def report(self) -> bytes:
        return self._rng.choice(self._bodies["report"])

    def next(self) -> tuple[str, str, bytes]:
        """(kind, path, body) of the next command."""
        roll = self._rng.random()
        if roll < 0.10 or not self.cases:
            return "report", "/cases", self.report()
        kind, route = ("contact-lost", "contact-lost") if roll < 0.55 else ("inquiry", "inquiries")
        case_id = self._rng.choice(self.cases)
        return kind, f"/cases/{case_id}/{route}", self._rng.choice(self._bodies[kind])


@dataclass
class Plan:
    port: int
    target: str  # "intake" or "baseline"
    concurrency: int = 32
    seed_cases: int = 200
    warmup_seconds: float = 3.0
    duration_seconds: float = 10.0
    baseline_path: str = "/noop"
    token: str = ""  # an access token intake trusts, sent with every request (to both targets)
    watch_pids: dict[str, int] = field(default_factory=dict)  # name -> pid, CPU reported


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, measured 201s only
    errors: Counter = field(default_factory=Counter)  # measured window
    warmup_errors: Counter = field(default_factory=Counter)
    event_ids: list[str] = field(default_factory=list)  # every 201, seeding and warm-up included
    acknowledged: int = 0
    last_ack: float = 0.0
    last_finish: float = 0.0  # of a request started in the measured window


class Load:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.mix = Mix([], random.Random(7))
        self.tally = Tally()
        self.measure_from = self.stop_at = float("inf")

    async def run(self) -> dict:
        plan = self.plan
        if plan.target == "intake":
            await self._seed()
        else:
            self.mix.cases.extend(os.urandom(16).hex() for _ in range(plan.seed_cases))
        start = time.monotonic()
        self.measure_from = start + plan.warmup_seconds
        self.stop_at = self.measure_from + plan.duration_seconds
        sampler = asyncio.create_task(self._sample_cpu())
        await asyncio.gather(*(self._worker(n) for n in range(plan.concurrency)))
        cpu = await sampler
        report = self._report(cpu)
        if plan.target == "intake":
            report["relay_lag_seconds"], report["outbox_at_end"] = await self._await_empty_outbox()
        return report

    async def _seed(self) -> None:
        """Open the cases the mix works on; their events count towards the log check too."""
        per_worker = -(-self.plan.seed_cases // self.plan.concurrency)

        async def open_cases(worker: int) -> None:
            connection = Connection("127.0.0.1", self.plan.port)
            for _ in range(per_worker):
                status, payload = await connection.request(
                    "POST", "/cases", self.mix.report(), self._headers(worker)
                )
                if status != 201:
                    raise RuntimeError(f"seeding a case failed with {status}: {payload[:200]!r}")
                receipt = json.loads(payload)
                self.tally.event_ids.append(receipt["event_id"])
                self.tally.acknowledged += 1
                self.mix.cases.append(receipt["case_id"])
            connection.close()

        await asyncio.gather(*(open_cases(n) for n in range(self.plan.concurrency)))

    def _headers(self, worker: int) -> bytes:
        key = os.urandom(16).hex().encode()
        return b"Authorization: Bearer %s\r\nIdempotency-Key: %s\r\n" % (
            self.plan.token.encode(), key)

    async def _worker(self, worker: int) -> None:
        plan, tally, mix = self.plan, self.tally, self.mix
        intake = plan.target == "intake"
        connection = Connection("127.0.0.1", plan.port)
        while (started := time.monotonic()) < self.stop_at:
            kind, path, body = mix.next()
            measured = started >= self.measure_from
            try:
                status, payload = await connection.request(
                    "POST", path if intake else plan.baseline_path, body, self._headers(worker)
                )
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                (tally.errors if measured else tally.warmup_errors)[type(exc).__name__] += 1
                await asyncio.sleep(0.01)
                continue
            finished = time.monotonic()
            if status == 201:
                tally.acknowledged += 1
                tally.last_ack = finished
                if intake:
                    receipt = json.loads(payload)
                    tally.event_ids.append(receipt["event_id"])
                    if kind == "report":
                        mix.cases.append(receipt["case_id"])
                if measured:
                    tally.latencies.append(finished - started)
            else:
                (tally.errors if measured else tally.warmup_errors)[str(status)] += 1
            if measured:
                tally.last_finish = max(tally.last_finish, finished)
        connection.close()

    async def _sample_cpu(self) -> dict:
        """Cores each watched process (and this one) used in the measured window, and the machine."""
        await asyncio.sleep(max(0.0, self.measure_from - time.monotonic()))
        before, machine_before = self._cpu_times(), _machine_busy()
        await asyncio.sleep(max(0.0, self.stop_at - time.monotonic()))
        after, machine_after = self._cpu_times(), _machine_busy()
        wall = self.plan.duration_seconds
        busy = machine_after[0] - machine_before[0]
        total = machine_after[1] - machine_before[1]
        return {
            "cores": {name: round((after[name] - before[name]) / wall, 3) for name in after},
            "machine_busy_cores": round(busy / total * (os.cpu_count() or 1), 3) if total else 0.0,
        }

    def _cpu_times(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        times = {"load generator": usage.ru_utime + usage.ru_stime}
        for name, pid in self.plan.watch_pids.items():
            times[name] = _process_cpu_seconds(pid)
        return times

    def _report(self, cpu: dict) -> dict:
        tally = self.tally
        latencies = sorted(tally.latencies)
        elapsed = max(tally.last_finish - self.measure_from, self.plan.duration_seconds)
        return {
            "target": self.plan.target,
            "concurrency": self.plan.concurrency,
            "accepted": len(latencies),
            "elapsed_seconds": elapsed,
            "per_second": len(latencies) / elapsed,
            "p50_ms": _percentile(latencies, 0.50) * 1e3,
            "p99_ms": _percentile(latencies, 0.99) * 1e3,
            "max_ms": (latencies[-1] if latencies else 0.0) * 1e3,
            "errors": dict(tally.errors),
            "warmup_errors": dict(tally.warmup_errors),
            "cpu": cpu,
            "acknowledged": tally.acknowledged,
            "event_ids": tally.event_ids,
        }

    async def _await_empty_outbox(self, *, timeout: float = 120.0) -> tuple[float, int]:
        """Seconds from the last 201 until intake's outbox was empty, and its size at the end."""
        connection = Connection("127.0.0.1", self.plan.port)
        deadline = time.monotonic() + timeout
        at_end: int | None = None
        while time.monotonic() < deadline:
            _, payload = await connection.request("GET", "/readyz")
            backlog = json.loads(payload)["checks"]["outbox_backlog"]
            at_end = backlog if at_end is None else at_end
            if backlog == 0:
                connection.close()
                return time.monotonic() - self.tally.last_ack, at_end
            await asyncio.sleep(0.005)
        raise TimeoutError(f"the outbox was not empty {timeout:.0f}s after the last 201")


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies over all cores since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def main() -> None:
    plan = Plan(**json.loads(sys.argv[1]))
    try:
        import uvloop
    except ImportError:
        report = asyncio.run(Load(plan).run())
    else:
        report = uvloop.run(Load(plan).run())
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()

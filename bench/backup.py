"""`make bench-backup`: export a large log into an archive and restore it into a fresh broker.

Starts an in-memory broker, writes the fictional log of bench.replay (by default 100,000 case
events over 5,000 cases, plus notify's alerts), exports every topic with deploy.backup, checks
the archive, and restores it into a fresh durable broker (Tansu on SeaweedFS). Prints the
messages/s of each step, the archive's size, CPU and peak memory. Exits non-zero only if the
restored log differs from the original (a message missing, moved or changed): speed is
printed, never asserted.

    python -m bench.backup --events 100000 --cases 5000   (or BENCH_BACKUP_EVENTS=..., etc.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.replay import write_log
from deploy import processes
from deploy.backup.archive import BackupKey
from deploy.backup.log_export import export_log, partition_counts
from deploy.backup.log_restore import check_log_archive, restore_log
from deploy.embedded import EmbeddedBroker, S3Ports
from services.casefile.log_reader import read_log


@dataclass
class Step:
    wall_seconds: float
    cpu_seconds: float


def main() -> None:
    options = _parse_args()
    load_before = os.getloadavg()
    key = BackupKey(os.urandom(32))
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        archive = Path(tmp) / "log.backup"
        source = EmbeddedBroker(kafka_port=processes.free_port(), durable=False,
                                data_dir=Path(tmp) / "source")
        target = EmbeddedBroker(kafka_port=processes.free_port(), data_dir=Path(tmp) / "target",
                                s3_ports=S3Ports.free())
        with source, target:
            asyncio.run(write_log(source.bootstrap_servers, options))
            exported, summary = timed(lambda: asyncio.run(
                export_log(source.bootstrap_servers, archive, key)))
            checked, _ = timed(lambda: check_log_archive(archive, key))
            restored, result = timed(lambda: asyncio.run(
                restore_log(target.bootstrap_servers, archive, key)))
            digests = [asyncio.run(log_digest(b.bootstrap_servers)) for b in (source, target)]
        size_mb = archive.stat().st_size / 1e6 if archive.exists() else 0.0
    problems = check(summary.messages, result.written, result.offsets_kept, *digests)
    print_results(load_before, summary.messages, size_mb, exported, checked, restored, problems)
    if problems:
        sys.exit(1)


def timed(step):
    """(Step, what the step returned): its wall-clock and CPU time in this process."""
    started, cpu = time.monotonic(), time.process_time()
    value = step()
    return Step(time.monotonic() - started, time.process_time() - cpu), value


async def log_digest(bootstrap_servers: str) -> dict[tuple[str, int], str]:
    """A digest of each partition: every message's offset, timestamp, key, value and headers."""
    topics = sorted(await partition_counts(bootstrap_servers, None))
    digests: dict[tuple[str, int], hashlib._Hash] = {}
    async for records in read_log(bootstrap_servers, topics):
        for r in records:
            digest = digests.setdefault((r.topic, r.partition), hashlib.sha256())
            digest.update(repr((r.offset, r.timestamp, r.key, r.value, tuple(r.headers))).encode())
    return {where: digest.hexdigest() for where, digest in digests.items()}


def check(exported: int, written: int, offsets_kept: bool, source: dict, target: dict) -> list[str]:
    problems = []
    if written != exported:
        problems.append(f"{written:,} messages restored of {exported:,} exported")
    if not offsets_kept:
        problems.append("messages restored at other offsets than they had")
    differing = sorted(f"{t}[{p}]" for t, p in set(source) | set(target)
                       if source.get((t, p)) != target.get((t, p)))
    if differing:
        problems.append(f"partitions that differ after the restore: {', '.join(differing)}")
    return problems


def print_results(load_before, messages: int, size_mb: float, exported: Step, checked: Step,
                  restored: Step, problems: list[str]) -> None:
    print(f"\nBackup benchmark: {messages:,} messages; {os.cpu_count()} cores, load average "
          f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after\n")
    header = f"{'step':44}{'messages/s':>12}{'seconds':>9}{'CPU s':>8}"
    print(header)
    print("-" * len(header))
    for label, step in [("export (in-memory broker -> archive)", exported),
                        ("check the archive (decrypt, authenticate)", checked),
                        ("restore (check, then into a durable broker)", restored)]:
        print(f"{label:44}{messages / step.wall_seconds:>12,.0f}{step.wall_seconds:>9.1f}"
              f"{step.cpu_seconds:>8.1f}")
    print(f"\narchive: {size_mb:.1f} MB; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("restored log: " + ("identical, message for message" if not problems else "DIFFERENT"))
    for problem in problems:
        print(f"  MISMATCH: {problem}")


def _parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=int(env("BENCH_BACKUP_EVENTS", "100000")),
                        help="case events on the log; alerts come on top (BENCH_BACKUP_EVENTS)")
    parser.add_argument("--cases", type=int, default=int(env("BENCH_BACKUP_CASES", "5000")),
                        help="fictional cases (BENCH_BACKUP_CASES)")
    parser.add_argument("--seed", type=int, default=int(env("BENCH_BACKUP_SEED", "7")))
    return parser.parse_args()


if __name__ == "__main__":
    main()

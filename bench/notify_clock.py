"""Notify as the benchmark runs it: its own process, its clock injected.

The clock stands at BENCH_CLOCK_START until the process gets SIGUSR1, and from then on
advances in real time, so the benchmark can load every inquiry first and then let their due
moments come one after another, as they would in production.

    BENCH_CLOCK_START=2025-03-01T00:00:00+00:00 python -m bench.notify_clock
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta

import uvicorn

from services.notify.app import create_app
from services.notify.config import Settings


class BenchClock:
    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began: float | None = None

    def run(self, *_: object) -> None:
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        if self.began is None:
            return self.start
        return self.start + timedelta(seconds=time.monotonic() - self.began)


def main() -> None:
    clock = BenchClock(datetime.fromisoformat(os.environ["BENCH_CLOCK_START"]))
    signal.signal(signal.SIGUSR1, clock.run)
    settings = Settings()
    uvicorn.run(create_app(settings, clock=clock), host=settings.http_host,
                port=settings.http_port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()

"""The notify benchmark's clock stands still until it is started, then keeps real time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.notify import Scrape, _mean_tick
from bench.notify_clock import BenchClock

START = datetime(2025, 3, 1, tzinfo=UTC)


def test_the_clock_stands_still_until_started_then_advances_in_real_time():
    clock = BenchClock(START)
    time.sleep(0.02)
    assert clock() == START
    clock.run()
    time.sleep(0.05)
    elapsed = clock() - START
    assert timedelta(seconds=0.04) < elapsed < timedelta(seconds=5)


def test_the_mean_tick_is_taken_between_two_scrapes():
    before, after = Scrape(10, 0.5, {}), Scrape(30, 1.5, {})
    assert _mean_tick(before, after) == 0.05

"""make bench-replay fails on a wrong rebuild, and only on that: speed is never a failure."""

from __future__ import annotations

from argparse import Namespace
from collections import Counter

from bench.replay import Log, Rebuild, check

LOG = Log("case-events", "alert-events", messages=1_060, distinct_events=1_060, alerts=60,
          contact_lost_versions=Counter({1: 20, 2: 40}), generate_seconds=0.1,
          produce_seconds=0.1)
OPTIONS = Namespace(cases=60, events=1_000)


def rebuilt(workers: int = 1, **changes) -> Rebuild:
    result = dict(messages_read=1_060, events_applied=1_060, dead_lettered=0, cases=60,
                  checksum="c0ffee", replay_seconds=500.0, checksum_seconds=1.0, seconds=501.0)
    return Rebuild(workers, result | changes, peak_rss_mb=100.0, cpu_seconds=1.0,
                   wall_seconds=1.0)


def test_a_slow_but_complete_rebuild_passes():
    assert check(LOG, OPTIONS, [rebuilt(1), rebuilt(2)]) == []


def test_a_missing_event_fails():
    [problem] = check(LOG, OPTIONS, [rebuilt(events_applied=1_059)])
    assert "applied 1,059 of 1,060 events" in problem


def test_reading_more_messages_than_were_written_fails():
    assert check(LOG, OPTIONS, [rebuilt(messages_read=1_061)])


def test_a_missing_case_or_a_dead_letter_fails():
    assert "59 of 60 cases" in check(LOG, OPTIONS, [rebuilt(cases=59)])[0]
    assert "1 dead-lettered" in check(LOG, OPTIONS, [rebuilt(dead_lettered=1)])[0]


def test_rebuilds_with_different_read_models_fail():
    assert check(LOG, OPTIONS, [rebuilt(1), rebuilt(2, checksum="different")]) == [
        "the rebuilds' checksums differ"]


def test_a_result_that_does_not_count_cases_is_judged_on_its_events():
    result = rebuilt()
    del result.result["cases"], result.result["dead_lettered"]
    assert check(LOG, OPTIONS, [result]) == []

"""make bench-backup fails on a restored log that differs, and only on that."""

from __future__ import annotations

from bench.backup import check

LOG = {("case-events", 0): "aa", ("case-events", 1): "bb", ("alert-events", 0): "cc"}


def test_a_slow_but_identical_restore_passes():
    assert check(1_000, 1_000, True, LOG, dict(LOG)) == []


def test_a_message_missing_moved_or_changed_fails():
    assert "999 messages restored of 1,000" in check(1_000, 999, True, LOG, LOG)[0]
    assert "other offsets" in check(1_000, 1_000, False, LOG, LOG)[0]
    changed = LOG | {("case-events", 1): "b0"}
    assert check(1_000, 1_000, True, LOG, changed) == [
        "partitions that differ after the restore: case-events[1]"]
    missing = {k: v for k, v in LOG.items() if k[0] != "alert-events"}
    assert "alert-events[0]" in check(1_000, 1_000, True, LOG, missing)[0]

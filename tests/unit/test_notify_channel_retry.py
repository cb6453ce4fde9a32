"""A failed delivery waits longer after each attempt, never past the cap, and then stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notify.channels.retry import backoff_seconds, next_attempt_at, should_give_up

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def schedule(jitter: float, attempts: range = range(1, 9)) -> list[float]:
    return [backoff_seconds(n, base_seconds=10, cap_seconds=300, jitter=jitter) for n in attempts]


def test_the_wait_doubles_from_the_base_up_to_the_cap():
    assert schedule(jitter=0.999999) == pytest.approx([10, 20, 40, 80, 160, 300, 300, 300],
                                                     rel=1e-5)


def test_jitter_spreads_the_wait_over_the_upper_half_of_the_schedule():
    assert schedule(jitter=0.0) == [5, 10, 20, 40, 80, 150, 150, 150]
    assert schedule(jitter=0.5) == [7.5, 15, 30, 60, 120, 225, 225, 225]


def test_the_next_attempt_is_counted_from_now_and_depends_only_on_the_inputs():
    first = next_attempt_at(3, NOW, base_seconds=10, cap_seconds=300, jitter=0.5)

    assert first == NOW + timedelta(seconds=30)
    assert first == next_attempt_at(3, NOW, base_seconds=10, cap_seconds=300, jitter=0.5)


def test_a_huge_attempt_count_stays_at_the_cap():
    assert backoff_seconds(10_000, base_seconds=10, cap_seconds=300, jitter=0.0) == 150


@pytest.mark.parametrize("attempts, jitter", [(0, 0.5), (-1, 0.5), (1, 1.0), (1, -0.1)])
def test_inputs_outside_the_schedule_are_refused(attempts, jitter):
    with pytest.raises(ValueError):
        backoff_seconds(attempts, base_seconds=10, cap_seconds=300, jitter=jitter)


def test_delivery_gives_up_once_the_attempts_are_spent():
    assert [should_give_up(n, max_attempts=3) for n in (1, 2, 3, 4)] == [False, False, True, True]

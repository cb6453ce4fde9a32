"""When to try a failed delivery again, and when to stop: pure, so the worker stays thin."""

from __future__ import annotations

from datetime import datetime, timedelta

# 2**62 seconds is far past any cap; clamping the exponent keeps huge attempt counts finite.
_MAX_EXPONENT = 62


def backoff_seconds(attempts: int, *, base_seconds: float, cap_seconds: float,
                    jitter: float) -> float:
    """The wait after `attempts` failed attempts: base * 2^(attempts-1), capped, then jittered.

    `jitter` is a random fraction in [0, 1) drawn by the caller (so this stays deterministic).
    The wait is spread over [half, all] of the capped delay: replicas that failed together
    during one outage do not all come back in the same second, and none retries much sooner
    than the schedule says.
    """
    if attempts < 1:
        raise ValueError("attempts counts failed attempts and starts at 1")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be a fraction in [0, 1)")
    if base_seconds <= 0 or cap_seconds <= 0:
        raise ValueError("base_seconds and cap_seconds must be positive")
    capped = min(cap_seconds, base_seconds * 2.0 ** min(attempts - 1, _MAX_EXPONENT))
    return capped * (0.5 + 0.5 * jitter)


def next_attempt_at(attempts: int, now: datetime, *, base_seconds: float, cap_seconds: float,
                    jitter: float) -> datetime:
    """When to try again after `attempts` failed attempts, counted from `now`."""
    wait = backoff_seconds(attempts, base_seconds=base_seconds, cap_seconds=cap_seconds,
                           jitter=jitter)
    return now + timedelta(seconds=wait)


def should_give_up(attempts: int, max_attempts: int) -> bool:
    """True once `attempts` attempts have been made and the budget is spent."""
    return attempts >= max_attempts

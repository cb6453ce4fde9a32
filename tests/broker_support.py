"""Running a test on both Kafka-protocol brokers: Tansu (the embedded one) and SeaweedFS's
Kafka gateway, to show the services rely on Kafka's semantics and not on one broker's quirks."""

from __future__ import annotations

import pytest

TANSU = "tansu"  # names of the session fixtures in tests/conftest.py
SEAWEEDFS = "seaweedfs"
MIN_SESSION_TIMEOUT_MS = {TANSU: 0, SEAWEEDFS: 6_000}


def on_every_broker(*, seaweedfs_fails: str | None = None) -> pytest.MarkDecorator:
    """Parametrise the test's `broker` (and so its `kafka`) over both brokers.

    `seaweedfs_fails` names the Kafka request the gateway gets wrong: the test must then fail
    on the gateway, and passing there is an error (strict xfail), so a fixed gateway shows."""
    seaweedfs = SEAWEEDFS if seaweedfs_fails is None else pytest.param(
        SEAWEEDFS, marks=pytest.mark.xfail(strict=True, reason=seaweedfs_fails))
    return pytest.mark.parametrize("broker", [TANSU, seaweedfs], indirect=True)


def session_timeout_ms(broker: str, wanted: int) -> int:
    """The consumer session timeout closest to `wanted` the broker accepts: Apache Kafka refuses
    one under its group.min.session.timeout.ms (6 s by default) with INVALID_SESSION_TIMEOUT,
    and so does the gateway; Tansu takes the shorter ones the tests use, so that a restarted
    consumer gets its partitions back sooner."""
    return max(wanted, MIN_SESSION_TIMEOUT_MS[broker])


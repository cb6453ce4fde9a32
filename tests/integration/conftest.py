"""Fixtures the casefile and notify integration tests share: a clock and an intake on it."""

from __future__ import annotations

import pytest

from services.casefile.config import Settings as CasefileSettings
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from tests.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # 2025-03-01 09:00 UTC


@pytest.fixture
def intake_app(kafka, topics, database_url, clock):
    settings = IntakeSettings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        database_url=database_url("intake"), relay_idle_poll_seconds=0.2,
    )
    return create_intake(settings, clock=clock)


@pytest.fixture
def casefile_settings(kafka, topics, database_url) -> CasefileSettings:
    return CasefileSettings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events,
        dead_letter_topic=f"dead-letters-{topics.case_events}",
        database_url=database_url("casefile"),
        consumer_group=f"casefile-{topics.case_events}",  # groups never span tests
        kafka_session_timeout_ms=3000,  # bounds how long a restart waits to rejoin the group
        kafka_heartbeat_interval_ms=300,
        retry_backoff_seconds=0.1,
    )

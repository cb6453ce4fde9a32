"""Fixtures the integration tests share: a clock, an intake on it, each service's settings."""

from __future__ import annotations

import base64
import secrets
import uuid

import pytest

from services.accounts.config import Settings as AccountsSettings
from services.accounts.signing import public_key_path
from services.casefile.config import Settings as CasefileSettings
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from services.notify import store as notify_store
from services.notify.app import create_app as create_notify
from services.notify.config import Settings as NotifySettings
from tests.broker_support import session_timeout_ms
from tests.support import AUDITOR, FakeClock, changed, running

NOTIFY_TICK = 0.05


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # 2025-03-01 09:00 UTC


@pytest.fixture
def intake_settings(kafka, topics, database_url) -> IntakeSettings:
    return IntakeSettings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        database_url=database_url("intake"), relay_idle_poll_seconds=0.2,
    )


@pytest.fixture
def intake_app(intake_settings, clock):
    return create_intake(intake_settings, clock=clock)


@pytest.fixture
def casefile_settings(kafka, broker, topics, database_url) -> CasefileSettings:
    return CasefileSettings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events,
        dead_letter_topic=f"dead-letters-{topics.case_events}",
        access_events_topic=topics.access_events,
        database_url=database_url("casefile"),
        consumer_group=f"casefile-{topics.case_events}",  # groups never span tests
        # bounds how long a restart waits to rejoin the group
        kafka_session_timeout_ms=session_timeout_ms(broker, 3000),
        kafka_heartbeat_interval_ms=300,
        retry_backoff_seconds=0.1,
    )


@pytest.fixture
def notify_settings(kafka, broker, topics, database_url) -> NotifySettings:
    return NotifySettings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events,
        dead_letter_topic=f"notify-dead-letters-{topics.case_events}",
        database_url=database_url("notify"),
        consumer_group=f"notify-{uuid.uuid4().hex[:8]}",
        scheduler_interval_seconds=NOTIFY_TICK,
        retry_backoff_seconds=0.05,
        # Tansu hands a restarted consumer its partitions only once the old session expired.
        kafka_session_timeout_ms=session_timeout_ms(broker, 1_500),
        kafka_heartbeat_interval_ms=300,
    )


@pytest.fixture
def start_notify(notify_settings, clock):
    """Start a fresh notify (a new process, as far as it can tell) on the same DB and topics;
    `start_notify(deadline_policies_file=...)` starts it with other settings. Its client is an
    auditor's (who sees every alert) unless `as_` says otherwise."""
    def start(as_=AUDITOR, **changes):
        return running(create_notify(changed(notify_settings, **changes), clock=clock), as_=as_)

    return start


@pytest.fixture
def accounts_settings(kafka, topics, database_url, tmp_path) -> AccountsSettings:
    """Accounts with the demo accounts, signing with a key of its own."""
    return AccountsSettings(
        database_url=database_url("accounts"), kafka_bootstrap_servers=kafka,
        account_events_topic=topics.account_events, demo_mode=True,
        signing_key_file=tmp_path / "keys" / "access-token.key",
        secrets_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )


@pytest.fixture
def intake_trusting_accounts(intake_settings, accounts_settings, topics, clock):
    """An intake taking the tokens accounts signs, and following its account events."""
    key = public_key_path(accounts_settings.signing_key_file)
    return create_intake(changed(intake_settings, account_events_topic=topics.account_events,
                                 access_token_public_key_file=key), clock=clock)


@pytest.fixture
def notify_db(notify_settings):
    engine = notify_store.make_engine(notify_settings.database_url)
    yield engine
    engine.dispose()

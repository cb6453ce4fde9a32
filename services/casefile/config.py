from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.http_auth import AuthSettings
from contracts.http_security import HttpSecuritySettings
from contracts.kafka_security import KafkaSecuritySettings
from contracts.keystore import KeyStoreSettings


class Settings(AuthSettings, HttpSecuritySettings, KafkaSecuritySettings, KeyStoreSettings,
               BaseSettings):
    """Every knob of casefile, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_request_timeout_ms: int = 10_000
    # A restarted consumer waits for its old group membership to expire (Tansu does not act on
    # LeaveGroup), so the session timeout bounds how long a restart takes to resume consuming.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    case_events_topic: str = topics.CASE_EVENTS
    alert_events_topic: str = topics.ALERT_EVENTS
    dead_letter_topic: str = topics.CASEFILE_DEAD_LETTERS
    access_events_topic: str = topics.ACCESS_EVENTS
    access_relay_batch_size: int = 500
    # On a clean stop, how long to wait for the reads recorded so far to reach the log and
    # the audit's read model (what is left waits in the outbox for the next start).
    access_drain_seconds: float = 10.0
    # A message that fails to apply this many times (for a reason other than the database
    # being unreachable, which is retried until it is back) goes to the dead-letter topic.
    dead_letter_after_attempts: int = 3
    retry_backoff_seconds: float = 1.0
    database_url: str = "sqlite:///var/casefile.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8002
    consumer_group: str = "casefile"
    log_format: str = "auto"  # auto (console on a TTY, JSON otherwise), json or console
    log_level: str = "info"

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

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The brokers, comma-separated `host:port`."""
    kafka_request_timeout_ms: int = 10_000
    """How long a request to the brokers may take."""
    kafka_session_timeout_ms: int = 10_000
    """The consumer group session timeout. A restarted consumer waits for its old membership
    to expire (Tansu does not act on LeaveGroup), so this bounds how long a restart takes to
    resume consuming."""
    kafka_heartbeat_interval_ms: int = 3_000
    """How often the consumer tells the group it is alive."""
    case_events_topic: str = topics.CASE_EVENTS
    """The case log, folded into the read models."""
    alert_events_topic: str = topics.ALERT_EVENTS
    """Notify's deadlines and alerts, folded beside the cases."""
    dead_letter_topic: str = topics.CASEFILE_DEAD_LETTERS
    """Where messages that cannot be decoded or applied go, with the reason."""
    access_events_topic: str = topics.ACCESS_EVENTS
    """The audit of access: every read of a case's data, written before the data is sent."""
    access_relay_batch_size: int = 500
    """Access events the audit's outbox relay publishes at a time."""
    access_drain_seconds: float = 10.0
    """On a clean stop, how long to wait for the reads recorded so far to reach the log and
    the audit's read model (what is left waits in the outbox for the next start)."""
    dead_letter_after_attempts: int = 3
    """A message that fails to apply this many times (for a reason other than the database
    being unreachable, which is retried until it is back) goes to the dead-letter topic."""
    retry_backoff_seconds: float = 1.0
    """The wait before a failed message is tried again."""
    database_url: str = "sqlite:///var/casefile.db"
    """The read models and the audit's outbox (SQLAlchemy URL, e.g.
    `postgresql+psycopg://casefile@db/casefile`); replicas share one."""
    http_host: str = "127.0.0.1"
    """The address to serve HTTP on (`0.0.0.0` in a container)."""
    http_port: int = 8002
    """The port to serve HTTP on."""
    consumer_group: str = "casefile"
    """The consumer group the replicas share the partitions in."""
    log_format: str = "auto"
    """`auto` (console on a TTY, JSON otherwise), `json` or `console`."""
    log_level: str = "info"
    """The lowest level logged: `debug`, `info`, `warning` or `error`."""

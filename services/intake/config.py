from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.http_auth import AuthSettings
from contracts.http_security import HttpSecuritySettings
from contracts.kafka_security import KafkaSecuritySettings
from contracts.keystore import KeyStoreSettings


class Settings(AuthSettings, HttpSecuritySettings, KafkaSecuritySettings, KeyStoreSettings,
               BaseSettings):
    """Every knob of intake, read from the environment."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The brokers, comma-separated `host:port`."""
    kafka_request_timeout_ms: int = 10_000
    """How long a request to the brokers may take."""
    case_events_topic: str = topics.CASE_EVENTS
    """The case log intake's outbox relay publishes to."""
    database_url: str = "sqlite:///var/intake.db"
    """Intake's store: each case's version, head hash and inquiries, and the outbox (SQLAlchemy
    URL, e.g. `postgresql+psycopg://intake@db/intake`)."""
    migrate_on_start: bool = True
    """Migrate the store at start-up; off: run `python -m services.intake.migrate` as a
    deployment step."""
    http_host: str = "127.0.0.1"
    """The address to serve HTTP on (`0.0.0.0` in a container)."""
    http_port: int = 8001
    """The port to serve HTTP on."""
    relay_batch_size: int = 500
    """Outbox entries the relay reads and publishes at a time."""
    relay_idle_poll_seconds: float = 2.0
    """How often an idle relay looks at the outbox (a commit wakes it at once)."""
    log_format: str = "auto"
    """`auto` (console on a TTY, JSON otherwise), `json` or `console`."""
    log_level: str = "info"
    """The lowest level logged: `debug`, `info`, `warning` or `error`."""

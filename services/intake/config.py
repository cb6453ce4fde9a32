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

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_request_timeout_ms: int = 10_000
    case_events_topic: str = topics.CASE_EVENTS
    database_url: str = "sqlite:///var/intake.db"
    migrate_on_start: bool = True  # off: run `python -m services.intake.migrate` as a deploy step
    http_host: str = "127.0.0.1"
    http_port: int = 8001
    relay_batch_size: int = 500
    relay_idle_poll_seconds: float = 2.0
    log_format: str = "auto"  # auto (console on a TTY, JSON otherwise), json or console
    log_level: str = "info"

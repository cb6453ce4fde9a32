from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.http_security import HttpSecuritySettings
from contracts.kafka_security import KafkaSecuritySettings


class Settings(HttpSecuritySettings, KafkaSecuritySettings, BaseSettings):
    """Every knob of accounts, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = "sqlite:///var/accounts.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8004
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_request_timeout_ms: int = 10_000
    account_events_topic: str = topics.ACCOUNT_EVENTS
    # The Ed25519 key access tokens are signed with; made (0600) on first start if missing,
    # with its public half beside it (.pub) for the other services to trust.
    signing_key_file: Path = Path("var/keys/access-token.key")
    # The key second-factor secrets are encrypted with at rest (32 random bytes, base64).
    # Required outside demo mode; in demo mode made beside the signing key if missing.
    secrets_key: SecretStr | None = None
    secrets_key_file: Path | None = None
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    session_idle_minutes: int = Field(default=12 * 60, ge=5)  # a session unused this long ends
    session_max_hours: int = Field(default=7 * 24, ge=1)  # and every session this old
    lockout_after_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    login_attempts_per_minute: int = Field(default=20, ge=1)  # per client address
    # Demo mode: second factor optional, and fictional demo accounts (README) created on start.
    # Never in production.
    demo_mode: bool = False
    # Cookies for the browser: Secure only behind TLS (a plain-http laptop would drop them).
    cookie_secure: bool = False
    migrate_on_start: bool = True
    log_format: str = "auto"
    log_level: str = "info"

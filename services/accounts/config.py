from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.http_security import HttpSecuritySettings
from contracts.kafka_security import KafkaSecuritySettings


class Settings(HttpSecuritySettings, KafkaSecuritySettings, BaseSettings):
    """Every knob of accounts, read from the environment."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    database_url: str = "sqlite:///var/accounts.db"
    """The accounts store (SQLAlchemy URL, e.g. `postgresql+psycopg://accounts@db/accounts`);
    the one store not rebuilt from the log."""
    http_host: str = "127.0.0.1"
    """The address to serve HTTP on (`0.0.0.0` in a container)."""
    http_port: int = 8004
    """The port to serve HTTP on."""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The brokers, comma-separated `host:port`."""
    kafka_request_timeout_ms: int = 10_000
    """How long a request to the brokers may take."""
    account_events_topic: str = topics.ACCOUNT_EVENTS
    """Where ended sessions, role changes and disabled accounts are announced."""
    signing_key_file: Path = Path("var/keys/access-token.key")
    """The Ed25519 key access tokens are signed with; made (0600) on first start if missing,
    with its public half beside it (`.pub`) for the other services to trust."""
    secrets_key: SecretStr | None = None
    """The key second-factor secrets are encrypted with at rest (32 random bytes, base64);
    better, SECRETS_KEY_FILE. Required outside demo mode."""
    secrets_key_file: Path | None = None
    """A file holding SECRETS_KEY; in demo mode made beside the signing key if missing."""
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    """How long an access token lasts."""
    session_idle_minutes: int = Field(default=12 * 60, ge=5)
    """A session unused this long ends."""
    session_max_hours: int = Field(default=7 * 24, ge=1)
    """Every session ends this long after its login."""
    lockout_after_failures: int = Field(default=5, ge=1)
    """Failed logins in a row that lock an account."""
    lockout_minutes: int = Field(default=15, ge=1)
    """How long a locked account stays locked."""
    login_attempts_per_minute: int = Field(default=20, ge=1)
    """Login attempts allowed per client address and minute."""
    demo_mode: bool = False
    """Second factor optional, and the fictional demo accounts created on start. Never in
    production."""
    cookie_secure: bool = False
    """Mark the session cookies Secure: on behind TLS (a plain-http laptop would drop them)."""
    migrate_on_start: bool = True
    """Migrate the store at start-up; off: run `python -m services.accounts.migrate` as a
    deployment step."""
    log_format: str = "auto"
    """`auto` (console on a TTY, JSON otherwise), `json` or `console`."""
    log_level: str = "info"
    """The lowest level logged: `debug`, `info`, `warning` or `error`."""

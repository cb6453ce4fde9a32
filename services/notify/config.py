from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.http_auth import AuthSettings
from contracts.http_security import HttpSecuritySettings
from contracts.kafka_security import KafkaSecuritySettings


class Settings(AuthSettings, HttpSecuritySettings, KafkaSecuritySettings, BaseSettings):
    """Every knob of notify, read from the environment."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The brokers, comma-separated `host:port`."""
    kafka_request_timeout_ms: int = 10_000
    """How long a request to the brokers may take."""
    case_events_topic: str = topics.CASE_EVENTS
    """The case log, whose inquiries, answers and contact losses notify follows."""
    alert_events_topic: str = topics.ALERT_EVENTS
    """Notify's own stream per case: deadlines and alerts, written and read back."""
    dead_letter_topic: str = topics.NOTIFY_DEAD_LETTERS
    """Where messages that cannot be decoded or applied go, with the reason."""
    dead_letter_after_attempts: int = 3
    """A message that fails to apply this many times (for a reason other than the database
    being unreachable, which is retried until it is back) goes to the dead-letter topic."""
    retry_backoff_seconds: float = 1.0
    """The wait before a failed message is tried again."""
    consumer_batch_size: int = 500
    """Messages applied in one transaction (one commit to disk instead of one per message)."""
    database_url: str = "sqlite:///var/notify.db"
    """Deadlines, timers, alerts and deliveries (SQLAlchemy URL, e.g.
    `postgresql+psycopg://notify@db/notify`); replicas share one."""
    http_host: str = "127.0.0.1"
    """The address to serve HTTP on (`0.0.0.0` in a container)."""
    http_port: int = 8003
    """The port to serve HTTP on."""
    consumer_group: str = "notify"
    """The consumer group the replicas share the partitions in."""
    kafka_session_timeout_ms: int = 10_000
    """The consumer group session timeout. A replica that stops is only replaced after its
    session expires (Tansu does not act on LeaveGroup), so a restart waits about twice this
    long for its partitions."""
    kafka_heartbeat_interval_ms: int = 3_000
    """How often the consumer tells the group it is alive."""
    deadline_policies_file: Path | None = None
    """The NGO's response windows (TOML, versioned data); the bundled file when unset."""
    advocates_file: Path | None = None
    """Who the advocates are, who supervises, where their alerts go (TOML); inbox only when
    unset."""
    family_silent_days: int = 30
    """After contact_lost, alert when the family has not been heard from for this long."""
    reprisal_alert_window_days: int = 7
    """A threat recorded longer ago than this is history, not an alert (e.g. on a new install)."""
    scheduler_interval_seconds: float = 1.0
    """How often due deadlines are looked for: an alert is raised within this of its moment."""
    catch_up_timeout_seconds: float = 60.0
    """Deadlines are judged only once the consumer has caught up with the log after start-up,
    so an answer recorded while notify was down is seen first; if the log cannot be caught up
    (a stuck message), alerts start anyway after this long."""
    log_format: str = "auto"
    """`auto` (console on a TTY, JSON otherwise), `json` or `console`."""
    log_level: str = "info"
    """The lowest level logged: `debug`, `info`, `warning` or `error`."""
    # Alert delivery (services/notify/channels). No default is a secret: email is off until
    # SMTP_HOST names the relay, and webhooks are off until a secret is given.
    smtp_host: str | None = None
    """The relay that takes alert mail; unset: no email."""
    smtp_port: int = 587
    """587 for starttls, 465 for tls, 25 or a test port for none."""
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    """`starttls`, `tls` (implicit) or `none` (plain text, refused unless SMTP_HOST is
    loopback)."""
    smtp_username: str | None = None
    """Log in to the relay as this user; unset: no login."""
    smtp_password: SecretStr | None = None
    """The relay password."""
    smtp_from: str = "casetracker-notify@localhost"
    """Envelope and From address; its domain also ends every Message-ID notify makes."""
    smtp_timeout_seconds: float = 10.0
    """The limit on each SMTP operation (connect, each command)."""
    webhook_secret: SecretStr | None = None
    """The webhooks' HMAC-SHA256 key, at least 32 characters; better, WEBHOOK_SECRET_FILE.
    Without one the webhook channel does not start."""
    webhook_secret_file: Path | None = None
    """A file holding WEBHOOK_SECRET (a mounted secret)."""
    webhook_timeout_seconds: float = 10.0
    """The limit on the whole exchange with a webhook's receiver."""
    webhook_allow_http_loopback: bool = True
    """Allow plain http to 127.0.0.0/8, ::1 and localhost only (a receiver on the same host);
    anything else must be https, so alerts never cross a network in clear."""
    delivery_max_attempts: int = Field(default=10, ge=1)
    """A delivery is given up after this many attempts; the in-app inbox shows the alert
    regardless."""
    delivery_backoff_base_seconds: float = Field(default=15.0, gt=0)
    """The first wait before a delivery is retried, doubled at each attempt (jittered)."""
    delivery_backoff_cap_seconds: float = Field(default=1800.0, gt=0)
    """The longest wait between two delivery attempts."""
    digest_hour_utc: int | None = Field(default=None, ge=0, le=23)
    """Mail each advocate with an email address their daily digest once this hour (UTC) has
    come; unset: no digest mail (GET /advocates/{account}/digest still answers)."""
    public_base_url: str = "http://127.0.0.1:8002"
    """Where links in alerts point (casefile, or the app in front of it)."""

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

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_request_timeout_ms: int = 10_000
    case_events_topic: str = topics.CASE_EVENTS
    alert_events_topic: str = topics.ALERT_EVENTS
    dead_letter_topic: str = topics.NOTIFY_DEAD_LETTERS
    # A message that fails to apply this many times (for a reason other than the database
    # being unreachable, which is retried until it is back) goes to the dead-letter topic.
    dead_letter_after_attempts: int = 3
    retry_backoff_seconds: float = 1.0
    # Messages applied in one transaction (one commit to disk instead of one per message).
    consumer_batch_size: int = 500
    database_url: str = "sqlite:///var/notify.db"
    http_host: str = "127.0.0.1"
    http_port: int = 8003
    consumer_group: str = "notify"
    # A replica that stops is only replaced after its session expires: some brokers (Tansu)
    # do not act on LeaveGroup, so a restart waits about twice this long for its partitions.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # The NGO's response windows (versioned data); the bundled file when unset.
    deadline_policies_file: Path | None = None
    # Who the advocates are, who supervises, where their alerts go; inbox only when unset.
    advocates_file: Path | None = None
    # After contact_lost, alert when the family has not been heard from for this long.
    family_silent_days: int = 30
    # A threat recorded longer ago than this is history, not an alert (e.g. on a new install).
    reprisal_alert_window_days: int = 7
    scheduler_interval_seconds: float = 1.0
    # Deadlines are only judged once the consumer has caught up with the log after start-up,
    # so a response recorded while notify was down is seen before its deadline is. If the
    # log cannot be caught up (e.g. a stuck message), alerts start anyway after this long.
    catch_up_timeout_seconds: float = 60.0
    log_format: str = "auto"  # auto (console on a TTY, JSON otherwise), json or console
    log_level: str = "info"
    # Alert delivery (services/notify/channels). No default is a secret: email is off until
    # SMTP_HOST names the relay, and webhooks are off until a secret is given.
    smtp_host: str | None = None  # the relay that takes alert mail; unset: no email
    smtp_port: int = 587  # 587 for starttls, 465 for tls, 25 or a test port for none
    # none is plain text and is refused unless smtp_host is loopback (a local relay, tests)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None  # log in only when set
    smtp_password: SecretStr | None = None
    # Envelope and From address; its domain also ends every Message-ID notify makes.
    smtp_from: str = "casetracker-notify@localhost"
    smtp_timeout_seconds: float = 10.0  # per SMTP operation (connect, each command)
    webhook_secret: SecretStr | None = None  # HMAC-SHA256 key, at least 32 characters
    webhook_secret_file: Path | None = None  # or read it from this file (a mounted secret)
    webhook_timeout_seconds: float = 10.0  # the whole exchange with the receiver
    # Plain http is allowed to 127.0.0.0/8, ::1 and localhost only (a receiver on the same
    # host); anything else must be https, so alerts never cross a network in clear.
    webhook_allow_http_loopback: bool = True
    # A delivery is retried with exponential backoff (base * 2^(attempts-1), capped, jittered)
    # and given up after this many attempts; the in-app inbox shows the alert regardless.
    delivery_max_attempts: int = Field(default=10, ge=1)
    delivery_backoff_base_seconds: float = Field(default=15.0, gt=0)
    delivery_backoff_cap_seconds: float = Field(default=1800.0, gt=0)
    # Mail each advocate with an email address their daily digest once this hour (UTC) has
    # come; unset: no digest mail (GET /advocates/{account}/digest still answers).
    digest_hour_utc: int | None = Field(default=None, ge=0, le=23)
    public_base_url: str = "http://127.0.0.1:8002"  # where links in alerts point (casefile)

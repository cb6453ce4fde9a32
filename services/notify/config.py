from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics


class Settings(BaseSettings):
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

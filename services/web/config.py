from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.http_security import HttpSecuritySettings

TRANSLATIONS = Path(__file__).with_name("translations")


class Settings(HttpSecuritySettings, BaseSettings):
    """Every knob of the web app, read from the environment. No Kafka, no database and no
    secret: it keeps nothing, and calls the services with each signed-in person's token."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    http_host: str = "127.0.0.1"
    """The address to serve HTTP on (`0.0.0.0` in a container)."""
    http_port: int = 8000
    """The port to serve HTTP on: the site caseworkers open, behind a TLS-terminating proxy."""
    accounts_url: str = "http://127.0.0.1:8004"
    """Where this app reaches accounts (not where a browser would), e.g. `http://accounts:8004`."""
    intake_url: str = "http://127.0.0.1:8001"
    """Where this app reaches intake, e.g. `http://intake:8001`."""
    casefile_url: str = "http://127.0.0.1:8002"
    """Where this app reaches casefile, e.g. `http://casefile:8002`."""
    notify_url: str = "http://127.0.0.1:8003"
    """Where this app reaches notify, e.g. `http://notify:8003`."""
    backend_timeout_seconds: float = Field(default=15.0, gt=0)
    """How long a call to a service may take before the page says that service is
    unavailable."""
    read_your_writes_seconds: float = Field(default=5.0, ge=0)
    """After recording, how long a page waits for casefile to show the new entry."""
    cookie_secure: bool = False
    """Mark the session and CSRF cookies Secure: on behind TLS (a plain-http laptop would drop
    them)."""
    default_language: str = "en"
    """The language of a browser that asks for none the app has."""
    translations_dir: Path = TRANSLATIONS
    """The gettext catalogues, one `LANG.po` per language; a file dropped here adds a
    language (read at start)."""
    log_format: str = "auto"
    """`auto` (console on a TTY, JSON otherwise), `json` or `console`."""
    log_level: str = "info"
    """The lowest level logged: `debug`, `info`, `warning` or `error`."""

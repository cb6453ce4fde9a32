from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.http_security import HttpSecuritySettings

TRANSLATIONS = Path(__file__).with_name("translations")


class Settings(HttpSecuritySettings, BaseSettings):
    """Every knob of the web app, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Where the services are, as this app reaches them (not as a browser would).
    accounts_url: str = "http://127.0.0.1:8004"
    intake_url: str = "http://127.0.0.1:8001"
    casefile_url: str = "http://127.0.0.1:8002"
    notify_url: str = "http://127.0.0.1:8003"
    backend_timeout_seconds: float = Field(default=15.0, gt=0)
    # After recording, how long a page waits for casefile to show the new entry.
    read_your_writes_seconds: float = Field(default=5.0, ge=0)
    # Cookies for the browser: Secure only behind TLS (a plain-http laptop would drop them).
    cookie_secure: bool = False
    # The language of a browser that asks for none we have; a file LANG.po in
    # TRANSLATIONS_DIR adds a language.
    default_language: str = "en"
    translations_dir: Path = TRANSLATIONS
    log_format: str = "auto"
    log_level: str = "info"

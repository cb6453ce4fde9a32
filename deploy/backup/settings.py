"""What the backup commands read from the environment, and the backup key they use."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.kafka_security import KafkaSecuritySettings
from contracts.keystore import KeyStoreSettings, MasterKey, MasterKeyMissing, decode_key
from deploy.backup.archive import BackupError, BackupKey


class BackupSettings(KafkaSecuritySettings, KeyStoreSettings, BaseSettings):
    """The cluster (and its KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*), the key
    store (KEYSTORE_DATABASE_URL), and the key that encrypts backups."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_request_timeout_ms: int = 10_000
    case_events_topic: str = topics.CASE_EVENTS  # read for erasures when the key store returns
    backup_key: SecretStr | None = None  # base64 of 32 random bytes; or, better, a file:
    backup_key_file: Path | None = None


def backup_key(settings: BackupSettings, key_file: Path | None = None) -> BackupKey:
    """The key from `key_file`, else BACKUP_KEY_FILE, else BACKUP_KEY; never the master key."""
    path = key_file or settings.backup_key_file
    if path is not None:
        try:
            text, source = path.read_text().strip(), f"backup key file {path}"
        except OSError as exc:
            raise BackupError(f"backup key file {path} cannot be read "
                              f"({exc.strerror or type(exc).__name__})") from None
    elif settings.backup_key is not None:
        text, source = settings.backup_key.get_secret_value(), "BACKUP_KEY"
    else:
        raise BackupError("no backup key: set BACKUP_KEY_FILE (or BACKUP_KEY, or pass "
                          "--key-file); make one with `python -m deploy.backup new-key FILE`")
    key = BackupKey(_decode(text, source))
    if key.key == _master_key(settings):
        raise BackupError(f"{source} holds the master key: a backup key must be a key of its "
                          "own, or a stolen key-store backup and its key would open every case")
    return key


def _decode(text: str, source: str) -> bytes:
    try:
        return decode_key(text, source)  # the same form as the master key's
    except MasterKeyMissing as exc:
        raise BackupError(str(exc)) from None


def _master_key(settings: BackupSettings) -> bytes | None:
    """The master key, where this machine has it (to refuse it as a backup key)."""
    try:
        return MasterKey.from_settings(settings).key
    except (MasterKeyMissing, OSError):
        return None

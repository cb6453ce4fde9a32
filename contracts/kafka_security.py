"""How every service reaches Kafka: TLS and SASL (SCRAM or PLAIN) from the environment.

`KafkaSecuritySettings` is mixed into each service's Settings (like `AuthSettings`), so every
service reads the same `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*` and `KAFKA_SSL_*` variables.
`kafka_security()` checks them once at start-up and refuses an unsafe or contradictory
combination with an error naming the variable; what it returns gives aiokafka's keyword
arguments (`client_options()`) and faststream's `security=` object (`broker_security()`).
Hostnames are always checked against the broker's certificate. No secret is ever logged.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from contracts.hosts import is_loopback_host

log = structlog.get_logger()

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


class KafkaSecuritySettings(BaseModel):
    """How to reach the brokers: mixed into each service's Settings (read from the environment)."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = ConfigDict(use_attribute_docstrings=True)

    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    """`PLAINTEXT` (the embedded broker's), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`."""
    kafka_sasl_mechanism: SaslMechanism | None = None
    """`SCRAM-SHA-256`, `SCRAM-SHA-512` or `PLAIN`; required with `SASL_*`."""
    kafka_sasl_username: str | None = None
    """The client's SASL user (its principal in the cluster's ACLs)."""
    kafka_sasl_password: SecretStr | None = None
    """Its password; better, KAFKA_SASL_PASSWORD_FILE. One of the two, not both."""
    kafka_sasl_password_file: Path | None = None
    """A file holding the SASL password (a mounted secret; a final newline is dropped)."""
    kafka_ssl_cafile: Path | None = None
    """PEM file of the CA(s) that signed the brokers' certificates; unset: the system's CAs."""
    kafka_ssl_certfile: Path | None = None
    """A client certificate, for clusters that authenticate clients by TLS (mTLS)."""
    kafka_ssl_keyfile: Path | None = None
    """The client certificate's unencrypted key (it may sit in the certificate's file)."""

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class KafkaSecurityError(RuntimeError):
    """The Kafka security settings are unsafe or contradictory; the message names the variable."""


@dataclass(frozen=True)
class KafkaSecurity:
    """The checked settings, ready for aiokafka and faststream."""

    protocol: SecurityProtocol = "PLAINTEXT"
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    mechanism: SaslMechanism | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.ssl_context is not None:
            options["ssl_context"] = self.ssl_context
        if self.mechanism is not None:
            options |= {"sasl_mechanism": self.mechanism, "sasl_plain_username": self.username,
                        "sasl_plain_password": self.password}
        return options

    def broker_security(self):
        """faststream's `KafkaBroker(security=...)`: the same settings, None for plain text."""
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        tls = self.ssl_context is not None  # made for SSL and SASL_SSL only
        if self.mechanism is None:
            return BaseSecurity(ssl_context=self.ssl_context, use_ssl=True) if tls else None
        kind = {"SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512,
                "PLAIN": SASLPlaintext}[self.mechanism]
        return kind(self.username, self.password, ssl_context=self.ssl_context, use_ssl=tls)


def kafka_security(settings: KafkaSecuritySettings, bootstrap_servers: str) -> KafkaSecurity:
    """Check the settings against each other and the brokers' addresses; build the TLS context."""
    protocol = settings.kafka_security_protocol
    sasl, tls = protocol.startswith("SASL_"), protocol.endswith("SSL")
    if not sasl:
        _refuse_set(settings, ("kafka_sasl_mechanism", "kafka_sasl_username",
                               "kafka_sasl_password", "kafka_sasl_password_file"),
                    f"KAFKA_SECURITY_PROTOCOL={protocol} does not authenticate with SASL: use "
                    "SASL_SSL, or unset it")
    if not tls:
        _refuse_set(settings, ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"),
                    f"KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS: use SSL or SASL_SSL, "
                    "or unset it")
    context = _tls_context(settings) if tls else None
    mechanism, username, password = _sasl_credentials(settings) if sasl else (None, None, None)
    in_clear_beyond_loopback = not tls and not _all_loopback(bootstrap_servers)
    if mechanism == "PLAIN" and in_clear_beyond_loopback:
        raise KafkaSecurityError(
            "KAFKA_SASL_MECHANISM=PLAIN with KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT would send "
            "the password in clear text to KAFKA_BOOTSTRAP_SERVERS beyond this machine: use "
            "SASL_SSL")
    if in_clear_beyond_loopback:
        # A private network may be trusted (a service mesh that encrypts); say so, don't refuse.
        log.warning("kafka_traffic_unencrypted", security_protocol=protocol,
                    hint="set KAFKA_SECURITY_PROTOCOL=SASL_SSL or SSL")
    return KafkaSecurity(protocol=protocol, ssl_context=context, mechanism=mechanism,
                         username=username, password=password)


def _refuse_set(settings: KafkaSecuritySettings, names: tuple[str, ...], why: str) -> None:
    for name in names:
        if getattr(settings, name) is not None:
            raise KafkaSecurityError(f"{name.upper()} is set but {why}")


def _tls_context(settings: KafkaSecuritySettings) -> ssl.SSLContext:
    """Verifies the broker's certificate and hostname; TLS 1.2 at least (Python's defaults)."""
    cafile = settings.kafka_ssl_cafile
    try:
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    except (OSError, ssl.SSLError) as exc:
        raise KafkaSecurityError(
            f"KAFKA_SSL_CAFILE={cafile} cannot be used: {_reason(exc)}") from None
    certfile, keyfile = settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile
    if keyfile is not None and certfile is None:
        raise KafkaSecurityError("KAFKA_SSL_KEYFILE is set without KAFKA_SSL_CERTFILE")
    if certfile is not None:
        try:
            context.load_cert_chain(certfile, keyfile, password=_no_key_password)
        except (OSError, ssl.SSLError) as exc:
            names = "KAFKA_SSL_CERTFILE" + (" / KAFKA_SSL_KEYFILE" if keyfile else "")
            raise KafkaSecurityError(f"{names} cannot be used: {_reason(exc)}") from None
    return context


def _no_key_password() -> str:
    raise KafkaSecurityError("KAFKA_SSL_KEYFILE is encrypted: give the client key unencrypted "
                             "(as a mounted secret readable by this service only)")


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or type(exc).__name__
    return exc.strerror or type(exc).__name__


def _sasl_credentials(settings: KafkaSecuritySettings) -> tuple[SaslMechanism, str, str]:
    protocol = settings.kafka_security_protocol
    if settings.kafka_sasl_mechanism is None:
        raise KafkaSecurityError(f"KAFKA_SASL_MECHANISM must be set with KAFKA_SECURITY_PROTOCOL="
                                 f"{protocol} (SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN)")
    if not settings.kafka_sasl_username:
        raise KafkaSecurityError(f"KAFKA_SASL_USERNAME must be set with KAFKA_SECURITY_PROTOCOL="
                                 f"{protocol}")
    given, path = settings.kafka_sasl_password, settings.kafka_sasl_password_file
    if given is not None and path is not None:
        raise KafkaSecurityError("set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both")
    if path is not None:
        try:
            # A mounted secret usually ends with a newline that is not part of the password.
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise KafkaSecurityError(f"KAFKA_SASL_PASSWORD_FILE={path} cannot be read "
                                     f"({type(exc).__name__})") from None
        if not password:
            raise KafkaSecurityError(f"KAFKA_SASL_PASSWORD_FILE={path} is empty")
    elif given is not None and given.get_secret_value():
        password = given.get_secret_value()
    else:
        raise KafkaSecurityError(f"KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE must be set "
                                 f"with KAFKA_SECURITY_PROTOCOL={protocol}")
    return settings.kafka_sasl_mechanism, settings.kafka_sasl_username, password


def _all_loopback(bootstrap_servers: str) -> bool:
    """Every bootstrap address is this machine: 127.0.0.0/8, ::1 or the name localhost."""
    hosts = [_host(entry.strip()) for entry in bootstrap_servers.split(",") if entry.strip()]
    return bool(hosts) and all(is_loopback_host(host) for host in hosts)


def _host(address: str) -> str:
    if address.startswith("["):  # [::1]:9092
        return address[1:].partition("]")[0]
    return address.rpartition(":")[0] if address.count(":") == 1 else address

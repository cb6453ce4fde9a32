"""Kafka security settings (contracts/kafka_security.py): what every service reads, what it
refuses, and what it hands aiokafka and faststream.

Unit tests: nothing here connects to a broker. The handshakes themselves (TLS, mutual TLS,
SCRAM-SHA-256/512) are tested in tests/integration/test_kafka_security.py.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from structlog.testing import capture_logs

from contracts.kafka_security import KafkaSecurityError, KafkaSecuritySettings, kafka_security
from deploy.stack import StackSettings, kafka_client_options
from services.accounts.config import Settings as AccountsSettings
from services.casefile.config import Settings as CasefileSettings
from services.intake.config import Settings as IntakeSettings
from services.notify.config import Settings as NotifySettings
from tests.kafka_security_support import ThrowawayCA

PASSWORD = "fictional-kafka-password-7d1f"
REMOTE = "kafka-1.example.org:9093,kafka-2.example.org:9093"


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> ThrowawayCA:
    return ThrowawayCA(tmp_path_factory.mktemp("pki"))


def settings(**fields) -> KafkaSecuritySettings:
    return KafkaSecuritySettings(**fields)


def scram(**changes) -> KafkaSecuritySettings:
    return settings(**({"kafka_security_protocol": "SASL_SSL",
                        "kafka_sasl_mechanism": "SCRAM-SHA-512",
                        "kafka_sasl_username": "casetracker",
                        "kafka_sasl_password": PASSWORD} | changes))


def test_plain_text_is_the_default_and_gives_the_clients_nothing_else():
    security = kafka_security(settings(), "127.0.0.1:9092")

    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.broker_security() is None


@pytest.mark.parametrize("service", [IntakeSettings, CasefileSettings, NotifySettings,
                                     AccountsSettings])
def test_every_service_reads_the_same_variables(service, monkeypatch, tmp_path):
    password_file = tmp_path / "kafka-password"
    for name, value in {"KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
                        "KAFKA_SASL_MECHANISM": "scram-sha-256",
                        "KAFKA_SASL_USERNAME": "casetracker",
                        "KAFKA_SASL_PASSWORD_FILE": str(password_file),
                        "KAFKA_SSL_CAFILE": "/etc/kafka/ca.pem"}.items():
        monkeypatch.setenv(name, value)

    read = service()

    assert (read.kafka_security_protocol, read.kafka_sasl_mechanism, read.kafka_sasl_username,
            read.kafka_sasl_password_file, read.kafka_ssl_cafile) == (
        "SASL_SSL", "SCRAM-SHA-256", "casetracker", password_file, Path("/etc/kafka/ca.pem"))


async def test_scram_over_tls_reaches_aiokafka_and_faststream_alike(ca):
    """Unit: the options as the clients hold them before connecting (no broker involved)."""
    security = kafka_security(scram(kafka_ssl_cafile=ca.cafile), REMOTE)
    options = security.client_options()

    consumer = AIOKafkaConsumer(bootstrap_servers=REMOTE, **options)
    producer = AIOKafkaProducer(bootstrap_servers=REMOTE, **options)
    broker = KafkaBroker(REMOTE, security=security.broker_security())

    assert {k: v for k, v in options.items() if k != "ssl_context"} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "casetracker", "sasl_plain_password": PASSWORD}
    assert parse_security(security.broker_security()) == options  # faststream's own reading
    for client in (consumer._client, producer.client):
        assert (client._security_protocol, client._sasl_mechanism, client._sasl_plain_username,
                client._sasl_plain_password, client._ssl_context) == (
            "SASL_SSL", "SCRAM-SHA-512", "casetracker", PASSWORD, options["ssl_context"])
    assert {k: broker._connection_kwargs[k] for k in options} == options


def test_the_tls_context_checks_the_hostname_and_trusts_only_the_given_ca(ca):
    context = kafka_security(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca.cafile),
                             REMOTE).ssl_context

    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert [dict(pair[0] for pair in c["subject"])["commonName"]
            for c in context.get_ca_certs()] == ["casetracker test CA"]


def test_a_client_certificate_is_loaded_for_mutual_tls(ca):
    client = ca.issue("casetracker-services", client=True)
    security = kafka_security(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca.cafile,
                                       kafka_ssl_certfile=client.cert,
                                       kafka_ssl_keyfile=client.key), REMOTE)

    assert security.client_options()["ssl_context"] is security.ssl_context
    assert security.broker_security().use_ssl


def test_the_password_file_may_end_with_a_newline(tmp_path):
    path = tmp_path / "kafka-password"
    path.write_text(PASSWORD + "\n")

    security = kafka_security(scram(kafka_sasl_password=None, kafka_sasl_password_file=path),
                              REMOTE)

    assert security.client_options()["sasl_plain_password"] == PASSWORD


@pytest.fixture(scope="module")
def files(ca, tmp_path_factory) -> SimpleNamespace:
    """What the refused settings below point at."""
    tmp = tmp_path_factory.mktemp("refused")
    empty, not_a_certificate = tmp / "empty", tmp / "not-a-certificate.pem"
    empty.write_text("\n")
    not_a_certificate.write_text("-----BEGIN NOTHING-----\n")
    return SimpleNamespace(
        tmp=tmp, ca=ca, empty=empty, not_a_certificate=not_a_certificate,
        encrypted=ca.issue("encrypted-client", client=True, key_password=b"fictional"),
        other=ca.issue("another-client", client=True))


# Each unsafe or contradictory setting, and the variable its refusal must name.
REFUSALS: dict[str, tuple[Callable[[SimpleNamespace], KafkaSecuritySettings], str]] = {
    "SASL without a mechanism": (lambda f: scram(kafka_sasl_mechanism=None),
                                 "KAFKA_SASL_MECHANISM"),
    "SASL without a username": (lambda f: scram(kafka_sasl_username=None),
                                "KAFKA_SASL_USERNAME"),
    "SASL without a password": (lambda f: scram(kafka_sasl_password=None),
                                "KAFKA_SASL_PASSWORD"),
    "a password and a password file": (lambda f: scram(kafka_sasl_password_file=f.empty),
                                       "KAFKA_SASL_PASSWORD_FILE, not both"),
    "an empty password file": (lambda f: scram(kafka_sasl_password=None,
                                               kafka_sasl_password_file=f.empty),
                               "KAFKA_SASL_PASSWORD_FILE"),
    "a missing password file": (lambda f: scram(kafka_sasl_password=None,
                                                kafka_sasl_password_file=f.tmp / "absent"),
                                "KAFKA_SASL_PASSWORD_FILE"),
    "a password without SASL": (lambda f: settings(kafka_sasl_password=PASSWORD),
                                "KAFKA_SASL_PASSWORD is set"),
    "a mechanism without SASL": (lambda f: settings(kafka_security_protocol="SSL",
                                                    kafka_sasl_mechanism="SCRAM-SHA-256"),
                                 "KAFKA_SASL_MECHANISM is set"),
    "PLAIN in clear text beyond loopback": (
        lambda f: scram(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN"),
        "KAFKA_SASL_MECHANISM=PLAIN"),
    "a missing CA file": (lambda f: settings(kafka_security_protocol="SSL",
                                             kafka_ssl_cafile=f.tmp / "absent.pem"),
                          "KAFKA_SSL_CAFILE"),
    "a CA file without a certificate": (
        lambda f: settings(kafka_security_protocol="SSL", kafka_ssl_cafile=f.not_a_certificate),
        "KAFKA_SSL_CAFILE"),
    "a CA file without TLS": (lambda f: settings(kafka_ssl_cafile=f.ca.cafile),
                              "KAFKA_SSL_CAFILE is set"),
    "a key without its certificate": (
        lambda f: settings(kafka_security_protocol="SSL", kafka_ssl_keyfile=f.encrypted.key),
        "KAFKA_SSL_KEYFILE"),
    "an encrypted client key": (
        lambda f: settings(kafka_security_protocol="SSL", kafka_ssl_certfile=f.encrypted.cert,
                           kafka_ssl_keyfile=f.encrypted.key), "KAFKA_SSL_KEYFILE is encrypted"),
    "a certificate with another's key": (
        lambda f: settings(kafka_security_protocol="SSL", kafka_ssl_certfile=f.encrypted.cert,
                           kafka_ssl_keyfile=f.other.key),
        "KAFKA_SSL_CERTFILE / KAFKA_SSL_KEYFILE"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_an_unsafe_or_contradictory_setting_is_refused_naming_the_variable(case, files):
    unsafe, variable = REFUSALS[case]

    with pytest.raises(KafkaSecurityError) as refused:
        kafka_security(unsafe(files), REMOTE)

    assert variable in str(refused.value)
    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize("bootstrap", ["127.0.0.1:9092", "localhost:9092", "[::1]:9092",
                                       "127.0.0.1:9092,localhost:9093"])
def test_plain_passwords_in_clear_text_stay_on_this_machine(bootstrap):
    plain = scram(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN")

    assert kafka_security(plain, bootstrap).client_options()["sasl_mechanism"] == "PLAIN"
    with pytest.raises(KafkaSecurityError):
        kafka_security(plain, f"{bootstrap},kafka-1.example.org:9092")


def test_records_in_clear_text_beyond_this_machine_are_warned_of_without_secrets():
    with capture_logs() as logs:
        kafka_security(settings(), "127.0.0.1:9092")
        kafka_security(settings(), REMOTE)
        kafka_security(scram(kafka_security_protocol="SASL_PLAINTEXT"), REMOTE)
        kafka_security(scram(), REMOTE)

    assert [(entry["event"], entry["security_protocol"]) for entry in logs] == [
        ("kafka_traffic_unencrypted", "PLAINTEXT"),
        ("kafka_traffic_unencrypted", "SASL_PLAINTEXT")]
    assert PASSWORD not in repr(logs)


def test_the_password_shows_in_no_repr_or_dump(ca):
    configured = scram(kafka_ssl_cafile=ca.cafile)
    security = kafka_security(configured, REMOTE)

    shown = [repr(configured), str(configured), configured.model_dump_json(), repr(security),
             str(IntakeSettings(**configured.model_dump()))]
    assert not [text for text in shown if PASSWORD in text]


def test_the_rebuilds_workers_get_the_password_as_it_is():
    """Unit: casefile's rebuild hands its worker processes model_dump(), not a JSON dump,
    which would mask the password as '**********'."""
    configured = CasefileSettings(**scram().model_dump())

    handed = CasefileSettings.model_validate(configured.model_dump())

    assert handed.kafka_sasl_password.get_secret_value() == PASSWORD


def test_the_stack_refuses_tls_or_sasl_for_its_embedded_broker(monkeypatch, ca):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(ca.cafile))

    with pytest.raises(KafkaSecurityError, match="KAFKA_BOOTSTRAP_SERVERS"):
        kafka_client_options(StackSettings())
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", REMOTE)
    assert kafka_client_options(StackSettings())["security_protocol"] == "SSL"

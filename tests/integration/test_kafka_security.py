"""Kafka over TLS and SASL/SCRAM with the services' own clients, through real handshakes.

The embedded Tansu has no TLS listener and cannot keep SCRAM credentials (see
tests/kafka_security_support.py), so each test puts a TLS-terminating proxy on loopback in
front of its own in-memory Tansu, which advertises the proxy's port: every connection a client
makes, bootstrap or not, goes through TLS. Where a test needs SCRAM, the proxy checks the
SCRAM proof itself (test code) before the connection reaches Tansu.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from aiokafka.errors import KafkaConnectionError

from contracts.kafka_security import KafkaSecuritySettings, kafka_security
from contracts.topics import ACCESS_EVENTS, ACCOUNT_EVENTS
from deploy.embedded import EmbeddedBroker
from deploy.processes import free_port
from deploy.topics import ensure_topics, log_is_empty
from services.accounts.app import create_app as create_accounts
from services.accounts.config import Settings as AccountsSettings
from services.accounts.signing import public_key_path
from services.casefile.app import create_app as create_casefile
from services.casefile.config import Settings as CasefileSettings
from services.casefile.rebuild import rebuild
from services.casefile.verify import audit_log
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from services.notify.app import create_app as create_notify
from services.notify.config import Settings as NotifySettings
from tests.integration.accounts_support import seize_a_phone
from tests.integration.casefile_support import open_case, send_inquiry, timeline_of
from tests.kafka_security_support import CertFiles, ThrowawayCA, TlsProxy
from tests.support import AUDITOR, eventually, running

pytestmark = pytest.mark.integration

CASE_EVENTS, ALERT_EVENTS = "case-events", "alert-events"
SERVICE_USER = "casetracker"
SERVICE_PASSWORD = "fictional-kafka-password-" + secrets.token_hex(8)


@dataclass(frozen=True)
class Pki:
    ca: ThrowawayCA
    broker: CertFiles  # for 127.0.0.1 and localhost
    services: CertFiles  # the services' client certificate
    other_ca: ThrowawayCA  # trusted by nobody here
    misnamed_broker: CertFiles  # signed by the right CA, for another host name


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = ThrowawayCA(directory / "ca")
    return Pki(ca=ca, broker=ca.issue("broker", hosts=["127.0.0.1", "localhost"]),
               services=ca.issue("casetracker-services", client=True),
               other_ca=ThrowawayCA(directory / "other", "some other CA"),
               misnamed_broker=ca.issue("kafka.example.invalid", hosts=["kafka.example.invalid"]))


@pytest.fixture
def secured_kafka(pki):
    """Start an in-memory Tansu behind a TLS proxy: `secured_kafka(client_ca=..., scram_users=
    ..., server=...)` gives the proxy (its address is the bootstrap server)."""
    started: list[tuple[TlsProxy, EmbeddedBroker]] = []

    def start(*, server: CertFiles | None = None, client_ca: Path | None = None,
              scram_users: dict[str, tuple[str, str]] | None = None) -> TlsProxy:
        proxy_port = free_port()
        broker = EmbeddedBroker(kafka_port=free_port(), durable=False, advertised_port=proxy_port)
        broker.start()
        proxy = TlsProxy(broker.kafka_port, server or pki.broker, port=proxy_port,
                         client_ca=client_ca, scram_users=scram_users or {})
        started.append((proxy.start(), broker))
        return proxy

    yield start
    for proxy, broker in started:
        proxy.stop()
        broker.stop()


def client_options(**settings) -> dict:
    """What every client of the services is given, from the same settings they read."""
    bootstrap = settings.pop("kafka_bootstrap_servers")
    return kafka_security(KafkaSecuritySettings(**settings), bootstrap).client_options()


async def test_every_service_produces_and_consumes_through_tls_with_a_client_certificate(
    pki, secured_kafka, tmp_path, clock
):
    proxy = secured_kafka(client_ca=pki.ca.cafile)  # mutual TLS: no certificate, no entry
    tls = {"kafka_bootstrap_servers": proxy.address, "kafka_security_protocol": "SSL",
           "kafka_ssl_cafile": pki.ca.cafile, "kafka_ssl_certfile": pki.services.cert,
           "kafka_ssl_keyfile": pki.services.key}
    options = client_options(**tls)
    await ensure_topics(proxy.address, [CASE_EVENTS, ALERT_EVENTS, ACCOUNT_EVENTS, ACCESS_EVENTS],
                        **options)
    topics = {"case_events_topic": CASE_EVENTS}
    consumer = {"alert_events_topic": ALERT_EVENTS, "kafka_session_timeout_ms": 3000,
                "kafka_heartbeat_interval_ms": 300}
    intake = IntakeSettings(**tls, **topics, database_url=f"sqlite:///{tmp_path}/intake.db",
                            relay_idle_poll_seconds=0.2)
    casefile = CasefileSettings(**tls, **topics, **consumer,
                                database_url=f"sqlite:///{tmp_path}/casefile.db",
                                dead_letter_topic="casefile.dead-letters")
    notify = NotifySettings(**tls, **topics, **consumer, scheduler_interval_seconds=0.05,
                            database_url=f"sqlite:///{tmp_path}/notify.db",
                            dead_letter_topic="notify.dead-letters")
    async with (running(create_intake(intake, clock=clock)) as intake_client,
                running(create_casefile(casefile, clock=clock)) as casefile_client,
                running(create_notify(notify, clock=clock), as_=AUDITOR) as notify_client):
        case_id = await open_case(intake_client)
        inquiry_id = await send_inquiry(intake_client, case_id)
        # notify reads the inquiry and records its deadline, which casefile reads in turn
        timeline = await eventually(
            lambda: timeline_of(casefile_client, case_id),
            until=lambda t: "deadline_set" in {e["type"] for e in t}, timeout=30)
        deadline = await notify_client.get(f"/inquiries/{inquiry_id}/deadline")
        ready = [(await c.get("/readyz")).json()["checks"]
                 for c in (intake_client, casefile_client, notify_client)]
    audit = await audit_log(casefile)  # `python -m services.casefile.verify` reads the log
    empty = await log_is_empty(proxy.address, CASE_EVENTS, **options)

    assert {"report_received", "inquiry_sent"} <= {e["type"] for e in timeline}
    assert deadline.status_code == 200
    assert all(checks["broker"] and checks["revocations"] for checks in ready)
    assert audit.intact and {a.case_id for a in audit.audits} == {UUID(case_id)}
    assert empty is False
    assert proxy.passed() and not [c for c in proxy.connections if c.refused]
    assert {(c.tls_version, c.client_cert) for c in proxy.passed()} <= {
        ("TLSv1.3", "casetracker-services"), ("TLSv1.2", "casetracker-services")}


async def test_services_log_in_with_scram_over_tls_and_a_seized_phone_still_stops_working(
    pki, secured_kafka, tmp_path, clock, capsys, caplog
):
    proxy = secured_kafka(scram_users={SERVICE_USER: ("SCRAM-SHA-512", SERVICE_PASSWORD)})
    password_file = tmp_path / "kafka-password"
    password_file.write_text(SERVICE_PASSWORD + "\n")  # as a mounted secret usually ends
    sasl = {"kafka_bootstrap_servers": proxy.address, "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": SERVICE_USER,
            "kafka_sasl_password_file": password_file, "kafka_ssl_cafile": pki.ca.cafile}
    await ensure_topics(proxy.address, [CASE_EVENTS, ALERT_EVENTS, ACCOUNT_EVENTS, ACCESS_EVENTS],
                        **client_options(**sasl))
    accounts = AccountsSettings(
        **sasl, database_url=f"sqlite:///{tmp_path}/accounts.db", demo_mode=True,
        signing_key_file=tmp_path / "keys" / "access-token.key",
        secrets_key=base64.b64encode(secrets.token_bytes(32)).decode())
    intake = IntakeSettings(
        **sasl, case_events_topic=CASE_EVENTS, database_url=f"sqlite:///{tmp_path}/intake.db",
        access_token_public_key_file=public_key_path(accounts.signing_key_file),
        relay_idle_poll_seconds=0.2)
    async with running(create_accounts(accounts, clock=clock), as_=None) as accounts_client:
        async with running(create_intake(intake, clock=clock), as_=None) as intake_client:
            phone = await seize_a_phone(accounts_client, intake_client, clock)
            await eventually(lambda: intake_client.get("/readyz"),
                             until=lambda r: r.json()["checks"]["outbox_backlog"] == 0)
    # The rebuild's workers are other processes: the password given inline must reach them
    # as it is (a JSON dump of the settings would have masked it).
    rebuilt = await rebuild(CasefileSettings(
        **{**sasl, "kafka_sasl_password_file": None}, kafka_sasl_password=SERVICE_PASSWORD,
        case_events_topic=CASE_EVENTS, alert_events_topic=ALERT_EVENTS,
        database_url=f"sqlite:///{tmp_path}/rebuilt.db"), workers=2)

    assert phone.before.status_code == 201
    assert phone.refused.json()["detail"] == "the session was ended"
    assert rebuilt.workers == 2 and rebuilt.cases >= 1  # every report that got a 201
    assert rebuilt.events_applied == rebuilt.messages_read == rebuilt.cases
    passed = proxy.passed()
    assert passed and not [c for c in proxy.connections if c.refused]
    assert {(c.sasl_user, c.mechanism) for c in passed} == {(SERVICE_USER, "SCRAM-SHA-512")}
    assert {c.tls_version for c in passed} <= {"TLSv1.2", "TLSv1.3"}
    logged = capsys.readouterr()
    assert SERVICE_PASSWORD not in logged.out + logged.err + caplog.text


async def test_scram_sha_256_is_accepted_and_a_wrong_password_or_mechanism_refused(
    pki, secured_kafka, capsys, caplog
):
    proxy = secured_kafka(scram_users={"reader": ("SCRAM-SHA-256", SERVICE_PASSWORD)})
    scram = {"kafka_bootstrap_servers": proxy.address, "kafka_security_protocol": "SASL_SSL",
             "kafka_sasl_mechanism": "SCRAM-SHA-256", "kafka_sasl_username": "reader",
             "kafka_ssl_cafile": pki.ca.cafile}
    reader = client_options(**scram, kafka_sasl_password=SERVICE_PASSWORD)

    await ensure_topics(proxy.address, [CASE_EVENTS], timeout=5, **reader)
    empty = await log_is_empty(proxy.address, CASE_EVENTS, **reader)
    accepted, seen_before = len(proxy.passed()), len(proxy.connections)
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(proxy.address, [CASE_EVENTS], timeout=1,
                            **client_options(**scram, kafka_sasl_password="not-the-password"))
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(proxy.address, [CASE_EVENTS], timeout=1, **client_options(
            **{**scram, "kafka_sasl_mechanism": "SCRAM-SHA-512"},
            kafka_sasl_password=SERVICE_PASSWORD))

    assert empty is True and accepted >= 2
    # A client may drop a connection half-way (a retry, its timeout): that one is neither
    # passed nor refused, so only what was let through or refused counts.
    later = proxy.connections[seen_before:]
    assert not [c for c in later if c.sasl_user]
    refusals = {c.refused for c in later if c.refused}
    assert refusals == {"sasl: authentication failed", "sasl: mechanism SCRAM-SHA-512 not offered"}
    logged = capsys.readouterr()
    assert SERVICE_PASSWORD not in logged.out + logged.err + caplog.text


@pytest.mark.parametrize("case", ["a CA that did not sign the broker's certificate",
                                  "a certificate for another host name",
                                  "no client certificate where one is required"])
async def test_a_broker_that_cannot_be_trusted_or_a_client_without_its_certificate_is_refused(
    pki, secured_kafka, case, caplog
):
    tls = {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": pki.ca.cafile,
           "kafka_ssl_certfile": pki.services.cert, "kafka_ssl_keyfile": pki.services.key}
    if case.startswith("a CA"):
        proxy = secured_kafka()
        tls["kafka_ssl_cafile"] = pki.other_ca.cafile
        why = "certificate verify failed: unable to get local issuer certificate"
    elif case.startswith("a certificate"):
        proxy = secured_kafka(server=pki.misnamed_broker)  # hostname checking is always on
        why = "certificate verify failed: IP address mismatch"
    else:
        proxy = secured_kafka(client_ca=pki.ca.cafile)
        del tls["kafka_ssl_certfile"], tls["kafka_ssl_keyfile"]
        why = None  # the client only sees the connection closed; the proxy knows why

    with pytest.raises(KafkaConnectionError):
        await ensure_topics(proxy.address, [CASE_EVENTS], timeout=1,
                            **client_options(kafka_bootstrap_servers=proxy.address, **tls))

    assert proxy.connections and not proxy.passed()  # nothing reached the broker
    if why is not None:
        assert why in caplog.text
    else:
        assert "tls: PEER_DID_NOT_RETURN_A_CERTIFICATE" in {c.refused for c in proxy.connections}

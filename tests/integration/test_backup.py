"""Backups an NGO can trust, on real brokers: the whole log exported from one embedded broker
and restored into a fresh one rebuilds the same read models and the same alerts; a damaged
archive or the wrong key writes nothing; a log restored without its key store shows personal
fields as unreadable until the key store's own backup is restored. Data is fictional."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.kafka_security import KafkaSecuritySettings, kafka_security
from contracts.keystore import KeyErased, KeyStore, KeyStoreSettings, write_new_master_key
from contracts.personal_data import UNREADABLE
from contracts.topics import ACCOUNT_EVENTS
from deploy.embedded import EmbeddedBroker, S3Ports
from deploy.processes import free_port
from deploy.topics import ensure_topics
from services.casefile.app import create_app as create_casefile
from services.casefile.log_reader import read_log
from services.casefile.rebuild import rebuild
from services.intake.app import create_app as create_intake
from tests import support
from tests.integration import notify_support
from tests.integration.casefile_support import (
    REPORT,
    case_of,
    checksum_of,
    open_case,
    record,
    until_accesses_folded,
    until_caught_up,
)
from tests.kafka_security_support import ThrowawayCA, TlsProxy
from tests.support import ADMIN, AUDITOR, changed, eventually, read_topic, running

pytestmark = pytest.mark.integration

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def kafka() -> Iterator[str]:
    """This module's source cluster: a broker of each test's own, so that exporting every
    topic it holds exports this test's log and nothing else."""
    with EmbeddedBroker(kafka_port=free_port(), durable=False) as broker:
        asyncio.run(ensure_topics(broker.bootstrap_servers, [ACCOUNT_EVENTS]))
        yield broker.bootstrap_servers


@pytest.fixture
def fresh_cluster() -> Iterator[str]:
    """An empty cluster to restore into, durable (S3 on SeaweedFS) like a real one."""
    with EmbeddedBroker(kafka_port=free_port(), s3_ports=S3Ports.free()) as broker:
        yield broker.bootstrap_servers


@pytest.fixture
def backup_key(tmp_path) -> Path:
    path = tmp_path / "backup.key"
    assert backup(None, "new-key", str(path)).returncode == 0
    return path


def backup(kafka: str | None, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m deploy.backup ...` as an operator runs it."""
    environment = {**os.environ, **env}
    if kafka is not None:
        environment["KAFKA_BOOTSTRAP_SERVERS"] = kafka
    return subprocess.run([sys.executable, "-m", "deploy.backup", *args], cwd=REPOSITORY,
                          env=environment, capture_output=True, text=True, timeout=120)


async def every_message(kafka: str, **client_options) -> dict[str, list[tuple]]:
    """Each topic's messages as the log holds them: partition, offset, timestamp, key, value,
    headers, in offset order within each partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, **client_options)
    await consumer.start()
    try:
        names = sorted(t for t in await consumer.topics() if not t.startswith("__"))
    finally:
        await consumer.stop()
    messages: dict[str, list[tuple]] = {name: [] for name in names}
    if not names:
        return messages
    async for batch in read_log(kafka, names, **client_options):
        for r in batch:
            messages[r.topic].append(
                (r.partition, r.offset, r.timestamp, r.key, r.value, tuple(r.headers)))
    return {name: sorted(found) for name, found in messages.items()}


async def test_a_log_restored_into_a_fresh_cluster_rebuilds_the_same_cases_and_alerts(
    intake_app, casefile_settings, start_notify, database_url, clock, kafka, topics,
    fresh_cluster, backup_key, tmp_path,
):
    async with running(intake_app) as intake, \
            running(create_casefile(casefile_settings), as_=AUDITOR) as casefile, \
            start_notify() as notify:
        overdue_case = await open_case(intake)
        await record(intake, f"/cases/{overdue_case}/contact-lost",
                     {"last_contact_at": "2017-05", "circumstances": "Fictional."})
        await notify_support.send_inquiry(intake, overdue_case, notify_support.LONG_OVERDUE)
        answered_case = await open_case(intake)
        inquiry = await notify_support.send_inquiry(intake, answered_case)
        await notify_support.answer(intake, answered_case, inquiry["inquiry_id"])
        await notify_support.notify_log_settled(
            kafka, topics, lambda e: notify_support.kinds_raised(e) == ["escalation", "overdue"])
        alerts_before = await notify_support.alerts(notify, state="all")
        await case_of(casefile, overdue_case)  # a read, recorded on access-events
        await until_caught_up(casefile, kafka, topics, intake=intake)
        await until_accesses_folded(casefile, kafka, topics)
    live = checksum_of(casefile_settings.database_url)
    archive = tmp_path / "log.backup"

    exported = backup(kafka, "export", "--out", str(archive), BACKUP_KEY_FILE=str(backup_key))
    restored = backup(fresh_cluster, "restore", str(archive), BACKUP_KEY_FILE=str(backup_key))
    on_source, on_restored = await every_message(kafka), await every_message(fresh_cluster)
    rebuilt = await rebuild(changed(casefile_settings, kafka_bootstrap_servers=fresh_cluster,
                                    database_url=database_url("casefile_restored")))
    async with start_notify(kafka_bootstrap_servers=fresh_cluster, consumer_group="restored",
                            database_url=database_url("notify_restored")) as notify:
        await eventually(lambda: notify.get("/readyz"),
                         until=lambda r: r.json()["checks"]["caught_up"])
        await asyncio.sleep(notify_support.SETTLE)
        alerts_after = await notify_support.alerts(notify, state="all")
    again = backup(fresh_cluster, "restore", str(archive), BACKUP_KEY_FILE=str(backup_key))

    assert exported.returncode == 0, exported.stderr
    assert restored.returncode == 0, restored.stderr
    assert "at the offsets they had" in restored.stderr
    # every topic, every message: same partition, offset, timestamp, key, value and headers
    assert set(on_restored) == set(on_source) >= {topics.case_events, topics.alert_events,
                                                  topics.access_events, ACCOUNT_EVENTS}
    assert on_restored == on_source
    assert len(on_source[topics.case_events]) == 6
    assert rebuilt.checksum == live
    assert alerts_after == alerts_before and len(alerts_before) == 2
    # notify rebuilt from the restored log decided nothing again: the log is as restored
    assert await every_message(fresh_cluster) == on_source
    assert again.returncode == 2
    assert "already holds messages" in again.stderr and "--append" in again.stderr


async def test_a_damaged_archive_or_the_wrong_key_is_refused_before_anything_is_written(
    intake_app, kafka, topics, backup_key, tmp_path
):
    async with running(intake_app) as intake:
        await open_case(intake)
        await eventually(lambda: read_topic(kafka, topics.case_events), until=bool)
    archive = tmp_path / "log.backup"
    assert backup(kafka, "export", "--out", str(archive),
                  BACKUP_KEY_FILE=str(backup_key)).returncode == 0
    whole = archive.read_bytes()
    damaged = {
        "tampered": whole[:200] + bytes([whole[200] ^ 1]) + whole[201:],
        "truncated": whole[:-40],
        "extended": whole + b"\0",
    }
    other_key = tmp_path / "other.key"
    write_new_master_key(other_key)

    with EmbeddedBroker(kafka_port=free_port(), durable=False) as target:
        refused = {}
        for name, data in damaged.items():
            (tmp_path / name).write_bytes(data)
            refused[name] = backup(target.bootstrap_servers, "restore", str(tmp_path / name),
                                   BACKUP_KEY_FILE=str(backup_key))
        refused["wrong key"] = backup(target.bootstrap_servers, "restore", str(archive),
                                      BACKUP_KEY_FILE=str(other_key))
        verified = backup(None, "verify", str(archive), BACKUP_KEY_FILE=str(backup_key))
        left_on_target = await every_message(target.bootstrap_servers)

    assert {name: r.returncode for name, r in refused.items()} == dict.fromkeys(refused, 2)
    reasons = {name: " ".join(r.stderr.split()) for name, r in refused.items()}
    assert "part 0 does not authenticate" in reasons["tampered"]
    assert "is truncated" in reasons["truncated"]
    assert "data after its last part" in reasons["extended"]
    assert "encrypted with another backup key" in reasons["wrong key"]
    assert left_on_target == {}  # no topic made, no message written
    assert verified.returncode == 0 and "log backup intact" in verified.stderr


async def test_a_log_restored_without_its_key_store_shows_personal_data_as_unreadable(
    intake_settings, casefile_settings, database_url, kafka, topics, fresh_cluster, backup_key,
    tmp_path, clock,
):
    log_archive, keys_archive = tmp_path / "log.backup", tmp_path / "keys.backup"
    keys_backup_key = tmp_path / "keys-backup.key"  # a key of its own, kept apart
    write_new_master_key(keys_backup_key)
    key_store = database_url("keystore")  # this installation's alone
    intake_app = create_intake(changed(intake_settings, keystore_database_url=key_store),
                               clock=clock)
    async with running(intake_app) as intake:
        case_id = await open_case(intake)
        erased_case = await open_case(intake)
        keys_exported = backup(None, "export-keys", "--out", str(keys_archive),
                               "--key-file", str(keys_backup_key), KEYSTORE_DATABASE_URL=key_store)
        # erased after the key store's backup was taken: the backup still holds its key
        erasure = await intake.post(f"/cases/{erased_case}/erasure",
                                    json={"reason": "family_request"}, headers=admin(clock))
        await eventually(lambda: read_topic(kafka, topics.case_events),
                         until=lambda log: log[-1]["type"] == "subject_erased")
    assert backup(kafka, "export", "--out", str(log_archive),
                  BACKUP_KEY_FILE=str(backup_key)).returncode == 0
    # a new installation: its key store is empty until the key store's backup is restored
    empty_key_store = database_url("restored_keystore")
    restore_keys = ("restore-keys", str(keys_archive), "--key-file", str(keys_backup_key))
    key_env = {"KEYSTORE_DATABASE_URL": empty_key_store, "CASE_EVENTS_TOPIC": topics.case_events}
    keys_before_log = backup(fresh_cluster, *restore_keys, **key_env)
    assert backup(fresh_cluster, "restore", str(log_archive),
                  BACKUP_KEY_FILE=str(backup_key)).returncode == 0
    restored_settings = changed(casefile_settings, kafka_bootstrap_servers=fresh_cluster,
                                consumer_group="restored", keystore_database_url=empty_key_store)

    without_keys = await read_restored_case(restored_settings, case_id, topics, fresh_cluster)
    keys_restored = backup(fresh_cluster, *restore_keys, **key_env)
    with_keys = await read_restored_case(restored_settings, case_id, topics, fresh_cluster)
    keys_again = backup(fresh_cluster, *restore_keys, **key_env)
    restored_keys = KeyStore.from_settings(KeyStoreSettings(
        keystore_database_url=empty_key_store, master_key_file=Path(os.environ["MASTER_KEY_FILE"])))

    assert keys_exported.returncode == 0, keys_exported.stderr
    assert erasure.status_code == 201, erasure.text
    assert keys_before_log.returncode == 2 and "restore the log first" in keys_before_log.stderr
    name = REPORT["subject"]["name"]
    assert without_keys["subject"]["name"] == UNREADABLE
    assert without_keys["summary"] == UNREADABLE
    assert name not in str(without_keys) and "enc:1:" not in str(without_keys)
    assert keys_restored.returncode == 0, keys_restored.stderr
    assert "2 case keys restored; 1 of them destroyed again" in " ".join(
        keys_restored.stderr.split())
    assert with_keys["subject"]["name"] == name
    assert with_keys["summary"] == REPORT["summary"]
    assert keys_again.returncode == 2 and "already holds" in keys_again.stderr
    try:  # the subject erased after the backup stays erased once its key store is back
        assert restored_keys.cipher(UUID(case_id)) is not None
        with pytest.raises(KeyErased):
            restored_keys.cipher(UUID(erased_case))
    finally:
        restored_keys.dispose()


def admin(clock) -> dict[str, str]:
    """An admin who has just entered their password again, as an erasure needs."""
    token = support.ISSUER.token(ADMIN, clock(), password_entered=clock())
    return {"Authorization": f"Bearer {token}"}


async def read_restored_case(settings, case_id: str, topics, kafka: str) -> dict:
    """The case as a casefile on the restored cluster shows it to a caseworker of its team."""
    async with running(create_casefile(settings)) as casefile:
        await until_caught_up(casefile, kafka, topics)
        return await case_of(casefile, case_id)


@pytest.fixture
def scram_cluster(tmp_path):
    """`scram_cluster()`: an in-memory Tansu behind a TLS proxy that checks SCRAM-SHA-512
    itself, as a production cluster would (see tests/kafka_security_support.py)."""
    ca = ThrowawayCA(tmp_path / "ca")
    certificate = ca.issue("broker", hosts=["127.0.0.1"])
    started: list[tuple[TlsProxy, EmbeddedBroker]] = []

    def start() -> TlsProxy:
        port = free_port()
        broker = EmbeddedBroker(kafka_port=free_port(), durable=False, advertised_port=port)
        broker.start()
        proxy = TlsProxy(broker.kafka_port, certificate, port=port,
                         scram_users={KAFKA_USER: ("SCRAM-SHA-512", KAFKA_PASSWORD)}).start()
        started.append((proxy, broker))
        return proxy

    start.cafile = ca.cafile
    yield start
    for proxy, broker in started:
        proxy.stop()
        broker.stop()


KAFKA_USER, KAFKA_PASSWORD = "backup-operator", "fictional-password-" + secrets.token_hex(8)


async def test_a_backup_goes_through_tls_and_scram_with_the_services_settings(
    scram_cluster, backup_key, tmp_path
):
    source, target = scram_cluster(), scram_cluster()
    password_file = tmp_path / "kafka-password"
    password_file.write_text(KAFKA_PASSWORD + "\n")
    security = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "KAFKA_SASL_USERNAME": KAFKA_USER, "KAFKA_SASL_PASSWORD_FILE": str(password_file),
                "KAFKA_SSL_CAFILE": str(scram_cluster.cafile)}
    options = kafka_security(KafkaSecuritySettings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=KAFKA_USER, kafka_sasl_password=KAFKA_PASSWORD,
        kafka_ssl_cafile=scram_cluster.cafile), source.address).client_options()
    await ensure_topics(source.address, ["case-events"], **options)
    producer = AIOKafkaProducer(bootstrap_servers=source.address, acks="all", **options)
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait("case-events", f"fictional event {n}".encode(),
                                         key=b"case-1", headers=[("event-type", b"note_added")])
    finally:
        await producer.stop()
    archive = tmp_path / "log.backup"

    in_clear = backup(source.address, "export", "--out", str(archive),
                      BACKUP_KEY_FILE=str(backup_key), KAFKA_REQUEST_TIMEOUT_MS="3000")
    exported = backup(source.address, "export", "--out", str(archive),
                      BACKUP_KEY_FILE=str(backup_key), **security)
    restored = backup(target.address, "restore", str(archive),
                      BACKUP_KEY_FILE=str(backup_key), **security)
    on_source = await every_message(source.address, **options)
    on_target = await every_message(target.address, **options)

    assert in_clear.returncode == 2
    assert "cannot reach the cluster" in in_clear.stderr and not archive.with_name(
        "log.backup.partial").exists()
    assert exported.returncode == 0, exported.stderr
    assert restored.returncode == 0, restored.stderr
    assert on_target == on_source and len(on_source["case-events"]) == 3
    for proxy in (source, target):
        assert {c.sasl_user for c in proxy.passed()} == {KAFKA_USER}
        assert {c.tls_version for c in proxy.passed()} <= {"TLSv1.2", "TLSv1.3"}
    assert KAFKA_PASSWORD not in exported.stdout + exported.stderr + restored.stderr


async def test_a_topic_already_written_is_refused_unless_appended_to_and_so_is_another_shape(
    kafka, topics, backup_key, tmp_path
):
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for n in range(4):
            await producer.send_and_wait(topics.case_events, f"fictional event {n}".encode(),
                                         key=f"case-{n}".encode())
    finally:
        await producer.stop()
    archive = tmp_path / "log.backup"
    assert backup(kafka, "export", "--out", str(archive),
                  BACKUP_KEY_FILE=str(backup_key)).returncode == 0

    with EmbeddedBroker(kafka_port=free_port(), durable=False) as other_shape, \
            EmbeddedBroker(kafka_port=free_port(), durable=False) as target:
        await ensure_topics(other_shape.bootstrap_servers, [topics.case_events], partitions=2)
        reshaped = backup(other_shape.bootstrap_servers, "restore", str(archive),
                          BACKUP_KEY_FILE=str(backup_key))
        left_on_other_shape = await every_message(other_shape.bootstrap_servers)
        first = backup(target.bootstrap_servers, "restore", str(archive),
                       BACKUP_KEY_FILE=str(backup_key))
        appended = backup(target.bootstrap_servers, "restore", str(archive), "--append",
                          BACKUP_KEY_FILE=str(backup_key))
        on_target = await every_message(target.bootstrap_servers)
    on_source = await every_message(kafka)

    assert reshaped.returncode == 2
    assert f"topic '{topics.case_events}' has 2 partitions" in reshaped.stderr
    assert left_on_other_shape == {topics.case_events: []}  # nothing created, nothing written
    assert first.returncode == 0 and "at the offsets they had" in first.stderr
    assert appended.returncode == 0 and "at other offsets than they had" in appended.stderr
    # each partition holds its messages twice over, the backup's copy after the first
    assert set(on_target) == set(on_source)
    for topic, messages in on_source.items():
        assert len(messages) == (4 if topic == topics.case_events else 0)
        assert per_partition(on_target[topic]) == {
            partition: once + once for partition, once in per_partition(messages).items()}


def per_partition(messages: list[tuple]) -> dict[int, list[tuple]]:
    """Each partition's messages in offset order, without their offsets."""
    found: dict[int, list[tuple]] = {}
    for partition, _offset, *message in messages:
        found.setdefault(partition, []).append(tuple(message))
    return found

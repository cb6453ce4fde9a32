"""Fixtures shared by every test: the real embedded broker and real databases."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from contracts.keystore import write_new_master_key
from contracts.topics import ACCOUNT_EVENTS
from deploy.embedded import EmbeddedBroker
from deploy.processes import free_port
from deploy.seaweedfs_kafka import SeaweedKafkaGateway
from deploy.topics import ensure_topics
from tests import support
from tests.broker_support import TANSU
from tests.support import Topics

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def test_issuer(tmp_path_factory) -> Iterator[support.TestIssuer]:
    """Access tokens for the tests, from a key every service under test trusts: set in the
    environment, so apps and service processes built with default settings trust it too."""
    issuer = support.TestIssuer(tmp_path_factory.mktemp("keys"))
    support.ISSUER = issuer
    previous = os.environ.get("ACCESS_TOKEN_PUBLIC_KEY_FILE")
    os.environ["ACCESS_TOKEN_PUBLIC_KEY_FILE"] = str(issuer.public_key_file)
    yield issuer
    if previous is None:
        os.environ.pop("ACCESS_TOKEN_PUBLIC_KEY_FILE", None)
    else:
        os.environ["ACCESS_TOKEN_PUBLIC_KEY_FILE"] = previous


@pytest.fixture(scope="session", autouse=True)
def key_store(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The case keys of every service under test: one master key and one key store for the
    session, set in the environment, as the stack runner sets them for intake and casefile."""
    directory = tmp_path_factory.mktemp("case-keys")
    write_new_master_key(directory / "master.key")
    settings = {"MASTER_KEY_FILE": str(directory / "master.key"),
                "KEYSTORE_DATABASE_URL": f"sqlite:///{directory / 'keystore.db'}"}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    yield settings
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def tansu() -> Iterator[str]:
    """One in-memory Tansu broker for the session; tests isolate themselves with their own topics
    (account-events, which apps follow unless told otherwise, is the session's)."""
    broker = EmbeddedBroker(kafka_port=free_port(), durable=False)
    broker.start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap_servers, [ACCOUNT_EVENTS]))
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory) -> Iterator[str]:
    """The second broker, SeaweedFS's Kafka gateway, started for the session by the first test
    that asks for it (its logs stay under the session's temporary directory)."""
    gateway = SeaweedKafkaGateway(data_dir=tmp_path_factory.mktemp("seaweedfs-kafka"))
    gateway.start()
    try:
        asyncio.run(ensure_topics(gateway.bootstrap_servers, [ACCOUNT_EVENTS]))
        yield gateway.bootstrap_servers
    finally:
        gateway.stop()


@pytest.fixture
def broker(request: pytest.FixtureRequest) -> str:
    """Which broker the test runs against: Tansu, unless the test runs on every broker
    (`tests.broker_support.on_every_broker`)."""
    return getattr(request, "param", TANSU)


@pytest.fixture
def kafka(request: pytest.FixtureRequest, broker: str) -> str:
    """The bootstrap servers of the test's broker (each started once per session)."""
    return request.getfixturevalue(broker)


@pytest.fixture
def topics(kafka: str) -> Topics:
    suffix = uuid.uuid4().hex[:8]
    names = Topics(case_events=f"case-events-{suffix}", alert_events=f"alert-events-{suffix}",
                   account_events=f"account-events-{suffix}",
                   access_events=f"access-events-{suffix}")
    asyncio.run(ensure_topics(kafka, [names.case_events, names.alert_events,
                                      names.account_events, names.access_events]))
    return names


def _postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[[str], str]]:
    """A factory of fresh, empty databases of one backend: call it once per service under test.

    PostgreSQL variants skip only on a machine without PostgreSQL; CI sets REQUIRE_POSTGRES=1
    so they can never skip silently there.
    """
    if request.param == "sqlite":
        yield lambda name: f"sqlite:///{tmp_path / name}.db"
        return
    if not _postgres_reachable():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}")
        pytest.skip("PostgreSQL is not running on this machine")
    created: list[str] = []

    def make(name: str) -> str:
        database = f"t_{name}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        created.append(database)
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{database}"

    yield make
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        for database in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

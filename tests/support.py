"""Helpers for tests that run the services in-process against the real broker and databases."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from pydantic import BaseModel

from contracts.access import Role
from contracts.keystore import KeyStore, KeyStoreSettings
from contracts.personal_data import reveal, shown_with
from deploy.processes import free_port, spawn, stop, wait_until
from services.accounts.signing import TokenFacts, access_token, public_pem

T = TypeVar("T")
SettingsT = TypeVar("SettingsT", bound=BaseModel)


def changed(settings: SettingsT, **changes: object) -> SettingsT:
    """A copy of the settings with `changes` applied, validated as the originals were."""
    return type(settings).model_validate(settings.model_dump() | changes)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class Identity:
    """Who a test's requests come from: an account, its role and team (fictional)."""

    account: str
    role: str
    team: str | None = None


CASEWORKER = Identity("caseworker-7", "caseworker", "almaty")
OTHER_TEAM = Identity("caseworker-9", "caseworker", "bishkek")
SUPERVISOR = Identity("supervisor-1", "supervisor", "almaty")
AUDITOR = Identity("auditor-1", "auditor")
ADMIN = Identity("admin-1", "admin")


class TestIssuer:
    """Signs access tokens as the accounts service would, with a key the apps under test trust."""

    def __init__(self, directory: Path) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public_key_file = directory / "access-token.pub"
        self.public_key_file.write_bytes(public_pem(self.key.public_key()))

    def token(self, who: Identity, now: datetime, *, session_id: str = "test-session",
              lifetime: timedelta = timedelta(minutes=10),
              password_entered: datetime | None = None) -> str:
        """A token issued `now`, whose session's password was entered then (or as given)."""
        facts = TokenFacts(who.account, Role(who.role), who.team, session_id,
                           auth_time=password_entered or now)
        return access_token(self.key, facts, now, lifetime)


ISSUER: TestIssuer | None = None  # set once per test session by tests/conftest.py


class AsIdentity(httpx.Auth):
    """A fresh token for every request, issued at the app's (injected) clock's time."""

    def __init__(self, who: Identity, clock: Callable[[], datetime]) -> None:
        self.who, self.clock = who, clock

    def auth_flow(self, request: httpx.Request):
        assert ISSUER is not None, "tests/conftest.py sets the test issuer up"
        if "Authorization" not in request.headers:  # a test may send as someone else
            request.headers["Authorization"] = f"Bearer {ISSUER.token(self.who, self.clock())}"
        yield request


def bearer(who: Identity, now: datetime) -> dict[str, str]:
    assert ISSUER is not None
    return {"Authorization": f"Bearer {ISSUER.token(who, now)}"}


@asynccontextmanager
async def running(app: FastAPI, *, as_: Identity | None = CASEWORKER) -> AsyncIterator[
        httpx.AsyncClient]:
    """Run the app's lifespan (broker, consumers, schedulers) and give an HTTP client for it,
    whose requests come from `as_` (None: no token), once the app follows account events."""
    async with app.router.lifespan_context(app):
        auth = getattr(app.state, "authenticator", None)
        deadline = time.monotonic() + 30
        while auth is not None and not auth.ready() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        def clock() -> datetime:
            return getattr(app.state, "clock", lambda: datetime.now(UTC))()

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://service",
            auth=AsIdentity(as_, clock) if as_ is not None else None,
        ) as client:
            yield client


def session_key_store() -> KeyStore:
    """The session's key store (tests/conftest.py sets it up), as the services under test use
    it; the caller disposes of it."""
    return KeyStore.from_settings(KeyStoreSettings(
        keystore_database_url=os.environ["KEYSTORE_DATABASE_URL"],
        master_key_file=Path(os.environ["MASTER_KEY_FILE"])))


def decrypted(message: dict) -> dict:
    """A message off the log with its personal fields decrypted, as an authorised reader
    sees them."""
    keys = session_key_store()
    try:
        cipher = keys.cipher(UUID(message["case_id"]))
    finally:
        keys.dispose()
    return {**message, "data": reveal(message["data"], shown_with(cipher))}


async def eventually(
    probe: Callable[[], Awaitable[T]], *, until: Callable[[T], bool], timeout: float = 20.0
) -> T:
    """Poll an async probe until its result satisfies `until`; fail with the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Topics:
    case_events: str
    alert_events: str
    account_events: str = "account-events"
    access_events: str = "access-events"


async def read_topic(bootstrap_servers: str, topic: str) -> list[dict]:
    """Every message on a topic, decoded from JSON, read from offset 0 to the high watermark."""
    return [message for _, message in await read_partitions(bootstrap_servers, topic)]


async def read_partitions(bootstrap_servers: str, topic: str) -> list[tuple[int, dict]]:
    """Every message on a topic with its partition, each partition's in log order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # loads metadata for every topic
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            raise AssertionError(f"topic {topic} has no partitions")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        messages: list[tuple[int, dict]] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for tp, records in batch.items():
                messages.extend((tp.partition, json.loads(r.value)) for r in records)
            if await _at_end(consumer, partitions):
                return messages
        raise AssertionError(f"could not read {topic} to its end")
    finally:
        await consumer.stop()


async def read_until(
    bootstrap_servers: str, topic: str, until: Callable[[list[dict]], bool], *, timeout: float = 30.0
) -> list[dict]:
    """Read the topic again and again until its messages satisfy `until` (the relay is async)."""
    return await eventually(lambda: read_topic(bootstrap_servers, topic), until=until, timeout=timeout)


async def _at_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    """True once every partition has been read up to the high watermark its last fetch reported."""
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


class ServiceProcess:
    """`python -m services.<name>` as a real process, as it runs in production."""

    def __init__(self, name: str, tmp_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}-{self.port}.log"
        self.env = {**os.environ, "HTTP_PORT": str(self.port), "LOG_FORMAT": "json", **env}
        self.process = None

    def start(self, *, timeout: float = 60) -> None:
        """Start it and wait until it is ready (its /readyz answers 200)."""
        self.process = spawn([sys.executable, "-m", f"services.{self.name}"], log_path=self.log,
                             env=self.env)
        wait_until(self._ready, timeout=timeout, what=f"{self.name} on {self.url} (log: {self.log})",
                   process=self.process)

    def client(self, as_: Identity = CASEWORKER, **options) -> httpx.AsyncClient:
        """A client of the running process; its tokens are dated by the real clock, as it is."""
        return httpx.AsyncClient(base_url=self.url, auth=AsIdentity(
            as_, lambda: datetime.now(UTC)), **options)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop(self.process)

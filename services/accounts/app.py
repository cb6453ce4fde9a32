"""Builds accounts: its store (migrated), its signing key, the relay of account events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import jwt
import structlog
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlmodel import Session

from contracts import http_security
from contracts.http_auth import Authenticator
from contracts.kafka_security import kafka_security
from contracts.tokens import AUDIENCE, LOCAL_ISSUER, TrustedIssuer
from services.accounts import rules
from services.accounts.api import router
from services.accounts.config import Settings
from services.accounts.demo import create_demo_accounts
from services.accounts.logs import configure_logging
from services.accounts.migrate import upgrade
from services.accounts.operations import Desk
from services.accounts.ratelimit import AttemptWindow
from services.accounts.relay import AccountEventRelay
from services.accounts.secret_box import load_secret_box
from services.accounts.signing import load_or_create_key
from services.accounts.store import make_engine

log = structlog.get_logger()


def utc_now() -> datetime:
    return datetime.now(UTC)


def limits(settings: Settings) -> rules.Limits:
    return rules.Limits(
        lockout_after_failures=settings.lockout_after_failures,
        lockout=timedelta(minutes=settings.lockout_minutes),
        session_idle=timedelta(minutes=settings.session_idle_minutes),
        session_max=timedelta(hours=settings.session_max_hours),
        access_token=timedelta(minutes=settings.access_token_minutes),
    )


def create_app(settings: Settings | None = None, *,
               clock: Callable[[], datetime] = utc_now) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("accounts", fmt=settings.log_format, level=settings.log_level)
        kafka = kafka_security(settings, settings.kafka_bootstrap_servers)
        key = load_or_create_key(settings.signing_key_file)
        desk = Desk(key=key, box=load_secret_box(settings), limits=limits(settings),
                    demo_mode=settings.demo_mode)
        engine = make_engine(settings.database_url)
        if settings.migrate_on_start:
            upgrade(engine)
        with Session(engine) as session:
            if created := create_demo_accounts(session, desk, clock()):
                log.info("demo_accounts_created", accounts=created)
            session.commit()
        producer = await _connect(lambda: AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
            request_timeout_ms=settings.kafka_request_timeout_ms, **kafka.client_options()))
        relay = AccountEventRelay(engine, producer, settings.account_events_topic)
        app.state.settings, app.state.engine, app.state.desk = settings, engine, desk
        app.state.clock, app.state.relay = clock, relay
        app.state.attempts = AttemptWindow(settings.login_attempts_per_minute)
        # Accounts keeps the sessions itself and checks them on each request (api._alive).
        app.state.authenticator = Authenticator(
            [TrustedIssuer(LOCAL_ISSUER, AUDIENCE, key=key.public_key())], clock=clock,
            caught_up=True)
        app.state.public_jwk = {**jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key(),
                                                                     as_dict=True),
                                "use": "sig", "alg": "EdDSA", "kid": "accounts-1"}
        task = asyncio.create_task(relay.run(), name="account-event-relay")
        log.info("accounts_started", port=settings.http_port, demo_mode=settings.demo_mode)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await relay.publish_pending()  # what is left goes out on the next start
            await producer.stop()
            engine.dispose()

    app = FastAPI(title="accounts", lifespan=lifespan,
                  summary="Logging in with two factors, sessions, roles and teams.",
                  **http_security.docs_urls(settings))
    app.include_router(router)
    # Logging in takes a password, not a cookie: a browser holding an old session cookie
    # but no CSRF cookie must still be able to log in.
    http_security.install(app, settings, csrf_exempt={"/sessions"})

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> dict[str, bool]:
        return {"ready": True}

    return app


async def _connect(make: Callable[[], AIOKafkaProducer], attempts: int = 60) -> AIOKafkaProducer:
    """Wait for the broker at start-up rather than crash-looping while it boots."""
    for attempt in range(1, attempts + 1):
        producer = make()  # a producer whose start failed is not started again
        try:
            await producer.start()
            return producer
        except Exception as exc:
            with contextlib.suppress(Exception):
                await producer.stop()
            if attempt == attempts:
                raise
            log.info("waiting_for_broker", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)

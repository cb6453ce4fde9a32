"""Builds intake: the FastAPI app, its store, its command writer and its outbox relay.

Nothing runs at import. Start-up does not wait for the broker: commands are accepted into the
outbox while the log is away, and the relay publishes them once it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from contracts import http_security
from contracts.http_auth import authentication
from contracts.kafka_security import kafka_security
from contracts.keystore import KeyStore
from services.intake import store
from services.intake.api import router
from services.intake.config import Settings
from services.intake.decisions import CaseNotFound, InquiryNotFound, InvalidCommand, RuleViolated
from services.intake.logs import configure_logging
from services.intake.migrate import upgrade
from services.intake.relay import OutboxRelay
from services.intake.service import (
    IdempotencyKeyReused,
    Intake,
    NotPermitted,
    StaleVersion,
    StoreUnavailable,
)

log = structlog.get_logger()


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("intake", fmt=settings.log_format, level=settings.log_level)
        kafka = kafka_security(settings, settings.kafka_bootstrap_servers)
        engine = store.make_engine(settings.database_url)
        if settings.migrate_on_start:
            upgrade(engine)
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            request_timeout_ms=settings.kafka_request_timeout_ms,
            security=kafka.broker_security(),
            logger=log,
        )
        relay = OutboxRelay(
            engine=engine, broker=broker, topic=settings.case_events_topic,
            batch_size=settings.relay_batch_size,
            idle_poll_seconds=settings.relay_idle_poll_seconds,
        )
        keys = KeyStore.from_settings(settings)
        keys.prepare()
        intake = Intake(engine=engine, clock=clock, keys=keys, on_commit=relay.wake)
        app.state.engine, app.state.relay, app.state.intake = engine, relay, intake
        app.state.broker, app.state.clock = broker, clock
        app.state.fingerprint_key = keys.master.derive("intake idempotency fingerprint")
        await asyncio.to_thread(intake.erase_pending_keys)
        async with authentication(settings, settings.kafka_bootstrap_servers, clock,
                                  **kafka.client_options()) as auth:
            app.state.authenticator = auth
            intake.start()
            relay.start()
            log.info("intake_started", port=settings.http_port)
            try:
                yield
            finally:
                await intake.stop()
                await relay.stop()
                engine.dispose()
                keys.dispose()

    app = FastAPI(
        title="intake",
        summary="Records what happens in a case as events on the log.",
        description=(
            "Every command appends one event to its case. A 2xx means the event is durably "
            "stored and will reach the log; send `Idempotency-Key` to retry safely and "
            "`If-Match` (the case version, returned as `ETag`) to refuse stale edits."
        ),
        lifespan=lifespan,
        **http_security.docs_urls(settings),
    )
    app.include_router(router)
    http_security.install(app, settings)
    _add_error_handlers(app)
    _add_health_routes(app)
    return app


def _error(status: int, detail: object, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field and the rule, but never echo the value: it may be a person's name,
        # and error bodies end up in proxies, browser consoles and support tickets.
        errors = [
            {"loc": list(e["loc"]), "msg": _withheld(e), "type": e["type"]} for e in exc.errors()
        ]
        return _error(422, errors)

    @app.exception_handler(CaseNotFound)
    async def case_not_found(request: Request, exc: CaseNotFound) -> JSONResponse:
        return _error(404, f"case {exc.args[0]} not found")

    @app.exception_handler(NotPermitted)
    async def not_permitted(request: Request, exc: NotPermitted) -> JSONResponse:
        return _error(403, str(exc))

    @app.exception_handler(InquiryNotFound)
    async def inquiry_not_found(request: Request, exc: InquiryNotFound) -> JSONResponse:
        return _error(404, f"inquiry {exc.args[0]} not found on this case")

    @app.exception_handler(InvalidCommand)
    async def invalid_command(request: Request, exc: InvalidCommand) -> JSONResponse:
        return _error(422, [{"loc": list(exc.field_path), "msg": exc.message, "type": "value_error"}])

    @app.exception_handler(RuleViolated)
    async def rule_violated(request: Request, exc: RuleViolated) -> JSONResponse:
        return _error(409, {"rule": exc.rule, "msg": exc.message})

    @app.exception_handler(StaleVersion)
    async def stale_version(request: Request, exc: StaleVersion) -> JSONResponse:
        detail = {"rule": "stale_version", "msg": str(exc), "current_version": exc.current}
        return _error(409, detail, ETag=f'"{exc.current}"')

    @app.exception_handler(IdempotencyKeyReused)
    async def key_reused(request: Request, exc: IdempotencyKeyReused) -> JSONResponse:
        return _error(422, [{
            "loc": ["header", "Idempotency-Key"], "type": "idempotency_key_reused",
            "msg": "this Idempotency-Key was already used with a different request",
        }])

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return _error(503, f"{exc}; nothing was recorded, retry later", **{"Retry-After": "2"})


def _withheld(error: dict) -> str:
    """The error's message without the rejected value, which some validators quote (the
    contracts' partial dates do: a birth date is as personal as a name)."""
    message, value = error["msg"], error.get("input")
    if isinstance(value, str):
        for quoted in {repr(value), repr(value.strip())}:
            message = message.replace(quoted, "(value withheld)")
    return message


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """Ready means commands are accepted: the store answers and tokens can be checked.
        The log may lag behind."""
        state = request.app.state
        # Off the event loop: a store that hangs must not stall the requests being served.
        backlog = await asyncio.to_thread(_outbox_backlog, state.engine)
        database = backlog is not None
        checks = {
            "database": database,
            "broker": state.relay.connected and await state.broker.ping(timeout=2.0),
            "outbox_backlog": backlog,
            "revocations": state.authenticator.ready(),
        }
        ready = database and checks["revocations"]
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _outbox_backlog(engine) -> int | None:
    """Events not yet on the log, or None if the store does not answer (one query checks both)."""
    try:
        return store.outbox_size(engine)
    except Exception:
        return None

"""Builds intake: the FastAPI app, its store and its Kafka producer. Nothing runs at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from sqlalchemy import text

from services.intake import store
from services.intake.api import router
from services.intake.config import Settings
from services.intake.decisions import CaseNotFound, InquiryNotFound, InvalidCommand
from services.intake.logs import configure_logging
from services.intake.service import Intake, LogUnavailable

log = structlog.get_logger()


def utc_now() -> datetime:
    return datetime.now(UTC)


async def connect(broker: KafkaBroker, *, attempts: int = 60) -> None:
    """Wait for the broker at start-up rather than crash-looping while it boots."""
    for attempt in range(1, attempts + 1):
        try:
            await broker.start()
            return
        except Exception as exc:  # aiokafka raises several connection error types
            with contextlib.suppress(Exception):
                await broker.stop()  # drop a half-started producer before trying again
            if attempt == attempts:
                raise
            log.info("waiting_for_broker", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("intake", fmt=settings.log_format, level=settings.log_level)
        engine = store.make_engine(settings.database_url)
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            request_timeout_ms=settings.kafka_request_timeout_ms,
            logger=log,
        )
        await connect(broker)
        app.state.engine = engine
        app.state.broker = broker
        app.state.intake = Intake(
            engine=engine, broker=broker, topic=settings.case_events_topic, clock=clock
        )
        log.info("intake_started", port=settings.http_port)
        try:
            yield
        finally:
            await broker.stop()
            engine.dispose()

    app = FastAPI(title="intake", summary="Records what happens in a case as events.", lifespan=lifespan)
    app.include_router(router)
    _add_error_handlers(app)
    _add_health_routes(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CaseNotFound)
    async def case_not_found(request: Request, exc: CaseNotFound) -> JSONResponse:
        return JSONResponse({"detail": f"case {exc.args[0]} not found"}, status_code=404)

    @app.exception_handler(InquiryNotFound)
    async def inquiry_not_found(request: Request, exc: InquiryNotFound) -> JSONResponse:
        return JSONResponse(
            {"detail": f"inquiry {exc.args[0]} not found on this case"}, status_code=404
        )

    @app.exception_handler(InvalidCommand)
    async def invalid_command(request: Request, exc: InvalidCommand) -> JSONResponse:
        detail = [{"loc": list(exc.field_path), "msg": exc.message, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(LogUnavailable)
    async def log_unavailable(request: Request, exc: LogUnavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": "the event log is unavailable; nothing was recorded, retry later"},
            status_code=503,
            headers={"Retry-After": "5"},
        )


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        checks = {
            "database": _database_ok(request.app.state.engine),
            "broker": await request.app.state.broker.ping(timeout=2.0),
        }
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _database_ok(engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

"""Builds notify: FastAPI app, store, case-events consumer and the deadline scheduler.

Nothing runs at import; everything starts in the lifespan.
"""

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

from services.notify import store
from services.notify.api import router
from services.notify.config import Settings
from services.notify.eventlog import alert_publisher, caught_up_probe, subscribe_case_events
from services.notify.logs import configure_logging
from services.notify.scheduler import OverdueScheduler

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
                await broker.stop()  # drop half-started consumers before trying again
            if attempt == attempts:
                raise
            log.info("waiting_for_broker", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("notify", fmt=settings.log_format, level=settings.log_level)
        engine = store.make_engine(settings.database_url)
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            acks="all",
            request_timeout_ms=settings.kafka_request_timeout_ms,
            logger=log,
        )
        subscriber = subscribe_case_events(broker, settings, engine)
        try:
            await connect(broker)
        except BaseException:
            engine.dispose()
            raise
        app.state.engine = engine
        app.state.broker = broker
        scheduler = OverdueScheduler(
            engine=engine,
            publish=alert_publisher(broker, settings.alert_events_topic),
            clock=clock,
            interval=settings.scheduler_interval_seconds,
            caught_up=caught_up_probe(subscriber),
            catch_up_timeout=settings.catch_up_timeout_seconds,
        )
        scheduler_task = asyncio.create_task(scheduler.run(), name="notify-scheduler")
        log.info("notify_started", port=settings.http_port)
        try:
            yield
        finally:
            scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler_task
            await broker.stop()
            engine.dispose()

    app = FastAPI(title="notify", summary="Raises an alert when an inquiry goes unanswered.",
                  lifespan=lifespan)
    app.include_router(router)
    _add_health_routes(app)
    return app


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

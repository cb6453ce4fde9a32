"""Builds casefile: the FastAPI app, its read models and its Kafka subscriber; nothing at import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy import Engine, text

from services.casefile import handlers, store
from services.casefile.api import router
from services.casefile.config import Settings
from services.casefile.logs import configure_logging

log = structlog.get_logger()


async def connect(broker: KafkaBroker, *, attempts: int = 60) -> None:
    """Wait for the broker at start-up rather than crash-looping while it boots."""
    for attempt in range(1, attempts + 1):
        try:
            await broker.start()
            return
        except Exception as exc:  # aiokafka raises several connection error types
            if attempt == attempts:
                raise
            log.info("waiting_for_broker", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.5)


def subscribe(broker: KafkaBroker, engine: Engine, settings: Settings) -> None:
    """One subscriber for case and alert events; offsets are committed only after the DB commit."""

    @broker.subscriber(
        settings.case_events_topic,
        settings.alert_events_topic,
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,  # an exception seeks back: the message is retried
    )
    async def on_event(msg: KafkaMessage) -> None:
        record = msg.raw_message
        await handlers.handle_message(
            engine, msg.body, topic=record.topic, partition=record.partition, offset=record.offset
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("casefile", fmt=settings.log_format, level=settings.log_level)
        engine = store.make_engine(settings.database_url)
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            request_timeout_ms=settings.kafka_request_timeout_ms,
            logger=log,
        )
        subscribe(broker, engine, settings)
        await connect(broker)
        app.state.engine = engine
        app.state.broker = broker
        log.info("casefile_started", port=settings.http_port)
        try:
            yield
        finally:
            await broker.stop()
            engine.dispose()

    app = FastAPI(
        title="casefile", summary="Cases, inquiries and timelines, folded from the log.",
        lifespan=lifespan,
    )
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


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

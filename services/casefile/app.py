"""Builds casefile: the FastAPI app, its read models and its Kafka subscriber; nothing at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from aiokafka import ConsumerRebalanceListener
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy import Engine, text

from contracts import http_security
from contracts.http_auth import authentication
from contracts.kafka_security import kafka_security
from contracts.keystore import KeyStore
from services.casefile import dead_letters, store
from services.casefile.access_audit import service as access_audit
from services.casefile.access_audit.api import router as access_router
from services.casefile.api import router
from services.casefile.config import Settings
from services.casefile.handlers import LiveProjection, RetryingProjection
from services.casefile.logs import configure_logging
from services.casefile.metrics import CasefileMetrics, progress
from services.casefile.projections import ALERT_STREAM, CASE_STREAM

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


class ResumeFromStore(ConsumerRebalanceListener):
    """On assignment, continue each partition from the position committed with the read
    models, not from the group's Kafka offset: a dropped or new database replays from 0."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.subscriber = None

    async def on_partitions_revoked(self, revoked) -> None:
        return None

    async def on_partitions_assigned(self, assigned) -> None:
        positions = await asyncio.to_thread(store.positions, self._engine)
        consumer = self.subscriber.consumer
        for tp in assigned:
            consumer.seek(tp, positions.get((tp.topic, tp.partition), 0))


def subscribe(
    broker: KafkaBroker, projection: RetryingProjection, settings: Settings, engine: Engine,
    topics: Sequence[str], group_id: str,
):
    """A subscriber to `topics` for `projection`; offsets are committed only after the DB commit,
    and each partition resumes from the position committed with the read models."""
    resume = ResumeFromStore(engine)
    subscriber = broker.subscriber(
        *topics,
        group_id=group_id,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,  # an exception seeks back: the message is retried
        listener=resume,
    )
    resume.subscriber = subscriber

    @subscriber
    async def on_message(msg: KafkaMessage) -> None:
        await projection.handle(msg.raw_message)

    return subscriber


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("casefile", fmt=settings.log_format, level=settings.log_level)
        kafka = kafka_security(settings, settings.kafka_bootstrap_servers)
        keys = KeyStore.from_settings(settings)  # refuses to start without the master key
        keys.prepare()
        engine = store.make_engine(settings.database_url)
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers, acks="all",
            request_timeout_ms=settings.kafka_request_timeout_ms,
            security=kafka.broker_security(), logger=log,
        )
        # the subscriber is made below; its consumer exists once the broker has started
        metrics = CasefileMetrics(engine, lambda: getattr(subscriber, "consumer", None))

        async def publish_dead_letter(letter: dead_letters.DeadLetter) -> None:
            await broker.publish(
                letter.value or b"", topic=settings.dead_letter_topic, key=letter.key,
                headers=letter.headers(),
            )

        projection = LiveProjection(
            engine=engine,
            streams={settings.case_events_topic: CASE_STREAM,
                     settings.alert_events_topic: ALERT_STREAM},
            publish_dead_letter=publish_dead_letter, metrics=metrics,
            consumer_group=settings.consumer_group,
            attempts=settings.dead_letter_after_attempts, backoff=settings.retry_backoff_seconds,
        )
        subscriber = subscribe(
            broker, projection, settings, engine,
            topics=(settings.case_events_topic, settings.alert_events_topic),
            group_id=settings.consumer_group)
        accesses = access_audit.build(settings, broker, engine, clock, publish_dead_letter,
                                      metrics)
        try:
            await connect(broker)
            await dead_letters.ensure_topic(
                settings.kafka_bootstrap_servers, settings.dead_letter_topic,
                request_timeout_ms=settings.kafka_request_timeout_ms, **kafka.client_options(),
            )
            await access_audit.ensure_topic(settings, **kafka.client_options())
        except BaseException:
            await broker.stop()
            engine.dispose()
            keys.dispose()
            accesses.outbox_engine.dispose()
            raise
        app.state.engine = engine
        app.state.keys = keys
        app.state.broker = broker
        app.state.metrics = metrics
        app.state.clock = clock
        app.state.subscriber = subscriber
        app.state.settings = settings
        app.state.access_audit = accesses
        accesses.relay.start()
        accesses.follow(lambda: subscribe(
            broker, accesses.projection, settings, engine, topics=(accesses.topic,),
            group_id=access_audit.access_consumer_group(settings)))
        async with authentication(settings, settings.kafka_bootstrap_servers, clock,
                                  **kafka.client_options()) as auth:
            app.state.authenticator = auth
            log.info("casefile_started", port=settings.http_port)
            try:
                yield
            finally:
                await accesses.stop()
                await broker.stop()
                engine.dispose()
                keys.dispose()
                accesses.outbox_engine.dispose()

    app = FastAPI(
        title="casefile",
        summary="Cases, timelines, recipients and audit replay, folded from the log.",
        lifespan=lifespan,
        **http_security.docs_urls(settings),
    )
    app.include_router(router)
    app.include_router(access_router)
    http_security.install(app, settings)
    _add_operations_routes(app)
    return app


def _add_operations_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        checks = {
            "database": await asyncio.to_thread(_database_ok, state.engine),
            "broker": await state.broker.ping(timeout=2.0),
            "revocations": state.authenticator.ready(),
        }
        consumer = getattr(state.subscriber, "consumer", None)
        topics = (state.settings.case_events_topic, state.settings.alert_events_topic)
        try:
            partitions = await asyncio.to_thread(progress, state.engine, consumer, topics)
            accesses = await asyncio.to_thread(state.access_audit.status)
        except Exception:
            partitions, accesses = [], None
        ready = all(checks.values())
        body = {
            "ready": ready,
            "checks": checks,
            "consumer": {
                "lag": sum(p.lag or 0 for p in partitions),
                "partitions": [vars(p) for p in partitions],
            },
            "accesses": accesses,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus text format: applied and dead-lettered messages, offsets and lag."""
        body = await asyncio.to_thread(request.app.state.metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def _database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

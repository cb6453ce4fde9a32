"""Builds notify: FastAPI app, store, the consumer of both topics, the scheduler and its relay.

Nothing runs at import; everything starts in the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlmodel import Session

from contracts import http_security
from contracts.alert_events import DeliveryChannel
from contracts.http_auth import authentication
from contracts.kafka_security import kafka_security
from services.notify import store
from services.notify.api import router
from services.notify.channels.email import EmailChannel
from services.notify.channels.errors import ChannelNotConfigured
from services.notify.channels.webhook import WebhookChannel
from services.notify.config import Settings
from services.notify.deliveries import Deliverer, RetryPolicy, Sender
from services.notify.digests import DigestMailer
from services.notify.directory import load_directory
from services.notify.eventlog import (
    caught_up_probe,
    dead_letter_publisher,
    ensure_topic,
    outbox_publisher,
    subscribe,
)
from services.notify.handlers import Consumer
from services.notify.logs import configure_logging
from services.notify.metrics import NotifyMetrics
from services.notify.policies import load_policies
from services.notify.reconcile import Context, adopt_policies
from services.notify.relay import Relay
from services.notify.scheduler import Scheduler

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


def decision_context(settings: Settings, senders: dict[DeliveryChannel, Sender]) -> Context:
    """Policies and advocates from their files: a bad file stops notify with its reason."""
    directory = load_directory(settings.advocates_file)

    def channels_of(account: str) -> list[DeliveryChannel]:
        return [c for c in directory.channels_of(account) if c in senders]

    return Context(
        book=load_policies(settings.deadline_policies_file), directory=directory,
        channels_of=channels_of, family_silent_days=settings.family_silent_days,
        reprisal_window=timedelta(days=settings.reprisal_alert_window_days),
    )


def delivery_channels(settings: Settings) -> dict[DeliveryChannel, Sender]:
    """The channels the settings allow; one left unconfigured is off, and says why."""
    senders: dict[DeliveryChannel, Sender] = {}
    if settings.smtp_host:
        senders[DeliveryChannel.EMAIL] = EmailChannel(settings)  # misconfigured: refuse to start
    try:
        senders[DeliveryChannel.WEBHOOK] = WebhookChannel(settings)
    except ChannelNotConfigured as exc:
        log.info("webhook_channel_off", reason=str(exc))
    if not settings.smtp_host:
        log.info("email_channel_off", reason="SMTP_HOST is not set")
    return senders


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(max_attempts=settings.delivery_max_attempts,
                       base_seconds=settings.delivery_backoff_base_seconds,
                       cap_seconds=settings.delivery_backoff_cap_seconds)


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("notify", fmt=settings.log_format, level=settings.log_level)
        kafka = kafka_security(settings, settings.kafka_bootstrap_servers)
        exit_stack = contextlib.AsyncExitStack()
        senders = delivery_channels(settings)
        ctx = decision_context(settings, senders)
        engine = store.make_engine(settings.database_url)
        with Session(engine) as session:
            if adopt_policies(session, ctx.book):
                log.info("deadline_policies_adopted",
                         policies=[p.label for p in ctx.book.policies])
            session.commit()
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers, acks="all",
            request_timeout_ms=settings.kafka_request_timeout_ms,
            security=kafka.broker_security(), logger=log,
        )
        scheduler: Scheduler | None = None
        consumer = Consumer(
            engine=engine, case_events_topic=settings.case_events_topic,
            channels_of=ctx.channels_of, dead_letter=dead_letter_publisher(broker, settings),
            on_applied=lambda: scheduler.wake.set() if scheduler else None,
            attempts=settings.dead_letter_after_attempts, backoff=settings.retry_backoff_seconds,
        )
        subscriber = subscribe(broker, settings, consumer)
        try:
            await connect(broker)
            await ensure_topic(settings.kafka_bootstrap_servers, settings.dead_letter_topic,
                               request_timeout_ms=settings.kafka_request_timeout_ms,
                               **kafka.client_options())
        except BaseException:
            await broker.stop()
            engine.dispose()
            raise
        metrics = NotifyMetrics(engine, clock)
        scheduler = Scheduler(
            engine=engine, ctx=ctx, clock=clock, metrics=metrics,
            relay=Relay(engine, outbox_publisher(broker, settings.alert_events_topic)),
            caught_up=caught_up_probe(subscriber), interval=settings.scheduler_interval_seconds,
            catch_up_timeout=settings.catch_up_timeout_seconds,
        )
        async def may_deliver() -> bool:
            return scheduler.judging  # deliveries read back from the log are not sent again

        deliverer = Deliverer(
            engine=engine, ctx=ctx, senders=senders, clock=clock, may_deliver=may_deliver,
            public_base_url=settings.public_base_url, retry=retry_policy(settings),
            interval=settings.scheduler_interval_seconds, metrics=metrics,
        )
        scheduler.on_raised = deliverer.wake.set
        app.state.metrics = metrics
        app.state.engine, app.state.broker, app.state.ctx = engine, broker, ctx
        app.state.clock, app.state.scheduler = clock, scheduler
        app.state.subscriber = subscriber
        app.state.authenticator = await exit_stack.enter_async_context(
            authentication(settings, settings.kafka_bootstrap_servers, clock,
                           **kafka.client_options()))
        tasks = [asyncio.create_task(scheduler.run(), name="notify-scheduler"),
                 asyncio.create_task(deliverer.run(), name="notify-deliverer")]
        email = senders.get(DeliveryChannel.EMAIL)
        if email is not None and settings.digest_hour_utc is not None:
            mailer = DigestMailer(engine=engine, ctx=ctx, email=email, clock=clock,
                                  hour_utc=settings.digest_hour_utc,
                                  public_base_url=settings.public_base_url,
                                  interval=max(settings.scheduler_interval_seconds, 1.0))
            tasks.append(asyncio.create_task(mailer.run(), name="notify-digests"))
        log.info("notify_started", port=settings.http_port)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await exit_stack.aclose()
            await broker.stop()
            for sender in senders.values():
                if close := getattr(sender, "aclose", None):
                    await close()
            engine.dispose()

    app = FastAPI(title="notify", lifespan=lifespan,
                  summary="Deadlines that explain themselves, and alerts that arrive once.",
                  **http_security.docs_urls(settings))
    app.include_router(router)
    http_security.install(app, settings)
    _add_health_routes(app)
    return app


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus text format: tick costs, events recorded, deliveries, what waits."""
        state = request.app.state
        with contextlib.suppress(Exception):  # a rebalance in progress: lag unknown this time
            await state.metrics.measure_lag(getattr(state.subscriber, "consumer", None))
        body = await asyncio.to_thread(state.metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        checks = {
            "database": await asyncio.to_thread(_database_ok, state.engine),
            "broker": await state.broker.ping(timeout=2.0),
            "caught_up": state.scheduler.judging,
            "revocations": state.authenticator.ready(),
        }
        ready = checks["database"] and checks["broker"] and checks["revocations"]
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _database_ok(engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

"""Delivering alerts: each (alert, advocate, channel) tried until delivered or given up.

A delivery is claimed with a lease before it is sent, so two replicas never send it at once,
and one that dies mid-send leaves it to be tried again when the lease runs out. Sends run side
by side with a timeout each: a slow or failing channel never holds up other alerts. Success
and final failure are events in the case's notify stream (alert_delivered,
alert_delivery_failed); each failed attempt is kept on the delivery row with its error.
Delivery is at least once: a crash between a send and its record sends it again, with the
same Message-ID or webhook delivery id, so the receiving end can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from contracts.alert_events import (
    AlertDelivered,
    AlertDeliveredData,
    AlertDeliveryFailed,
    AlertDeliveryFailedData,
    DeliveryChannel,
)
from services.notify import rules
from services.notify.channels.errors import DeliveryFailed
from services.notify.channels.message import AlertMessage, case_link
from services.notify.channels.retry import next_attempt_at, should_give_up
from services.notify.metrics import NotifyMetrics
from services.notify.reconcile import Context
from services.notify.store import Alert, Delivery
from services.notify.stream import Draft, append, lock_stream

log = structlog.get_logger()


class Sender(Protocol):
    async def send(self, message: AlertMessage, address: str) -> None: ...


@dataclass(frozen=True)
class Claimed:
    delivery: Delivery
    message: AlertMessage


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 15.0
    cap_seconds: float = 1800.0
    lease_seconds: float = 120.0  # longer than any one send may take
    send_timeout_seconds: float = 60.0


@dataclass
class Deliverer:
    engine: Engine
    ctx: Context
    senders: dict[DeliveryChannel, Sender]
    clock: Callable[[], datetime]
    may_deliver: Callable[[], Awaitable[bool]]  # not before the log has been read back
    public_base_url: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    interval: float = 1.0
    batch_size: int = 50
    jitter: Callable[[], float] = random.random
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: NotifyMetrics | None = None

    async def run(self) -> None:
        while True:
            try:
                if await self.may_deliver():
                    await self.deliver_due()
            except Exception as exc:
                log.error("delivery_round_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval)
            self.wake.clear()

    async def deliver_due(self) -> int:
        """Send every delivery that is due now; returns how many were attempted."""
        claimed = await asyncio.to_thread(self._claim, self.clock())
        await asyncio.gather(*(self._deliver(item) for item in claimed))
        return len(claimed)

    def _claim(self, now: datetime) -> list[Claimed]:
        leased_until = now + timedelta(seconds=self.retry.lease_seconds)
        claimed = []
        with Session(self.engine, expire_on_commit=False) as session:
            due = list(session.exec(
                select(Delivery, Alert).join(Alert, Alert.alert_id == Delivery.alert_id)
                .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at).limit(self.batch_size)))
            for delivery, alert in due:
                taken = session.execute(
                    update(Delivery).where(
                        Delivery.alert_id == delivery.alert_id,
                        Delivery.recipient == delivery.recipient,
                        Delivery.channel == delivery.channel,
                        Delivery.next_attempt_at == delivery.next_attempt_at,
                        Delivery.state == "pending")
                    .values(next_attempt_at=leased_until))
                if taken.rowcount == 1:  # another replica's claim makes it 0
                    claimed.append(Claimed(delivery, self._message(alert, delivery.recipient)))
            session.commit()
        return claimed

    def _message(self, alert: Alert, recipient: str) -> AlertMessage:
        return AlertMessage(
            alert_id=alert.alert_id, kind=alert.kind, case_id=alert.case_id,
            inquiry_id=alert.inquiry_id, due_at=alert.due_at, raised_at=alert.raised_at,
            reason=alert.reason, recipient=recipient,
            link=case_link(self.public_base_url, alert.case_id) if self.public_base_url else None,
        )

    async def _deliver(self, item: Claimed) -> None:
        delivery = item.delivery
        channel = DeliveryChannel(delivery.channel)
        bound = log.bind(alert_id=str(delivery.alert_id), case_id=str(delivery.case_id),
                         recipient=delivery.recipient, channel=channel.value)
        try:
            address = self.ctx.directory.address(delivery.recipient, channel)
            sender = self.senders.get(channel)
            if address is None or sender is None:
                raise DeliveryFailed(f"{channel.value}_not_available", retryable=False)
            async with asyncio.timeout(self.retry.send_timeout_seconds):
                await sender.send(item.message, address)
        except DeliveryFailed as failure:
            outcome = failure
        except TimeoutError:
            outcome = DeliveryFailed(f"{channel.value}_timeout", retryable=True)
        except Exception as exc:  # a bug in a channel must not stop the others
            outcome = DeliveryFailed(f"{channel.value}_{type(exc).__name__}", retryable=True)
        else:
            outcome = None
        await asyncio.to_thread(self._record, delivery, outcome, self.clock())
        if self.metrics is not None:
            result = "delivered" if outcome is None else (
                "retrying" if outcome.retryable else "failed")
            self.metrics.deliveries.labels(channel.value, result).inc()
        if outcome is None:
            bound.info("alert_delivered", attempts=delivery.attempts + 1)
        else:
            bound.warning("alert_delivery_failed", error=outcome.error,
                          retryable=outcome.retryable, attempts=delivery.attempts + 1)

    def _record(self, claimed: Delivery, failure: DeliveryFailed | None, now: datetime) -> None:
        with Session(self.engine) as session:
            lock_stream(session, claimed.case_id)  # first, as every decision on the case does
            delivery = session.get(Delivery, (claimed.alert_id, claimed.recipient, claimed.channel))
            if delivery is None or delivery.state != "pending":
                session.commit()
                return  # withdrawn meanwhile: nothing more to record
            attempts = delivery.attempts + 1
            channel = DeliveryChannel(delivery.channel)
            ids = (claimed.alert_id, claimed.recipient, channel.value)
            if failure is None:
                draft = Draft(AlertDelivered, event_id=rules.derived_id("alert_delivered", *ids),
                              data=AlertDeliveredData(alert_id=claimed.alert_id,
                                                      recipient=claimed.recipient,
                                                      channel=channel, attempts=attempts),
                              correlation_id=claimed.alert_id, causation_id=claimed.alert_id)
            elif failure.retryable and not should_give_up(attempts, self.retry.max_attempts):
                delivery.attempts, delivery.last_error = attempts, failure.error
                delivery.next_attempt_at = next_attempt_at(
                    attempts, now, base_seconds=self.retry.base_seconds,
                    cap_seconds=self.retry.cap_seconds, jitter=self.jitter())
                session.add(delivery)
                session.commit()
                return
            else:
                delivery.attempts, delivery.last_error = attempts, failure.error
                session.add(delivery)
                draft = Draft(AlertDeliveryFailed,
                              event_id=rules.derived_id("alert_delivery_failed", *ids),
                              data=AlertDeliveryFailedData(
                                  alert_id=claimed.alert_id, recipient=claimed.recipient,
                                  channel=channel, attempts=attempts, error=failure.error),
                              correlation_id=claimed.alert_id, causation_id=claimed.alert_id)
            append(session, claimed.case_id, [draft], now=now, channels_of=self.ctx.channels_of)
            session.commit()

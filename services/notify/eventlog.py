"""Notify's ends of the Kafka log: one subscriber for case-events and its own alert-events, the
publisher of its outbox, and its dead-letter topic."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from contracts.asyncapi import declare_alert_events
from services.notify.config import Settings
from services.notify.handlers import Consumer, Rejected
from services.notify.relay import Publish
from services.notify.store import OutboxEvent

TOPIC_ALREADY_EXISTS = 36


def subscribe(broker: KafkaBroker, settings: Settings, consumer: Consumer):
    """Both topics in one consumer group, a poll's worth at a time; offsets are committed only
    after the DB commit, and an exception seeks back to the batch's first message."""
    subscriber = broker.subscriber(
        settings.case_events_topic, settings.alert_events_topic,
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        batch=True, max_records=settings.consumer_batch_size, batch_timeout_ms=100,
    )

    @subscriber
    async def on_messages(msg: KafkaMessage) -> None:
        await consumer.handle_batch(msg.raw_message)

    return subscriber


def caught_up_probe(subscriber):
    """True once every partition this replica owns is committed up to its high watermark.

    Committed (not fetched) offsets, because faststream commits only after the DB commit.
    The high watermark comes from fetch responses: Tansu's ListOffsets is wrong on S3 storage.
    """

    async def caught_up() -> bool:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None or not consumer.assignment():
            return False
        try:
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is None or (await consumer.committed(partition) or 0) < highwater:
                    return False
        except Exception:  # a rebalance in progress: ask again next tick
            return False
        return True

    return caught_up


def outbox_publisher(broker: KafkaBroker, topic: str) -> Publish:
    """Publish a recorded event keyed by its case, acknowledged by all in-sync replicas."""
    publisher = declare_alert_events(broker, topic)

    async def publish(event: OutboxEvent) -> None:
        await publisher.publish(
            event.body.encode(), key=str(event.case_id).encode(),
            headers={"event-type": event.type},
        )

    return publish


def dead_letter_publisher(broker: KafkaBroker, settings: Settings):
    async def dead_letter(rejected: Rejected) -> None:
        await broker.publish(
            rejected.record.value or b"", topic=settings.dead_letter_topic,
            key=rejected.record.key, headers=rejected.headers(settings.consumer_group),
        )

    return dead_letter


async def ensure_topic(bootstrap_servers: str, topic: str, *, request_timeout_ms: int,
                       **client_options) -> None:
    """Create the dead-letter topic if missing, kept forever like the log it shadows."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers,
                                request_timeout_ms=request_timeout_ms, **client_options)
    await admin.start()
    try:
        if topic in set(await admin.list_topics()):
            return
        response = await admin.create_topics([NewTopic(
            topic, num_partitions=1, replication_factor=1, topic_configs={"retention.ms": "-1"})])
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {name!r}: error {code} {message or ''}")
    finally:
        await asyncio.shield(admin.close())

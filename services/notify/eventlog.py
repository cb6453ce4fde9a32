"""Notify's two ends of the Kafka log: the case-events subscriber and the alert publisher."""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from sqlalchemy import Engine

from contracts import InquiryOverdue, encode_event
from contracts.asyncapi import declare_alert_events
from services.notify.config import Settings
from services.notify.handlers import case_event_handler
from services.notify.scheduler import Probe, Publish


def subscribe_case_events(broker: KafkaBroker, settings: Settings, engine: Engine):
    """Register the case-events subscriber; commits happen only after the handler returns."""
    subscriber = broker.subscriber(
        settings.case_events_topic,
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )
    subscriber(case_event_handler(engine, default_response_days=settings.default_response_days))
    return subscriber


def caught_up_probe(subscriber) -> Probe:
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


def alert_publisher(broker: KafkaBroker, topic: str) -> Publish:
    """Publish an alert keyed by its case, acknowledged by all in-sync replicas (acks=all)."""

    publisher = declare_alert_events(broker, topic)

    async def publish(event: InquiryOverdue) -> None:
        await publisher.publish(
            encode_event(event),
            key=str(event.case_id).encode(),
            headers={"event-type": event.type, "schema-version": str(event.schema_version)},
            correlation_id=str(event.correlation_id),
        )

    return publish

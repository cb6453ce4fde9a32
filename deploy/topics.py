"""Create the topics the services use, if they do not exist yet."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap_servers: str, topics: list[str], *, partitions: int = 3, timeout: float = 30.0,
    **client_options,
) -> None:
    """Create missing topics with infinite retention: the case log is never trimmed.
    `client_options` (TLS, SASL) go to the admin client."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000,
                                **client_options)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=1,
                         topic_configs={"retention.ms": "-1"})
                for t in missing
            ]
        )
        for topic, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {topic!r}: error {code} {message or ''}")
    finally:
        await admin.close()


async def log_is_empty(bootstrap_servers: str, topic: str, **client_options) -> bool:
    """True if no message was ever written to the topic.

    Reads the high watermark from a fetch response: with S3 storage the embedded broker
    answers ListOffsets wrongly, so `end_offsets()` cannot be trusted there.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                **client_options)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return True
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for _ in range(50):
            if await consumer.getmany(timeout_ms=200):
                return False
            highwater = [consumer.highwater(tp) for tp in partitions]
            if all(hw is not None for hw in highwater):
                return not any(highwater)
        raise TimeoutError(f"no fetch response for {topic} from {bootstrap_servers}")
    finally:
        await consumer.stop()

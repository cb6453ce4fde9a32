"""The dead-letter topic: messages casefile could not decode or apply, with why and whence."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

TOPIC_ALREADY_EXISTS = 36

DECODE, APPLY = "decode", "apply"


@dataclass(frozen=True)
class DeadLetter:
    """A message that could not be used, where it came from, and why (no content in `reason`)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    stage: str  # decode or apply
    reason: str
    case_id: UUID | None
    event_id: UUID | None
    consumer_group: str

    def headers(self) -> dict[str, str]:
        """What an operator needs to find the original and replay it once fixed."""
        headers = {
            "dead-letter-stage": self.stage,
            "dead-letter-reason": self.reason,
            "dead-letter-consumer-group": self.consumer_group,
            "original-topic": self.topic,
            "original-partition": str(self.partition),
            "original-offset": str(self.offset),
        }
        if self.case_id is not None:
            headers["case-id"] = str(self.case_id)
        if self.event_id is not None:
            headers["event-id"] = str(self.event_id)
        return headers


async def ensure_topic(
    bootstrap_servers: str, topic: str, *, request_timeout_ms: int, partitions: int = 1,
    **client_options,
) -> None:
    """Create the dead-letter topic (or another of casefile's) if missing, kept forever like
    the log it shadows."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=request_timeout_ms,
        **client_options,
    )
    await admin.start()
    try:
        if topic in set(await admin.list_topics()):
            return
        response = await admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=1,
                      topic_configs={"retention.ms": "-1"})]
        )
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {name!r}: error {code} {message or ''}")
    finally:
        await asyncio.shield(admin.close())

"""Create the topics the services use, if they do not exist yet; on a real cluster, as the
topic plan (deploy/topic_plan.py) says, and check the ones that exist against it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError

from deploy.topic_plan import Durability, TopicSpec, topic_configs

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap_servers: str, topics: list[str], *, partitions: int = 3, timeout: float = 30.0,
    **client_options,
) -> None:
    """Create missing topics with infinite retention: the case log is never trimmed.
    `client_options` (TLS, SASL) go to the admin client."""
    admin = await _started_admin(bootstrap_servers, timeout, client_options)
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


@dataclass(frozen=True)
class TopicState:
    """A topic as the cluster describes it."""

    partitions: int
    replication_factor: int
    configs: dict[str, str]


def drift(spec: TopicSpec, durability: Durability, state: TopicState) -> list[str]:
    """How an existing topic differs from the plan, one sentence each; empty if it does not."""
    problems = []
    if state.partitions != durability.partitions:
        # Keys map to partitions by their count: changing it would split a case's events
        # across partitions, and their order with them.
        problems.append(f"{spec.name}: {state.partitions} partitions, the plan says "
                        f"{durability.partitions} (a keyed topic's partitions cannot change "
                        "without breaking per-case order)")
    if state.replication_factor != durability.replication_factor:
        problems.append(f"{spec.name}: replication factor {state.replication_factor}, the plan "
                        f"says {durability.replication_factor}")
    for name, wanted in topic_configs(spec, durability).items():
        found = state.configs.get(name)
        if found is not None and found != wanted:
            problems.append(f"{spec.name}: {name}={found}, the plan says {wanted}")
    return problems


@dataclass
class Provisioned:
    created: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def provision_topics(
    bootstrap_servers: str, plan: Sequence[TopicSpec], durability: Durability, *,
    timeout: float = 120.0, **client_options,
) -> Provisioned:
    """Create the plan's missing topics and check every one of them against it. Nothing that
    exists is changed: a difference is reported for a person to decide on."""
    admin = await _started_admin(bootstrap_servers, timeout, client_options)
    result = Provisioned()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in plan if spec.name not in existing]
        if missing:
            response = await admin.create_topics([
                NewTopic(spec.name, num_partitions=durability.partitions,
                         replication_factor=durability.replication_factor,
                         topic_configs=topic_configs(spec, durability))
                for spec in missing])
            refused = {topic: f"{topic}: not created, error {code} {message or ''}"
                       for topic, code, message in response.topic_errors
                       if code not in (0, TOPIC_ALREADY_EXISTS)}
            result.problems += refused.values()
            result.created = [spec.name for spec in missing if spec.name not in refused]
        states = await _describe(admin, [spec.name for spec in plan])
        for spec in plan:
            if spec.name in states:
                result.problems += drift(spec, durability, states[spec.name])
            elif spec.name in existing or spec.name in result.created:
                result.problems.append(f"{spec.name}: the cluster does not describe it")
    finally:
        await admin.close()
    return result


async def _started_admin(bootstrap_servers: str, timeout: float,
                         client_options: dict) -> AIOKafkaAdminClient:
    """An admin client, waiting up to `timeout` for a cluster that is still starting."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers,
                                    request_timeout_ms=10_000, **client_options)
        try:
            await admin.start()
            return admin
        except KafkaConnectionError:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, TopicState]:
    described = {topic["topic"]: topic for topic in await admin.describe_topics(names)
                 if topic["error_code"] == 0}
    configs: dict[str, dict[str, str]] = {name: {} for name in described}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in described])
    for response in responses:
        for error_code, _message, _type, name, entries in response.resources:
            if error_code == 0 and name in configs:
                configs[name] = {entry[0]: entry[1] for entry in entries}
    return {name: TopicState(partitions=len(topic["partitions"]),
                             replication_factor=max((len(p["replicas"])
                                                     for p in topic["partitions"]), default=0),
                             configs=configs[name])
            for name, topic in described.items()}


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

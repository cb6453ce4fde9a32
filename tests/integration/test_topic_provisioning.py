"""Topic provisioning against the real embedded broker (Tansu): what is missing is created as
planned, what exists is checked against the plan and never changed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import replace

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts import topics
from deploy.embedded import EmbeddedBroker
from deploy.processes import free_port
from deploy.topic_plan import TOPICS, Durability
from deploy.topics import _describe, provision_topics
from tests.deploy_support import ROOT

pytestmark = pytest.mark.integration

# One broker has room for one copy of each partition.
ONE_BROKER = Durability(partitions=4, replication_factor=1, min_insync_replicas=1)


@pytest.fixture(scope="module")
def cluster():
    """A broker of this module's own: the command under test provisions the real topic names."""
    broker = EmbeddedBroker(kafka_port=free_port(), durable=False)
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def own_plan():
    suffix = uuid.uuid4().hex[:8]
    return [replace(spec, name=f"{spec.name}-{suffix}") for spec in TOPICS]


async def described(bootstrap_servers: str, names: list[str]):
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        return await _describe(admin, names)
    finally:
        await admin.close()


def test_missing_topics_are_created_as_planned_and_a_second_run_changes_nothing(cluster):
    plan = own_plan()
    first = asyncio.run(provision_topics(cluster, plan, ONE_BROKER))
    assert (first.created, first.problems) == ([spec.name for spec in plan], [])
    states = asyncio.run(described(cluster, [spec.name for spec in plan]))
    for spec in plan:
        assert states[spec.name].partitions == 4
        assert states[spec.name].configs["retention.ms"] == "-1"  # the log is never trimmed
        assert states[spec.name].configs["unclean.leader.election.enable"] == "false"
    again = asyncio.run(provision_topics(cluster, plan, ONE_BROKER))
    assert (again.created, again.problems) == ([], [])


def test_a_topic_unlike_the_plan_is_reported_and_left_as_it_is(cluster):
    plan = own_plan()
    case_log = plan[0].name

    async def create_trimmed_topic():
        admin = AIOKafkaAdminClient(bootstrap_servers=cluster)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(case_log, num_partitions=2, replication_factor=1,
                                                topic_configs={"retention.ms": "604800000"})])
        finally:
            await admin.close()

    asyncio.run(create_trimmed_topic())
    result = asyncio.run(provision_topics(cluster, plan, ONE_BROKER))
    assert case_log not in result.created
    assert len(result.created) == len(plan) - 1
    assert result.problems == [
        f"{case_log}: 2 partitions, the plan says 4 (a keyed topic's partitions cannot change "
        "without breaking per-case order)",
        f"{case_log}: retention.ms=604800000, the plan says -1"]
    state = asyncio.run(described(cluster, [case_log]))[case_log]
    assert (state.partitions, state.configs["retention.ms"]) == (2, "604800000")


def provision_command(cluster: str, **settings: str) -> subprocess.CompletedProcess:
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": cluster, "TOPIC_REPLICATION_FACTOR": "1",
                        "TOPIC_MIN_INSYNC_REPLICAS": "1", "TOPIC_PARTITIONS": "3",
                        "PROVISION_TIMEOUT_SECONDS": "20"} | settings
    return subprocess.run([sys.executable, "-m", "deploy.provision", "topics"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_the_provisioning_command_creates_every_topic_the_services_use(cluster):
    done = provision_command(cluster)
    assert done.returncode == 0, done.stderr
    assert {line.removeprefix("created ") for line in done.stdout.splitlines()
            if line.startswith("created ")} == set(topics.ALL_TOPICS)
    assert "6 topics as planned: 3 partitions, replication 1, min.insync.replicas 1" in done.stdout


def test_the_provisioning_command_refuses_impossible_durability_naming_it(cluster):
    done = provision_command(cluster, TOPIC_MIN_INSYNC_REPLICAS="2")
    assert done.returncode == 2
    assert "min.insync.replicas must be between 1 and the replication factor (1), not 2" in (
        done.stderr)

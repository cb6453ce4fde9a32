"""Provision a Kafka cluster for the services: `python -m deploy.provision topics|acl-script`.

`topics` creates the topics of deploy/topic_plan.py that are missing (partitions, replication,
min.insync.replicas, infinite retention) and checks those that exist against the plan; it
exits 1 naming every difference, changing nothing that exists. `acl-script` prints the shell
script that grants each service's principal what it needs and nothing more (with Kafka's
kafka-acls.sh, which a cluster's admin already has).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.kafka_security import KafkaSecurityError, KafkaSecuritySettings, kafka_security
from deploy.topic_plan import TOPICS, Durability, acl_script, grants
from deploy.topics import provision_topics


class ProvisionSettings(KafkaSecuritySettings, BaseSettings):
    """What `python -m deploy.provision topics` reads from the environment."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The brokers, comma-separated `host:port`; the client authenticates as the cluster's
    admin (the KAFKA_SASL_* or KAFKA_SSL_* settings)."""
    topic_partitions: int = Field(default=3, ge=1)
    """Partitions of every topic: at most this many replicas of a service share the work.
    Choose once: a keyed topic's partitions cannot change without breaking per-case order."""
    topic_replication_factor: int = Field(default=3, ge=1)
    """Copies of every partition, on as many brokers."""
    topic_min_insync_replicas: int = Field(default=2, ge=1)
    """Copies that must hold a write before it is acknowledged (producers use acks=all)."""
    provision_timeout_seconds: float = Field(default=120.0, gt=0)
    """How long to wait for a cluster that is still starting."""


def topics_command(settings: ProvisionSettings) -> int:
    try:
        durability = Durability(settings.topic_partitions, settings.topic_replication_factor,
                                settings.topic_min_insync_replicas)
        options = kafka_security(settings, settings.kafka_bootstrap_servers).client_options()
    except (ValueError, KafkaSecurityError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    result = asyncio.run(provision_topics(
        settings.kafka_bootstrap_servers, TOPICS, durability,
        timeout=settings.provision_timeout_seconds, **options))
    for name in result.created:
        print(f"created {name}")
    for problem in result.problems:
        print(f"differs from the plan: {problem}", file=sys.stderr)
    if result.problems:
        return 1
    print(f"{len(TOPICS)} topics as planned: {durability.partitions} partitions, replication "
          f"{durability.replication_factor}, min.insync.replicas "
          f"{durability.min_insync_replicas}, kept forever")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("topics", help="create missing topics, check existing ones")
    script = commands.add_parser("acl-script", help="print the ACL script (kafka-acls.sh)")
    script.add_argument("--output", type=Path, help="write it to this file instead")
    args = parser.parse_args(argv)
    if args.command == "topics":
        return topics_command(ProvisionSettings())
    text = acl_script(grants())
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        args.output.chmod(0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())

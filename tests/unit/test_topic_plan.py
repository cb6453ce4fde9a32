"""The topic plan and each service's ACLs: what a cluster is provisioned with."""

import pytest

from contracts import topics
from deploy.configuration import settings_class
from deploy.topic_plan import FOREVER, TOPICS, Durability, grants, topic_configs
from deploy.topics import TopicState, drift

SERVICES = ("accounts", "intake", "casefile", "notify")


def test_every_topic_the_services_use_is_planned_and_kept_forever():
    assert {spec.name for spec in TOPICS} == set(topics.ALL_TOPICS)
    case_log = next(spec for spec in TOPICS if spec.name == topics.CASE_EVENTS)
    assert topic_configs(case_log, Durability())["retention.ms"] == str(FOREVER) == "-1"
    assert all(spec.retention_ms == FOREVER for spec in TOPICS)


def test_a_production_topic_keeps_three_copies_and_acknowledges_with_two():
    configs = topic_configs(TOPICS[0], Durability())
    assert Durability().replication_factor == 3
    assert configs["min.insync.replicas"] == "2"
    assert configs["unclean.leader.election.enable"] == "false"


@pytest.mark.parametrize(("durability", "named"), [
    (dict(replication_factor=3, min_insync_replicas=4), "min.insync.replicas"),
    (dict(replication_factor=0, min_insync_replicas=1), "replication factor"),
    (dict(partitions=0), "partitions"),
])
def test_impossible_durability_is_refused_naming_the_setting(durability, named):
    with pytest.raises(ValueError, match=named):
        Durability(**durability)


def _state(partitions=3, replication=3, **configs):
    spec = TOPICS[0]
    return spec, TopicState(partitions, replication,
                            topic_configs(spec, Durability()) | configs)


def test_a_topic_as_planned_shows_no_drift():
    spec, state = _state()
    assert drift(spec, Durability(), state) == []


def test_a_change_of_partitions_is_reported_with_why_it_matters():
    spec, state = _state(partitions=6)
    [problem] = drift(spec, Durability(), state)
    assert "case-events: 6 partitions, the plan says 3" in problem
    assert "per-case order" in problem


def test_a_trimmed_log_or_weaker_durability_is_reported():
    spec, state = _state(replication=1, **{"retention.ms": "604800000",
                                           "min.insync.replicas": "1"})
    problems = drift(spec, Durability(), state)
    assert "case-events: replication factor 1, the plan says 3" in problems
    assert "case-events: retention.ms=604800000, the plan says -1" in problems
    assert "case-events: min.insync.replicas=1, the plan says 2" in problems


def _granted(service: str, operation: str, resource_type: str = "topic") -> set[str]:
    return {g.resource for g in grants() if g.principal == f"User:{service}"
            and g.operation == operation and g.resource_type == resource_type}


def test_each_topic_has_one_writer_the_service_that_owns_it():
    writers = {}
    for grant in grants():
        if grant.operation == "Write":
            writers.setdefault(grant.resource, set()).add(grant.principal)
    assert writers == {
        topics.CASE_EVENTS: {"User:intake"}, topics.ALERT_EVENTS: {"User:notify"},
        topics.ACCOUNT_EVENTS: {"User:accounts"}, topics.ACCESS_EVENTS: {"User:casefile"},
        topics.CASEFILE_DEAD_LETTERS: {"User:casefile"},
        topics.NOTIFY_DEAD_LETTERS: {"User:notify"}}


def test_no_service_may_create_alter_or_delete_anything():
    assert {grant.operation for grant in grants()} == {"Read", "Write"}
    assert {grant.resource_type for grant in grants()} == {"topic", "group"}


def test_notify_never_reads_the_audit_of_access_and_intake_reads_no_case():
    assert topics.ACCESS_EVENTS not in _granted("notify", "Read")
    assert _granted("intake", "Read") == {topics.ACCOUNT_EVENTS}
    assert _granted("accounts", "Read") == set()


@pytest.mark.parametrize("service", SERVICES)
def test_every_topic_a_service_is_configured_with_is_granted_to_it(service):
    fields = settings_class(service).model_fields
    configured = {info.default for name, info in fields.items() if name.endswith("_topic")}
    granted = _granted(service, "Read") | _granted(service, "Write")
    assert configured <= granted, f"{service} uses {configured - granted} without an ACL"


def test_the_web_app_is_no_kafka_principal_and_reads_no_topic():
    # it calls the services over HTTP with each person's token; Kafka never hears from it
    assert not [grant for grant in grants() if grant.principal == "User:web"]
    fields = settings_class("web").model_fields
    assert not [name for name in fields if name.startswith("kafka_") or name.endswith("_topic")]


def test_the_consumers_may_join_their_own_groups_only():
    from services.casefile.access_audit.service import access_consumer_group

    casefile = settings_class("casefile")()
    assert _granted("casefile", "Read", "group") == {casefile.consumer_group,
                                                     access_consumer_group(casefile)}
    assert _granted("notify", "Read", "group") == {settings_class("notify")().consumer_group}

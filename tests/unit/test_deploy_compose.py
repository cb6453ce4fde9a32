"""deploy/compose.yaml, checked without a Docker engine: it parses, names only variables the
services read, never carries a secret, and keeps Kafka's durability promises."""

import ipaddress
import subprocess

import pytest
import yaml
from pydantic import IPvAnyNetwork, TypeAdapter

from deploy import compose_secrets
from tests.deploy_support import (
    DEPLOY,
    PASSWORD_IN_URL,
    ROOT,
    SECRET_VARIABLES,
    SERVICES,
    WEB_APP,
    migrated_services,
    program_of,
    read_by,
)

COMPOSE = DEPLOY / "compose.yaml"
OUR_IMAGE = "casetracker:${CASETRACKER_VERSION:-dev}"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def ours(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("image") == OUR_IMAGE}


def broker_properties() -> dict[str, str]:
    lines = (DEPLOY / "kafka" / "server.properties").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_three_kraft_brokers_of_one_cluster(compose):
    brokers = {name: s for name, s in compose["services"].items() if name.startswith("kafka-")
               and name[-1].isdigit()}
    assert sorted(brokers) == ["kafka-1", "kafka-2", "kafka-3"]
    assert {s["environment"]["NODE_ID"] for s in brokers.values()} == {"1", "2", "3"}
    assert len({s["environment"]["CLUSTER_ID"] for s in brokers.values()}) == 1
    assert broker_properties()["controller.quorum.voters"] == (
        "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093")
    assert broker_properties()["process.roles"] == "broker,controller"


def test_the_cluster_keeps_three_copies_acknowledges_with_two_and_never_elects_unclean():
    properties = broker_properties()
    assert properties["default.replication.factor"] == "3"
    assert properties["min.insync.replicas"] == "2"
    assert properties["unclean.leader.election.enable"] == "false"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["allow.everyone.if.no.acl.found"] == "false"


def test_every_listener_speaks_tls_and_the_services_log_in_with_sasl(compose):
    protocols = dict(pair.split(":") for pair in
                     broker_properties()["listener.security.protocol.map"].split(","))
    assert protocols == {"BROKER": "SSL", "CONTROLLER": "SSL", "CLIENT": "SASL_SSL"}
    for name in ("accounts", "intake", "casefile", "notify"):
        environment = compose["services"][name]["environment"]
        assert environment["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert environment["KAFKA_SASL_USERNAME"] == name  # its own principal for the ACLs
        assert all(host.endswith(":9094")
                   for host in environment["KAFKA_BOOTSTRAP_SERVERS"].split(","))


def test_intake_casefile_and_notify_run_two_replicas_each(compose):
    for name in ("intake", "casefile", "notify"):
        assert compose["services"][name]["deploy"]["replicas"] == 2


def trusted(service: dict) -> list:
    """TRUSTED_PROXIES as the service reads it (contracts/http_security.py)."""
    value = service["environment"].get("TRUSTED_PROXIES", "[]")
    return TypeAdapter(list[IPvAnyNetwork]).validate_json(value)


def test_the_web_app_is_the_one_service_published_and_only_on_loopback(compose):
    published = {name: s["ports"] for name, s in compose["services"].items() if s.get("ports")}
    assert published == {WEB_APP: ["127.0.0.1:8000:8000"]}
    web = compose["services"][WEB_APP]
    assert web["command"] == ["python", "-m", "services.web"]
    assert web["environment"]["HTTP_PORT"] == "8000"  # what the image's health check asks
    # one replica: a published port is bound by one container, and its address is fixed
    assert web.get("deploy", {}).get("replicas", 1) == 1


def test_the_web_app_reaches_every_service_at_the_port_it_serves_on(compose):
    web = compose["services"][WEB_APP]["environment"]
    for name in SERVICES:
        port = compose["services"][name]["environment"]["HTTP_PORT"]
        assert web[f"{name.upper()}_URL"] == f"http://{name}:{port}", name
        assert WEB_APP in compose["services"][name]["networks"], f"web cannot reach {name}"


def test_the_web_app_sits_behind_tls_with_secure_cookies_and_holds_no_secret(compose):
    web = compose["services"][WEB_APP]
    assert web["environment"]["COOKIE_SECURE"] == "true"
    assert web["environment"]["BEHIND_TLS"] == "true"
    assert not web.get("secrets") and not web.get("env_file")
    assert not [variable for variable in web["environment"] if variable.startswith("KAFKA_")]
    assert list(web["networks"]) == [WEB_APP], "the web app reaches the services, nothing else"


def test_the_services_believe_forwarded_addresses_from_the_web_app_alone(compose):
    [subnet] = compose["networks"][WEB_APP]["ipam"]["config"]
    web = compose["services"][WEB_APP]
    address = ipaddress.ip_address(web["networks"][WEB_APP]["ipv4_address"])
    assert address in ipaddress.ip_network(subnet["subnet"])
    for name in SERVICES:
        assert trusted(compose["services"][name]) == [ipaddress.ip_network(address)], name
        assert WEB_APP in compose["services"][name]["networks"], name
    # the web app believes the proxy on the host, which reaches the published port from the
    # network's gateway, so the caseworker's own address is what reaches the services
    assert trusted(web) == [ipaddress.ip_network(subnet["gateway"])]
    others = set(compose["services"]) - {*SERVICES, WEB_APP}
    assert not [name for name in others if compose["services"][name].get("networks")]


def test_topics_are_provisioned_with_the_clusters_durability(compose):
    job = compose["services"]["provision-topics"]
    assert job["command"] == ["python", "-m", "deploy.provision", "topics"]
    assert job["environment"]["TOPIC_REPLICATION_FACTOR"] == "3"
    assert job["environment"]["TOPIC_MIN_INSYNC_REPLICAS"] == "2"
    partitions = int(job["environment"]["TOPIC_PARTITIONS"])
    assert all(partitions >= s.get("deploy", {}).get("replicas", 1)
               for s in ours(compose).values()), "a replica would get no partition"


def test_every_store_with_migrations_is_migrated_before_its_service_starts(compose):
    jobs = {program_of(s["command"]): name for name, s in ours(compose).items()
            if s["command"][2].endswith(".migrate")}
    assert set(jobs) == migrated_services()
    for service, job in jobs.items():
        assert compose["services"][service]["environment"]["MIGRATE_ON_START"] == "false"
        assert compose["services"][service]["depends_on"][job] == {
            "condition": "service_completed_successfully"}


def test_each_container_is_given_only_variables_its_program_reads(compose):
    for name, service in ours(compose).items():
        unread = set(service.get("environment", {})) - read_by(program_of(service["command"]))
        assert not unread, f"{name} is given {sorted(unread)}, which it never reads"


def test_the_generated_env_files_name_only_variables_their_service_reads():
    for secret in compose_secrets.database_files():
        if secret.name.endswith(".env"):
            names = {line.split("=", 1)[0] for line in secret.content.decode().splitlines()}
            assert names <= read_by(secret.name.removesuffix(".env")), secret.name


def test_no_secret_is_written_into_the_compose_file(compose):
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        assert not SECRET_VARIABLES & set(environment), f"{name} carries a secret inline"
        for variable, value in environment.items():
            assert not PASSWORD_IN_URL.search(str(value)), f"{name}: {variable} has a password"
            assert "PASSWORD" not in variable or variable.endswith("_FILE"), (name, variable)
    assert not PASSWORD_IN_URL.search(COMPOSE.read_text())


def test_every_secret_file_a_container_is_pointed_at_is_mounted_into_it(compose):
    declared = compose["secrets"]
    for name, service in compose["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), f"{name} mounts an undeclared secret"
        for variable, value in service.get("environment", {}).items():
            if str(value).startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in mounted, (name, variable)


def test_the_secrets_live_where_git_ignores_them(compose):
    paths = {s["file"] for s in compose["secrets"].values()}
    paths |= {f for s in compose["services"].values() for f in s.get("env_file", [])}
    assert all(path.startswith("./secrets/") for path in paths)
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/secrets/master.key"],
                             cwd=ROOT)
    assert ignored.returncode == 0, "deploy/secrets/ must be ignored by git"
    tracked = subprocess.run(["git", "ls-files", "deploy/secrets"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    assert tracked.stdout == ""

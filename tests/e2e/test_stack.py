"""The whole system as `make up` runs it: real processes, durable embedded broker, HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.demo import CASES
from deploy.embedded import S3Ports
from deploy.processes import free_port, port_open
from services.accounts.demo import DEMO_PASSWORD
from tests.support import eventually, read_topic

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack_env(tmp_path: Path, database_url) -> dict[str, str]:
    """Free ports for everything, and each service's database on the backend under test."""
    s3 = S3Ports.free()
    env = {
        **{f"{name.upper()}_DATABASE_URL": database_url(name) for name in ("intake", "casefile", "notify")},
        "STACK_DATA_DIR": str(tmp_path / "var"),
        "STACK_KAFKA_PORT": str(free_port()),
        "STACK_INTAKE_PORT": str(free_port()),
        "STACK_CASEFILE_PORT": str(free_port()),
        "STACK_NOTIFY_PORT": str(free_port()),
        "STACK_ACCOUNTS_PORT": str(free_port()),
        "STACK_S3_PORT": str(s3.s3),
        "STACK_S3_MASTER_PORT": str(s3.master),
        "STACK_S3_VOLUME_PORT": str(s3.volume),
        "STACK_S3_FILER_PORT": str(s3.filer),
        "STACK_S3_ADMIN_PORT": str(s3.admin),
    }
    return os.environ | env


class RunningStack:
    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.env = env
        self.output = output
        with open(output, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "deploy.stack", "up"], env=env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'STACK_{service.upper()}_PORT']}"

    def token(self, account: str) -> str:
        """Log in as one of demo mode's fictional accounts."""
        response = httpx.post(f"{self.url('accounts')}/sessions", timeout=10, json={
            "account": account, "password": DEMO_PASSWORD})
        response.raise_for_status()
        return response.json()["access_token"]

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.env['STACK_KAFKA_PORT']}"

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while "Ready." not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"stack did not become ready:\n{self.text()}")
            time.sleep(0.2)

    def interrupt(self) -> int:
        """Ctrl-C, as a person would stop it."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=90)

    def ensure_stopped(self) -> None:
        """After a failure, still stop the stack in order so no broker outlives the test."""
        if self.process.poll() is None:
            try:
                self.interrupt()
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _get(url: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url, headers={"Authorization": f"Bearer {token}"})


async def _settled_timelines(stack: RunningStack, until) -> dict[str, list[str]]:
    """The timelines once they satisfy `until` and stay the same for two seconds."""
    while True:
        first = await eventually(lambda: _timelines(stack), until=until)
        await asyncio.sleep(2)
        if await _timelines(stack) == first:
            return first


async def _timelines(stack: RunningStack) -> dict[str, list[str]]:
    token = stack.token("auditor-demo")  # who reads every case
    cases = (await _get(f"{stack.url('casefile')}/cases", token)).json()
    out = {}
    for case in cases:
        timeline = (await _get(f"{stack.url('casefile')}/cases/{case['case_id']}/timeline",
                               token)).json()
        out[case["case_id"]] = [entry["event_id"] for entry in timeline]
    return out


async def test_make_up_runs_the_demo_and_a_full_restart_keeps_everything_once(stack_env, tmp_path):
    stack = RunningStack(stack_env, tmp_path / "first-run.out")
    try:
        stack.wait_ready()
        assert "Loaded the fictional demo scenario: 2 cases." in stack.text()
        auditor = stack.token("auditor-demo")
        alerts = await eventually(
            lambda: _get(f"{stack.url('notify')}/alerts", auditor),
            until=lambda r: len(r.json()) == 2)
        raised = alerts.json()
        assert sorted(a["kind"] for a in raised) == ["escalation", "overdue"]
        assert {tuple(a["recipients"]) for a in raised} == {
            ("caseworker-demo",), ("caseworker-demo", "supervisor-demo")}
        # case 1: its 6 events, notify's deadlines (one or two: the answered inquiry may be
        # answered before notify got to it) and 2 alerts; case 2: its 2 events
        timelines = await _settled_timelines(stack, until=lambda t: len(t) == 2 and sorted(
            len(v) for v in t.values())[0] == 2 and sorted(len(v) for v in t.values())[1] >= 9)
        async with httpx.AsyncClient(base_url=stack.url("intake"), headers={
                "Authorization": f"Bearer {stack.token('caseworker-demo')}"}) as intake:
            created = await intake.post("/cases", json={
                "subject": {"name": "Fictional Person"},
                "reporter": {"name": "Fictional Relative", "relationship": "cousin"},
                "summary": "Fictional: recorded during the end-to-end test.",
            })
        assert created.status_code == 201, created.text
        timelines = await eventually(lambda: _timelines(stack), until=lambda t: len(t) == 3)
        assert stack.interrupt() == 0, stack.text()
    finally:
        stack.ensure_stopped()
    for port in ("STACK_KAFKA_PORT", "STACK_INTAKE_PORT", "STACK_S3_PORT"):
        assert not port_open(int(stack_env[port])), f"{port} still open after Ctrl-C"

    again = RunningStack(stack_env, tmp_path / "second-run.out")
    try:
        again.wait_ready()
        assert "Loaded the fictional demo scenario" not in again.text(), "demo loaded twice"
        await eventually(lambda: _timelines(again), until=lambda t: t == timelines, timeout=30)
        alerts_after = (await _get(f"{again.url('notify')}/alerts",
                                   again.token("auditor-demo"))).json()
        assert alerts_after == raised
        raised_on_log = [e for e in await read_topic(again.kafka, "alert-events")
                         if e["type"] == "alert_raised"]
        assert len({e["event_id"] for e in raised_on_log}) == 2
    finally:
        down = subprocess.run(
            [sys.executable, "-m", "deploy.stack", "down"], env=stack_env, capture_output=True,
            text=True, timeout=120,
        )
        again.ensure_stopped()
    assert "Stack stopped." in down.stdout, down.stdout + down.stderr
    assert not port_open(int(stack_env["STACK_CASEFILE_PORT"]))
    _assert_no_personal_data_in_service_logs(Path(stack_env["STACK_DATA_DIR"]) / "logs")


def _assert_no_personal_data_in_service_logs(log_dir: Path) -> None:
    """Names and stories from the (fictional) demo must never reach a log line."""
    words = ["Fictional Person", "Fictional Relative"]
    for case in CASES:
        words += [case["report"]["subject"]["name"], case["report"]["reporter"]["name"],
                  case["report"]["summary"], case["contact_lost"]["circumstances"]]
    for service in ("intake", "casefile", "notify"):
        text = (log_dir / f"{service}.log").read_text(encoding="utf-8")
        assert "case_id" in text, f"{service} logged nothing useful"
        # JSON logs escape non-ASCII, so look for the escaped spelling of each word too.
        leaked = [w for w in words if w in text or json.dumps(w)[1:-1] in text]
        assert not leaked, f"{service}.log contains personal data: {leaked}"


async def test_an_external_kafka_is_used_instead_of_the_embedded_broker(kafka, tmp_path):
    """KAFKA_BOOTSTRAP_SERVERS names a cluster the stack did not start: it starts no broker."""
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "STACK_DATA_DIR": str(tmp_path / "var"),
        "STACK_KAFKA_PORT": str(free_port()),  # must stay unused: no embedded broker
        "STACK_INTAKE_PORT": str(free_port()),
        "STACK_CASEFILE_PORT": str(free_port()),
        "STACK_NOTIFY_PORT": str(free_port()),
        "STACK_ACCOUNTS_PORT": str(free_port()),
        "STACK_LOAD_DEMO": "false",
    }
    stack = RunningStack(env, tmp_path / "external.out")
    try:
        stack.wait_ready()
        assert f"kafka     {kafka} (external cluster)" in stack.text()
        assert not port_open(int(env["STACK_KAFKA_PORT"]))
        assert not (tmp_path / "var" / "broker").exists()
        async with httpx.AsyncClient(base_url=stack.url("intake"), headers={
                "Authorization": f"Bearer {stack.token('caseworker-demo')}"}) as intake:
            created = await intake.post("/cases", json={
                "subject": {"name": "Fictional Person"},
                "reporter": {"name": "Fictional Relative", "relationship": "aunt"},
                "summary": "Fictional: recorded against an external cluster.",
            })
        case_id = created.json()["case_id"]
        reader = stack.token("caseworker-demo")
        await eventually(lambda: _get(f"{stack.url('casefile')}/cases/{case_id}", reader),
                         until=lambda r: r.status_code == 200)
        assert stack.interrupt() == 0
    finally:
        stack.ensure_stopped()
    assert any(e["case_id"] == case_id for e in await read_topic(kafka, "case-events"))

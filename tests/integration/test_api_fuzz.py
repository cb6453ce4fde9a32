"""schemathesis against every service's OpenAPI, the services running as in production (their
own processes, the real broker, SQLite or PostgreSQL) and every request authenticated: none
may be answered with a 5xx.

The run is bounded and seeded (FUZZ_EXAMPLES per operation and phase, FUZZ_SEED) so CI repeats
what a laptop found. Path parameters are mostly drawn from a case, inquiry and alert that exist,
so commands and views get past "not found" into the code that decides and stores."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.accounts.demo import DEMO_PASSWORD
from tests.integration.notify_support import LONG_OVERDUE, open_case, send_inquiry
from tests.service_apps import SERVICES, unstarted_app
from tests.support import CASEWORKER, SUPERVISOR, ServiceProcess, bearer, eventually

pytestmark = pytest.mark.integration

FUZZ_SEED = 20251203
FUZZ_EXAMPLES = 20
PHASES = "examples,coverage,fuzzing,stateful"
# Requests that once answered 500, kept whatever the seed generates (GET: query; POST: body).
FOUND = [
    ("casefile", "GET", "/cases", {"min_days_since_last_contact": 16777216}, 422),
    ("casefile", "GET", "/cases", {"offset": 131707188418313424}, 422),
    ("casefile", "GET", "/cases", {"assignee": "caseworker\x00-7"}, 422),
    ("notify", "GET", "/alerts", {"offset": 3762894320108009160704}, 422),
    ("notify", "GET", "/alerts", {"advocate": "supervisor\x00-1"}, 422),
    ("notify", "GET", "/advocates/supervisor%00-1/digest", {}, 422),
    ("accounts", "POST", "/sessions/refresh", {"refresh_token": "a\x00b.c"}, 401),
]


@pytest.fixture
def stack(kafka, topics, database_url, tmp_path) -> Iterator[dict[str, ServiceProcess]]:
    """The four services as processes on this test's topics and fresh databases."""
    common = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "CASE_EVENTS_TOPIC": topics.case_events,
              "ALERT_EVENTS_TOPIC": topics.alert_events,
              "ACCOUNT_EVENTS_TOPIC": topics.account_events}
    own = {
        "accounts": {"SIGNING_KEY_FILE": str(tmp_path / "keys" / "access-token.key"),
                     "DEMO_MODE": "true", "LOGIN_ATTEMPTS_PER_MINUTE": "100000",
                     "SECRETS_KEY": base64.b64encode(secrets.token_bytes(32)).decode()},
        "intake": {},
        "casefile": {"CONSUMER_GROUP": f"casefile-{topics.case_events}",
                     "DEAD_LETTER_TOPIC": f"casefile-dead-letters-{topics.case_events}"},
        "notify": {"CONSUMER_GROUP": f"notify-{topics.case_events}",
                   "DEAD_LETTER_TOPIC": f"notify-dead-letters-{topics.case_events}",
                   "SCHEDULER_INTERVAL_SECONDS": "0.2"},
    }
    processes = {name: ServiceProcess(name, tmp_path, {
        **common, "DATABASE_URL": database_url(name), **own[name]}) for name in SERVICES}
    try:
        for process in processes.values():
            process.start()
        yield processes
    finally:
        for process in processes.values():
            if process.process is not None:
                process.stop()


async def test_no_request_schemathesis_makes_gets_a_5xx_from_any_service(stack, tmp_path):
    ids = await existing_objects(stack)
    tokens = {"intake": _token(CASEWORKER), "casefile": _token(SUPERVISOR),
              "notify": _token(SUPERVISOR), "accounts": await _admin_token(stack["accounts"])}
    found = [await _answer(stack[name], tokens[name], method, path, data)
             for name, method, path, data, _ in FOUND]
    assert found == [expected for *_, expected in FOUND]
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(ids))
    runs = {}
    for name, process in stack.items():
        runs[name] = await run_schemathesis(name, process.url, tokens[name], config, tmp_path)

    failed = {name: output for name, (code, output) in runs.items() if code != 0}
    assert failed == {}, "\n\n".join(
        f"== {name}\n{_failures(output)}\n{_logged_errors(stack[name].log)}"
        for name, output in failed.items())
    for name, (_, output) in runs.items():  # it did test: every operation of every service
        assert "Test cases:" in output and " passed" in output, output


async def existing_objects(stack) -> dict[str, list[str]]:
    """A case with an overdue inquiry and its alerts, as the fuzzer's known objects."""
    async with stack["intake"].client(CASEWORKER) as intake:
        case_id = await open_case(intake)
        inquiry_id = (await send_inquiry(intake, case_id, LONG_OVERDUE))["inquiry_id"]
    async with stack["notify"].client(SUPERVISOR) as notify:
        alerts = await eventually(lambda: _json(notify.get("/alerts")), until=lambda a: len(a) > 0)
    async with stack["casefile"].client(SUPERVISOR) as casefile:
        await eventually(lambda: casefile.get(f"/cases/{case_id}"),
                         until=lambda r: r.status_code == 200)
    return {"cases": [case_id], "inquiries": [inquiry_id],
            "alerts": [a["alert_id"] for a in alerts],
            "accounts": [SUPERVISOR.account, CASEWORKER.account, "caseworker-demo",
                         "supervisor-demo"]}


async def run_schemathesis(name: str, url: str, token: str, config: Path,
                           tmp_path: Path) -> tuple[int, str]:
    schema = tmp_path / f"{name}-openapi.json"
    schema.write_text(json.dumps(unstarted_app(name).openapi()))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", str(schema), "--url", url, "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error", "--phases", PHASES,
        # A readiness probe's 503 ("not ready yet") is its answer, not a fault.
        "--exclude-path", "/readyz",
        "--max-examples", str(FUZZ_EXAMPLES), "--seed", str(FUZZ_SEED),
        "--generation-database", "none", "--workers", "1", "--request-timeout", "30",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
    output, _ = await process.communicate()
    return process.returncode, output.decode(errors="replace")


def _config(ids: dict[str, list[str]]) -> str:
    """Known objects for the path parameters, most of the time (the rest stays generated)."""
    lines = []
    for dictionary, values in ids.items():
        lines += [f"[dictionaries.{dictionary}]", f"values = {json.dumps(values)}"]
    lines.append("[parameters]")
    for parameter, dictionary, probability in (
            ("case_id", "cases", 0.8), ("inquiry_id", "inquiries", 0.8),
            ("alert_id", "alerts", 0.8), ("account", "accounts", 0.5),
            ("advocate", "accounts", 0.5)):
        lines.append(f'"path.{parameter}" = {{ dictionary = "{dictionary}", '
                     f"probability = {probability} }}")
    return "\n".join(lines) + "\n"


def _token(who) -> str:
    """Signed as the accounts service signs them, with the key the services trust in tests."""
    return bearer(who, datetime.now(UTC))["Authorization"].removeprefix("Bearer ")


async def _admin_token(accounts: ServiceProcess) -> str:
    """A real login at accounts (its sessions are checked against its own store)."""
    async with accounts.client() as client:
        opened = await client.post("/sessions", headers={"Authorization": ""},
                                   json={"account": "admin-demo", "password": DEMO_PASSWORD})
    assert opened.status_code == 201, opened.text
    return opened.json()["access_token"]


async def _answer(process: ServiceProcess, token: str, method: str, path: str,
                  data: dict) -> int:
    async with process.client(headers={"Authorization": f"Bearer {token}"}) as client:
        if method == "GET":
            return (await client.get(path, params=data)).status_code
        return (await client.request(method, path, json=data)).status_code


async def _json(request) -> list[dict]:
    response = await request
    assert response.status_code == 200, response.text
    return response.json()


def _failures(output: str) -> str:
    start = output.find("= FAILURES =")
    return output[start - 40:] if start >= 0 else output[-4000:]


def _logged_errors(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if "request_failed" in line]
    return "\n".join(lines[-20:])

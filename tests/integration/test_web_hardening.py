"""Web hardening as a browser or a client sees it, on every running service: security headers
on real responses carrying case data, CSRF for cookie sessions, a 413 for an oversized body
(declared or chunked), and a 500 that gives away nothing but an error id. (CORS, HSTS behind
TLS and the API docs, which need no running service: tests/unit/test_web_hardening.py.)"""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
import structlog

from services.accounts.app import create_app as create_accounts
from services.accounts.demo import DEMO_PASSWORD
from services.casefile import queries as casefile_queries
from services.casefile.app import create_app as create_casefile
from services.intake.app import create_app as create_intake
from services.notify.app import create_app as create_notify
from tests.integration.notify_support import REPORT, open_case
from tests.support import CASEWORKER, SUPERVISOR, changed, eventually, running

pytestmark = pytest.mark.integration

LOGIN = {"account": "caseworker-demo", "password": DEMO_PASSWORD}


@pytest.fixture
def services(intake_settings, casefile_settings, notify_settings, accounts_settings, clock):
    """`services(**changes)`: every service running on the same topics, with the same web
    settings changed; a client for each (intake's a caseworker's, the others a supervisor's,
    accounts' without a token)."""
    builders = {"intake": (create_intake, intake_settings, CASEWORKER),
                "casefile": (create_casefile, casefile_settings, SUPERVISOR),
                "notify": (create_notify, notify_settings, SUPERVISOR),
                "accounts": (create_accounts, accounts_settings, None)}

    @asynccontextmanager
    async def start(**changes):
        async with AsyncExitStack() as stack:
            clients = {}
            for name, (create, settings, who) in builders.items():
                app = create(changed(settings, **changes), clock=clock)
                clients[name] = await stack.enter_async_context(running(app, as_=who))
            yield clients

    return start


async def case_data_responses(clients) -> dict:
    """A response carrying case data (or a session) from each service."""
    case_id = await open_case(clients["intake"])
    recorded = await clients["intake"].post("/cases", json=REPORT)
    case = await eventually(lambda: clients["casefile"].get(f"/cases/{case_id}"),
                            until=lambda r: r.status_code == 200)
    alerts = await clients["notify"].get("/alerts", params={"case_id": case_id})
    session = await clients["accounts"].post("/sessions", json=LOGIN)
    return {"intake": recorded, "casefile": case, "notify": alerts, "accounts": session}


def assert_secured(response) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, response
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert response.headers.get("cache-control") == "no-store"


async def test_every_service_answers_with_security_headers_and_hsts_only_over_tls(services):
    async with services() as clients:
        answers = await case_data_responses(clients)
        refused = {name: await client.get("/cases/not-a-case", headers={"Authorization": ""})
                   for name, client in clients.items()}
        over_tls = {name: await client.get("https://service/healthz")
                    for name, client in clients.items()}

    assert {name: r.status_code for name, r in answers.items()} == {
        "intake": 201, "casefile": 200, "notify": 200, "accounts": 201}
    for response in [*answers.values(), *refused.values(), *over_tls.values()]:
        assert_secured(response)
    assert all("strict-transport-security" not in r.headers for r in answers.values())
    assert all(r.headers["strict-transport-security"].startswith("max-age=")
               for r in over_tls.values())


async def test_every_service_refuses_an_oversized_body_declared_or_chunked_with_413(services):
    big = json.dumps({**LOGIN, "password": "x" * 5_000}).encode()

    async def chunked():  # no Content-Length: the limit has to count what arrives
        for start in range(0, len(big), 512):
            yield big[start:start + 512]

    paths = {"intake": "/cases", "casefile": "/cases", "notify": f"/alerts/{uuid.uuid4()}/snooze",
             "accounts": "/sessions"}
    json_type = {"content-type": "application/json"}
    async with services(max_body_bytes=2_000) as clients:
        declared = {name: await clients[name].post(path, content=big, headers=json_type)
                    for name, path in paths.items()}
        streamed = {name: await clients[name].post(path, content=chunked(), headers=json_type)
                    for name, path in paths.items()
                    if name != "casefile"}  # casefile takes no body on any route
        fits = await clients["accounts"].post("/sessions", json=LOGIN)

    assert {name: r.status_code for name, r in declared.items()} == dict.fromkeys(
        ("intake", "casefile", "notify", "accounts"), 413)
    assert {name: r.status_code for name, r in streamed.items()} == dict.fromkeys(
        ("intake", "notify", "accounts"), 413)
    for response in [*declared.values(), *streamed.values()]:
        assert response.json() == {"detail": "request body exceeds the limit of 2000 bytes"}
        assert_secured(response)
    assert fits.status_code == 201


async def test_a_change_made_with_the_session_cookie_needs_the_csrf_token(
    accounts_settings, intake_trusting_accounts, clock
):
    async with running(create_accounts(accounts_settings, clock=clock), as_=None) as accounts:
        opened = await accounts.post("/sessions", json=LOGIN)  # the browser keeps the cookies
        cookies = dict(accounts.cookies)
        csrf = {"X-CSRF-Token": cookies["ct_csrf"]}
        refresh_without = await accounts.post("/sessions/refresh", json={})
        refreshed = await accounts.post("/sessions/refresh", json={}, headers=csrf)
        cookies = dict(accounts.cookies)  # a refresh gives new cookies, the CSRF one too
        async with running(intake_trusting_accounts, as_=None) as intake:
            intake.cookies.update(cookies)
            without = await intake.post("/cases", json=REPORT)
            wrong = await intake.post("/cases", json=REPORT, headers={"X-CSRF-Token": "guess"})
            with_token = await intake.post("/cases", json=REPORT,
                                           headers={"X-CSRF-Token": cookies["ct_csrf"]})
            intake.cookies.clear()
            bearer = await intake.post("/cases", json=REPORT, headers={
                "Authorization": f"Bearer {refreshed.json()['access_token']}",
                "Cookie": f"ct_access={cookies['ct_access']}"})
        reading = await accounts.get("/accounts/me")  # cookie only: reading is no change
        logged_out = await accounts.delete("/sessions/current",
                                           headers={"X-CSRF-Token": cookies["ct_csrf"]})
        left = {cookie.name for cookie in accounts.cookies.jar}
        # The same browser later, holding a stale refresh cookie (as logging out used to leave)
        # and no CSRF cookie: logging in takes a password, not a cookie, so it still works.
        accounts.cookies.set("ct_refresh", "stale", domain="service", path="/sessions")
        again = await accounts.post("/sessions", json=LOGIN)

    assert opened.status_code == 201 and {"ct_access", "ct_refresh", "ct_csrf"} <= set(cookies)
    assert refresh_without.status_code == 403
    assert "X-CSRF-Token header missing" in refresh_without.json()["detail"]
    assert refreshed.status_code == 200, refreshed.text
    assert without.status_code == 403 and "X-CSRF-Token" in without.json()["detail"]
    assert wrong.status_code == 403 and "does not match" in wrong.json()["detail"]
    assert with_token.status_code == 201, with_token.text
    assert reading.status_code == 200
    assert bearer.status_code == 201, bearer.text  # a token in the header is not a cookie
    assert logged_out.status_code == 204 and left == set()
    assert again.status_code == 201, again.text


@pytest.fixture
def service_log(capsys):
    """What the service logs (JSON lines on stderr); structlog's configuration is put back
    afterwards, so later tests do not write to this test's closed capture."""
    before = structlog.get_config()
    yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines()
                   if line.startswith("{")]
    structlog.configure(**before)


async def test_an_unexpected_error_answers_500_with_an_error_id_and_no_details(
    casefile_settings, clock, monkeypatch, service_log
):
    def fails(*args, **kwargs):
        raise RuntimeError("Fictional Person, born 1961 in Fictional Town")

    monkeypatch.setattr(casefile_queries, "list_cases", fails)
    async with running(create_casefile(casefile_settings, clock=clock), as_=SUPERVISOR) as client:
        failed = await client.get("/cases")
    logged = [entry for entry in service_log() if entry["event"] == "request_failed"]

    body = failed.json()
    assert failed.status_code == 500 and set(body) == {"detail", "error_id"}
    assert "Fictional" not in failed.text and "Traceback" not in failed.text
    assert_secured(failed)
    [entry] = logged
    assert entry["error_id"] == body["error_id"] and entry["error"] == "RuntimeError"
    assert entry["route"] == "/cases" and "Fictional" not in json.dumps(entry)


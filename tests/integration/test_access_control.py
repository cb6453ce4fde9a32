"""Deny by default, checked on every route of every service, found by walking the apps' routes:
no route but the listed public ones answers without a token, and a caseworker of another team
can neither read nor write a case, its inquiries or its alerts (no direct object reference).

A route added later is walked too: it fails here until it checks access."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute

from services.accounts.app import create_app as create_accounts
from services.casefile.app import create_app as create_casefile
from tests.integration.notify_support import LONG_OVERDUE, alerts, open_case, record, send_inquiry
from tests.support import OTHER_TEAM, bearer, eventually, read_topic, running

pytestmark = pytest.mark.integration

PUBLIC = {
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    # accounts: how one gets a token in the first place, and the key to check it with
    ("POST", "/sessions"), ("POST", "/sessions/refresh"), ("GET", "/.well-known/jwks.json"),
}
OBJECT_PARAMS = ("case_id", "inquiry_id", "alert_id")


def operations(app) -> list[tuple[str, str, APIRoute]]:
    return [(method, path, route) for path, route in _walk(app.routes, "")
            for method in sorted(route.methods - {"HEAD", "OPTIONS"})]


def _walk(routes, prefix: str):
    """Every API route, those of included routers too (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # an included router
            yield from _walk(route.original_router.routes,
                             prefix + route.include_context.prefix)


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def example_body(app, method: str, path: str) -> dict:
    """The documented example of the route's body (intake has one for every command)."""
    operation = app.openapi()["paths"][path][method.lower()]
    schema = operation.get("requestBody", {}).get("content", {}).get(
        "application/json", {}).get("schema", {})
    ref = schema.get("$ref", "").rsplit("/", 1)[-1]
    examples = app.openapi().get("components", {}).get("schemas", {}).get(ref, {}).get(
        "examples", [])
    return examples[0] if examples else {}


async def test_every_route_of_every_service_refuses_a_request_without_a_token(
    intake_app, casefile_settings, start_notify, accounts_settings, clock
):
    apps = {"intake": intake_app, "casefile": create_casefile(casefile_settings, clock=clock),
            "accounts": create_accounts(accounts_settings, clock=clock)}
    answered: dict[str, list[tuple[str, str, int]]] = {}
    for name, app in apps.items():
        async with running(app, as_=None) as client:
            answered[name] = [(m, p, (await client.request(m, fill(p, {}), json={})).status_code)
                              for m, p, _ in operations(app) if (m, p) not in PUBLIC]
    async with start_notify(as_=None) as client:
        notify_app = client._transport.app
        answered["notify"] = [(m, p, (await client.request(m, fill(p, {}), json={})).status_code)
                              for m, p, _ in operations(notify_app) if (m, p) not in PUBLIC]

    walked = sum(len(routes) for routes in answered.values())
    assert walked >= 40, answered  # every command, view and action, not just a few
    open_routes = [(name, m, p, status) for name, routes in answered.items()
                   for m, p, status in routes if status != 401]
    assert open_routes == []


async def test_a_caseworker_of_another_team_can_neither_read_nor_write_the_case(
    intake_app, casefile_settings, start_notify, clock, kafka, topics
):
    casefile_app = create_casefile(casefile_settings, clock=clock)
    async with running(intake_app) as intake, running(casefile_app) as casefile, \
            start_notify() as notify:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
        inquiry_id = (await send_inquiry(intake, case_id, LONG_OVERDUE))["inquiry_id"]
        [alert, *_] = await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)
        await eventually(lambda: casefile.get(f"/cases/{case_id}"),
                         until=lambda r: r.status_code == 200)
        ids = {"case_id": case_id, "inquiry_id": inquiry_id, "alert_id": alert["alert_id"],
               "advocate": "caseworker-7", "account": "caseworker-7"}
        before = len(await read_topic(kafka, topics.case_events))
        other = bearer(OTHER_TEAM, clock.now)
        reached = []
        for app, client in ((intake_app, intake), (casefile_app, casefile),
                            (client_app(notify), notify)):
            for method, path, route in operations(app):
                if not any(f"{{{p}}}" in path for p in OBJECT_PARAMS):
                    continue
                body = example_body(app, method, path) if method == "POST" else None
                response = await client.request(method, fill(path, ids), json=body,
                                                headers=other)
                if response.status_code not in (403, 404):
                    reached.append((method, path, response.status_code))
        listed = (await casefile.get("/cases", headers=other)).json()
        their_alerts = (await notify.get("/alerts", params={"state": "all"}, headers=other)).json()
        after = len(await read_topic(kafka, topics.case_events))

    assert reached == []
    assert listed == [] and their_alerts == []
    assert after == before  # not one event was written on their behalf


def client_app(client):
    return client._transport.app

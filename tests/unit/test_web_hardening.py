"""The web layer of every service that needs none of its state: CORS closed unless an origin is
listed, HSTS behind TLS, the API docs off unless asked for (and then under their own CSP), and
the settings that refuse a wildcard origin. The apps are the real ones, built but not started
(`/healthz` and the middleware answer without a broker or a database)."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from services.casefile.config import Settings as CasefileSettings
from services.notify.config import Settings as NotifySettings
from tests.service_apps import SERVICES, unstarted_app

FOREIGN = "https://attacker.example"
ALLOWED = "https://cases.example.org"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type,x-csrf-token"}


def client_of(name: str, **settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=unstarted_app(name, **settings))
    return httpx.AsyncClient(transport=transport, base_url="http://service")


@pytest.mark.parametrize("name", SERVICES)
async def test_a_foreign_origin_gets_no_cross_origin_grant(name):
    async with client_of(name) as client:
        simple = await client.get("/healthz", headers={"Origin": FOREIGN})
        preflight = await client.options("/cases", headers={"Origin": FOREIGN, **PREFLIGHT})
    assert simple.status_code == 200
    assert not any(h.startswith("access-control-") for h in simple.headers)
    assert not any(h.startswith("access-control-") for h in preflight.headers)


@pytest.mark.parametrize("name", SERVICES)
async def test_only_a_listed_origin_gets_a_grant_with_credentials(name):
    async with client_of(name, cors_allowed_origins=[ALLOWED]) as client:
        listed = await client.options("/cases", headers={"Origin": ALLOWED, **PREFLIGHT})
        foreign = await client.options("/cases", headers={"Origin": FOREIGN, **PREFLIGHT})
        simple = await client.get("/healthz", headers={"Origin": FOREIGN})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == ALLOWED
    assert listed.headers["access-control-allow-credentials"] == "true"
    assert "x-csrf-token" in listed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("name", SERVICES)
async def test_hsts_over_tls_or_when_told_the_service_is_behind_it(name):
    async with client_of(name) as client:
        plain = await client.get("/healthz")
        tls = await client.get("https://service/healthz")
    async with client_of(name, behind_tls=True, hsts_max_age_seconds=600) as client:
        behind = await client.get("/healthz")
    assert "strict-transport-security" not in plain.headers
    assert tls.headers["strict-transport-security"] == "max-age=31536000"
    assert behind.headers["strict-transport-security"] == "max-age=600"


@pytest.mark.parametrize("name", SERVICES)
async def test_api_docs_are_off_unless_asked_for(name):
    async with client_of(name) as client:
        answers = [await client.get(path) for path in ("/docs", "/redoc", "/openapi.json")]
    assert [r.status_code for r in answers] == [404, 404, 404]


@pytest.mark.parametrize("name", SERVICES)
async def test_api_docs_when_asked_for_run_only_their_own_inline_script(name):
    async with client_of(name, api_docs=True) as client:
        page = await client.get("/docs")
        document = await client.get("/openapi.json")
    policy = page.headers["content-security-policy"]
    [inline] = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert page.status_code == 200 and document.status_code == 200
    assert f"'sha256-{digest}'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    for source in re.findall(r'(?:src|href)="(https://[^/"]+)', page.text):
        assert source in policy  # every origin the page loads from is allowed
    assert "openapi.json" in page.text and document.json()["info"]["title"] == name


def test_cors_settings_take_a_comma_separated_list_and_refuse_a_wildcard():
    assert NotifySettings(cors_allowed_origins=f"{ALLOWED}, http://localhost:3000"
                          ).cors_allowed_origins == [ALLOWED, "http://localhost:3000"]
    for wrong in ("*", "https://cases.example.org/app", "cases.example.org", [f"{ALLOWED}\n"]):
        with pytest.raises(ValueError, match="not an origin"):
            CasefileSettings(cors_allowed_origins=wrong)

"""The web app's own layers, on the real app with no service behind it: what every page
carries, what a page of another site cannot make it do, and where it sends someone not
logged in."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx

from services.web.app import create_app
from services.web.config import Settings

NOWHERE = "http://127.0.0.1:9"  # no service needed: these requests never reach one


@asynccontextmanager
async def web(**settings):
    app = create_app(Settings(accounts_url=NOWHERE, intake_url=NOWHERE, casefile_url=NOWHERE,
                              notify_url=NOWHERE, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            yield client


async def test_every_page_forbids_scripts_framing_caching_and_leaking_the_address():
    async with web() as client:
        page = await client.get("/login")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


async def test_someone_not_logged_in_is_sent_to_the_login_page_and_back_after():
    async with web() as client:
        for path in ("/", "/cases", "/alerts", "/recipients", "/account",
                     "/cases/6c1f0b8e-2a7b-4bd0-9d56-2d1c3d0f6a11"):
            answer = await client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/login?next=%2F")


async def test_a_form_posted_from_another_site_is_refused_before_anything_is_sent():
    async with web() as client:
        await client.get("/login")  # the browser holds this site's CSRF cookie
        forged = await client.post("/login", data={"account": "caseworker-1",
                                                    "password": "x", "csrf": "guessed"})
        bare = await client.post("/cases/new", data={"subject.name": "Fictional"})
    assert forged.status_code == 403 and "came from another site" in forged.text
    assert bare.status_code == 403


async def test_a_service_that_does_not_answer_is_said_plainly():
    async with web() as client:
        login = await client.get("/login")
        csrf = login.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        answer = await client.post("/login", data={"account": "caseworker-1",
                                                    "password": "fictional", "csrf": csrf})
    assert answer.status_code == 503
    assert "A service is not answering" in answer.text and "recorded only once" in answer.text


async def test_hsts_behind_tls_and_no_api_documents():
    async with web(behind_tls=True) as client:
        page = await client.get("/login")
        docs = [await client.get(path) for path in ("/docs", "/openapi.json")]
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert [d.status_code for d in docs] == [404, 404]


async def test_an_address_that_is_not_a_case_is_not_found_and_the_language_menu_stays_home():
    async with web() as client:
        wrong = await client.get("/cases/not-a-case/audit")
        away = await client.get("/language", params={"code": "ru", "next": "https://x.example"})
    assert wrong.status_code in (303, 404)  # to the login page first, or not found
    assert away.status_code == 303 and away.headers["location"] == "/"
    assert "ct_lang=ru" in away.headers["set-cookie"]
